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
