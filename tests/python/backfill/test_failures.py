"""A backfill that fails in the middle of its write leaves the history as it was (real CLI).

Proves: when SQLite aborts an insert half-way through the write-back (a trigger raising after
the updates and some inserts went in), the command exits 1 with a message naming the failure
and no turn text, the report says nothing was written, and every table of the history is
identical to before; when the process is killed with SIGKILL while the write-back is writing
(the rollback journal exists and pages have already spilled into the database file), the next
connection rolls the hot journal back: the metrics table and the schema are exactly as before
and the database passes integrity_check. The last test (expected to fail, see its reason)
checks that the next CLI command on such a history recovers it instead of refusing it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb as duckdb_module
import pytest
from backfill_support import (
    BACKFILL_MODELS,
    REPORT_NAME,
    ROOT,
    WRITEBACK_ONLY,
    assert_no_turn_text,
    connect,
    dump,
    prod,
    prod_env,
    read_report,
    table_rows,
    turn_texts,
)

Fresh = Callable[[], tuple[Path, Path]]


def test_injected_failure_mid_write_rolls_everything_back(project: Path, fresh: Fresh) -> None:
    history, duckdb = fresh()
    con = connect(history)
    con.executemany(
        "insert into metrics (metric_id, turn_id, session_id, m1_A, metrics_json, calculated_at) "
        "values (?, ?, ?, 0.5, '{}', '2024-05-01T06:30:00Z')",
        [
            (f"app-{t}", t, t.rsplit("-", 1)[0])
            for t in ("s-alpha-001", "s-beta-003", "s-delta-004")
        ],
    )
    # the write-back updates the 3 rows, then inserts 21: the 11th insert is aborted
    con.execute(
        "create trigger fail_midway before insert on metrics "
        "when (select count(*) from metrics) >= 13 "
        "begin select raise(abort, 'injected failure'); end"
    )
    con.close()
    before = dump(history)
    code, output = prod(project, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
    assert code == 1, output[-3000:]
    assert "injected failure" in output
    assert "Traceback" not in output
    assert dump(history) == before
    assert not Path(f"{history}-journal").exists()
    report = read_report(project)
    assert report["status"].startswith("not written")
    assert "injected failure" in report["message"]
    report_text = (project / "target" / REPORT_NAME).read_text(encoding="utf-8")
    assert_no_turn_text(turn_texts(history), output, report_text)


def _kill_during_write(project: Path, history: Path, duckdb: Path) -> float:
    """Run the backfill in a subprocess, SIGKILL it once the write-back has dirtied the database
    file; the seconds from the journal's appearance to the kill."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVOKI_")}
    env.update(prod_env(history, duckdb))
    journal = Path(f"{history}-journal")
    size = history.stat().st_size
    process = subprocess.Popen(
        [sys.executable, "-m", "evoki_sql", "run", "-s", *BACKFILL_MODELS, "-t", "prod"]
        + ["--project-dir", str(project)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        seen = None
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            if seen is None and journal.exists():
                seen = time.monotonic()
            if seen is not None and history.stat().st_size > size:
                process.send_signal(signal.SIGKILL)
                process.wait()
                return time.monotonic() - seen
            time.sleep(0.001)
        pytest.fail(f"the write-back ended before it could be killed (exit {process.poll()})")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Killed:
    folder: Path  # killed.db with its hot journal killed.db-journal
    before: list[str]  # the dump of the history before the backfill
    metrics_before: list[dict[str, Any]]


@pytest.fixture(scope="module")
def killed(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Killed:
    """A 4,000-turn history whose backfill was killed with SIGKILL while writing."""
    folder = tmp_path_factory.mktemp("killed")
    history = folder / "killed.db"
    made = subprocess.run(
        [sys.executable, "-m", "bench.make_history", "--turns", "4000", "--sessions", "80"]
        + ["--seed", "3", "--out", str(history)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    con = connect(history)
    assert con.execute("pragma journal_mode").fetchone()[0] == "delete"
    con.executemany(
        "insert into metrics (metric_id, turn_id, session_id, metrics_json) values (?, ?, ?, '{}')",
        con.execute("select 'app-' || turn_id, turn_id, session_id from turns limit 50").fetchall(),
    )
    con.close()
    before, metrics_before = dump(history), table_rows(history)
    duckdb = folder / "killed.duckdb"
    code, output = prod(project, history, duckdb, "seed")
    assert code == 0, output
    _kill_during_write(project, history, duckdb)
    journal = Path(f"{history}-journal")
    assert journal.exists() and journal.stat().st_size > 0  # a hot journal is left behind
    return Killed(folder, before, metrics_before)


def hot_copy(killed: Killed, dest: Path) -> Path:
    """A copy of the killed history together with its hot journal."""
    dest.mkdir()
    shutil.copyfile(killed.folder / "killed.db", dest / "history.db")
    shutil.copyfile(killed.folder / "killed.db-journal", dest / "history.db-journal")
    return dest / "history.db"


def test_sigkill_during_the_write_leaves_the_metrics_table_as_it_was(
    killed: Killed, tmp_path: Path
) -> None:
    history = hot_copy(killed, tmp_path / "copy")
    con = connect(history)
    try:
        assert con.execute("pragma integrity_check").fetchone()[0] == "ok"
    finally:
        con.close()
    assert not Path(f"{history}-journal").exists()  # rolled back by the first connection
    assert table_rows(history) == killed.metrics_before
    assert dump(history) == killed.before


def test_the_next_command_after_a_crash_recovers_the_history(
    project: Path, killed: Killed, tmp_path: Path
) -> None:
    history = hot_copy(killed, tmp_path / "copy")
    code, output = prod(project, history, tmp_path / "next.duckdb", "run", "-s", "stg_turns")
    assert code == 0, output[-3000:]
    assert not Path(f"{history}-journal").exists()
    assert dump(history) == killed.before


def test_a_turn_without_metric_values_stops_the_write_back(project: Path, fresh: Fresh) -> None:
    history, duckdb = fresh()
    con = duckdb_module.connect(str(duckdb))
    try:
        deleted = con.execute(
            "delete from metrics_wide where turn_id = 's-beta-003' returning turn_id"
        ).fetchall()
    finally:
        con.close()
    assert deleted == [("s-beta-003",)]
    before = dump(history)
    code, output = prod(project, history, duckdb, "run", "-s", *WRITEBACK_ONLY)
    assert code == 1, output[-3000:]
    assert (
        "fullspectrum168: turn s-beta-003 has no row in a metric family model (metrics_wide)"
        in output
    )
    assert "Traceback" not in output
    assert dump(history) == before
    assert_no_turn_text(turn_texts(history), output)
