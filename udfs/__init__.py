"""The Evoki project's Python UDFs (registered by the evoki_sql runner)."""
