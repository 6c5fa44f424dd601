"""evoki_sql: a small dbt-style runner for SQL-first projects on DuckDB.

The package is generic: it knows models, seeds, tests, macros and UDFs, not any
particular metric. Project code imports the UDF decorator and the materialization
registry from here.
"""

from evoki_sql.hooks import on_run_end
from evoki_sql.materializations.registry import materialization
from evoki_sql.udf_registry import udf

__all__ = ["__version__", "materialization", "on_run_end", "udf"]
__version__ = "0.1.0"
