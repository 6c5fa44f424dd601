"""Shared set-up of the METRICS.md Part 2 tests (metrics_fep, metrics_integrity).

Not a test module. `build_part2` writes a history, then runs the real CLI on the prod target,
`build -s +metrics_fep +metrics_integrity` (seeds, the feature layer, every upstream metric model,
both Part 2 models and every data test on the way, in DAG order). `rerun_part2` runs only the two
Part 2 models and their data tests again on the same DuckDB file, after a test has replaced some
of their upstream inputs (`set_inputs`) with the catalogue's "given inputs"; the models are thus
exercised through the CLI exactly as in a build, on the catalogue's numbers. `rows` reads both
models joined per turn.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from history_db import make_history
from prod_cli import run_prod_cli as run_cli

MODELS = ["metrics_fep", "metrics_integrity"]
TOL = 1e-9

#: a history row: (turn_id, session_id, ts_iso, prompt_num, role, text)
Turn = tuple[str, str, str | None, int | None, str, str]


def _assert_built(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    for model in MODELS:  # the models were built and their YAML data tests ran
        assert f" OK created incremental model main.{model} " in result.stdout
        assert f" PASS not_null_{model}_m" in result.stdout


def build_part2(tmp: Path, turns: Iterable[Turn]) -> tuple[Path, Path]:
    """History from `turns`; seed, run +metrics_fep +metrics_integrity with all data tests.

    Returns (history path, DuckDB path)."""
    turns = list(turns)
    sessions = sorted({t[1] for t in turns})
    history = make_history(tmp / "history.db", sessions, turns)
    out = tmp / "out.duckdb"
    _assert_built(run_cli(["build", "-s", *[f"+{m}" for m in MODELS]], history, out))
    return history, out


def set_inputs(out: Path, values: Mapping[str, Mapping[str, Mapping[str, float]]]) -> None:
    """Overwrite upstream columns: values[relation][turn_id][column] = number.

    A relation that is a view is first materialised as a table with the same content, so the
    update does not depend on how the upstream model is materialised."""
    con = duckdb.connect(str(out))
    try:
        for relation, per_turn in values.items():
            kind = con.execute(
                "select table_type from information_schema.tables "
                "where table_schema = 'main' and table_name = ?",
                [relation],
            ).fetchone()
            assert kind is not None, f"upstream relation {relation} missing"
            if kind[0] == "VIEW":
                con.execute(f"create table {relation}__copy as select * from {relation}")
                con.execute(f"drop view {relation}")
                con.execute(f"alter table {relation}__copy rename to {relation}")
            for turn_id, columns in per_turn.items():
                for column, value in columns.items():
                    n = con.execute(
                        f"update {relation} set {column} = ? where turn_id = ?", [value, turn_id]
                    ).fetchone()
                    assert n is not None and n[0] == 1, (relation, turn_id, column)
    finally:
        con.close()


def rerun_part2(history: Path, out: Path) -> None:
    """Rebuild only metrics_fep and metrics_integrity (and their data tests) on `out` from
    their (patched) inputs: --full-refresh, every session."""
    _assert_built(run_cli(["build", "--full-refresh", "-s", *MODELS], history, out))


def rows(out: Path) -> dict[str, dict[str, object]]:
    """{turn_id: {column: value}} over metrics_fep joined with metrics_integrity."""
    con = duckdb.connect(str(out), read_only=True)
    try:
        result = con.execute(
            "select f.*, i.* exclude (turn_id, session_id, turn_idx, role) "
            "from metrics_fep as f join metrics_integrity as i using (turn_id)"
        )
        names = [d[0] for d in result.description]
        return {r[0]: dict(zip(names, r)) for r in result.fetchall()}
    finally:
        con.close()


def query(out: Path, sql: str) -> dict[str, dict[str, object]]:
    """{first column: {column: value}} of an ad-hoc read-only query on the DuckDB file."""
    con = duckdb.connect(str(out), read_only=True)
    try:
        result = con.execute(sql)
        names = [d[0] for d in result.description]
        return {r[0]: dict(zip(names, r)) for r in result.fetchall()}
    finally:
        con.close()
