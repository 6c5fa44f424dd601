"""Builds small Evoki history databases (the app's SQLite schema) for tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

SCHEMA = """
create table sessions(session_id text primary key, date_ymd text not null, source_root text,
                      created_at text not null);
create table turns(turn_id text primary key, session_id text not null, ts_iso text,
                   date_ymd text not null, prompt_num integer,
                   role text not null check(role in ('user','ai','assistant')),
                   text text not null, file_path text unique, created_at text not null);
create table metrics(metric_id text primary key, turn_id text not null, session_id text not null,
                     m1_A real, m2_PCI real, m19_z_prox real, m101_t_panic real,
                     m110_black_hole real, m151_hazard real, F_risk real,
                     metrics_json text not null, calculated_at text,
                     is_alert boolean default 0, guardian_action text);
"""


def make_history(
    path: Path,
    sessions: Iterable[str],
    turns: Iterable[tuple[str, str, str | None, int | None, str, str]],
) -> Path:
    """Write a history: `turns` rows are (turn_id, session_id, ts_iso, prompt_num, role, text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.executescript(SCHEMA)
        con.executemany(
            "insert into sessions values (?, '2026-01-01', null, '2026-01-01T00:00:00Z')",
            [(s,) for s in sessions],
        )
        con.executemany(
            "insert into turns values (?, ?, ?, '2026-01-01', ?, ?, ?, null, '2026-01-01T00:00:00Z')",
            list(turns),
        )
        con.commit()
    finally:
        con.close()
    return path
