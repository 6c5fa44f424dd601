"""Shared set-up of the METRICS.md Part 4 tests (metrics_lix … metrics_context, guardian).

Not a test module. `build_part4` writes a small history, then runs the real CLI on the prod
target (`build -s +<models>`: seeds, the feature layer, the upstream metric families, the
Part 4 models and every data test on the way) and returns the DuckDB file opened read-only.

Golden sessions of the catalogue give some upstream values as inputs (m1_A, m19_z_prox,
rag_safe_mode …). For those, `overrides` builds a copy of the project in which each named
upstream model M is renamed M__real and a thin overlay M replaces the listed columns of the
listed turns (every other column and turn keeps the real value). Only the test's temporary copy
changes; the Part 4 models run unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from history_db import make_history
from prod_cli import run_prod_cli as run_cli
from project_copy import copy_project

TOL = 1e-9
PART4_MODELS = [
    "metrics_lix",
    "metrics_health_p3",
    "metrics_dynamics",
    "metrics_synthesis",
    "metrics_context",
    "guardian",
]

#: a history row: (turn_id, session_id, ts_iso, prompt_num, role, text)
Turn = tuple[str, str, str | None, int | None, str, str]
#: {model: {turn_id: {column: value}}}
Overrides = Mapping[str, Mapping[str, Mapping[str, float | int]]]


def _sql_value(value: float | None, sql_type: str) -> str:
    if value is None:
        return f"NULL::{sql_type}"
    if sql_type == "integer":
        return f"({int(value)})::integer"
    return f"({float(value)!r})::double"


def _column_type(values: Iterable[float | int | None]) -> str:
    """integer when every given value is an int (flags such as rag_safe_mode), else double."""
    given = [v for v in values if v is not None]
    return "integer" if given and all(isinstance(v, int) for v in given) else "double"


def _write_overlay(
    project: Path, model: str, given: Mapping[str, Mapping[str, float | int]]
) -> None:
    """Rename models/metrics|features/<model>.sql to <model>__real and overlay the given values."""
    matches = list((project / "models").rglob(f"{model}.sql"))
    assert len(matches) == 1, f"model {model} not found once in the project copy"
    src = matches[0]
    src.rename(src.with_name(f"{model}__real.sql"))
    for yml in (project / "models").rglob("*.yml"):  # its tests describe the real model
        text = yml.read_text(encoding="utf-8")
        if f"- name: {model}\n" in text and yml.stem == model:
            yml.unlink()
    columns = sorted({c for row in given.values() for c in row})
    types = {c: _column_type(row.get(c) for row in given.values()) for c in columns}
    rows = []
    for turn_id, row in sorted(given.items()):
        values = ", ".join(_sql_value(row.get(c), types[c]) for c in columns)
        rows.append(f"('{turn_id}', {values})")
    replaced = ", ".join(f"coalesce(g.{c}, r.{c}) as {c}" for c in columns)
    src.with_name(f"{model}.sql").write_text(
        "{{ config(materialized='table') }}\n"
        f"select r.* replace ({replaced})\n"
        f"from {{{{ ref('{model}__real') }}}} as r\n"
        f"left join (values {', '.join(rows)}) as g(turn_id, {', '.join(columns)})\n"
        "    on g.turn_id = r.turn_id\n",
        encoding="utf-8",
    )


def build_part4(
    tmp: Path,
    turns: Iterable[Turn],
    models: Iterable[str] = PART4_MODELS,
    overrides: Overrides | None = None,
) -> duckdb.DuckDBPyConnection:
    """History from `turns`; `build -s +<models>` (models and data tests); read-only DuckDB."""
    turns = list(turns)
    models = list(models)
    sessions = sorted({t[1] for t in turns})
    history = make_history(tmp / "history.db", sessions, turns)
    out = tmp / "out.duckdb"
    project = None
    if overrides:
        project = copy_project(tmp / "project")
        for model, given in overrides.items():
            _write_overlay(project, model, given)
    result = run_cli(["build", "-s", *[f"+{m}" for m in models]], history, out, project)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    for model in models:  # built, and its YAML data tests ran
        assert f" OK created incremental model main.{model} " in result.stdout
        assert f" PASS not_null_{model}_turn_id " in result.stdout
    return duckdb.connect(str(out), read_only=True)


def rows(con: duckdb.DuckDBPyConnection, model: str) -> dict[str, dict[str, object]]:
    """{turn_id: {column: value}} of one model."""
    result = con.execute(f"select * from {model}")
    names = [d[0] for d in result.description]
    return {r[0]: dict(zip(names, r, strict=True)) for r in result.fetchall()}


def all_rows(con: duckdb.DuckDBPyConnection, models: Iterable[str] = PART4_MODELS) -> dict:
    """{turn_id: {column: value}} over several models joined per turn."""
    merged: dict[str, dict[str, object]] = {}
    for model in models:
        for turn_id, row in rows(con, model).items():
            merged.setdefault(turn_id, {}).update(row)
    return merged


def close(actual: object, expected: float, tol: float = TOL) -> bool:
    """|actual − expected| ≤ tol for a finite float."""
    return (
        isinstance(actual, (int, float))
        and math.isfinite(float(actual))
        and abs(float(actual) - expected) <= tol
    )
