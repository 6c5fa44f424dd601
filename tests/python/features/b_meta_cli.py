"""Runs the real CLI (prod target) on a small history made in a test, for the B/meta feature tests.

Not a test module: the feature test files of the B-vector / ctx_break / hash chain / grain /
text_meta models import `build_features` from here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import duckdb

from history_db import make_history

ROOT = Path(__file__).resolve().parents[3]

Turn = tuple[str, str, str | None, int | None, str, str]


def run_cli(args: list[str], history: Path, duckdb_path: Path) -> subprocess.CompletedProcess[str]:
    """`python -m evoki_sql <args>` on the prod target with the given history and DuckDB file."""
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(duckdb_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def build_features(
    tmp: Path, turns: Iterable[Turn], models: list[str]
) -> duckdb.DuckDBPyConnection:
    """Make a history from `turns`, seed, run `+model` for every model, run the models' data
    tests and return the DuckDB file opened read-only."""
    turns = list(turns)
    sessions = sorted({t[1] for t in turns})
    history = make_history(tmp / "history.db", sessions, turns)
    out = tmp / "out.duckdb"
    seeded = run_cli(["seed"], history, out)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    # run + test instead of `build -s +model`: build would also pick up other models' tests
    # that merely read stg_turns (relationships tests) while those models are not built here
    built = run_cli(["run", "-s", *[f"+{m}" for m in models]], history, out)
    assert built.returncode == 0, built.stdout + built.stderr
    tested = run_cli(["test", "-s", *models], history, out)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert " PASS " in tested.stdout  # the models' YAML data tests did run
    return duckdb.connect(str(out), read_only=True)


def by_turn(con: duckdb.DuckDBPyConnection, model: str, columns: str) -> dict[str, tuple]:
    """{turn_id: (columns...)} of a model."""
    rows = con.execute(f"select turn_id, {columns} from {model}").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}
