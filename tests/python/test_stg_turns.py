"""stg_turns / stg_sessions on a hand-made history with every oddity of real databases.

Expectations are worked out by hand from ENGINE §0 (order: prompt_num, NULL last, ties by
turn_id), METRICS P2.3 (partner = latest earlier turn of the other role) and P-3
(timestamps: zone-less = UTC, unparseable = missing).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from history_db import make_history

ROOT = Path(__file__).resolve().parents[2]

TURNS = [
    # session a: duplicate prompt_num (2), a NULL prompt_num, 'assistant', out-of-order and
    # unparseable timestamps, empty text, a zone offset
    ("a-1", "a", "2026-03-01T10:00:00", 1, "user", "Hallo"),
    ("a-3", "a", "2026-03-01T10:05:00+01:00", 2, "assistant", "Hi 😀"),
    ("a-2", "a", "2026-03-01T10:01:00Z", 2, "ai", "Wie geht's?"),
    ("a-4", "a", "gestern abend", 3, "user", ""),
    ("a-5", "a", None, None, "user", "noch da\x07?"),
    ("a-6", "a", "2026-03-01T09:00:00", 4, "ai", "Ja."),
    # session u: only user turns, session missing from `sessions`
    ("u-1", "u", "2026-03-02T08:00:00Z", 1, "user", "eins"),
    ("u-2", "u", "", 2, "user", "zwei"),
]


def run_models(history: Path, database: Path, *models: str) -> None:
    """`python -m evoki_sql run -s MODELS` on the prod target with this history and database."""
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(database),
    }
    result = subprocess.run(
        [sys.executable, "-m", "evoki_sql", "run", "-s", *models],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("stg")
    history = make_history(tmp / "hist ö'.db", ["a"], TURNS)
    run_models(history, tmp / "out.duckdb", "stg_turns", "stg_sessions")
    con = duckdb.connect(str(tmp / "out.duckdb"), read_only=True)
    yield con
    con.close()


def rows(con: duckdb.DuckDBPyConnection, columns: str) -> dict[str, tuple]:
    found = con.execute(f"select turn_id, {columns} from stg_turns").fetchall()
    return {r[0]: tuple(r[1:]) for r in found}


def test_order_follows_prompt_num_nulls_last_then_turn_id(staged):
    got = rows(staged, "turn_idx, session_turns")
    # a: 1 (a-1), 2 (a-2 before a-3: tie broken by turn_id), 3 (a-4), 4 (a-6), NULL (a-5) last
    assert got["a-1"] == (1, 6)
    assert got["a-2"] == (2, 6)
    assert got["a-3"] == (3, 6)
    assert got["a-4"] == (4, 6)
    assert got["a-6"] == (5, 6)
    assert got["a-5"] == (6, 6)
    assert got["u-1"] == (1, 2) and got["u-2"] == (2, 2)


def test_roles_normalised_and_text_kept(staged):
    got = rows(staged, "role, role_raw, length(text)")
    assert got["a-3"] == ("ai", "assistant", 4)
    assert got["a-4"] == ("user", "user", 0)
    assert {r[0] for r in got.values()} == {"user", "ai"}


def test_previous_turn_any_role_and_same_role(staged):
    got = rows(staged, "prev_turn_id, prev_same_role_turn_id, prev_same_role_idx")
    assert got["a-1"] == (None, None, None)
    assert got["a-2"] == ("a-1", None, None)
    assert got["a-3"] == ("a-2", "a-2", 2)
    assert got["a-4"] == ("a-3", "a-1", 1)
    assert got["a-6"] == ("a-4", "a-3", 3)
    assert got["a-5"] == ("a-6", "a-4", 4)
    assert got["u-2"] == ("u-1", "u-1", 1)


def test_partner_is_latest_earlier_turn_of_the_other_role(staged):
    got = rows(staged, "partner_turn_id, partner_idx")
    assert got["a-1"] == (None, None)  # first turn: no partner
    assert got["a-2"] == ("a-1", 1)  # ai answers the user turn
    assert got["a-3"] == ("a-1", 1)  # second ai turn still pairs with the last user turn
    assert got["a-4"] == ("a-3", 3)  # user reacts to the latest ai turn
    assert got["a-6"] == ("a-4", 4)
    assert got["a-5"] == ("a-6", 5)  # NULL prompt_num sorts last, after a-6
    assert got["u-1"] == (None, None) and got["u-2"] == (None, None)  # single-role session


def test_timestamps_parse_as_utc_or_missing(staged):
    got = rows(staged, "ts_epoch, gap_s")
    base = 1772359200.0  # 2026-03-01T10:00:00Z
    assert got["a-1"] == (base, None)
    assert got["a-2"] == (base + 60, 60.0)
    # +01:00 -> 09:05 UTC: earlier than a-2, a negative gap (out of order) stays visible here
    assert got["a-3"] == (base - 55 * 60, -56 * 60.0)
    assert got["a-4"] == (None, None)  # unparseable
    assert got["a-6"] == (base - 3600, None)  # previous turn has no timestamp
    assert got["a-5"] == (None, None)
    assert got["u-2"] == (None, None)  # empty string is missing


def test_sessions_include_the_ones_missing_from_the_sessions_table(staged):
    got = {
        r[0]: r[1:]
        for r in staged.execute(
            "select session_id, n_turns, n_user_turns, n_ai_turns, n_timestamps, in_sessions_table "
            "from stg_sessions"
        ).fetchall()
    }
    assert got["a"] == (6, 3, 3, 4, True)
    assert got["u"] == (2, 2, 0, 1, False)
    assert staged.execute(
        "select session_known from stg_turns where turn_id = 'u-1'"
    ).fetchone() == (False,)


def test_rows_are_stored_in_session_order(tmp_path: Path) -> None:
    """stg_turns is stored session by session, sessions by their first turn's date (then
    session_id), whatever the history's insertion order, so an incremental build's delete of
    the latest sessions touches few row groups (the models reading stg_turns inherit the
    order). The history interleaves 40 sessions, inserted in reverse id order, each session's
    turns against their prompt_num; session dates run against the ids for half of them, and
    every turn after a session's first is a day later than the first."""
    sessions = [f"s{i:03d}" for i in range(40)]
    turns = [
        (f"{sid}-{n}", sid, None, 30 - n, "user" if n % 2 else "ai", f"Satz {n}.")
        for n in range(30)
        for sid in reversed(sessions)
    ]
    history = make_history(tmp_path / "interleaved.db", sessions, turns)
    # sessions 0-19 start on days running against their ids, 20-39 with them
    first_day = {
        sid: date(2026, 1, 1) + timedelta(days=39 - i if i < 20 else i)
        for i, sid in enumerate(sessions)
    }
    with sqlite3.connect(history) as con:
        # a session's first turn (prompt_num 1) on its first day, the others a day later
        con.executemany(
            "update turns set date_ymd = ? where session_id = ? and prompt_num = 1",
            [(day.isoformat(), sid) for sid, day in first_day.items()],
        )
        con.executemany(
            "update turns set date_ymd = ? where session_id = ? and prompt_num > 1",
            [((day + timedelta(days=1)).isoformat(), sid) for sid, day in first_day.items()],
        )
    run_models(history, tmp_path / "out.duckdb", "stg_turns")
    with duckdb.connect(str(tmp_path / "out.duckdb"), read_only=True) as con:
        stored = con.execute("select session_id, turn_idx from stg_turns order by rowid").fetchall()
    expected = sorted((first_day[sid], sid, idx) for sid in sessions for idx in range(1, 31))
    assert stored == [(sid, idx) for _, sid, idx in expected]
