"""The history_writeback materialization on small histories of every shape.

A fixture project holds one model with the hybrid columns (values derived from the turn
text so they are easy to check) and the project's write-back materialization.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from evoki_sql.cli import main

from history_db import make_history

ROOT = Path(__file__).resolve().parents[3]

MODEL = """
{{ config(materialized='history_writeback') }}
select
    turn_id,
    session_id,
    length(text) / 100.0 as m1_A,
    0.5 as m2_PCI,
    0.25 as m19_z_prox,
    0.0 as m101_t_panic,
    0.0 as m110_black_hole,
    case when text like '%sterben%' then 1.0 else 0.0 end as m151_hazard,
    0.4 as F_risk,
    json_object('m1_A', length(text) / 100.0, 'n', length(text))::varchar as metrics_json,
    text like '%sterben%' as is_alert,
    case when text like '%sterben%' then 'veto_hazard' else 'commit' end as guardian_action,
    md5(session_id || '|' || turn_id || '|' || text) as fingerprint
from {{ source('history', 'turns') }}
"""

TURNS = [
    ("t1", "s1", "2026-01-01T10:00:00Z", 1, "user", "Hallo"),
    ("t2", "s1", "2026-01-01T10:01:00Z", 2, "ai", "Hallo, wie geht es dir?"),
    ("t3", "s1", None, 3, "user", "Ich will sterben."),
    ("t4", "s2", "2026-01-02T10:00:00Z", 1, "user", ""),
]


def make_project(folder: Path, history: Path) -> Path:
    (folder / "models").mkdir(parents=True)
    shutil.copytree(
        ROOT / "materializations",
        folder / "materializations",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (folder / "pyproject.toml").write_text('[tool.evoki_sql]\nname = "wb"\nprofile = "wb"\n')
    (folder / "profiles.yml").write_text(
        "wb:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: target/wb.duckdb\n      attach:\n"
        f"        - path: '{history}'\n          alias: history\n          type: sqlite\n"
        "          busy_timeout_ms: 300\n"
    )
    (folder / "models" / "sources.yml").write_text(
        "version: 2\nsources:\n  - name: history\n    tables:\n      - name: turns\n"
    )
    (folder / "models" / "fs.sql").write_text(MODEL)
    return folder


def run(project: Path, *args: str) -> int:
    return main(["build", "--project-dir", str(project), *args])


def rows(history: Path) -> dict[str, dict]:
    con = sqlite3.connect(history)
    con.row_factory = sqlite3.Row
    try:
        return {r["turn_id"]: dict(r) for r in con.execute("select * from metrics")}
    finally:
        con.close()


def dump(history: Path) -> list[str]:
    con = sqlite3.connect(history)
    try:
        return list(con.iterdump())
    finally:
        con.close()


@pytest.fixture
def setup(tmp_path: Path):
    history = make_history(tmp_path / "history.db", ["s1", "s2"], TURNS)
    project = make_project(tmp_path / "project", history)
    return project, history


def test_partial_rows_are_upgraded_in_place_and_orphans_left(setup) -> None:
    project, history = setup
    con = sqlite3.connect(history)
    con.execute(
        "insert into metrics (metric_id, turn_id, session_id, m1_A, metrics_json) "
        "values ('legacy-1', 't1', 's1', 0.9, '{\"m1_A\": 0.9}')"
    )
    con.execute(
        "insert into metrics (metric_id, turn_id, session_id, metrics_json) "
        "values ('orphan-1', 'gone', 's1', '{}')"
    )
    con.commit()
    con.close()
    assert run(project) == 0
    got = rows(history)
    assert set(got) == {"t1", "t2", "t3", "t4", "gone"}
    assert got["t1"]["metric_id"] == "legacy-1"  # kept
    assert got["t1"]["m1_A"] == pytest.approx(0.05)
    assert json.loads(got["t1"]["metrics_json"]) == {"m1_A": 0.05, "n": 5}
    assert got["gone"]["metric_id"] == "orphan-1" and got["gone"]["metrics_json"] == "{}"
    assert got["t3"]["is_alert"] == 1 and got["t3"]["guardian_action"] == "veto_hazard"
    assert got["t2"]["metric_id"].startswith("fs168-")
    assert got["t2"]["calculated_at"].endswith("Z")
    report = json.loads((project / "target" / "run_results.json").read_text())
    response = next(r for r in report["results"] if r["unique_id"].endswith(".fs"))
    stats = response["adapter_response"]
    assert (stats["inserted"], stats["updated"], stats["orphans"]) == (3, 1, 1)


def test_second_build_rewrites_nothing_and_full_refresh_rewrites_all(setup) -> None:
    project, history = setup
    assert run(project) == 0
    first = rows(history)
    assert run(project) == 0
    assert rows(history) == first  # not even calculated_at changed
    report = json.loads((project / "target" / "run_results.json").read_text())
    stats = next(r for r in report["results"] if r["unique_id"].endswith(".fs"))["adapter_response"]
    assert (stats["inserted"], stats["updated"], stats["unchanged"]) == (0, 0, 4)
    assert run(project, "--full-refresh") == 0
    again = rows(history)
    assert {k: v["metrics_json"] for k, v in again.items()} == {
        k: v["metrics_json"] for k, v in first.items()
    }
    assert {k: v["metric_id"] for k, v in again.items()} == {
        k: v["metric_id"] for k, v in first.items()
    }


def test_changed_turn_text_rewrites_only_that_row(setup) -> None:
    project, history = setup
    assert run(project) == 0
    con = sqlite3.connect(history)
    con.execute("update turns set text = 'Hallo!' where turn_id = 't1'")
    con.commit()
    con.close()
    before = rows(history)
    assert run(project) == 0
    after = rows(history)
    assert json.loads(after["t1"]["metrics_json"])["n"] == 6
    assert {k: v for k, v in after.items() if k != "t1"} == {
        k: v for k, v in before.items() if k != "t1"
    }


def test_legacy_shape_is_extended_not_rewritten(tmp_path: Path) -> None:
    history = make_history(tmp_path / "history.db", ["s1", "s2"], TURNS)
    con = sqlite3.connect(history)
    con.execute("drop table metrics")
    con.execute(
        "create table metrics(turn_id TEXT PRIMARY KEY, metrics_json TEXT NOT NULL, "
        "created_at TEXT NOT NULL)"
    )
    con.execute("insert into metrics values ('t2', '{\"old\": 1}', '2020-01-01T00:00:00Z')")
    con.commit()
    con.close()
    project = make_project(tmp_path / "project", history)
    assert run(project) == 0
    got = rows(history)
    assert set(got) == {"t1", "t2", "t3", "t4"}
    assert got["t2"]["created_at"] == "2020-01-01T00:00:00Z"  # untouched column
    assert got["t2"]["metric_id"].startswith("fs168-")
    assert json.loads(got["t2"]["metrics_json"])["n"] == len("Hallo, wie geht es dir?")
    cols = [r[1] for r in sqlite3.connect(history).execute("pragma table_info(metrics)")]
    assert cols[:3] == ["turn_id", "metrics_json", "created_at"]  # nothing dropped or moved
    assert {"metric_id", "session_id", "m1_A", "F_risk", "is_alert"} <= set(cols)


def test_missing_metrics_table_is_created(tmp_path: Path) -> None:
    history = make_history(tmp_path / "history.db", ["s1", "s2"], TURNS)
    con = sqlite3.connect(history)
    con.execute("drop table metrics")
    con.commit()
    con.close()
    project = make_project(tmp_path / "project", history)
    assert run(project) == 0
    assert len(rows(history)) == 4


def test_failure_inside_the_transaction_leaves_the_database_unchanged(
    setup, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project, history = setup
    con = sqlite3.connect(history)
    con.execute(
        "insert into metrics (metric_id, turn_id, session_id, metrics_json) "
        "values ('old-1', 't1', 's1', '{}')"
    )
    con.commit()
    con.close()
    before = dump(history)
    real_connect = sqlite3.connect
    calls = {"executemany": 0}

    class FailingConnection:
        """Passes everything through; the second executemany (the inserts, after the
        updates have run) raises, as a crash in the middle of the write would."""

        def __init__(self, con: sqlite3.Connection) -> None:
            self._con = con

        def __getattr__(self, name: str):
            return getattr(self._con, name)

        def executemany(self, sql: str, params):
            calls["executemany"] += 1
            if calls["executemany"] == 2:
                raise RuntimeError("injected failure")
            return self._con.executemany(sql, params)

    monkeypatch.setattr(
        sqlite3, "connect", lambda *a, **k: FailingConnection(real_connect(*a, **k))
    )
    assert run(project) == 1
    monkeypatch.setattr(sqlite3, "connect", real_connect)
    assert calls["executemany"] == 2
    assert "injected failure" in capsys.readouterr().out
    assert dump(history) == before


def test_build_while_a_reader_is_connected_succeeds(setup) -> None:
    project, history = setup
    reader = sqlite3.connect(history)
    reader.execute("select count(*) from turns").fetchone()
    try:
        assert run(project) == 0
    finally:
        reader.close()
    assert len(rows(history)) == 4


def test_build_while_another_writer_holds_the_lock_fails_cleanly(
    setup, capsys: pytest.CaptureFixture[str]
) -> None:
    project, history = setup
    before = dump(history)
    writer = sqlite3.connect(history, isolation_level=None)
    writer.execute("begin immediate")
    try:
        assert run(project) == 1
    finally:
        writer.execute("rollback")
        writer.close()
    out = capsys.readouterr().out
    assert "locked by another writer" in out and "nothing was changed" in out
    assert dump(history) == before
