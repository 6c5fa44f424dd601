"""Tests of the bundled demo history (demo/build_history.py and demo/README.md)."""

from __future__ import annotations

import importlib.util
import json
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "demo"
BUILDER = DEMO / "build_history.py"
README = DEMO / "README.md"


def _load_builder() -> ModuleType:
    name = "evoki_demo_build_history"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BUILDER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look the module up while the class is created
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bh() -> ModuleType:
    return _load_builder()


@pytest.fixture(scope="module")
def built(bh: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("demo") / "history.db"
    counts = bh.build_history(path)
    return path, counts


@pytest.fixture()
def con(built: tuple[Path, dict]) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{built[0]}?mode=ro", uri=True)
    yield connection
    connection.close()


def _one(con: sqlite3.Connection, sql: str, params: tuple = ()) -> object:
    return con.execute(sql, params).fetchone()[0]


def _dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


# --- counts and schema ------------------------------------------------------------------------


def test_counts(built: tuple[Path, dict], con: sqlite3.Connection) -> None:
    _, counts = built
    n_sessions = _one(con, "SELECT count(*) FROM sessions")
    n_turns = _one(con, "SELECT count(*) FROM turns")
    n_metrics = _one(con, "SELECT count(*) FROM metrics")
    assert n_sessions >= 12
    assert n_turns >= 300
    assert counts["sessions"] == n_sessions
    assert counts["turns"] == n_turns
    assert counts["metrics_partial"] + counts["metrics_orphans"] == n_metrics
    assert counts["metrics_orphans"] == 1
    assert counts["turns_without_session"] == _one(
        con, "SELECT count(*) FROM turns WHERE session_id NOT IN (SELECT session_id FROM sessions)"
    )


EXPECTED_COLUMNS = {
    "sessions": [
        ("session_id", "TEXT", 0, 1),
        ("date_ymd", "TEXT", 1, 0),
        ("source_root", "TEXT", 0, 0),
        ("created_at", "TEXT", 1, 0),
    ],
    "turns": [
        ("turn_id", "TEXT", 0, 1),
        ("session_id", "TEXT", 1, 0),
        ("ts_iso", "TEXT", 0, 0),
        ("date_ymd", "TEXT", 1, 0),
        ("prompt_num", "INTEGER", 0, 0),
        ("role", "TEXT", 1, 0),
        ("text", "TEXT", 1, 0),
        ("file_path", "TEXT", 0, 0),
        ("created_at", "TEXT", 1, 0),
    ],
    "metrics": [
        ("metric_id", "TEXT", 0, 1),
        ("turn_id", "TEXT", 1, 0),
        ("session_id", "TEXT", 1, 0),
        ("m1_A", "REAL", 0, 0),
        ("m2_PCI", "REAL", 0, 0),
        ("m19_z_prox", "REAL", 0, 0),
        ("m101_t_panic", "REAL", 0, 0),
        ("m110_black_hole", "REAL", 0, 0),
        ("m151_hazard", "REAL", 0, 0),
        ("F_risk", "REAL", 0, 0),
        ("metrics_json", "TEXT", 1, 0),
        ("calculated_at", "TEXT", 0, 0),
        ("is_alert", "BOOLEAN", 0, 0),
        ("guardian_action", "TEXT", 0, 0),
    ],
}


def test_schema(con: sqlite3.Connection) -> None:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == set(EXPECTED_COLUMNS)
    for table, expected in EXPECTED_COLUMNS.items():
        got = [(r[1], r[2], r[3], r[5]) for r in con.execute(f"PRAGMA table_info({table})")]
        assert got == expected, table
    turns_sql = _one(con, "SELECT sql FROM sqlite_master WHERE name = 'turns'")
    assert "CHECK(role IN ('user','ai','assistant'))" in turns_sql
    assert "file_path TEXT UNIQUE" in turns_sql
    metrics_sql = _one(con, "SELECT sql FROM sqlite_master WHERE name = 'metrics'")
    assert "is_alert BOOLEAN DEFAULT 0" in metrics_sql


def test_role_check_is_enforced(built: tuple[Path, dict], tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_bytes(built[0].read_bytes())
    connection = sqlite3.connect(copy)
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute(
            "INSERT INTO turns (turn_id, session_id, date_ymd, role, text, created_at)"
            " VALUES ('x', 'demo-calm', '2024-01-01', 'system', '', 'now')"
        )
    connection.close()


def test_ids_are_readable_and_stable(con: sqlite3.Connection) -> None:
    for turn_id, session_id in con.execute("SELECT turn_id, session_id FROM turns"):
        assert re.fullmatch(re.escape(session_id) + r"-\d{3}", turn_id)
        assert session_id.startswith("demo-")
    assert _one(con, "SELECT count(DISTINCT file_path) FROM turns") == _one(
        con, "SELECT count(*) FROM turns"
    )


# --- oddities ---------------------------------------------------------------------------------


def _parses_as_iso(ts: str) -> bool:
    try:
        datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def test_timestamps(con: sqlite3.Connection) -> None:
    assert _one(con, "SELECT count(*) FROM turns WHERE ts_iso IS NULL") >= 3
    values = [r[0] for r in con.execute("SELECT ts_iso FROM turns WHERE ts_iso IS NOT NULL")]
    unparseable = [v for v in values if not _parses_as_iso(v)]
    assert "gestern abend" in unparseable
    assert len(unparseable) >= 2
    parsed = [datetime.fromisoformat(v.replace("Z", "+00:00")) for v in values if _parses_as_iso(v)]
    assert any(p.tzinfo is None for p in parsed), "naive timestamps"
    assert any(v.endswith("Z") for v in values)
    assert any(v.endswith("+01:00") for v in values)
    assert any(v.endswith("+02:00") for v in values)


def test_out_of_order_timestamp(con: sqlite3.Connection) -> None:
    def instant(ts: str | None) -> datetime | None:
        if ts is None or not _parses_as_iso(ts):
            return None
        parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        if parsed.tzinfo is None:  # the catalogue reads zone-less values as UTC
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed

    found = False
    rows = con.execute(
        "SELECT session_id, ts_iso FROM turns ORDER BY session_id, prompt_num NULLS LAST, turn_id"
    ).fetchall()
    latest: dict[str, datetime] = {}
    for session_id, ts in rows:
        t = instant(ts)
        if t is None:
            continue
        if session_id in latest and t < latest[session_id]:
            found = True
        latest[session_id] = max(t, latest.get(session_id, t))
    assert found


def test_roles_and_prompt_nums(con: sqlite3.Connection) -> None:
    roles = {r[0] for r in con.execute("SELECT DISTINCT role FROM turns")}
    assert roles == {"user", "ai", "assistant"}
    assert _one(con, "SELECT count(*) FROM turns WHERE prompt_num IS NULL") >= 1
    duplicates = con.execute(
        "SELECT session_id, prompt_num FROM turns WHERE prompt_num IS NOT NULL"
        " GROUP BY session_id, prompt_num HAVING count(*) > 1"
    ).fetchall()
    assert duplicates


def test_texts(con: sqlite3.Connection) -> None:
    texts = [r[0] for r in con.execute("SELECT text FROM turns")]
    assert "" in texts
    assert max(len(t) for t in texts) > 20000
    assert any("\x07" in t and "\x1b" in t and "\t" in t and "\r" in t for t in texts)
    assert not any("\x00" in t for t in texts)
    emoji_only = [t for t in texts if t.strip() and not re.search(r"\w", t) and not t.isascii()]
    assert emoji_only
    assert any(t and not t.strip() for t in texts), "whitespace-only text"
    assert any(len(re.findall(r"\w+", t)) == 1 for t in texts), "one-word text"
    english = _one(con, "SELECT count(*) FROM turns WHERE session_id = 'demo-english'")
    assert 0 < english < len(texts) / 4, "mostly German, some English"


def test_sessions_oddities(con: sqlite3.Connection) -> None:
    user_only = con.execute(
        "SELECT s.session_id FROM sessions s JOIN turns t USING (session_id)"
        " GROUP BY s.session_id HAVING sum(t.role <> 'user') = 0"
    ).fetchall()
    assert user_only
    missing = _one(
        con, "SELECT count(*) FROM turns WHERE session_id NOT IN (SELECT session_id FROM sessions)"
    )
    assert missing >= 1
    assert _one(con, "SELECT count(*) FROM sessions WHERE session_id NOT LIKE 'demo-%'") == 0


def test_partial_metrics(con: sqlite3.Connection, bh: ModuleType) -> None:
    n_turns = _one(con, "SELECT count(*) FROM turns")
    rows = con.execute(
        "SELECT metric_id, turn_id, session_id, m1_A, m2_PCI, m19_z_prox, m101_t_panic,"
        " m110_black_hole, m151_hazard, F_risk, metrics_json, calculated_at, is_alert,"
        " guardian_action, turn_id IN (SELECT turn_id FROM turns) FROM metrics"
    ).fetchall()
    orphans = [r for r in rows if not r[14]]
    partial = [r for r in rows if r[14]]
    assert len(orphans) == 1
    assert 0.25 <= len(partial) / n_turns <= 0.42
    keys = ["m1_A", "m2_PCI", "m19_z_prox", "m101_t_panic", "m110_black_hole"]
    for row in rows:
        values = row[3:8]
        assert all(isinstance(v, float) and 0.0 <= v <= 1.0 for v in values)
        assert row[8] is None and row[9] is None  # m151_hazard, F_risk
        payload = json.loads(row[10])
        assert list(payload) == keys
        assert [payload[k] for k in keys] == list(values)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", row[11])
        assert row[12] == 0 and row[13] is None
    for row in partial:
        assert row[0] == f"metric-{row[1]}"
        assert bh.has_partial_metrics(row[1])
        assert row[2] == _one(con, "SELECT session_id FROM turns WHERE turn_id = ?", (row[1],))
    assert len({r[1] for r in rows}) == len(rows)


# --- the README's tables ----------------------------------------------------------------------


def _readme_table(heading: str) -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
        elif rows and not line.strip():
            break
    return rows[1:]  # without the header row


def _named() -> dict[str, tuple[str, str]]:
    rows = _readme_table("## Named turns")
    return {r[0]: (r[1].strip("`"), r[2]) for r in rows}


def _turn(con: sqlite3.Connection, turn_id: str) -> dict:
    row = con.execute(
        "SELECT turn_id, session_id, role, text, session_id IN (SELECT session_id FROM sessions)"
        " FROM turns WHERE turn_id = ?",
        (turn_id,),
    ).fetchone()
    assert row is not None, f"turn {turn_id} missing"
    return {"session_id": row[1], "role": row[2], "text": row[3], "has_session": bool(row[4])}


def _session_roles(con: sqlite3.Connection, session_id: str) -> list[tuple[str, str]]:
    assert _one(con, "SELECT count(*) FROM sessions WHERE session_id = ?", (session_id,)) == 1
    return con.execute(
        "SELECT role, text FROM turns WHERE session_id = ? ORDER BY turn_id", (session_id,)
    ).fetchall()


def _check_peak_panic(con: sqlite3.Connection, i: str) -> None:
    t = _turn(con, i)
    low = t["text"].lower()
    assert t["role"] == "user" and t["session_id"] == "demo-panic"
    for term in ("kann nicht atmen", "herz rast", "todesangst", "ersticke", "panik"):
        assert term in low


def _check_calm(con: sqlite3.Connection, i: str) -> None:
    t = _turn(con, i)
    low = t["text"].lower()
    assert t["role"] == "user" and t["session_id"] == "demo-calm"
    assert not any(w in low for w in ("angst", "panik", "sterben", "ritz", "umbring", "am ende"))


def _check_suicidal(con: sqlite3.Connection, i: str) -> None:
    t = _turn(con, i)
    assert t["role"] == "user" and "mich umbringen" in t["text"].lower()


def _check_self_harm(con: sqlite3.Connection, i: str) -> None:
    t = _turn(con, i)
    assert t["role"] == "user" and "geritzt" in t["text"].lower()


def _check_gaming(con: sqlite3.Connection, i: str) -> None:
    t = _turn(con, i)
    low = t["text"].lower()
    assert t["role"] == "user" and t["session_id"] == "demo-gaming"
    assert "horrorspiel" in low and "panik" in low and "todesangst" in low and "gestorben" in low
    session_text = " ".join(x for _, x in _session_roles(con, "demo-gaming")).lower()
    for hazard in ("umbring", "umgebracht", "sterben will", "will sterben", "ritz", "suizid"):
        assert hazard not in session_text


def _check_loop(con: sqlite3.Connection, i: str) -> None:
    user_texts = [x for r, x in _session_roles(con, i) if r == "user"]
    assert max(user_texts.count(x) for x in user_texts) >= 3


def _check_disso(con: sqlite3.Connection, i: str) -> None:
    low = _turn(con, i)["text"].lower()
    assert "neben mir" in low and "unwirklich" in low and "glaswand" in low


def _check_emoji_only(con: sqlite3.Connection, i: str) -> None:
    text = _turn(con, i)["text"]
    assert text.strip() and not re.search(r"\w", text) and not text.isascii()


def _check_empty(con: sqlite3.Connection, i: str) -> None:
    assert _turn(con, i)["text"] == ""


def _check_one_word(con: sqlite3.Connection, i: str) -> None:
    assert len(re.findall(r"\w+", _turn(con, i)["text"])) == 1


def _check_capitals(con: sqlite3.Connection, i: str) -> None:
    words = re.findall(r"\w+", _turn(con, i)["text"])
    assert len(words) >= 3 and all(w.isupper() for w in words)


def _check_control(con: sqlite3.Connection, i: str) -> None:
    text = _turn(con, i)["text"]
    assert all(c in text for c in "\x07\x1b\t\r") and "\x00" not in text


def _check_long(con: sqlite3.Connection, i: str) -> None:
    assert len(_turn(con, i)["text"]) > 20000


def _check_user_only(con: sqlite3.Connection, i: str) -> None:
    roles = {r for r, _ in _session_roles(con, i)}
    assert roles == {"user"}


def _check_missing_session(con: sqlite3.Connection, i: str) -> None:
    assert not _turn(con, i)["has_session"]


def _check_orphan(con: sqlite3.Connection, i: str) -> None:
    row = con.execute(
        "SELECT turn_id IN (SELECT turn_id FROM turns) FROM metrics WHERE metric_id = ?", (i,)
    ).fetchone()
    assert row is not None and row[0] == 0


NAMED_CHECKS: dict[str, Callable[[sqlite3.Connection, str], None]] = {
    "peak panic turn": _check_peak_panic,
    "calm everyday turn": _check_calm,
    "explicit suicidal turn": _check_suicidal,
    "self-harm turn": _check_self_harm,
    "gaming panic-word turn": _check_gaming,
    "loop session": _check_loop,
    "dissociation peak turn": _check_disso,
    "emoji-only turn": _check_emoji_only,
    "empty turn": _check_empty,
    "one-word turn": _check_one_word,
    "capitals turn": _check_capitals,
    "control-char turn": _check_control,
    "long turn": _check_long,
    "user-only session": _check_user_only,
    "missing-session turn": _check_missing_session,
    "orphan metrics row": _check_orphan,
}


def test_readme_names_every_named_turn() -> None:
    assert set(_named()) == set(NAMED_CHECKS)


@pytest.mark.parametrize("name", sorted(NAMED_CHECKS))
def test_named_turn(con: sqlite3.Connection, name: str) -> None:
    ident, kind = _named()[name]
    assert kind in {"turn", "session", "metric"}
    NAMED_CHECKS[name](con, ident)


def test_readme_composition_matches(con: sqlite3.Connection, built: tuple[Path, dict]) -> None:
    rows = {r[0].strip("`"): r for r in _readme_table("## Composition") if r[0].startswith("`")}
    got = con.execute(
        "SELECT t.session_id, count(*), sum(role = 'user'), sum(role = 'ai'),"
        " sum(role = 'assistant'), count(m.metric_id)"
        " FROM turns t LEFT JOIN metrics m USING (turn_id) GROUP BY t.session_id"
    ).fetchall()
    assert set(rows) == {g[0] for g in got}
    for session_id, n, user, ai, assistant, metrics in got:
        row = rows[session_id]
        assert int(row[1]) == n, session_id
        assert row[2] == f"{user} / {ai} / {assistant}", session_id
        assert int(row[3]) == metrics, session_id
    text = README.read_text(encoding="utf-8")
    counts = built[1]
    assert f"{counts['sessions']} sessions, {counts['turns']} turns" in text
    assert f"{counts['metrics_partial']} partial metrics rows" in text


# --- determinism, overwrite protection, atomicity ---------------------------------------------


def test_deterministic(bh: ModuleType, tmp_path: Path) -> None:
    first = bh.build_history(tmp_path / "a.db")
    second = bh.build_history(tmp_path / "b.db")
    assert first == second
    assert _dump(tmp_path / "a.db") == _dump(tmp_path / "b.db")


def test_creates_parent_folders(bh: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "history.db"
    bh.build_history(target)
    assert target.is_file()
    assert sorted(p.name for p in target.parent.iterdir()) == ["history.db"]


def test_refuses_to_overwrite(bh: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "history.db"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        bh.build_history(target)
    assert target.read_bytes() == b"precious"
    assert bh.main([str(target)]) == 1
    assert target.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]


def test_force_overwrites(bh: ModuleType, tmp_path: Path) -> None:
    target = tmp_path / "history.db"
    target.write_bytes(b"old")
    assert bh.main([str(target), "--force"]) == 0
    assert _dump(target)
    counts = bh.build_history(target, force=True)
    assert counts["turns"] >= 300
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.db"]


def test_no_partial_file_when_build_fails(
    bh: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(con: sqlite3.Connection, sessions: list) -> int:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(bh, "_insert_metrics", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="disk on fire"):
        bh.build_history(out / "history.db")
    assert list(out.iterdir()) == []

    existing = tmp_path / "keep.db"
    existing.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        bh.build_history(existing, force=True)
    assert existing.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.db", "out"]


def test_cli_prints_counts_only(built: tuple[Path, dict], tmp_path: Path) -> None:
    target = tmp_path / "cli" / "history.db"
    proc = subprocess.run(
        [sys.executable, str(BUILDER), str(target)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(
        r"demo history: \d+ sessions, \d+ turns \(\d+ without a session row\),"
        r" \d+ partial metrics rows, 1 orphan -> .*history\.db\n",
        proc.stdout,
    )
    assert proc.stderr == ""
    connection = sqlite3.connect(built[0])
    texts = [r[0] for r in connection.execute("SELECT text FROM turns")]
    connection.close()
    for text in texts:
        for line in text.splitlines():
            if len(line.strip()) >= 12:
                assert line.strip() not in proc.stdout
    again = subprocess.run(
        [sys.executable, str(BUILDER), str(target)], capture_output=True, text=True, check=False
    )
    assert again.returncode == 1 and "--force" in again.stderr and again.stdout == ""


def test_data_errors_do_not_leak_text(bh: ModuleType, tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "sessions").mkdir(parents=True)
    (source / "sessions" / "01_bad.yaml").write_text(
        'session_id: demo-bad\ndate_ymd: "2024-01-01"\nstart: "2024-01-01T10:00:00"\n'
        "step_s: 60\nturns:\n  - user: GEHEIMER-TEXT-123\n    ai: auch geheim\n",
        encoding="utf-8",
    )
    with pytest.raises(bh.DemoDataError) as info:
        bh.build_history(tmp_path / "out.db", source_dir=source)
    assert "GEHEIM" not in str(info.value) and "geheim" not in str(info.value)
    assert "01_bad.yaml turn 1" in str(info.value)
    assert not (tmp_path / "out.db").exists()
