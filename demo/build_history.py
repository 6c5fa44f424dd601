"""Build the bundled demo Evoki history: a small SQLite database with the Evoki app's schema.

The conversations live as YAML files in ``demo/sessions/`` (one file per session, read in file-name
order); ``demo/long_text.txt`` supplies the text of the one turn longer than 20,000 characters. The
builder turns them into the ``sessions``, ``turns`` and ``metrics`` tables exactly as the Evoki app
writes them, including the oddities a real history has (missing and unparseable timestamps,
duplicate and NULL prompt numbers, a turn whose session row is missing, a partial ``metrics`` table
with one orphan row). See ``demo/README.md`` for the composition and the named turns.

Usage::

    python demo/build_history.py OUT.db [--force]

or, from Python, ``build_history(pathlib.Path("OUT.db"))``, which returns the row counts.

Guarantees: the output is deterministic (the same input files give the same table contents); the
database is written to a temporary file in the target folder and renamed into place only when it is
complete, so a failed build never leaves a half-written database; an existing file is refused unless
``force`` / ``--force`` is given. Turn text is private and is never printed or put into an error
message: the builder reports counts and file/turn positions only.

Session file format (keys other than these are rejected)::

    session_id: demo-panic            # turn ids are <session_id>-001, -002, ... in file order
    title: ...                        # for humans
    exercises: ...                    # for humans
    date_ymd: "2024-03-12"            # sessions.date_ymd
    in_sessions_table: true           # false: turns only, no row in `sessions`
    start: "2024-03-12T23:41:00"      # local wall-clock time of the first turn (naive ISO)
    zone: "+01:00"                    # suffix for generated timestamps: "" (naive), "Z", "+01:00"
    step_s: 45                        # seconds between turns unless a turn gives `gap`
    turns:
      - user: text                    # exactly one of user / ai / assistant: the role and the text
        ts: null                      # optional: explicit ts_iso (any string) or null (NULL)
        prompt_num: 17                # optional: explicit prompt_num (int) or null (NULL)
        gap: 1800                     # optional: seconds since the previous turn's clock time
        text_file: long_text.txt      # optional: append this file (relative to demo/) ...
        repeat: 3                     # ... this many times, blocks separated by a blank line

Defaults: ``prompt_num`` is the turn's 1-based position in the file; ``ts_iso`` is the session
clock (``start`` plus the gaps) in ISO format with ``zone`` appended; ``date_ymd`` of a turn is the
date of the session clock (a session that crosses midnight has turns on the next day).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

DEMO_DIR = Path(__file__).resolve().parent
ROLES = ("user", "ai", "assistant")

#: When the demo history was "ingested" (sessions.created_at, turns.created_at).
INGESTED_AT = "2024-05-01T06:00:00Z"
#: When the app's older, partial metrics run happened (first row; +1 s per further row).
PARTIAL_METRICS_AT = datetime(2024, 5, 1, 6, 30, 0)

#: The critical columns the app's older metrics run filled (and nothing else).
PARTIAL_KEYS: tuple[str, ...] = ("m1_A", "m2_PCI", "m19_z_prox", "m101_t_panic", "m110_black_hole")
#: Plausible value ranges of the partial metrics (legacy placeholders; the backfill replaces them).
PARTIAL_RANGES: dict[str, tuple[float, float]] = {
    "m1_A": (0.30, 0.80),
    "m2_PCI": (0.20, 0.80),
    "m19_z_prox": (0.02, 0.35),
    "m101_t_panic": (0.00, 0.25),
    "m110_black_hole": (0.20, 0.55),
}
#: The one metrics row whose turn does not exist (the app deleted the turn, not its metrics).
ORPHAN_TURN_ID = "demo-deleted-001"
ORPHAN_SESSION_ID = "demo-deleted"

SCHEMA = """
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    date_ymd TEXT NOT NULL,
    source_root TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE turns (
    turn_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    ts_iso TEXT,
    date_ymd TEXT NOT NULL,
    prompt_num INTEGER,
    role TEXT NOT NULL CHECK(role IN ('user','ai','assistant')),
    text TEXT NOT NULL,
    file_path TEXT UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE metrics (
    metric_id TEXT PRIMARY KEY,
    turn_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    m1_A REAL,
    m2_PCI REAL,
    m19_z_prox REAL,
    m101_t_panic REAL,
    m110_black_hole REAL,
    m151_hazard REAL,
    F_risk REAL,
    metrics_json TEXT NOT NULL,
    calculated_at TEXT,
    is_alert BOOLEAN DEFAULT 0,
    guardian_action TEXT
);
"""

_SESSION_KEYS = {
    "session_id",
    "title",
    "exercises",
    "date_ymd",
    "in_sessions_table",
    "start",
    "zone",
    "step_s",
    "turns",
}
_TURN_KEYS = {*ROLES, "ts", "prompt_num", "gap", "text_file", "repeat"}


class DemoDataError(ValueError):
    """A session file is malformed. The message names file and turn, never the turn's text."""


@dataclass(frozen=True)
class Turn:
    """One row of ``turns``."""

    turn_id: str
    session_id: str
    ts_iso: str | None
    date_ymd: str
    prompt_num: int | None
    role: str
    text: str
    file_path: str


@dataclass(frozen=True)
class Session:
    """One session file: its ``sessions`` row (unless absent from the table) and its turns."""

    session_id: str
    date_ymd: str
    source_root: str
    in_sessions_table: bool
    turns: tuple[Turn, ...]


def _require(cond: bool, where: str, what: str) -> None:
    if not cond:
        raise DemoDataError(f"{where}: {what}")


def _turn_text(spec: dict[str, Any], role: str, where: str, source_dir: Path) -> str:
    text = spec[role]
    _require(isinstance(text, str), where, f"'{role}' must be a string (quote it in YAML)")
    if "text_file" in spec:
        name = spec["text_file"]
        repeat = spec.get("repeat", 1)
        _require(isinstance(name, str) and "/" not in name, where, "bad text_file")
        _require(type(repeat) is int and repeat >= 1, where, "repeat must be an integer >= 1")
        block = (source_dir / name).read_text(encoding="utf-8").strip("\n")
        parts = ([text] if text else []) + [block] * repeat
        text = "\n\n".join(parts)
    else:
        _require("repeat" not in spec, where, "repeat without text_file")
    _require("\x00" not in text, where, "text contains NUL")
    return text


def _load_session_file(path: Path, source_dir: Path) -> Session:
    with path.open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    where = path.name
    _require(isinstance(doc, dict), where, "not a mapping")
    unknown = set(doc) - _SESSION_KEYS
    _require(not unknown, where, f"unknown keys {sorted(unknown)}")
    for key in ("session_id", "date_ymd", "start", "step_s", "turns"):
        _require(key in doc, where, f"missing key '{key}'")
    session_id = doc["session_id"]
    date_ymd = doc["date_ymd"]
    zone = doc.get("zone", "")
    step_s = doc["step_s"]
    in_table = doc.get("in_sessions_table", True)
    _require(isinstance(session_id, str) and session_id, where, "bad session_id")
    _require(isinstance(date_ymd, str), where, "date_ymd must be a quoted string")
    _require(isinstance(zone, str), where, "zone must be a string")
    _require(type(step_s) is int and step_s >= 0, where, "step_s must be an integer >= 0")
    _require(isinstance(in_table, bool), where, "in_sessions_table must be true or false")
    _require(isinstance(doc["turns"], list) and doc["turns"], where, "turns must be a list")
    try:
        clock = datetime.fromisoformat(doc["start"])
    except (TypeError, ValueError):
        raise DemoDataError(f"{where}: start must be a naive ISO date-time string") from None
    _require(clock.tzinfo is None, where, "start must be naive (put the zone into 'zone')")
    _require(clock.date().isoformat() == date_ymd, where, "start is not on date_ymd")

    source_root = f"demo/sessions/{path.name}"
    turns: list[Turn] = []
    for index, spec in enumerate(doc["turns"], start=1):
        twhere = f"{where} turn {index}"
        _require(isinstance(spec, dict), twhere, "not a mapping")
        unknown = set(spec) - _TURN_KEYS
        _require(not unknown, twhere, f"unknown keys {sorted(unknown)}")
        roles = [r for r in ROLES if r in spec]
        _require(len(roles) == 1, twhere, "needs exactly one of user / ai / assistant")
        role = roles[0]
        if index > 1:
            gap = spec.get("gap", step_s)
            _require(type(gap) is int and gap >= 0, twhere, "gap must be an integer >= 0")
            clock += timedelta(seconds=gap)
        if "ts" in spec:
            ts_iso = spec["ts"]
            _require(ts_iso is None or isinstance(ts_iso, str), twhere, "ts must be string/null")
        else:
            ts_iso = clock.isoformat(timespec="seconds") + zone
        prompt_num = spec.get("prompt_num", index)
        _require(
            prompt_num is None or type(prompt_num) is int, twhere, "prompt_num must be int/null"
        )
        turn_id = f"{session_id}-{index:03d}"
        turns.append(
            Turn(
                turn_id=turn_id,
                session_id=session_id,
                ts_iso=ts_iso,
                date_ymd=clock.date().isoformat(),
                prompt_num=prompt_num,
                role=role,
                text=_turn_text(spec, role, twhere, source_dir),
                file_path=f"demo/{session_id}/{turn_id}.txt",
            )
        )
    return Session(session_id, date_ymd, source_root, in_table, tuple(turns))


def load_sessions(source_dir: Path = DEMO_DIR) -> list[Session]:
    """Read and validate every ``sessions/*.yaml`` below ``source_dir``, in file-name order."""
    files = sorted((source_dir / "sessions").glob("*.yaml"))
    if not files:
        raise DemoDataError(f"no session files in {source_dir / 'sessions'}")
    sessions = [_load_session_file(f, source_dir) for f in files]
    seen_sessions: set[str] = set()
    seen_turns: set[str] = set()
    for s in sessions:
        _require(s.session_id not in seen_sessions, s.source_root, "duplicate session_id")
        seen_sessions.add(s.session_id)
        for t in s.turns:
            _require(t.turn_id not in seen_turns, s.source_root, f"duplicate turn {t.turn_id}")
            seen_turns.add(t.turn_id)
    _require(ORPHAN_TURN_ID not in seen_turns, "demo", "the orphan's turn id is a real turn")
    return sessions


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from the SHA-256 of the parts."""
    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def has_partial_metrics(turn_id: str) -> bool:
    """Whether the app's older metrics run left a partial row for this turn (about 1 in 3)."""
    digest = hashlib.sha256(turn_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % 3 == 0


def _partial_row(turn_id: str, session_id: str, seq: int) -> tuple[Any, ...]:
    values = {}
    for key in PARTIAL_KEYS:
        lo, hi = PARTIAL_RANGES[key]
        values[key] = round(lo + (hi - lo) * _unit(turn_id, key), 4)
    calculated_at = (PARTIAL_METRICS_AT + timedelta(seconds=seq)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f"metric-{turn_id}",
        turn_id,
        session_id,
        *(values[k] for k in PARTIAL_KEYS),
        None,  # m151_hazard
        None,  # F_risk
        json.dumps(values),
        calculated_at,
        0,  # is_alert
        None,  # guardian_action
    )


def partial_metrics_rows(sessions: list[Session]) -> list[tuple[Any, ...]]:
    """The partial ``metrics`` rows: one per selected turn, in turn order, then the orphan."""
    selected = [t for s in sessions for t in s.turns if has_partial_metrics(t.turn_id)]
    rows = [_partial_row(t.turn_id, t.session_id, i) for i, t in enumerate(selected)]
    rows.append(_partial_row(ORPHAN_TURN_ID, ORPHAN_SESSION_ID, len(selected)))
    return rows


def _create_schema(con: sqlite3.Connection) -> None:
    con.executescript(SCHEMA)


def _insert_sessions(con: sqlite3.Connection, sessions: list[Session]) -> int:
    rows = [
        (s.session_id, s.date_ymd, s.source_root, INGESTED_AT)
        for s in sorted(sessions, key=lambda s: s.session_id)
        if s.in_sessions_table
    ]
    con.executemany(
        "INSERT INTO sessions (session_id, date_ymd, source_root, created_at) VALUES (?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def _insert_turns(con: sqlite3.Connection, sessions: list[Session]) -> int:
    rows = [
        (
            t.turn_id,
            t.session_id,
            t.ts_iso,
            t.date_ymd,
            t.prompt_num,
            t.role,
            t.text,
            t.file_path,
            INGESTED_AT,
        )
        for s in sessions
        for t in s.turns
    ]
    con.executemany(
        "INSERT INTO turns (turn_id, session_id, ts_iso, date_ymd, prompt_num, role, text,"
        " file_path, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def _insert_metrics(con: sqlite3.Connection, sessions: list[Session]) -> int:
    rows = partial_metrics_rows(sessions)
    con.executemany(
        "INSERT INTO metrics (metric_id, turn_id, session_id, m1_A, m2_PCI, m19_z_prox,"
        " m101_t_panic, m110_black_hole, m151_hazard, F_risk, metrics_json, calculated_at,"
        " is_alert, guardian_action) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    return len(rows)


def _write_database(path: Path, sessions: list[Session]) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        _create_schema(con)
        with con:
            n_sessions = _insert_sessions(con, sessions)
            n_turns = _insert_turns(con, sessions)
            n_metrics = _insert_metrics(con, sessions)
    finally:
        con.close()
    known = {s.session_id for s in sessions if s.in_sessions_table}
    return {
        "sessions": n_sessions,
        "turns": n_turns,
        "metrics_partial": n_metrics - 1,
        "metrics_orphans": 1,
        "turns_without_session": sum(len(s.turns) for s in sessions if s.session_id not in known),
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp: Path, target: Path, force: bool) -> None:
    """Move the finished temporary file to ``target`` atomically."""
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # fails if target exists: no race with another writer
    except FileExistsError:
        raise FileExistsError(f"{target} exists; use --force to overwrite") from None
    except OSError:  # file system without hard links
        if target.exists():
            raise FileExistsError(f"{target} exists; use --force to overwrite") from None
        os.replace(tmp, target)
        return
    os.unlink(tmp)


def build_history(
    path: Path, *, force: bool = False, source_dir: Path = DEMO_DIR
) -> dict[str, int]:
    """Build the demo history database at ``path`` and return its row counts.

    Raises ``FileExistsError`` if ``path`` exists and ``force`` is false, ``DemoDataError`` if a
    session file is malformed. On any error no file is left at ``path`` or next to it.
    """
    target = Path(path)
    if target.exists() and not force:
        raise FileExistsError(f"{target} exists; use --force to overwrite")
    sessions = load_sessions(Path(source_dir))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give a normal file's mode
        counts = _write_database(tmp, sessions)
        _fsync(tmp)
        _publish(tmp, target, force)
    except BaseException:
        for leftover in (tmp, Path(f"{tmp}-journal")):
            leftover.unlink(missing_ok=True)
        raise
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the bundled demo Evoki history (SQLite).")
    parser.add_argument("out", type=Path, help="database file to write, e.g. target/demo.db")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    args = parser.parse_args(argv)
    try:
        counts = build_history(args.out, force=args.force)
    except FileExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DemoDataError as exc:
        print(f"error in demo data: {exc}", file=sys.stderr)
        return 2
    print(
        f"demo history: {counts['sessions']} sessions, {counts['turns']} turns"
        f" ({counts['turns_without_session']} without a session row),"
        f" {counts['metrics_partial']} partial metrics rows,"
        f" {counts['metrics_orphans']} orphan -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
