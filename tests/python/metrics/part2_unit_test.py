"""Unit and property tests of udfs/part2_token_economy.py (the P2.7 fold).

The fold is compared bit for bit with the catalogue's SQL reference (its WITH RECURSIVE query,
run in an in-memory DuckDB) on arbitrary sessions, with the golden session G's deltas, and with
the catalogue's edge rules (start values, clamps, trunc toward zero). The Arrow entry point is
checked for batch independence (sessions in any order and grouping give the same states) and
for loud failure on NULL / non-finite inputs.
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udfs.part2_token_economy import economy_step, part2_token_economy, session_economy

# the catalogue's SQL reference (P2.7), verbatim apart from the input table's name
RECURSIVE = """
with recursive econ(session_id, idx, soc, lg) as (
  select distinct session_id, 0::bigint, 50.0::double, 30::bigint from deltas
  union all
  select e.session_id, e.idx + 1,
         least(100.0, greatest(0.0, e.soc + d.m60)),
         least(100, greatest(0, trunc(e.lg + (d.m60 - 2.0*d.causal_density))::bigint))
  from econ e join deltas d on d.session_id = e.session_id and d.idx = e.idx + 1)
select session_id, idx, soc, lg from econ where idx > 0 order by session_id, idx
"""

DELTA = st.floats(min_value=-0.05, max_value=4.95, allow_nan=False)
CAUSAL = st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0])
SESSION = st.lists(st.tuples(DELTA, CAUSAL), min_size=1, max_size=60)


def recursive_reference(sessions: list[list[tuple[float, float]]]) -> list[list[tuple[float, int]]]:
    con = duckdb.connect()
    con.execute(
        "create table deltas(session_id integer, idx bigint, m60 double, causal_density double)"
    )
    con.executemany(
        "insert into deltas values (?, ?, ?, ?)",
        [(s, k + 1, d, c) for s, turns in enumerate(sessions) for k, (d, c) in enumerate(turns)],
    )
    out: list[list[tuple[float, int]]] = [[] for _ in sessions]
    for s, _, soc, lg in con.execute(RECURSIVE).fetchall():
        out[s].append((soc, lg))
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(SESSION, min_size=1, max_size=5))
def test_fold_equals_catalogue_recursive_sql(sessions: list[list[tuple[float, float]]]) -> None:
    expected = recursive_reference(sessions)
    for turns, exp in zip(sessions, expected):
        got = session_economy([d for d, _ in turns], [c for _, c in turns])
        assert got == exp  # bit for bit, LOG exact


@settings(max_examples=100, deadline=None)
@given(SESSION)
def test_fold_bounds(turns: list[tuple[float, float]]) -> None:
    for soc, log in session_economy([d for d, _ in turns], [c for _, c in turns]):
        assert 0.0 <= soc <= 100.0 and math.isfinite(soc)
        assert isinstance(log, int) and 0 <= log <= 100


def test_golden_session_g_fold() -> None:
    """P2.8: m60 and c of G give m57 / m58 exactly as the table."""
    d = [-0.05, -0.05, -0.05, -0.05, 1.8625, 0.9125]
    c = [0.0, 0.0, 0.5, 0.25, 0.0, 0.0]
    got = session_economy(d, c)
    assert [lg for _, lg in got] == [29, 28, 26, 25, 26, 26]
    for (soc, _), exp in zip(got, [49.95, 49.90, 49.85, 49.80, 51.6625, 52.575]):
        assert soc == pytest.approx(exp, abs=1e-9)


def test_step_rules() -> None:
    assert economy_step(50.0, 30, -0.05, 0.0) == (49.95, 29)  # trunc(29.95) = 29
    assert economy_step(0.0, 0, -0.05, 1.0) == (0.0, 0)  # floors
    assert economy_step(99.0, 99, 4.95, 0.0) == (100.0, 100)  # caps
    assert economy_step(50.0, 25, 0.9125, 0.0)[1] == 25  # gains below 1 are lost
    assert economy_step(50.0, 0, 0.5, 0.5)[1] == 0  # trunc(-0.5) = 0 (toward zero)
    assert economy_step(50.0, 1, -0.05, 0.5)[1] == 0  # trunc(-0.05) = 0


def test_empty_session() -> None:
    assert session_economy([], []) == []


@pytest.mark.parametrize("bad", [None, float("nan"), float("inf")])
def test_bad_input_raises(bad: float | None) -> None:
    with pytest.raises(ValueError):
        session_economy([-0.05, bad], [0.0, 0.0])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        session_economy([-0.05, -0.05], [0.0, bad])  # type: ignore[list-item]


def call(sessions: list[list[tuple[float, float]]]) -> list[list[dict[str, object]]]:
    idx = pa.array([list(range(1, len(s) + 1)) for s in sessions], type=pa.list_(pa.int64()))
    d = pa.array([[x for x, _ in s] for s in sessions], type=pa.list_(pa.float64()))
    c = pa.array([[y for _, y in s] for s in sessions], type=pa.list_(pa.float64()))
    return part2_token_economy(idx, d, c).to_pylist()


@settings(max_examples=40, deadline=None)
@given(st.lists(SESSION, min_size=1, max_size=6))
def test_arrow_entry_is_batch_independent(sessions: list[list[tuple[float, float]]]) -> None:
    together = call(sessions)
    alone = [call([s])[0] for s in sessions]
    reversed_ = list(reversed(call(list(reversed(sessions)))))
    assert together == alone == reversed_
    for s, states in zip(sessions, together):
        assert [st_["turn_idx"] for st_ in states] == list(range(1, len(s) + 1))


def test_arrow_entry_rejects_unordered_and_null() -> None:
    d = pa.array([[-0.05, -0.05]], type=pa.list_(pa.float64()))
    c = pa.array([[0.0, 0.0]], type=pa.list_(pa.float64()))
    with pytest.raises(ValueError):
        part2_token_economy(pa.array([[2, 1]], type=pa.list_(pa.int64())), d, c)
    with pytest.raises(ValueError):
        part2_token_economy(pa.array([None], type=pa.list_(pa.int64())), d, c)
    with pytest.raises(ValueError):
        part2_token_economy(pa.array([[1]], type=pa.list_(pa.int64())), d, c)
