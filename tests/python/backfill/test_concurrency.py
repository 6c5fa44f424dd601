"""The backfill while another process uses the history (prod target, real CLI).

Proves: in WAL mode a reader holding an open read transaction does not stop the backfill and
keeps seeing its snapshot until it ends; in the default rollback-journal mode such a reader
keeps the write-back from committing, and the command fails cleanly after the busy timeout
(exit 1, the lock named, no traceback, no turn text, the history unchanged); a process holding
the write lock (BEGIN IMMEDIATE) makes the command fail after the busy timeout with exit 1 and
a message that the history is locked by another writer, the history unchanged, in both
journal modes. The last test (expected to fail, see its reason) checks that no other process
can take the write lock while the write-back is writing.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backfill_support import (
    WRITEBACK_ONLY,
    assert_complete_row,
    assert_no_turn_text,
    connect,
    dump,
    other_process,
    prod,
    read_report,
    rows,
    set_busy_timeout,
    turn_ids,
    turn_texts,
)

from evoki_sql import console

from project_copy import copy_project

Fresh = Callable[[], tuple[Path, Path]]
BUSY_MS = 400
TURNS = 24  # base_turns()


@pytest.fixture(scope="module")
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose history attachment waits BUSY_MS for a lock."""
    project = copy_project(tmp_path_factory.mktemp("impatient") / "project")
    set_busy_timeout(project, BUSY_MS)
    return project


def journal_mode(history: Path, mode: str) -> None:
    con = connect(history)
    try:
        assert con.execute(f"pragma journal_mode={mode}").fetchone()[0] == mode
    finally:
        con.close()


def test_wal_reader_with_an_open_transaction_does_not_block_the_backfill(
    project: Path, fresh: Fresh
) -> None:
    history, duckdb = fresh()
    journal_mode(history, "wal")
    with other_process(history, "begin") as reader:
        code, output = prod(project, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
        counts = reader.finish()
    assert code == 0, output[-3000:]
    # the reader saw no rows at its start and, in its snapshot, still none after the commit
    assert counts == [0, 0, TURNS]
    by_turn = rows(history)
    assert sorted(by_turn) == turn_ids(history)
    for row in by_turn.values():
        assert_complete_row(row)
    assert read_report(project)["metrics"]["rows"] == TURNS  # read back after the commit


def test_rollback_journal_reader_with_an_open_transaction_fails_cleanly(
    impatient: Path, fresh: Fresh
) -> None:
    history, duckdb = fresh()
    journal_mode(history, "delete")  # the default of the app's database
    before = dump(history)
    with other_process(history, "begin") as reader:
        started = time.monotonic()
        code, output = prod(impatient, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
        elapsed = time.monotonic() - started
        counts = reader.finish()
    if code == 0:  # a writer that waited for the reader and committed after it would be fine
        assert counts == [0, 0, TURNS]
        for row in rows(history).values():
            assert_complete_row(row)
        return
    # What happens: BEGIN IMMEDIATE and the writes succeed (RESERVED lock); the COMMIT needs
    # the EXCLUSIVE lock, waits BUSY_MS for the reader's SHARED lock, fails and rolls back.
    assert code == 1, output[-3000:]
    assert "held by a reader that did not let go" in output and "nothing was changed" in output
    assert "Traceback" not in output
    assert elapsed >= BUSY_MS / 1000
    assert counts == [0, 0, 0]
    assert dump(history) == before
    report = read_report(impatient)
    assert report["status"].startswith("not written")
    assert "held by a reader that did not let go" in report["message"]
    assert_no_turn_text(turn_texts(history), output)


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_another_writer_holding_the_lock_makes_the_backfill_fail_cleanly(
    impatient: Path, fresh: Fresh, mode: str
) -> None:
    history, duckdb = fresh()
    journal_mode(history, mode)
    before = dump(history)
    insert = (
        "insert into metrics (metric_id, turn_id, session_id, metrics_json) "
        "values ('other', 's-alpha-001', 's-alpha', '{}')"
    )
    with other_process(history, "begin immediate", insert) as writer:
        code, output = prod(impatient, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
        counts = writer.finish()
    assert counts == [1, 1, 0]  # its own row, uncommitted, then rolled back
    assert code == 1, output[-3000:]
    assert "locked by another writer" in output
    assert f"waited {BUSY_MS} ms" in output and "nothing was changed" in output
    assert "Traceback" not in output
    assert dump(history) == before
    report = read_report(impatient)
    assert report["status"].startswith("not written")
    assert "locked by another writer" in report["message"]


TRY_TO_WRITE = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
try:
    con.execute("begin immediate")
except sqlite3.OperationalError as exc:
    print(exc)
else:
    con.execute("rollback")
    print("got the write lock")
"""


@pytest.fixture()
def at_write_start(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Callable[[], None]]]:
    """Callables run once when the write-back reports its first progress (0 rows written:
    the write transaction is open, the plan is made, no row is written yet)."""
    actions: list[Callable[[], None]] = []
    progress = console.Console.progress

    def patched(self: console.Console, done: int, total: int, label: str) -> None:
        if label == "fullspectrum168" and done == 0:
            while actions:
                actions.pop(0)()
        progress(self, done, total, label)

    monkeypatch.setattr(console.Console, "progress", patched)
    yield actions


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_no_other_process_can_take_the_write_lock_while_the_write_back_writes(
    project: Path, fresh: Fresh, at_write_start: list[Callable[[], None]], mode: str
) -> None:
    history, duckdb = fresh()
    journal_mode(history, mode)
    seen: list[str] = []

    def other_process_tries_to_write() -> None:
        result = subprocess.run(
            [sys.executable, "-c", TRY_TO_WRITE, str(history)],
            capture_output=True,
            text=True,
            check=True,
        )
        seen.append(result.stdout.strip())

    at_write_start.append(other_process_tries_to_write)
    code, output = prod(project, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
    assert code == 0, output[-3000:]
    assert seen == ["database is locked"]
