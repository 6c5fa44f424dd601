"""ctx_break (udf:ctx_break, feat_ctx_break) against METRICS.md P2.4 and ENGINE §3.2.

Goldens quoted from the catalogue: the ENGINE §3.2 hash check values and cosine, the P2.8
session G ctx_break column (with its cosines), and the m114 cosine example (ctx_cos is the
same cosine). Properties: range, finiteness, symmetry, identity, batch/order independence.
The UDF ctx_break_emb (on feat_embedding's packed embeddings) must equal the reference
ctx_break_value (on the texts) exactly.
"""

from __future__ import annotations

import math
import random

import pyarrow as pa
import pytest
from b_meta_cli import build_features, by_turn
from hypothesis import given, settings
from hypothesis import strategies as st

import udfs.ctx_break as ctx_module
from udfs.ctx_break import (
    cosine,
    ctx_break_emb,
    ctx_break_value,
    emb_sparse,
    gram_slot,
)
from udfs.embedding import emb_sparse as emb_packed

TOL = 1e-9

SESSION_G = [
    ("Ich habe Angst vor morgen.", 0.0, 0.0),
    ("Warum hast du Angst vor morgen?", 0.3716619197, 0.6283380803),
    ("Weil ich eine Prüfung habe, deshalb kann ich nicht schlafen.", 1.0, -0.0115446967),
    (
        "Das verstehe ich. Daher schlage ich vor, dass wir gemeinsam einen Plan machen.",
        0.6725026197,
        None,
    ),
    ("", 0.0, 0.0),
    ("Bist du noch da?", 0.0, 0.0),
]

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)


def test_hash_check_values():
    assert gram_slot("<ic") == (692, 1)
    assert gram_slot("ich") == (787, -1)
    assert gram_slot("<ich>") == (606, -1)
    assert gram_slot("ter") == (308, -1)


def test_engine_cosine_golden():
    got = cosine(emb_sparse("Ich will sterben."), emb_sparse("will sterben"))
    assert got == pytest.approx(math.sqrt(29 / 35), abs=TOL)
    assert got == pytest.approx(0.9102589898, abs=TOL)


def test_m114_cosine_goldens():
    a, b = "Mir geht es heute nicht gut.", "Das tut mir leid. Was ist passiert?"
    c = "Mir geht es heute wirklich nicht gut."
    assert ctx_break_value(b, a)[1] == pytest.approx(0.1095445115, abs=TOL)
    assert ctx_break_value(c, b)[1] == pytest.approx(0.1057696299, abs=TOL)
    assert ctx_break_value(c, a)[1] == pytest.approx(0.8441580064, abs=TOL)


def test_session_g_goldens():
    prev = None
    for text, brk, cos in SESSION_G:
        got_brk, got_cos = ctx_break_value(text, prev)
        assert got_brk == pytest.approx(brk, abs=TOL)
        if cos is not None:
            assert got_cos == pytest.approx(cos, abs=TOL)
        prev = text


def test_edge_cases():
    assert ctx_break_value("Hallo", None) == (0.0, 0.0)  # first turn
    assert ctx_break_value("", "Hallo") == (0.0, 0.0)  # own text empty
    assert ctx_break_value("Hallo", "") == (0.0, 0.0)  # previous text empty
    assert ctx_break_value("😀🙏", "...!?") == (0.0, 0.0)  # no tokens on either side
    assert ctx_break_value("Hallo du", "hallo   DU!") == (0.0, 1.0)  # same tokens
    long_text = ("Straße " * 3000)[:20000]
    brk, cos = ctx_break_value(long_text, "Straße\x00\x07\u200b")
    assert 0.0 <= brk <= 1.0 and math.isfinite(cos)


