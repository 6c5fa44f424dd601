"""The value counts of the backfill report (hooks/backfill_report.py, _value_checks) on a
readback table built by hand from the contract: zero when every value is fine (the one-
predicate fast path), and exact NaN/Inf, out-of-range and missing counts when values are off."""

from __future__ import annotations

import csv
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from evoki_sql.relation import Relation
from hooks.backfill_report import READBACK_MODEL, _value_checks

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = list(csv.DictReader((ROOT / "seeds" / "metric_contract.csv").open(encoding="utf-8")))
UID = f"model.evoki.{READBACK_MODEL}"


def fine_value(row: dict[str, str]) -> Any:
    if row["type"] == "enum":
        return row["enum_values"].split("|")[0]
    return float(row["range_lo"]) if row["range_lo"] != "" else 0.0


def context(rows: list[dict[str, Any]]) -> SimpleNamespace:
    con = duckdb.connect()
    columns = ", ".join(
        f'"{r["key"]}" {"varchar" if r["type"] == "enum" else "double"}' for r in CONTRACT
    )
    con.execute(f"create table readback ({columns})")
    marks = ", ".join("?" for _ in CONTRACT)
    for row in rows:
        con.execute(f"insert into readback values ({marks})", [row[r["key"]] for r in CONTRACT])
    node = SimpleNamespace(
        resource_type="model", name=READBACK_MODEL, relation="readback", unique_id=UID
    )
    return SimpleNamespace(
        con=con,
        manifest=SimpleNamespace(
            nodes={UID: node},
            config=SimpleNamespace(dirs=lambda key: [ROOT / "seeds"]),
        ),
        results=[SimpleNamespace(unique_id=UID, status="success", adapter_response={})],
    )


def fine_row() -> dict[str, Any]:
    return {r["key"]: fine_value(r) for r in CONTRACT}


@pytest.fixture()
def keys() -> dict[str, str]:
    numeric = next(r for r in CONTRACT if r["type"] != "enum" and r["range_hi"] != "")
    other = next(r for r in CONTRACT if r["type"] != "enum" and r["key"] != numeric["key"])
    enum = next(r for r in CONTRACT if r["type"] == "enum")
    return {
        "numeric": numeric["key"],
        "other": other["key"],
        "enum": enum["key"],
        "hi": numeric["range_hi"],
    }


def test_every_value_fine_counts_zero() -> None:
    ctx = context([fine_row(), fine_row()])
    found = _value_checks(ctx, CONTRACT)
    assert found is not None
    assert (found["rows"], found["values"]) == (2, 2 * len(CONTRACT))
    assert found["nan_inf_count"] == found["out_of_range_count"] == found["missing_count"] == 0


def test_off_values_are_counted_exactly(keys: dict[str, str]) -> None:
    nan_row, high_row, gaps_row = fine_row(), fine_row(), fine_row()
    nan_row[keys["numeric"]] = math.nan
    nan_row[keys["other"]] = math.inf
    high_row[keys["numeric"]] = float(keys["hi"]) + 1.0
    gaps_row[keys["other"]] = None
    gaps_row[keys["enum"]] = "not-an-allowed-value"
    found = _value_checks(context([fine_row(), nan_row, high_row, gaps_row]), CONTRACT)
    assert found is not None
    assert found["rows"] == 4
    assert found["nan_inf_count"] == 2
    assert found["nan_inf_rate"] == 2 / (4 * len(CONTRACT))
    assert found["out_of_range_count"] == 2  # the numeric one above its range, the enum
    assert found["missing_count"] == 1


def incremental_context(kept_rows: bool) -> SimpleNamespace:
    """An incremental build that rebuilt session 's2' of three: the readback table holds every
    session (with an off value in session 's1', which must not be counted); the rows of this
    run are in the temp table the partitioned model keeps (`kept_rows`) or only in the table."""
    con = duckdb.connect()
    columns = ", ".join(
        f'"{r["key"]}" {"varchar" if r["type"] == "enum" else "double"}' for r in CONTRACT
    )
    con.execute(f"create table readback (session_id varchar, {columns})")
    marks = ", ".join("?" for _ in CONTRACT)
    numeric = next(r["key"] for r in CONTRACT if r["type"] != "enum")
    for session, n in (("s1", 3), ("s2", 2), ("s3", 4)):
        for _ in range(n):
            row = fine_row()
            if session == "s1":
                row[numeric] = math.nan
            con.execute(
                f"insert into readback values (?, {marks})",
                [session, *[row[r["key"]] for r in CONTRACT]],
            )
    con.execute("create table changed as select 's2' as session_id")
    if kept_rows:
        con.execute(
            "create temp table readback__partitions as from readback where session_id = 's2'"
        )
    node = SimpleNamespace(
        resource_type="model",
        name=READBACK_MODEL,
        relation=Relation(None, "main", "readback"),
        unique_id=UID,
    )
    changed = SimpleNamespace(
        resource_type="model",
        name="stg_changed_sessions",
        relation="changed",
        unique_id="model.evoki.stg_changed_sessions",
    )
    return SimpleNamespace(
        con=con,
        manifest=SimpleNamespace(
            nodes={UID: node, changed.unique_id: changed},
            config=SimpleNamespace(dirs=lambda key: [ROOT / "seeds"]),
        ),
        results=[
            SimpleNamespace(unique_id=UID, status="success", adapter_response={"partitions": 1})
        ],
    )


@pytest.mark.parametrize("kept_rows", [True, False])
def test_an_incremental_build_counts_the_rebuilt_sessions_only(kept_rows: bool) -> None:
    found = _value_checks(incremental_context(kept_rows), CONTRACT)
    assert found is not None
    assert (found["rows"], found["values"]) == (2, 2 * len(CONTRACT))
    assert found["nan_inf_count"] == 0
