"""The input fingerprint of a turn (udfs/input_fingerprint.py and fullspectrum168's use of it).

prefix_chain, the chain itself: the same records give the same digests; changing record k
changes the digests of positions >= k and none before; inserting a record changes every
digest from its position on; appending one changes none of the earlier ones; a NULL record
(or NULL record list, in the UDF) raises; the UDF is prefix_chain row by row.

On the real project (the base history backfilled with `run -s +fullspectrum168`, then a
second history with one change per session): a turn's fingerprint changes when an earlier
turn of its session (or the turn itself) changes its text, role, ts_iso or prompt_num, and
does not change when only a later turn of its session or another session changes; and the
fingerprint column is prefix_chain over the sessions' record digests in turn order.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import jinja2
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from output_support import BASE_TURNS, Backfill, Turn, backfill

from udfs.input_fingerprint import GENESIS, input_fingerprint, prefix_chain

ROOT = Path(__file__).resolve().parents[3]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


RECORDS = [digest(f"turn {i}") for i in range(8)]
records_strategy = st.lists(st.text(min_size=1).map(digest), min_size=1, max_size=12)


# -- prefix_chain -----------------------------------------------------------------------------


def test_same_input_gives_the_same_chain() -> None:
    first = prefix_chain(RECORDS)
    assert first == prefix_chain(list(RECORDS))
    assert len(first) == len(RECORDS)
    assert all(len(d) == 64 and int(d, 16) >= 0 for d in first)
    assert len(set(first)) == len(first)


def test_chain_definition() -> None:
    chain = prefix_chain(RECORDS[:2])
    assert GENESIS == "0" * 64
    assert chain[0] == hashlib.sha256(f"{GENESIS}|{RECORDS[0]}".encode("ascii")).hexdigest()
    assert chain[1] == hashlib.sha256(f"{chain[0]}|{RECORDS[1]}".encode("ascii")).hexdigest()
    assert prefix_chain([]) == []


@settings(max_examples=200, deadline=None)
@given(records=records_strategy, data=st.data())
def test_changing_record_k_changes_positions_from_k_on_only(
    records: list[str], data: st.DataObject
) -> None:
    k = data.draw(st.integers(0, len(records) - 1))
    replacement = data.draw(st.text(min_size=1).map(digest).filter(lambda r: r != records[k]))
    changed = [*records[:k], replacement, *records[k + 1 :]]
    before, after = prefix_chain(records), prefix_chain(changed)
    assert after[:k] == before[:k]
    assert all(a != b for a, b in zip(after[k:], before[k:]))


@settings(max_examples=200, deadline=None)
@given(records=records_strategy, data=st.data())
def test_inserting_a_record_shifts_the_chain(records: list[str], data: st.DataObject) -> None:
    k = data.draw(st.integers(0, len(records)))
    inserted = data.draw(st.text(min_size=1).map(digest))
    longer = [*records[:k], inserted, *records[k:]]
    before, after = prefix_chain(records), prefix_chain(longer)
    assert len(after) == len(before) + 1
    assert after[:k] == before[:k]
    # every record that moved one place down gets a new digest
    assert all(after[j + 1] != before[j] for j in range(k, len(records)))
    if k == len(records) or inserted != records[k]:
        # and no digest from the inserted position on is one of the old chain's
        assert not set(after[k:]) & set(before)


@settings(max_examples=100, deadline=None)
@given(records=records_strategy, extra=records_strategy)
def test_appending_keeps_the_prefix(records: list[str], extra: list[str]) -> None:
    assert prefix_chain(records + extra)[: len(records)] == prefix_chain(records)


def test_swapping_two_records_changes_the_chain_from_the_first() -> None:
    swapped = [RECORDS[0], RECORDS[2], RECORDS[1], *RECORDS[3:]]
    before, after = prefix_chain(RECORDS), prefix_chain(swapped)
    assert after[0] == before[0]
    assert all(a != b for a, b in zip(after[1:], before[1:]))


@pytest.mark.parametrize("position", [0, 3, 7])
def test_null_record_raises(position: int) -> None:
    records: list[str | None] = list(RECORDS)
    records[position] = None
    with pytest.raises(ValueError, match="NULL"):
        prefix_chain(records)  # type: ignore[arg-type]


def test_udf_is_prefix_chain_per_row() -> None:
    sessions = [RECORDS[:3], [], RECORDS[3:]]
    got = input_fingerprint(pa.array(sessions, type=pa.list_(pa.string())))
    assert got.type == pa.list_(pa.string())
    assert got.to_pylist() == [prefix_chain(s) for s in sessions]


@pytest.mark.parametrize(
    "sessions", [[RECORDS[:2], None], [[RECORDS[0], None]]], ids=["null-list", "null-record"]
)
def test_udf_rejects_nulls(sessions: list[list[str | None] | None]) -> None:
    with pytest.raises(ValueError, match="NULL"):
        input_fingerprint(pa.array(sessions, type=pa.list_(pa.string())))


# -- the real project -------------------------------------------------------------------------

# One change per session of the base history: (session, turn changed, field, new value).
CHANGES = {
    "text": ("text-1", 5, "Hallo, ich bin heute froh."),
    "role": ("role-1", 4, "ai"),
    "ts": ("ts-1", 2, "2026-01-03T20:00:30Z"),
    "pnum": ("pnum-1", 3, 0),  # 1 -> 0: the order of the session stays the same
    "later": ("later-3", 5, "Seit Tagen. Etwas hilft."),
    # "still": unchanged, while every other session changes
}


def changed_turns() -> list[Turn]:
    by_turn = {turn_id: (field, value) for turn_id, field, value in CHANGES.values()}
    turns = []
    for turn in BASE_TURNS:
        if turn[0] in by_turn:
            field, value = by_turn[turn[0]]
            row = list(turn)
            row[field] = value
            turn = tuple(row)  # type: ignore[assignment]
        turns.append(turn)
    return turns


def fingerprints(run: Backfill) -> dict[str, str]:
    return dict(run.query("select turn_id, fingerprint from fullspectrum168"))


@pytest.fixture(scope="module")
def changed_backfill(evoki_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    return backfill(evoki_project, tmp_path_factory.mktemp("changed_backfill"), changed_turns())


@pytest.fixture(scope="module")
def before_after(
    base_backfill: Backfill, changed_backfill: Backfill
) -> tuple[dict[str, str], dict[str, str]]:
    return fingerprints(base_backfill), fingerprints(changed_backfill)


def test_change_history_differs_where_intended() -> None:
    base, changed = BASE_TURNS, changed_turns()
    differing = {a[0] for a, b in zip(base, changed) if a != b}
    assert differing == {turn_id for turn_id, _, _ in CHANGES.values()}


@pytest.mark.parametrize("session", ["text", "role", "ts", "pnum"])
def test_change_of_an_earlier_turn_changes_this_and_every_later_fingerprint(
    before_after: tuple[dict[str, str], dict[str, str]], session: str
) -> None:
    before, after = before_after
    for turn_id in (f"{session}-1", f"{session}-2", f"{session}-3"):
        assert before[turn_id] != after[turn_id], turn_id


def test_change_of_a_later_turn_leaves_earlier_fingerprints(
    before_after: tuple[dict[str, str], dict[str, str]],
) -> None:
    before, after = before_after
    assert before["later-1"] == after["later-1"]
    assert before["later-2"] == after["later-2"]
    assert before["later-3"] != after["later-3"]


def test_changes_in_other_sessions_leave_a_session_alone(
    before_after: tuple[dict[str, str], dict[str, str]],
) -> None:
    before, after = before_after
    for turn_id in ("still-1", "still-2", "still-3"):
        assert before[turn_id] == after[turn_id], turn_id
    assert set(before) == set(after) == {t[0] for t in BASE_TURNS}


def test_fingerprint_column_is_the_chain_of_the_record_digests(base_backfill: Backfill) -> None:
    macros = (
        jinja2.Environment(undefined=jinja2.StrictUndefined)
        .from_string((ROOT / "macros" / "fullspectrum.sql").read_text(encoding="utf-8"))
        .module
    )
    record = macros.fs168_input_record("turn_id", "prompt_num", "role", "ts_iso", "text")
    sessions = base_backfill.query(
        f"select list(turn_id order by turn_idx), list({record} order by turn_idx) "
        "from stg_turns group by session_id"
    )
    assert len(sessions) == 6
    stored = fingerprints(base_backfill)
    for turn_ids, records in sessions:
        assert [stored[t] for t in turn_ids] == prefix_chain(records)
