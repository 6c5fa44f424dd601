"""Incremental backfills equal full ones, on a history full of oddities (prod target, real CLI).

One history holds ordinary sessions and every oddity a real history has (empty, emoji-only,
control-character, NUL and 200,000-character texts; NULL, unparseable and out-of-order ts_iso;
role 'assistant'; duplicate and NULL prompt_num; a session missing from `sessions`; a one-turn
and a user-only session). It is backfilled once (`run`: every model); then turns are appended
to a session, a session is added, a session is deleted and the text of an earlier turn of
another session is changed.

Proves: an incremental `build` on the changed history and a `build --full-refresh` from
scratch on a copy of it (fresh DuckDB file, empty metrics table) both pass every data test
(exit 0) and write byte-identical rows per turn (metrics_json, the REAL columns, is_alert,
guardian_action, metric_id, input_fingerprint), every row complete; every model table of the
incremental DuckDB equals the full build's, row for row (the deleted session's rows gone);
the incremental build recomputed exactly the changed sessions (stg_changed_sessions), rewrote
exactly the turns whose session prefix changed (appended turns inserted, the changed turn and
the later turns of its session updated) and left every other row as it was, calculated_at
included; the deleted session's stored row is left alone as an orphan.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
from backfill_support import (
    PHRASES,
    VALUE_COLUMNS,
    Turn,
    assert_complete_row,
    assert_no_turn_text,
    connect,
    prod,
    read_report,
    rows,
    session_turns,
    turn_ids,
    turn_texts,
    write_history,
)

HUGE = 200_000


def oddity_turns() -> list[Turn]:
    """A session of odd turns, a session without a `sessions` row, a one-turn session and a
    user-only session."""
    huge = (" ".join(PHRASES) + " ") * (HUGE // len(" ".join(PHRASES)) + 1)
    edge: list[Turn] = [
        ("odd-edge-001", "odd-edge", "2026-01-03T08:00:00+02:00", 1, "user", ""),
        ("odd-edge-002", "odd-edge", "2026-01-03T08:01:00+02:00", 2, "ai", "😢😢😢"),
        ("odd-edge-003", "odd-edge", "2026-01-03T08:02:00+02:00", 3, "user", "🙏❤️🔥"),
        (
            "odd-edge-004",
            "odd-edge",
            "2026-01-03T08:03:00+02:00",
            4,
            "ai",
            "Steuerzeichen\x01 mitten\x1f im Text\x07, dazu \x1b[1mFarbe\x1b[0m und\ttab.",
        ),
        ("odd-edge-005", "odd-edge", "2026-01-03T08:04:00", 5, "user", "vor\x00nach dem NUL"),
        ("odd-edge-006", "odd-edge", None, 6, "assistant", huge[:HUGE]),
        ("odd-edge-007", "odd-edge", "gestern abend", 7, "user", "Ich habe Angst. Panik!"),
        ("odd-edge-008", "odd-edge", "2026-01-03T07:00:00Z", 8, "ai", "Früher als davor."),
        ("odd-edge-009", "odd-edge", "2024-02-30T25:61:00", 8, "user", "Doppelte Nummer 8."),
        ("odd-edge-010", "odd-edge", "", None, "assistant", "   "),
        ("odd-edge-011", "odd-edge", "2026-01-03 08:30:00.123", None, "user", "Danke."),
    ]
    ghost = session_turns("odd-ghost", 3, offset=4)  # no row in `sessions`
    one = session_turns("odd-one", 1, offset=8)
    diary = [
        (f"odd-diary-{n:03d}", "odd-diary", f"2026-01-04T0{n}:00:00", n, "user", text)
        for n, text in enumerate(PHRASES[:4], 1)
    ]
    return edge + ghost + one + diary


SESSIONS = ["n-alpha", "n-beta", "n-gamma", "odd-edge", "odd-one", "odd-diary"]
TURNS = (
    session_turns("n-alpha", 6, offset=0)
    + session_turns("n-beta", 8, offset=5, role_ai="assistant")
    + session_turns("n-gamma", 5, offset=2)
    + oddity_turns()
)
APPENDED = session_turns("n-alpha", 3, start=7, offset=0)
NEW_SESSION = session_turns("n-new", 4, offset=7)
CHANGED = "n-beta-005"  # its text changes: it and n-beta-006 ... -008 are rewritten
REMOVED = "odd-one"  # deleted from turns and sessions: its stored row becomes an orphan
REBUILT = {"n-alpha": "changed", "n-beta": "changed", "n-new": "new", REMOVED: "removed"}
REWRITTEN = {"n-beta-005", "n-beta-006", "n-beta-007", "n-beta-008"}
ADDED = {t[0] for t in APPENDED + NEW_SESSION}


@dataclass(frozen=True)
class Backfills:
    incremental_history: Path
    full_history: Path
    incremental_duckdb: Path
    full_duckdb: Path
    initial: dict[str, dict[str, Any]]  # rows after the first backfill
    incremental: tuple[int, str]
    incremental_report: dict[str, Any]
    full: tuple[int, str]
    full_report: dict[str, Any]


def change_history(history: Path) -> None:
    con = connect(history)
    try:
        con.execute("begin")
        con.executemany(
            "insert into turns values (?, ?, ?, '2026-01-02', ?, ?, ?, null, '2026-01-05T00:00:00Z')",
            APPENDED + NEW_SESSION,
        )
        con.execute("insert into sessions values ('n-new', '2026-01-02', null, '2026-01-05')")
        con.execute("update turns set text = text || ' Nachtrag.' where turn_id = ?", (CHANGED,))
        con.execute("delete from turns where session_id = ?", (REMOVED,))
        con.execute("delete from sessions where session_id = ?", (REMOVED,))
        con.execute("commit")
    finally:
        con.close()


@pytest.fixture(scope="module")
def backfills(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Backfills:
    folder = tmp_path_factory.mktemp("incremental")
    history = write_history(folder / "history.db", SESSIONS, TURNS)
    duckdb = folder / "incremental.duckdb"
    for args in (("seed",), ("run",)):
        code, output = prod(project, history, duckdb, *args)
        assert code == 0, output[-3000:]
    initial = rows(history)
    change_history(history)
    full_history = folder / "full.db"
    shutil.copyfile(history, full_history)
    con = connect(full_history)
    con.execute("delete from metrics")
    con.close()
    incremental = prod(project, history, duckdb, "build")
    incremental_report = read_report(project)
    full = prod(project, full_history, folder / "full.duckdb", "build", "--full-refresh")
    return Backfills(
        history,
        full_history,
        duckdb,
        folder / "full.duckdb",
        initial,
        incremental,
        incremental_report,
        full,
        read_report(project),
    )


def test_oddities_pass_every_data_test_and_every_row_is_complete(backfills: Backfills) -> None:
    for (code, output), report in (
        (backfills.full, backfills.full_report),
        (backfills.incremental, backfills.incremental_report),
    ):
        assert code == 0, output[-3000:]
        assert report["status"] == "written"
        assert report["tests"]["fail"] == 0 and report["tests"]["error"] == 0
        assert report["tests"]["pass"] > 1000
        values = report["metrics"]
        assert values["nan_inf_count"] == values["missing_count"] == 0
        assert values["out_of_range_count"] == 0
    # the full build reads back every turn, the incremental one the rebuilt sessions' turns
    assert backfills.full_report["metrics"]["rows"] == len(TURNS) + len(ADDED) - 1
    assert backfills.incremental_report["metrics"]["rows"] == len(rebuilt_turns())
    texts = turn_texts(backfills.full_history)
    assert max(len(t) for t in texts) == HUGE and "vor\x00nach dem NUL" in texts
    for history in (backfills.full_history, backfills.incremental_history):
        by_turn = rows(history)
        assert sorted(set(by_turn) - {f"{REMOVED}-001"}) == turn_ids(history)
        for row in by_turn.values():
            assert_complete_row(row)
    assert_no_turn_text(texts, backfills.full[1], backfills.incremental[1])


def rebuilt_turns() -> set[str]:
    """The turns of the sessions the incremental build recomputes (the deleted one has none)."""
    return {t[0] for t in TURNS + APPENDED + NEW_SESSION if t[1] in REBUILT and t[1] != REMOVED}


def test_incremental_build_equals_full_refresh_from_scratch(backfills: Backfills) -> None:
    incremental = rows(backfills.incremental_history)
    assert incremental.pop(f"{REMOVED}-001")["session_id"] == REMOVED  # the orphan, kept
    full = rows(backfills.full_history)
    assert sorted(incremental) == sorted(full)
    compared = (*VALUE_COLUMNS, "metric_id", "input_fingerprint")
    for turn_id, row in full.items():
        assert {c: incremental[turn_id][c] for c in compared} == {c: row[c] for c in compared}, (
            turn_id
        )
    assert backfills.full_report["full_refresh"] is True
    assert backfills.full_report["rows"]["inserted"] == len(full)


def test_incremental_build_rewrites_only_the_changed_session_prefixes(
    backfills: Backfills,
) -> None:
    report = backfills.incremental_report["rows"]
    seen = len(rebuilt_turns())
    assert backfills.incremental_report["build"] == "incremental"
    assert backfills.incremental_report["sessions_rebuilt"] == len(REBUILT)
    assert backfills.incremental_report["turns_seen"] == seen
    assert backfills.incremental_report["turns_total"] == len(TURNS) + len(ADDED) - 1
    assert (report["inserted"], report["updated"]) == (len(ADDED), len(REWRITTEN))
    assert report["unchanged"] == seen - len(ADDED) - len(REWRITTEN)
    assert report["orphans_left_alone"] == 1
    assert backfills.full_report["build"] == "full"
    assert backfills.full_report["turns_seen"] == len(TURNS) + len(ADDED) - 1
    after = rows(backfills.incremental_history)
    stamp = report["calculated_at"]
    for turn_id, row in after.items():
        if turn_id in ADDED or turn_id in REWRITTEN:
            assert row["calculated_at"] == stamp, turn_id
        else:
            assert row == backfills.initial[turn_id], turn_id  # not even calculated_at moved
    for turn_id in REWRITTEN:
        before = backfills.initial[turn_id]
        assert after[turn_id]["metric_id"] == before["metric_id"]
        assert after[turn_id]["input_fingerprint"] != before["input_fingerprint"]


def test_incremental_rebuilds_exactly_the_changed_sessions(backfills: Backfills) -> None:
    con = duckdb.connect(str(backfills.incremental_duckdb), read_only=True)
    try:
        listed = dict(con.execute("select session_id, change from stg_changed_sessions").fetchall())
        state = con.execute(
            "select count(*), count(distinct code_version) from evoki_session_state"
        )
        n_state, n_versions = state.fetchone()
    finally:
        con.close()
    assert listed == REBUILT
    # the state advanced after the successful build: every current session, one fingerprint
    # n-alpha, n-beta, n-gamma, odd-edge, odd-diary, odd-ghost (turns only), n-new
    assert (n_state, n_versions) == (7, 1)


PARTITION_BOOKKEEPING = {
    "evoki_session_state",  # written at the end of each complete build
    "stg_session_digests",
    "stg_changed_sessions",  # differs by design: what each build recomputed
}


def test_every_model_table_equals_the_full_build(backfills: Backfills) -> None:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{backfills.incremental_duckdb}' as inc (read_only)")
        con.execute(f"attach '{backfills.full_duckdb}' as full_build (read_only)")
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where database_name = 'full_build'"
            ).fetchall()
        }
        compared = sorted(tables - PARTITION_BOOKKEEPING)
        assert {"stg_turns", "feat_text", "metrics_core", "guardian", "fullspectrum168"} <= set(
            compared
        )
        for table in compared:
            columns = [r[0] for r in con.execute(f"describe full_build.main.{table}").fetchall()]
            # calculated_at is the time of each row's write, not a value of the build
            kept = ", ".join(f'"{c}"' for c in columns if c != "calculated_at")
            n_rows = con.execute(f"select count(*) from full_build.main.{table}").fetchone()[0]
            for a, b in (("inc", "full_build"), ("full_build", "inc")):
                differing = con.execute(
                    f"select count(*) from (select {kept} from {a}.main.{table} "
                    f"except all select {kept} from {b}.main.{table})"
                ).fetchone()[0]
                assert differing == 0, f"{table}: {differing} of {n_rows} rows of {a} not in {b}"
            removed = (
                con.execute(
                    f"select count(*) from inc.main.{table} where session_id = ?", [REMOVED]
                ).fetchone()[0]
                if "session_id" in columns
                else 0
            )
            assert removed == 0, table
    finally:
        con.close()


def test_the_readback_selected_alone_reads_the_history_itself(
    project: Path, backfills: Backfills, tmp_path: Path
) -> None:
    # `build -s history_metrics_readback` runs no write-back, so there are no read-back rows
    # of this invocation: the readback reads the rebuilt sessions' rows from the history. On
    # copies: first as written, then with one stored critical column changed behind its back
    history = tmp_path / "history.db"
    db = tmp_path / "incremental.duckdb"
    shutil.copyfile(backfills.incremental_history, history)
    shutil.copyfile(backfills.incremental_duckdb, db)
    code, output = prod(project, history, db, "build", "-s", "history_metrics_readback")
    assert code == 0, output[-3000:]
    assert "replaced 4 partitions of main.history_metrics_readback" in output
    con = duckdb.connect()
    try:
        con.execute(f"attach '{backfills.incremental_duckdb}' as built (read_only)")
        con.execute(f"attach '{db}' as again (read_only)")
        for a, b in (("built", "again"), ("again", "built")):
            assert (
                con.execute(
                    f"select count(*) from (select * from {a}.main.history_metrics_readback "
                    f"except all select * from {b}.main.history_metrics_readback)"
                ).fetchone()[0]
                == 0
            )
    finally:
        con.close()
    edited = connect(history)
    edited.execute("update metrics set m1_A = m1_A / 2 + 0.25 where turn_id = ?", (CHANGED,))
    edited.commit()
    edited.close()
    code, output = prod(project, history, db, "build", "-s", "history_metrics_readback")
    assert code == 1
    assert "FAIL 1 readback_critical_columns_equal_json" in output
    assert CHANGED in output
