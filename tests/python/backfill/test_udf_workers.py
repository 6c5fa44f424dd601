"""The Evoki project computes the same values with its UDFs in worker processes.

The demo history is built twice, in two project copies: with the UDFs in the build process
(`EVOKI_UDF_PROCESSES=0`, the demo default) and in a pool of two workers (what the prod
target uses). Every table of the two DuckDB files holds the same rows, and the history's
metrics rows are the same byte for byte, except the time of the write (calculated_at).
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import duckdb
from backfill_support import cli, table_rows

from project_copy import copy_project

TIME_OF_WRITE = "calculated_at"
# tables that are not model output: DuckDB's own log table
NOT_MODELS = {"duckdb_logs"}


def tables(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every main-schema table's rows (without the time of the write), in a fixed order."""
    gc.collect()
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' "
                "order by table_name"
            ).fetchall()
            if r[0] not in NOT_MODELS
        ]
        out = {}
        for name in names:
            columns = [
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() "
                    "where schema_name = 'main' and table_name = ? order by column_index",
                    [name],
                ).fetchall()
                if r[0] != TIME_OF_WRITE
            ]
            # as text: exact for doubles (shortest round-trip digits), and no pytz for
            # timestamps with time zone
            listed = ", ".join(f'cast("{c}" as varchar)' for c in columns)
            out[name] = con.execute(f'select {listed} from "{name}" order by all').fetchall()
        return out
    finally:
        con.close()


def test_workers_and_in_process_build_the_same_tables_and_rows(tmp_path: Path) -> None:
    built = {}
    for processes in ("0", "2"):
        project = copy_project(tmp_path / f"processes_{processes}")
        code, output = cli(project, "build", env={"EVOKI_UDF_PROCESSES": processes})
        assert code == 0, output
        built[processes] = project

    in_process = tables(built["0"] / "target" / "evoki_demo.duckdb")
    pooled = tables(built["2"] / "target" / "evoki_demo.duckdb")
    assert set(in_process) == set(pooled)
    assert "fullspectrum168" in in_process and "feat_grain" in in_process
    for name, rows in in_process.items():
        assert rows, name
        assert pooled[name] == rows, name

    def stored(project: Path) -> list[dict[str, Any]]:
        rows = table_rows(project / "target" / "demo_history.db")
        return sorted(
            ({k: v for k, v in row.items() if k != TIME_OF_WRITE} for row in rows),
            key=lambda row: str(row["metric_id"]),
        )

    assert stored(built["2"]) == stored(built["0"])
