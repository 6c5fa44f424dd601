"""Tests for the synthetic history generator ``bench.make_history`` (small sizes, fast)."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `bench` is a plain folder of the repo, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import vocabulary
from bench.make_history import generate

N_TURNS = 20_000
N_SESSIONS = 150
TURN_COLUMNS = (
    "turn_id, session_id, ts_iso, date_ymd, prompt_num, role, text, file_path, created_at"
)


def _turns(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute(f"SELECT {TURN_COLUMNS} FROM turns ORDER BY turn_id").fetchall()


def _sessions(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT * FROM sessions ORDER BY session_id").fetchall()


def _text_hash(db: Path) -> str:
    digest = hashlib.sha256()
    with sqlite3.connect(db) as con:
        for (text,) in con.execute("SELECT text FROM turns ORDER BY turn_id"):
            digest.update(text.encode("utf-8") + b"\x00")
    return digest.hexdigest()


def _tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())  # close to the spec's [\p{L}\p{N}_]+


def _term_tuples(terms: Iterable[str]) -> set[tuple[str, ...]]:
    return {tuple(_tokens(t)) for t in terms}


def _contains_any(tokens: list[str], terms: set[tuple[str, ...]], max_k: int) -> bool:
    for i in range(len(tokens)):
        for k in range(1, min(max_k, len(tokens) - i) + 1):
            if tuple(tokens[i : i + k]) in terms:
                return True
    return False


@pytest.fixture(scope="module")
def dbs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("make_history")
    out = {
        "a": base / "a.db",
        "a_again": base / "a_again.db",
        "b": base / "b.db",
    }
    generate(out["a"], N_TURNS, N_SESSIONS, seed=1)
    generate(out["a_again"], N_TURNS, N_SESSIONS, seed=1)
    generate(out["b"], N_TURNS, N_SESSIONS, seed=2)
    return out


@pytest.fixture(scope="module")
def rows(dbs: dict[str, Path]) -> list[tuple[object, ...]]:
    return _turns(dbs["a"])


# --- determinism -----------------------------------------------------------------------------------


def test_same_seed_gives_identical_rows(dbs: dict[str, Path]) -> None:
    assert _turns(dbs["a"]) == _turns(dbs["a_again"])
    assert _sessions(dbs["a"]) == _sessions(dbs["a_again"])
    assert _text_hash(dbs["a"]) == _text_hash(dbs["a_again"])


def test_different_seed_gives_different_data(dbs: dict[str, Path]) -> None:
    assert _text_hash(dbs["a"]) != _text_hash(dbs["b"])
    ids_a = {r[0] for r in _turns(dbs["a"])}
    ids_b = {r[0] for r in _turns(dbs["b"])}
    assert ids_a.isdisjoint(ids_b)


# --- shape -----------------------------------------------------------------------------------------


def test_exact_counts_and_schema(dbs: dict[str, Path]) -> None:
    with sqlite3.connect(dbs["a"]) as con:
        assert con.execute("SELECT count(*) FROM turns").fetchone() == (N_TURNS,)
        assert con.execute("SELECT count(*) FROM sessions").fetchone() == (N_SESSIONS,)
        assert con.execute("SELECT count(DISTINCT session_id) FROM turns").fetchone() == (
            N_SESSIONS,
        )
        orphans = (
            "SELECT count(*) FROM turns WHERE session_id NOT IN (SELECT session_id FROM sessions)"
        )
        assert con.execute(orphans).fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM metrics").fetchone() == (0,)
        metric_cols = [r[1] for r in con.execute("PRAGMA table_info(metrics)")]
        assert metric_cols == [
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
        ]
        turn_cols = ", ".join(r[1] for r in con.execute("PRAGMA table_info(turns)"))
        assert turn_cols == TURN_COLUMNS
        assert con.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        lengths = [n for (n,) in con.execute("SELECT count(*) FROM turns GROUP BY session_id")]
    assert min(lengths) >= 1
    assert max(lengths) > 3 * min(lengths)  # sessions vary in length


def test_roles_alternate(rows: list[tuple[object, ...]]) -> None:
    roles = [r[5] for r in rows]
    assert set(roles) <= {"user", "ai", "assistant"}
    assert {"user", "ai", "assistant"} <= set(roles)
    double_user = 0
    previous: tuple[object, ...] | None = None
    for row in rows:  # ordered by turn_id = session, then prompt_num
        if previous is None or previous[1] != row[1]:
            assert row[5] == "user"  # every session starts with the user
        else:
            assert not (previous[5] != "user" and row[5] != "user")  # never two ai in a row
            double_user += previous[5] == "user" and row[5] == "user"
        previous = row
    assert 0 < double_user < 0.05 * len(rows)


def test_prompt_num_increases_per_session(rows: list[tuple[object, ...]]) -> None:
    by_session: dict[object, list[int]] = {}
    for row in rows:
        by_session.setdefault(row[1], []).append(int(row[4]))  # type: ignore[call-overload]
    for nums in by_session.values():
        assert nums == list(range(1, len(nums) + 1))


def test_timestamps(rows: list[tuple[object, ...]]) -> None:
    null = 0
    last: dict[object, datetime] = {}
    for _tid, sid, ts, date_ymd, *_rest, created in rows:
        assert isinstance(date_ymd, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_ymd)
        assert isinstance(created, str)
        datetime.fromisoformat(created)
        if ts is None:
            null += 1
            continue
        assert isinstance(ts, str)
        stamp = datetime.fromisoformat(ts)
        assert stamp.date().isoformat() == date_ymd
        if sid in last:
            assert stamp >= last[sid]
        last[sid] = stamp
    assert 0.001 * len(rows) < null < 0.012 * len(rows)


def test_file_paths_unique_and_ids_unique(rows: list[tuple[object, ...]]) -> None:
    assert len({r[0] for r in rows}) == len(rows)
    assert len({r[7] for r in rows}) == len(rows)


# --- texts -----------------------------------------------------------------------------------------


def test_length_distribution(rows: list[tuple[object, ...]]) -> None:
    words = [len(str(r[6]).split()) for r in rows]
    n = len(words)
    empty = sum(1 for r in rows if r[6] == "")
    assert 0.005 * n < empty < 0.016 * n
    assert sum(1 for w in words if 5 <= w <= 60) > 0.75 * n
    assert sum(1 for w in words if w >= 200) > 0.005 * n
    assert sum(1 for w in words if w >= 1000) >= 1
    assert max(words) <= 2600


def test_texts_have_punctuation_and_capitals(rows: list[tuple[object, ...]]) -> None:
    texts = [str(r[6]) for r in rows if r[6]]
    for mark in ".!?,":
        assert sum(mark in t for t in texts) > 0.05 * len(texts)
    assert sum(t[0].isupper() for t in texts) > 0.9 * len(texts)
    assert not any(t != t.strip() or "  " in t for t in texts)


def test_lexicon_share(rows: list[tuple[object, ...]]) -> None:
    crisis_terms = _term_tuples(vocabulary.crisis_pool())
    all_terms = _term_tuples(
        [t for terms in vocabulary.LEXICON_TERMS.values() for t in terms]
        + [t for terms in vocabulary.LEXICON_VARIANTS.values() for t in terms]
    )
    max_k = max(len(t) for t in all_terms)
    sample = rows[:8000]
    toks = [_tokens(str(r[6])) for r in sample]
    with_terms = sum(_contains_any(t, all_terms, max_k) for t in toks)
    with_crisis = sum(_contains_any(t, crisis_terms, max_k) for t in toks)
    assert 0.05 * len(sample) < with_terms < 0.15 * len(sample)
    assert 0.002 * len(sample) < with_crisis < 0.03 * len(sample)


def test_neutral_words_never_match_a_lexicon() -> None:
    reserved = {
        tok
        for group in (
            vocabulary.LEXICON_TERMS,
            vocabulary.LEXICON_VARIANTS,
            vocabulary.B_VECTOR_KEYWORDS,
        )
        for terms in group.values()
        for term in terms
        for tok in _tokens(term)
    }
    words = vocabulary.NEUTRAL_WORDS
    assert len(words) >= 300
    assert len({w.lower() for w in words}) == len(words)
    for word in words:
        assert _tokens(word) == [word.lower()]
        assert word.lower() not in reserved


def test_vocabulary_covers_the_lexica() -> None:
    assert len(vocabulary.LEXICON_TERMS) == 22
    assert sum(len(t) for t in vocabulary.LEXICON_TERMS.values()) == 451
    assert any(" " in t for t in vocabulary.crisis_pool())
    assert set(vocabulary.crisis_pool()).isdisjoint(vocabulary.general_pool())


@pytest.mark.parametrize(("turns", "sessions"), [(1, 1), (5, 5), (7, 2), (3, 1)])
def test_tiny_histories(tmp_path: Path, turns: int, sessions: int) -> None:
    for seed in range(5):
        db = tmp_path / f"t{seed}.db"
        summary = generate(db, turns, sessions, seed=seed)
        assert (summary.turns, summary.sessions) == (turns, sessions)
        with sqlite3.connect(db) as con:
            assert con.execute("SELECT count(*) FROM turns").fetchone() == (turns,)
            assert con.execute("SELECT count(*) FROM sessions").fetchone() == (sessions,)


# --- CLI -------------------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench.make_history", *args],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_writes_and_refuses_to_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "h.db"
    args = ["--turns", "500", "--sessions", "7", "--seed", "3", "--out", str(out)]
    first = _cli(*args)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "500 turns" in lines[0] and "7 sessions" in lines[0] and str(out) in lines[0]
    texts = [str(r[6]) for r in _turns(out) if len(str(r[6])) > 20]
    assert not any(t in first.stdout for t in texts)  # never prints turn text
    before = _text_hash(out)

    again = _cli(*args, "--seed", "4")
    assert again.returncode != 0
    assert "exists" in again.stderr and "--force" in again.stderr
    assert _text_hash(out) == before

    forced = _cli(*args, "--seed", "4", "--force")
    assert forced.returncode == 0, forced.stderr
    assert _text_hash(out) != before
    assert sorted(p.name for p in out.parent.iterdir()) == ["h.db"]  # no temp files left


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--turns", "3", "--sessions", "5"], "must not exceed"),
        (["--turns", "0", "--sessions", "1"], "--turns must be >= 1"),
        (["--turns", "10", "--sessions", "0"], "--sessions must be >= 1"),
    ],
)
def test_cli_rejects_bad_arguments(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "bad.db"
    result = _cli(*args, "--out", str(out))
    assert result.returncode != 0
    assert message in result.stderr
    assert not out.exists()
