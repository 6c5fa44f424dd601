"""The batched models give the same tables built in many batches as in one.

The demo history (338 turns) is built twice, in two project copies: with the default batch
size (one batch) and with `EVOKI_BATCH_TURNS=40` (a batch of about 40 turns, so about nine
batches of sessions). The batched models' DuckDB tables hold the same rows (fullspectrum168
in the same order), and the history's metrics rows are the same byte for byte and in the
same insertion order, except the time of the write (calculated_at).
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import duckdb
from backfill_support import cli, table_rows

from project_copy import copy_project

TIME_OF_WRITE = "calculated_at"
BATCHED_MODELS = ("feat_lexicon", "metrics_core", "metrics_wide", "fullspectrum168")


def rows_in_table_order(db: Path, table: str) -> list[tuple[Any, ...]]:
    """The table's rows in their stored order, every value as text (exact for doubles)."""
    gc.collect()
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        listed = ", ".join(f'cast("{c}" as varchar)' for c in columns)
        return con.execute(f"select {listed} from {table} order by rowid").fetchall()
    finally:
        con.close()


def batches_run(project: Path) -> dict[str, int]:
    results = json.loads((project / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {
        r["unique_id"].split(".")[-1]: r["adapter_response"].get("batches")
        for r in results["results"]
        if r["unique_id"].split(".")[-1] in BATCHED_MODELS
    }


def test_many_batches_build_the_same_rows_in_the_same_order(tmp_path: Path) -> None:
    built = {}
    for name, env in (("one", {}), ("many", {"EVOKI_BATCH_TURNS": "40"})):
        project = copy_project(tmp_path / name)
        code, output = cli(project, "build", env=env)
        assert code == 0, output
        built[name] = project

    assert batches_run(built["one"]) == dict.fromkeys(BATCHED_MODELS, 1)
    many = batches_run(built["many"])
    assert len(set(many.values())) == 1 and many["metrics_wide"] >= 6, many

    for table in BATCHED_MODELS:
        one = rows_in_table_order(built["one"] / "target" / "evoki_demo.duckdb", table)
        many_rows = rows_in_table_order(built["many"] / "target" / "evoki_demo.duckdb", table)
        # one row per turn; feat_lexicon one per turn and lexicon with a hit
        assert len(one) == 338 or (table == "feat_lexicon" and len(one) > 338), table
        if table == "fullspectrum168":
            # sorted by session and turn in each batch: the same order as one sort of all
            assert many_rows == one
            # and that order is conversation order (session_id, then turn_idx)
            keys = [(row[1], int(row[2])) for row in one]
            assert keys == sorted(keys)
        else:
            assert sorted(many_rows) == sorted(one), table

    def stored(project: Path) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in row.items() if k != TIME_OF_WRITE}
            for row in table_rows(project / "target" / "demo_history.db")
        ]

    assert stored(built["many"]) == stored(built["one"])
