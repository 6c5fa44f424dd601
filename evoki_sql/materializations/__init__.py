"""Materializations: how a compiled model becomes a relation (view, table, incremental, custom)."""
