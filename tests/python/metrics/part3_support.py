"""Shared set-up of the METRICS.md Part 3 tests (metrics_grain, metrics_trauma, metrics_sentiment,
metrics_evolution and the P3.2 feature model feat_vad).

Not a test module. `build_part3` writes a history, then runs the real CLI on the prod target,
`build -s +metrics_grain +metrics_sentiment +metrics_evolution` (seeds, the feature layer, every
earlier metric family, the Part 3 models and all their data tests, in DAG order). `rerun` runs
selected models again without their parents, after a test has overwritten upstream columns
(e.g. m15_affekt_a in metrics_core) with the catalogue's stated input values, so the golden values
that the catalogue gives for fixed inputs go through the real SQL as well.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import duckdb

from history_db import make_history
from prod_cli import run_prod_cli as run_cli

MODELS = ["metrics_grain", "metrics_trauma", "metrics_sentiment", "metrics_evolution"]
TOL = 1e-9

#: a history row: (turn_id, session_id, ts_iso, prompt_num, role, text)
Turn = tuple[str, str, str | None, int | None, str, str]


class Built:
    """A built history: paths plus helpers to read and rerun models."""

    def __init__(self, history: Path, out: Path) -> None:
        self.history = history
        self.out = out

    def rows(self, model: str) -> dict[str, dict[str, object]]:
        """{turn_id: {column: value}} of one model."""
        con = duckdb.connect(str(self.out), read_only=True)
        try:
            result = con.execute(f"select * from {model}")
            names = [d[0] for d in result.description]
            return {r[0]: dict(zip(names, r)) for r in result.fetchall()}
        finally:
            con.close()

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Rows of an ad-hoc read-only query."""
        con = duckdb.connect(str(self.out), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def execute(self, statements: Iterable[tuple[str, list[object]]]) -> None:
        """Run write statements (test set-up: overwrite upstream inputs)."""
        con = duckdb.connect(str(self.out))
        try:
            for sql, params in statements:
                con.execute(sql, params)
        finally:
            con.close()

    def rerun(self, models: list[str]) -> str:
        """`run --full-refresh -s <models>` (no parents, every session), asserting success;
        returns the CLI output."""
        result = run_cli(["run", "--full-refresh", "-s", *models], self.history, self.out)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result.stdout


def build_part3(tmp: Path, turns: Iterable[Turn], models: list[str] | None = None) -> Built:
    """History from `turns`; seed, build +each Part 3 model and run every data test on the way."""
    turns = list(turns)
    models = models or MODELS
    sessions = sorted({t[1] for t in turns})
    history = make_history(tmp / "history.db", sessions, turns)
    out = tmp / "out.duckdb"
    result = run_cli(["build", "-s", *[f"+{m}" for m in models]], history, out)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for model in models:  # the model was built and its YAML data tests ran and passed
        assert f" OK created incremental model main.{model} " in result.stdout
        assert f" PASS not_null_{model}_turn_id " in result.stdout
        assert f" PASS accepted_range_{model}_m" in result.stdout
    assert " FAIL " not in result.stdout and " ERROR " not in result.stdout
    return Built(history, out)


def single_turns(texts: dict[str, str], role: str = "user") -> list[Turn]:
    """One session per text (`g_<name>`), the text as its only turn (turn id = name)."""
    return [(name, f"g_{name}", None, 1, role, text) for name, text in texts.items()]


def assert_close(actual: object, expected: float, what: str, tol: float = TOL) -> None:
    """|actual − expected| ≤ tol, actual a finite number."""
    assert isinstance(actual, (int, float)), f"{what}: not a number ({actual!r})"
    assert math.isfinite(float(actual)), f"{what}: not finite ({actual!r})"
    assert abs(float(actual) - expected) <= tol, f"{what}: {actual!r} != {expected!r}"
