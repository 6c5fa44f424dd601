"""Helpers of the output suite: a small history and its backfill through the CLI (`seed`,
then `run -s +fullspectrum168` on the prod target of a project copy, EVOKI_HISTORY_DB /
EVOKI_DUCKDB set with monkeypatch), read back from the DuckDB file afterwards.
"""

from __future__ import annotations

import gc
import io
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from evoki_sql.cli import main

from history_db import make_history

Turn = tuple[str, str, str | None, int | None, str, str]

# Six sessions of three turns: the fingerprint tests change one thing per session in a second
# history (see test_input_fingerprint.py), the JSON tests read them all.
BASE_SESSIONS = ["text", "role", "ts", "pnum", "later", "still"]
BASE_TURNS: list[Turn] = [
    ("text-1", "text", "2026-01-01T10:00:00Z", 1, "user", "Hallo, ich bin heute traurig."),
    ("text-2", "text", "2026-01-01T10:01:00Z", 2, "ai", "Das tut mir leid. Was ist passiert?"),
    ("text-3", "text", "2026-01-01T10:02:00Z", 3, "user", "Ich will sterben."),
    ("role-1", "role", "2026-01-02T09:00:00Z", 1, "user", "Guten Morgen! 😀"),
    ("role-2", "role", "2026-01-02T09:00:30Z", 2, "assistant", "Guten Morgen, wie geht es dir?"),
    ("role-3", "role", "2026-01-02T09:01:00Z", 3, "user", "GUT, danke. Und dir??"),
    ("ts-1", "ts", "2026-01-03T20:00:00Z", 1, "user", "Ich habe Angst vor morgen."),
    ("ts-2", "ts", None, 2, "ai", "Was genau macht dir Angst?"),
    ("ts-3", "ts", "2026-01-03T20:05:00+01:00", 3, "user", "Die Prüfung. Ich schlafe kaum."),
    ("pnum-1", "pnum", "2026-01-04T08:00:00Z", 1, "user", "Erzähl mir etwas über Sterne."),
    ("pnum-2", "pnum", "2026-01-04T08:00:10Z", 2, "ai", "Sterne sind Kugeln aus Plasma."),
    ("pnum-3", "pnum", "2026-01-04T08:00:20Z", 3, "user", "Und schwarze Löcher?"),
    ("later-1", "later", "2026-01-05T12:00:00Z", 1, "user", "Ich fühle mich leer."),
    ("later-2", "later", "2026-01-05T12:01:00Z", 2, "ai", "Seit wann fühlst du dich so?"),
    ("later-3", "later", "2026-01-05T12:02:00Z", 3, "user", "Seit Wochen. Nichts hilft."),
    ("still-1", "still", "2026-01-06T07:00:00Z", 1, "user", "Heute war ein guter Tag!"),
    ("still-2", "still", "2026-01-06T07:00:05Z", 2, "ai", "Das freut mich. Was war schön?"),
    ("still-3", "still", "2026-01-06T07:00:09Z", 3, "user", ""),
]


@dataclass
class Backfill:
    """The project copy after `seed` + `run -s +fullspectrum168` on one history."""

    project: Path
    history: Path
    duckdb: Path
    output: str

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        """Rows of `sql` on the run's DuckDB file (read-only)."""
        gc.collect()  # the in-process run may leave its connection to the garbage collector
        con = duckdb.connect(str(self.duckdb), read_only=True)
        try:
            return con.execute(sql, list(params)).fetchall()
        finally:
            con.close()


def run_evoki(project: Path, history: Path, db: Path, *args: str) -> tuple[int, str]:
    """The CLI in-process on the prod target of `project`; exit code and output."""
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("EVOKI_SQL_PROFILES_DIR", raising=False)
        mp.setenv("EVOKI_TARGET", "prod")
        mp.setenv("EVOKI_HISTORY_DB", str(history))
        mp.setenv("EVOKI_DUCKDB", str(db))
        with redirect_stdout(out), redirect_stderr(out):
            code = main([*args, "--target", "prod", "--project-dir", str(project)])
    gc.collect()
    return code, out.getvalue()


def backfill(project: Path, folder: Path, turns: Sequence[Turn]) -> Backfill:
    """Write a history of `turns` into `folder` and backfill it with the project."""
    history = make_history(folder / "history.db", BASE_SESSIONS, turns)
    db = folder / "evoki.duckdb"
    code, seeded = run_evoki(project, history, db, "seed")
    assert code == 0, seeded
    code, output = run_evoki(project, history, db, "run", "-s", "+fullspectrum168")
    assert code == 0, output
    return Backfill(project, history, db, seeded + output)
