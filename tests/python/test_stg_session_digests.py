"""stg_session_digests: a session's digest changes with every input field the models read, and
only with them.

One history has a session per kind of change (each turn field, a swap of two texts, a renamed,
moved, added or deleted turn, the `sessions` row) and two sessions that stay as they are. The
digests of the history before and after the changes must differ in exactly the changed
sessions; the same history written in another insertion order must give the same digests.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import duckdb

from history_db import make_history
from prod_cli import run_prod_cli

# a session per change (the value: what is done to it), plus two untouched ones
CHANGES = {
    "s-text": "update turns set text = 'Satz 2 B.' where turn_id = 's-text-2'",
    "s-role": "update turns set role = 'ai' where turn_id = 's-role-1'",
    "s-prompt": "update turns set prompt_num = 7 where turn_id = 's-prompt-3'",
    "s-ts": "update turns set ts_iso = null where turn_id = 's-ts-2'",  # '' -> NULL
    "s-date": "update turns set date_ymd = '2026-01-02' where turn_id = 's-date-1'",
    "s-file": "update turns set file_path = 'a.txt' where turn_id = 's-file-2'",
    "s-created": "update turns set created_at = '2026-01-02T00:00:00Z' where turn_id = 's-created-3'",
    "s-swap": (
        "update turns set text = case turn_id when 's-swap-1' then 'Satz 2 A.' "
        "else 'Satz 1 A.' end where turn_id in ('s-swap-1', 's-swap-2')"
    ),
    "s-rename": "update turns set turn_id = 's-rename-9' where turn_id = 's-rename-2'",
    "s-from": "update turns set session_id = 's-to' where turn_id = 's-from-3'",
    "s-add": (
        "insert into turns values ('s-add-4', 's-add', '', '2026-01-01', 4, 'user', "
        "'Satz 4 A.', null, '2026-01-01T00:00:00Z')"
    ),
    "s-del": "delete from turns where turn_id = 's-del-1'",
    "s-row": "update sessions set source_root = 'elsewhere' where session_id = 's-row'",
}
SESSIONS = [*CHANGES, "s-to", "s-same", "s-same-2"]
# the sessions whose digest must change: every changed one, and the one a turn moved into
CHANGED = {*CHANGES, "s-to"}
TURNS = [
    (f"{sid}-{n}", sid, "", n, "user" if n % 2 else "ai", f"Satz {n} A.")
    for sid in SESSIONS
    for n in (1, 2, 3)
]


def digests(history: Path, out: Path) -> dict[str, str]:
    result = run_prod_cli(["run", "-s", "stg_session_digests"], history, out)
    assert result.returncode == 0, result.stdout + result.stderr
    with duckdb.connect(str(out), read_only=True) as con:
        return dict(con.execute("select session_id, digest from stg_session_digests").fetchall())


def test_digest_changes_with_every_input_field_and_nothing_else(tmp_path: Path) -> None:
    before = make_history(tmp_path / "before.db", SESSIONS, TURNS)
    after = make_history(tmp_path / "after.db", SESSIONS, TURNS)
    with sqlite3.connect(after) as con:
        for change in CHANGES.values():
            assert con.execute(change).rowcount >= 1
    # the same content as `before`, every row inserted in the reverse order
    reordered = make_history(tmp_path / "reordered.db", SESSIONS[::-1], TURNS[::-1])

    first = digests(before, tmp_path / "before.duckdb")
    second = digests(after, tmp_path / "after.duckdb")
    assert set(first) == set(second) == set(SESSIONS)
    assert {sid for sid in SESSIONS if first[sid] != second[sid]} == CHANGED
    assert digests(reordered, tmp_path / "reordered.duckdb") == first
