"""Helpers of the end-to-end backfill tests: the real CLI on copies of the project.

`cli()` calls `evoki_sql.cli.main` in-process with a clean EVOKI_* environment (set through
pytest's MonkeyPatch) and returns the exit code and everything printed; `dump()`, `rows()`
and `raw_row()` read a history with the sqlite3 module; `assert_complete_row()` checks one
written-back row against the contract; `session_turns()` / `base_turns()` make small
deterministic histories; `other_process()` holds a transaction on a history from another
process, as the Evoki app would.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from evoki_sql.cli import main

ROOT = Path(__file__).resolve().parents[3]
REPORT_NAME = "METRICS_BACKFILL_REPORT.json"
with (ROOT / "seeds" / "metric_contract.csv").open(newline="", encoding="utf-8") as _handle:
    CONTRACT_KEYS: list[str] = [row["key"] for row in csv.DictReader(_handle)]
#: Contract metrics that are also REAL columns of the hybrid metrics table.
CRITICAL = ("m1_A", "m2_PCI", "m19_z_prox", "m101_t_panic", "m110_black_hole")
#: The hybrid shape of the history's metrics table (Evoki app), plus the backfill's fingerprint.
HYBRID_NAMES = [
    "metric_id",
    "turn_id",
    "session_id",
    "m1_A",
    "m2_PCI",
    "m19_z_prox",
    "m101_t_panic",
    "m110_black_hole",
    "m151_hazard",
    "F_risk",
    "metrics_json",
    "calculated_at",
    "is_alert",
    "guardian_action",
    "input_fingerprint",
]
#: The columns a backfill writes from the model (compared between two backfills).
VALUE_COLUMNS = (
    "session_id",
    *CRITICAL,
    "m151_hazard",
    "F_risk",
    "metrics_json",
    "is_alert",
    "guardian_action",
)
# `run -s` selections: a whole backfill without data tests (on a DuckDB file with the seeds),
# and only the write-back and its read-back (on a DuckDB file with the upstream models built).
BACKFILL_MODELS = ("+fullspectrum168",)
WRITEBACK_ONLY = ("fullspectrum168", "history_metrics_readback")

Turn = tuple[str, str, "str | None", "int | None", str, str]


# -- the CLI -----------------------------------------------------------------------------------


def cli(project: Path, *args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """Run `python -m evoki_sql ARGS --project-dir PROJECT` in-process: (exit code, output).

    Every EVOKI_* variable of the caller is removed and `env` set for the call only.
    """
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("EVOKI_"):
                patch.delenv(name)
        for name, value in (env or {}).items():
            patch.setenv(name, value)
        with redirect_stdout(out), redirect_stderr(err):
            code = main([*args, "--project-dir", str(project)])
    return code, out.getvalue() + err.getvalue()


def prod_env(history: Path, duckdb: Path) -> dict[str, str]:
    """The environment of the prod target: the history and a DuckDB file of its own."""
    return {"EVOKI_HISTORY_DB": str(history), "EVOKI_DUCKDB": str(duckdb)}


def prod(project: Path, history: Path, duckdb: Path, *args: str) -> tuple[int, str]:
    """`cli(project, *args, '-t', 'prod')` on `history` with the DuckDB file `duckdb`."""
    return cli(project, *args, "-t", "prod", env=prod_env(history, duckdb))


def read_report(project: Path) -> dict[str, Any]:
    return json.loads((project / "target" / REPORT_NAME).read_text(encoding="utf-8"))


def set_busy_timeout(project: Path, ms: int) -> None:
    """Rewrite the busy_timeout_ms of every attachment in the project's profiles.yml."""
    profiles = project / "profiles.yml"
    text = profiles.read_text(encoding="utf-8")
    assert "busy_timeout_ms: 5000" in text
    profiles.write_text(text.replace("busy_timeout_ms: 5000", f"busy_timeout_ms: {ms}"))


# -- reading a history -------------------------------------------------------------------------


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


def dump(db: Path) -> list[str]:
    """Every table, index and trigger of the history as SQL statements (sqlite3 iterdump)."""
    con = connect(db)
    try:
        return list(con.iterdump())
    finally:
        con.close()


