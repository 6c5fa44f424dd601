"""Shared set-up of the METRICS.md Part 1 tests (metrics_core, metrics_physics).

Not a test module. `build_part1` writes a history, then runs the real CLI on the prod target,
`build -s +metrics_core +metrics_physics` (seeds, the feature layer, both models and every data
test on the way, in DAG order), and returns the DuckDB file opened read-only. `rows` reads both
models joined per turn.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import duckdb

from history_db import make_history
from prod_cli import run_prod_cli as run_cli

MODELS = ["metrics_core", "metrics_physics"]
TOL = 1e-9

#: a history row: (turn_id, session_id, ts_iso, prompt_num, role, text)
Turn = tuple[str, str, str | None, int | None, str, str]


def build_part1(tmp: Path, turns: Iterable[Turn]) -> duckdb.DuckDBPyConnection:
    """History from `turns`; seed, run +metrics_core +metrics_physics, run their data tests."""
    turns = list(turns)
    sessions = sorted({t[1] for t in turns})
    history = make_history(tmp / "history.db", sessions, turns)
    out = tmp / "out.duckdb"
    result = run_cli(["build", "-s", *[f"+{m}" for m in MODELS]], history, out)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for model in MODELS:  # the models were built and their YAML data tests ran
        assert f" OK created incremental model main.{model} " in result.stdout
        assert f" PASS not_null_{model}_m" in result.stdout
    return duckdb.connect(str(out), read_only=True)


def rows(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, object]]:
    """{turn_id: {column: value}} over metrics_core joined with metrics_physics."""
    result = con.execute(
        "select c.*, p.* exclude (turn_id, session_id, turn_idx, role) "
        "from metrics_core as c join metrics_physics as p using (turn_id)"
    )
    names = [d[0] for d in result.description]
    return {r[0]: dict(zip(names, r)) for r in result.fetchall()}
