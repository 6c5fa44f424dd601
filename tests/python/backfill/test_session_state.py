"""The session state of incremental builds (prod target, real CLI, the standard small history).

Proves: after a complete build, a build with nothing changed rebuilds no session and writes
nothing; a changed session is rebuilt alone; when the write-back of that build fails (another
writer holds the lock), the session state does not advance, so the next build rebuilds the
same session and writes it; a change of the project's fingerprint (here a new var) rebuilds
every session; a stored row someone deleted is written again by the next build, although its
session did not change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from backfill_support import (
    base_turns,
    connect,
    other_process,
    prod,
    read_report,
    rows,
    set_busy_timeout,
    write_history,
)

from project_copy import copy_project

BUSY_MS = 300
CHANGED_TURN = "s-beta-003"
DELETED_ROW_TURN = "s-gamma-002"


def state(duckdb_path: Path) -> dict[str, str]:
    con = duckdb.connect(str(duckdb_path), read_only=True)
    try:
        return dict(con.execute("select session_id, digest from evoki_session_state").fetchall())
    finally:
        con.close()


@pytest.fixture(scope="module")
def steps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("session_state")
    project = copy_project(folder / "project")
    set_busy_timeout(project, BUSY_MS)
    sessions, turns = base_turns()
    history = write_history(folder / "history.db", sessions, turns)
    db = folder / "evoki.duckdb"
    found: dict[str, Any] = {}
    found["first"] = prod(project, history, db, "build")
    found["state_first"] = state(db)
    found["unchanged"] = prod(project, history, db, "build")
    found["unchanged_report"] = read_report(project)
    con = connect(history)
    con.execute("update turns set text = text || ' Und dann?' where turn_id = ?", (CHANGED_TURN,))
    con.commit()
    con.close()
    with other_process(history, "begin immediate") as writer:
        found["locked"] = prod(project, history, db, "build")
        writer.finish()
    found["state_locked"] = state(db)
    found["rows_locked"] = rows(history)
    found["retry"] = prod(project, history, db, "build")
    found["retry_report"] = read_report(project)
    found["state_retry"] = state(db)
    found["rows_retry"] = rows(history)
    found["new_fingerprint"] = prod(project, history, db, "build", "--vars", "{state_test: 1}")
    found["new_fingerprint_report"] = read_report(project)
    # someone deletes the stored row of a turn whose session does not change
    found["rows_before_delete"] = rows(history)
    con = connect(history)
    con.execute("delete from metrics where turn_id = ?", (DELETED_ROW_TURN,))
    con.commit()
    con.close()
    found["restore"] = prod(project, history, db, "build", "--vars", "{state_test: 1}")
    found["restore_report"] = read_report(project)
    found["rows_restored"] = rows(history)
    return found


def test_nothing_changed_rebuilds_no_session(steps: dict[str, Any]) -> None:
    assert steps["first"][0] == 0, steps["first"][1][-3000:]
    assert sorted(steps["state_first"]) == ["s-alpha", "s-beta", "s-delta", "s-gamma"]
    code, output = steps["unchanged"]
    assert code == 0, output[-3000:]
    report = steps["unchanged_report"]
    assert (report["build"], report["sessions_rebuilt"], report["turns_seen"]) == (
        "incremental",
        0,
        0,
    )
    assert report["rows"]["inserted"] == report["rows"]["updated"] == 0


def test_a_failed_write_back_leaves_the_state_and_the_history_as_they_were(
    steps: dict[str, Any],
) -> None:
    code, output = steps["locked"]
    assert code == 1
    assert "locked by another writer" in output
    assert "Session state not advanced" in output
    assert steps["state_locked"] == steps["state_first"]


def test_the_next_build_rebuilds_the_same_session_and_writes_it(steps: dict[str, Any]) -> None:
    code, output = steps["retry"]
    assert code == 0, output[-3000:]
    report = steps["retry_report"]
    assert report["sessions_rebuilt"] == 1
    assert report["turns_seen"] == 6  # s-beta's turns
    # the changed turn and the later turns of its session are rewritten
    assert (report["rows"]["inserted"], report["rows"]["updated"]) == (0, 4)
    before, after = steps["rows_locked"], steps["rows_retry"]
    assert before[CHANGED_TURN]["metrics_json"] != after[CHANGED_TURN]["metrics_json"]
    assert {t for t in after if after[t] != before[t]} == {f"s-beta-{n:03d}" for n in range(3, 7)}
    changed = {
        s for s in steps["state_retry"] if steps["state_retry"][s] != steps["state_first"][s]
    }
    assert changed == {"s-beta"}


def test_a_new_project_fingerprint_rebuilds_every_session(steps: dict[str, Any]) -> None:
    code, output = steps["new_fingerprint"]
    assert code == 0, output[-3000:]
    report = steps["new_fingerprint_report"]
    assert report["sessions_rebuilt"] == 4 and report["turns_seen"] == 24


def test_a_deleted_stored_row_of_an_unchanged_session_is_written_again(
    steps: dict[str, Any],
) -> None:
    code, output = steps["restore"]
    assert code == 0, output[-3000:]
    report = steps["restore_report"]
    assert report["sessions_rebuilt"] == 0
    assert (report["rows"]["inserted"], report["rows"]["updated"]) == (1, 0)
    before, after = steps["rows_before_delete"], steps["rows_restored"]
    assert set(after) == set(before)
    restored, old = after[DELETED_ROW_TURN], before[DELETED_ROW_TURN]
    assert restored["metrics_json"] == old["metrics_json"]
    assert restored["input_fingerprint"] == old["input_fingerprint"]
    assert restored["metric_id"].startswith("fs168-")
    assert {t for t in after if after[t] != before[t]} == {DELETED_ROW_TURN}