def columns(db: Path, table: str = "metrics") -> list[str]:
    con = connect(db)
    try:
        return [r[1] for r in con.execute(f"pragma table_info({table})")]
    finally:
        con.close()


def table_rows(db: Path, table: str = "metrics") -> list[dict[str, Any]]:
    """All rows of `table` in rowid order, as dicts (values exactly as sqlite3 returns them)."""
    con = connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(f"select * from {table} order by rowid")]
    finally:
        con.close()


def rows(db: Path) -> dict[str, dict[str, Any]]:
    """The metrics rows by turn_id (a turn with two rows fails the assertion)."""
    found: dict[str, dict[str, Any]] = {}
    for row in table_rows(db):
        assert row["turn_id"] not in found, f"two metrics rows for {row['turn_id']}"
        found[row["turn_id"]] = row
    return found


def raw_row(db: Path, where: str, params: tuple[Any, ...] = ()) -> list[tuple[str, Any]]:
    """One metrics row as (storage class, value) per column: equal means equal byte for byte."""
    con = connect(db)
    try:
        names = [r[1] for r in con.execute("pragma table_info(metrics)")]
        select = ", ".join(f'typeof("{n}"), "{n}"' for n in names)
        found = con.execute(f"select {select} from metrics where {where}", params).fetchall()
    finally:
        con.close()
    assert len(found) == 1, f"{len(found)} rows match {where}"
    flat = found[0]
    return [(flat[i], flat[i + 1]) for i in range(0, len(flat), 2)]


def turn_ids(db: Path) -> list[str]:
    con = connect(db)
    try:
        return [r[0] for r in con.execute("select turn_id from turns order by turn_id")]
    finally:
        con.close()


def turn_texts(db: Path) -> list[str]:
    con = connect(db)
    try:
        return [r[0] for r in con.execute("select text from turns")]
    finally:
        con.close()


def assert_no_turn_text(texts: Iterable[str], *haystacks: str, min_len: int = 13) -> None:
    """No turn text of at least `min_len` characters appears in any haystack (raw or as JSON)."""
    for text in texts:
        if len(text) < min_len:
            continue
        forms = {text, json.dumps(text)[1:-1], text[:40], json.dumps(text[:40])[1:-1]}
        forms = {f for f in forms if len(f) >= min_len}
        for haystack in haystacks:
            for form in forms:
                assert form not in haystack, f"turn text ({len(text)} chars) leaked"


def metric_id_for(turn_id: str) -> str:
    """The deterministic id the backfill gives a new row (independently recomputed)."""
    return "fs168-" + hashlib.sha256(turn_id.encode("utf-8")).hexdigest()[:24]


def parse_utc(stamp: str) -> datetime:
    """An ISO-8601 UTC time with a Z suffix (the calculated_at format)."""
    assert stamp.endswith("Z"), stamp
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def assert_complete_row(row: dict[str, Any]) -> None:
    """A written-back row: the 168 contract keys in order, critical columns = JSON values."""
    values = json.loads(row["metrics_json"])
    assert len(values) == 168 and list(values) == CONTRACT_KEYS, row["turn_id"]
    for key in CRITICAL:
        assert isinstance(row[key], float), (row["turn_id"], key)
        assert row[key] == values[key], (row["turn_id"], key)
        assert 0.0 <= row[key] <= 1.0, (row["turn_id"], key)
    assert row["is_alert"] in (0, 1)
    assert bool(row["is_alert"]) == row["guardian_action"].startswith("veto_"), row["turn_id"]
    assert row["metric_id"] and row["input_fingerprint"]
    parse_utc(row["calculated_at"])


# -- writing a history -------------------------------------------------------------------------