@settings(max_examples=200, deadline=None)
@given(a=TEXT, b=TEXT)
def test_properties(a, b):
    brk, cos = ctx_break_value(a, b)
    assert math.isfinite(brk) and math.isfinite(cos)
    assert 0.0 <= brk <= 1.0 and -1.0 <= cos <= 1.0
    assert ctx_break_value(b, a) == (brk, cos)  # symmetric
    if emb_sparse(a) and emb_sparse(b):
        assert brk == pytest.approx(1.0 - max(0.0, cos), abs=1e-15)
    else:
        assert (brk, cos) == (0.0, 0.0)
    if emb_sparse(a):
        assert ctx_break_value(a, a)[0] == pytest.approx(0.0, abs=1e-12)


def _packed(texts: list[str | None]) -> pa.Array:
    """feat_embedding's packed emb of each text (NULL stays NULL: no previous turn)."""
    blobs = emb_packed(pa.array([t or "" for t in texts], pa.string())).field("emb").to_pylist()
    return pa.array([b if t is not None else None for b, t in zip(blobs, texts)], pa.binary())


def _call(rows: list[tuple[str, str | None]]) -> list[dict[str, float]]:
    return ctx_break_emb(_packed([r[0] for r in rows]), _packed([r[1] for r in rows])).to_pylist()


@settings(max_examples=60, deadline=None)
@given(pairs=st.lists(st.tuples(TEXT, st.one_of(st.none(), TEXT)), min_size=1, max_size=30))
def test_arrow_udf_equals_the_reference_whatever_the_batch(pairs):
    whole = _call(pairs)
    expected = [dict(zip(("ctx_break", "ctx_cos"), ctx_break_value(a, b))) for a, b in pairs]
    assert whole == expected
    assert [x for i in range(len(pairs)) for x in _call(pairs[i : i + 1])] == whole
    assert _call(pairs[::-1])[::-1] == whole


def test_integer_fallback_path_gives_the_same_values(monkeypatch):
    texts = [t for t, _, _ in SESSION_G]
    rows = list(zip(texts, [None, *texts[:-1]]))
    fast = _call(rows)
    monkeypatch.setattr(ctx_module, "_EXACT", 0)
    slow = _call(rows)
    assert fast == slow
    assert [r["ctx_break"] for r in slow] == [ctx_break_value(a, b)[0] for a, b in rows]


def test_no_negative_zero():
    (row,) = _call([("abc", "xyz")])
    assert math.copysign(1.0, row["ctx_cos"]) == 1.0
    assert math.copysign(1.0, row["ctx_break"]) == 1.0


# -- the model through the real CLI ----------------------------------------------------------


def _turns():
    turns = [
        (f"g{i}", "G", None, i, "user" if i % 2 == 0 else "ai", t)
        for i, (t, _, _) in enumerate(SESSION_G)
    ]
    rng = random.Random(5)
    words = ["ich", "habe", "Angst", "morgen", "Plan", "gut", "", "😀", "Straße"]
    for i in range(2500):  # more rows than one 2048-row batch, many sessions
        sid = f"r{i % 300}"
        text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 6)))
        turns.append((f"r{i}", sid, None, i, rng.choice(["user", "ai"]), text))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    con = build_features(tmp_path_factory.mktemp("ctx"), _turns(), ["feat_ctx_break"])
    yield con
    con.close()


def test_model_session_g(built):
    got = by_turn(built, "feat_ctx_break", "ctx_break, ctx_cos, turn_idx")
    for i, (_, brk, cos) in enumerate(SESSION_G):
        assert got[f"g{i}"][0] == pytest.approx(brk, abs=TOL)
        if cos is not None:
            assert got[f"g{i}"][1] == pytest.approx(cos, abs=TOL)
        assert got[f"g{i}"][2] == i + 1


def test_model_matches_python_on_every_turn(built):
    turns = _turns()
    got = by_turn(built, "feat_ctx_break", "ctx_break, ctx_cos")
    assert len(got) == len(turns)
    by_session: dict[str, list] = {}
    for t in turns:
        by_session.setdefault(t[1], []).append(t)
    for rows in by_session.values():
        rows.sort(key=lambda r: r[3])
        prev = None
        for r in rows:
            assert got[r[0]] == ctx_break_value(r[5], prev)
            prev = r[5]
