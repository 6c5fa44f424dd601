"""The numeric macros of macros/math.sql, rendered and run in DuckDB."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb
import jinja2
import pytest

MACROS = (
    jinja2.Environment()
    .from_string((Path(__file__).resolve().parents[2] / "macros" / "math.sql").read_text())
    .module
)


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("-0.5", 0.0), ("0.3", 0.3), ("1.7", 1.0), ("'inf'::double", 1.0), ("'-inf'::double", 0.0)],
)
def test_clamp01_bounds(con, value: str, expected: float) -> None:
    assert con.execute(f"select {MACROS.clamp01(value)}").fetchone()[0] == expected


def test_clamp_keeps_null_and_nan_visible(con) -> None:
    null, nan = con.execute(
        f"select {MACROS.clamp01('null::double')}, {MACROS.clamp01(chr(39) + 'nan' + chr(39) + '::double')}"
    ).fetchone()
    assert null is None
    assert math.isnan(nan)


def test_safe_div_guards_zero_and_null(con) -> None:
    got = con.execute(
        f"select {MACROS.safe_div('1.0', '0')}, {MACROS.safe_div('1.0', 'null', '0.5')}, "
        f"{MACROS.safe_div('3.0', '4.0')}"
    ).fetchone()
    assert got == (0.0, 0.5, 0.75)


@pytest.mark.parametrize("x", [-800.0, -1.0, 0.0, 2.5, 800.0])
def test_sigmoid_is_stable_and_exact(con, x: float) -> None:
    got = con.execute(f"select {MACROS.sigmoid(repr(x) + '::double')}").fetchone()[0]
    want = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
    assert got == pytest.approx(want, abs=1e-15)
    assert math.isfinite(got)


def test_max2_min2_keep_null_visible(con) -> None:
    got = con.execute(
        f"select {MACROS.max2('0.2::double', '0.7::double')}, {MACROS.min2('0.2::double', '0.7::double')}, "
        f"{MACROS.max2('null', '0.7')}, {MACROS.min2('0.2', 'null')}"
    ).fetchone()
    assert got[0] == 0.7 and got[1] == 0.2
    assert got[2] is None and got[3] is None