PHRASES = [
    "Guten Morgen, ich habe heute gut geschlafen und freue mich auf den Markt.",
    "Das klingt schön. Was möchtest du auf dem Markt kaufen?",
    "Tomaten, Brot und vielleicht Blumen für meine Schwester.",
    "Ich habe Angst vor der Prüfung morgen, mein Herz rast und ich kann nicht schlafen.",
    "Atme ruhig ein und aus. Du bist hier, jetzt ist jetzt.",
    "Es wird besser, danke dir. Ich fühle mich etwas geerdet.",
    "Manchmal fühle ich mich leer und allein, als wäre alles sinnlos.",
    "Das tut mir leid. Magst du erzählen, was heute passiert ist?",
    "Panik! Ich kann nicht atmen, hilfe, ich dreh durch!!!",
    "Ich bin bei dir. Zähle fünf Dinge, die du sehen kannst.",
    "Wir drehen uns im Kreis, immer wieder dasselbe.",
    "Heute war ein guter Tag. Ich bin dankbar und stolz auf mich.",
]


def session_turns(
    session_id: str, count: int, start: int = 1, offset: int = 0, role_ai: str = "ai"
) -> list[Turn]:
    """`count` turns of a session, user and ai alternating, prompt_num `start`, `start + 1`...

    The texts cycle through PHRASES from `offset`, so sessions differ.
    """
    turns: list[Turn] = []
    for n in range(start, start + count):
        role = "user" if n % 2 == 1 else role_ai
        text = f"{PHRASES[(n + offset) % len(PHRASES)]} ({session_id} {n})"
        minute = n % 60
        turns.append(
            (f"{session_id}-{n:03d}", session_id, f"2026-01-02T10:{minute:02d}:00Z", n, role, text)
        )
    return turns


def write_history(
    path: Path, sessions: Iterable[str], turns: Iterable[Turn], metrics: str | None = "hybrid"
) -> Path:
    """A history with the app's sessions and turns tables; `metrics`: 'hybrid' (the app's
    table, empty), None (no table) or the SQL of a create statement."""
    from history_db import make_history

    make_history(path, sessions, turns)
    if metrics != "hybrid":
        con = connect(path)
        try:
            con.execute("drop table metrics")
            if metrics is not None:
                con.execute(metrics)
        finally:
            con.close()
    return path


def base_turns() -> tuple[list[str], list[Turn]]:
    """The small standard history of the prod-target tests: 4 sessions, 24 turns."""
    sessions = ["s-alpha", "s-beta", "s-gamma", "s-delta"]
    turns = (
        session_turns("s-alpha", 8, offset=0)
        + session_turns("s-beta", 6, offset=3)
        + session_turns("s-gamma", 6, offset=6, role_ai="assistant")
        + session_turns("s-delta", 4, offset=9)
    )
    return sessions, turns


# -- another process on the history -------------------------------------------------------------

_HOLDER = """
import sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=0)
con.execute(sys.argv[2])
for sql in sys.argv[3:]:
    con.execute(sql)
def count():
    return con.execute("select count(*) from metrics").fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()
print(count(), flush=True)
con.execute("rollback" if sys.argv[2] == "begin immediate" else "commit")
print(count(), flush=True)
"""


class OtherProcess:
    """Another process (as the Evoki app would be) holding a transaction on the history.

    `begin` is 'begin' (a read transaction: it reads the metrics table, so it holds a SHARED
    lock, or a WAL snapshot) or 'begin immediate' (the write lock; `statements` run in it and
    are rolled back at the end). `counts` collects the metrics row counts the process saw:
    at the start, at finish() still inside its transaction, and after it.

    A second connection of the test process itself would not do: the CLI's DuckDB reads the
    history with its own copy of SQLite, and POSIX locks belong to the process, so that copy
    closing the file drops every lock the test's sqlite3 connections hold on it.
    """

    def __init__(self, db: Path, begin: str, *statements: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(db), begin, *statements],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read() if self.process.stderr else "no output"
        self.counts = [int(line)]

    def finish(self) -> list[int]:
        out, err = self.process.communicate("\n", timeout=30)
        assert self.process.returncode == 0, err
        self.counts += [int(v) for v in out.split()]
        return self.counts

    def stop(self) -> None:
        """Kill the process if it still runs (a failed test)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


@contextmanager
def other_process(db: Path, begin: str, *statements: str) -> Iterator[OtherProcess]:
    """An OtherProcess for the `with` block (killed at its end if it still runs)."""
    holder = OtherProcess(db, begin, *statements)
    try:
        yield holder
    finally:
        holder.stop()
