"""m98_grain_sentiment (udf:grain, feat_grain) and m147_meta_32 (udf:text_meta, feat_text_meta).

Goldens quoted from METRICS.md blocks m98 and m147. text_meta's fast pair count is checked
against the literal O(m^2) definition of the block; both UDFs against edge cases (empty,
emoji-only, control characters, 20k characters) and hypothesis properties.
"""

from __future__ import annotations

import csv
import math
import random
import time
from pathlib import Path

import pyarrow as pa
import pytest
from b_meta_cli import build_features, by_turn
from hypothesis import given, settings
from hypothesis import strategies as st

from udfs._text import sentences, tokens
from udfs.grain import compile_terms, grain_sentiment, grain_sentiment_value, lex_hits
from udfs.text_meta import contradiction_pairs, text_meta, text_meta_value

TOL = 1e-9
ROOT = Path(__file__).resolve().parents[3]
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120)


def _seed_list(name: str) -> list[str]:
    with open(ROOT / "seeds" / "lexika.csv", encoding="utf-8", newline="") as fh:
        return [r["term"] for r in csv.DictReader(fh) if r["lexicon"] == name]


POS_TERMS = _seed_list("sent_pos")
NEG_TERMS = _seed_list("sent_neg")
POS = compile_terms(POS_TERMS)
NEG = compile_terms(NEG_TERMS)


# -- m98 ---------------------------------------------------------------------------------------


def test_m98_goldens():
    assert grain_sentiment_value("Ich bin glücklich. Aber ich bin auch traurig.", POS, NEG)[0] == (
        pytest.approx(1.0, abs=TOL)
    )
    got = grain_sentiment_value("Heute war gut. Das Wetter ist okay. Ich bin traurig.", POS, NEG)
    assert got == (pytest.approx(0.6666666667, abs=TOL), 3)


def test_m98_edge_cases():
    assert grain_sentiment_value("", POS, NEG) == (0.0, 0)
    assert grain_sentiment_value("😀🙏 …", POS, NEG) == (0.0, 0)
    assert grain_sentiment_value("Gut und schlecht und traurig!", POS, NEG) == (0.0, 1)
    assert grain_sentiment_value("Gut. Gut! Gut?", POS, NEG) == (0.0, 3)  # no variance
    assert grain_sentiment_value("Gut.\x00\x07 Traurig.", POS, NEG)[0] == 1.0
    value, m = grain_sentiment_value(("Ich bin froh. Ich bin traurig. " * 700)[:20000], POS, NEG)
    assert 0.0 <= value <= 1.0 and m > 1000


def test_matcher_longest_first_no_overlap():
    terms = compile_terms(["a b", "b c", "b", "c"])
    # "a b" (k=2, i=0) is accepted first; "b c" overlaps it; then "c" alone
    assert lex_hits(tokens("a b c"), terms) == 2
    assert lex_hits(tokens("b c b"), terms) == 2  # "b c" then "b"
    assert lex_hits([], terms) == 0
    with pytest.raises(ValueError):
        compile_terms(["..."])


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_m98_properties(text):
    value, m = grain_sentiment_value(text, POS, NEG)
    assert math.isfinite(value) and 0.0 <= value <= 1.0
    assert m == len(sentences(text))
    if m < 2:
        assert value == 0.0


WORDS = ["gut", "schlecht", "traurig", "froh", "nicht", "ich", "bin", "das", "stimmt", "😀"]
PLAIN_WORDS = ["ich", "bin", "das", "stimmt", "nichts", "gute", "Traurigkeit", "😀", "müde"] * 6 + [
    "NICHT",
    "Gut",
    "ÄNGSTLICH",
]
SEPS = [" ", ". ", "! ", "? ", ", ", "... "]


@st.composite
def word_texts(draw):
    n = draw(st.integers(0, 25))
    parts = []
    for _ in range(n):
        parts.append(draw(st.sampled_from(WORDS)))
        parts.append(draw(st.sampled_from(SEPS)))
    return "".join(parts)


@settings(max_examples=200, deadline=None)
@given(text=word_texts())
def test_m98_matches_literal_definition(text):
    pieces = sentences(text)
    if len(pieces) < 2:
        expected = 0.0
    else:
        sig = []
        for piece in pieces:
            tk = tokens(piece)
            p = sum(t in POS_TERMS for t in tk)
            q = sum(t in NEG_TERMS for t in tk)
            sig.append(p / (p + q) if p + q else 0.5)
        mu = sum(sig) / len(sig)
        expected = min(1.0, 4 * sum((s - mu) ** 2 for s in sig) / len(sig))
    assert grain_sentiment_value(text, POS, NEG)[0] == pytest.approx(expected, abs=1e-12)


# -- m147 --------------------------------------------------------------------------------------


def test_m147_goldens():
    assert text_meta_value("Das stimmt. Nicht das stimmt.")[0] == pytest.approx(0.8, abs=TOL)
    assert text_meta_value("Ich bin müde. Ich bin nicht müde.")[0] == pytest.approx(1.0, abs=TOL)


def test_m147_edge_cases():
    assert text_meta_value("") == (1.0, 0, 0)
    assert text_meta_value("Nur ein Satz") == (1.0, 0, 1)
    assert text_meta_value("😀. 🙏!") == (1.0, 0, 0)
    assert text_meta_value("Das stimmt. Das stimmt nicht.")[:2] == (0.8, 1)  # suffix form
    # a pair counts once even if both forms are present
    assert text_meta_value("Das stimmt. Nicht das stimmt nicht.")[:2] == (0.8, 1)
    # two equal earlier statements are two pairs
    assert text_meta_value("Gut. Gut. Nicht gut.")[:2] == (pytest.approx(0.6), 2)
    # many contradictions floor at 0
    assert text_meta_value("Ja. " * 6 + "Nicht ja.")[0] == 0.0
    assert text_meta_value("Das stimmt.\x00\x07 Nicht das stimmt.")[:2] == (0.8, 1)


def test_m147_20k_text_is_fast():
    for text in (
        ("Nicht ja. " * 2500)[:20000],
        ("nicht " * 4000)[:20000],
        ("a. " * 7000)[:20000],
        ("ja. nicht " * 2500)[:20000],
    ):
        start = time.perf_counter()
        value, c, _ = text_meta_value(text)
        assert 0.0 <= value <= 1.0 and c >= 0
        assert time.perf_counter() - start < 5.0


def _literal_pairs(statements: list[list[str]]) -> int:
    def contains(hay: list[str], needle: list[str]) -> bool:
        k = len(needle)
        return any(hay[i : i + k] == needle for i in range(len(hay) - k + 1))

    c = 0
    for j in range(len(statements)):
        for i in range(j):
            si, sj = statements[i], statements[j]
            if contains(sj, ["nicht", *si]) or contains(sj, [*si, "nicht"]):
                c += 1
    return c


@settings(max_examples=300, deadline=None)
@given(text=word_texts())
def test_m147_matches_literal_definition(text):
    statements = [tokens(p) for p in sentences(text)]
    value, c, m = text_meta_value(text)
    assert m == len(statements)
    if m < 2:
        assert (value, c) == (1.0, 0)
    else:
        assert c == _literal_pairs(statements) == contradiction_pairs(statements)
        assert value == max(0.0, 1.0 - 0.2 * c)


@settings(max_examples=200, deadline=None)
@given(text=TEXT)
def test_m147_properties(text):
    value, c, m = text_meta_value(text)
    assert math.isfinite(value) and 0.0 <= value <= 1.0 and c >= 0 and m >= 0


# -- Arrow UDFs: batch and order independence ---------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(texts=st.lists(st.one_of(TEXT, word_texts()), min_size=1, max_size=25))
def test_arrow_udfs_batch_and_order_independent(texts):
    pos = "\n".join(POS_TERMS)
    neg = "\n".join(NEG_TERMS)

    def call(rows):
        arr = pa.array(rows, pa.string())
        g = grain_sentiment(arr, pa.array([pos] * len(rows)), pa.array([neg] * len(rows)))
        return list(zip(g.to_pylist(), text_meta(arr).to_pylist()))

    whole = call(texts)
    assert [x for t in texts for x in call([t])] == whole
    assert call(texts[::-1])[::-1] == whole
    for t, (g, meta) in zip(texts, whole):
        assert (g["grain_sentiment"], g["grain_n_sent"]) == grain_sentiment_value(t, POS, NEG)
        assert tuple(meta.values()) == text_meta_value(t)


def test_grain_udf_rejects_a_missing_list():
    arr = pa.array(["Gut. Schlecht."])
    with pytest.raises(ValueError):
        grain_sentiment(arr, pa.array([None], pa.string()), pa.array(["schlecht"]))


# -- the models through the real CLI -----------------------------------------------------------

GOLDEN_TEXTS = {
    "m98a": "Ich bin glücklich. Aber ich bin auch traurig.",
    "m98b": "Heute war gut. Das Wetter ist okay. Ich bin traurig.",
    "m147a": "Das stimmt. Nicht das stimmt.",
    "m147b": "Ich bin müde. Ich bin nicht müde.",
    "empty": "",
    "emoji": "😀🙏",
    "ctrl": "Gut.\x00\x07 Traurig.",
    "long": ("Ich bin froh. Das stimmt nicht. " * 700)[:20000],
}


def _turns():
    turns = [(k, "s", None, i, "user", t) for i, (k, t) in enumerate(GOLDEN_TEXTS.items())]
    rng = random.Random(11)
    for i in range(2200):
        parts = [rng.choice(WORDS) + rng.choice(SEPS) for _ in range(rng.randint(0, 12))]
        turns.append((f"r{i}", f"r{i % 97}", None, i, "ai", "".join(parts)))
    # texts that mostly hold neither 'nicht' nor a sentiment term (the models skip the UDFs
    # for those), and some that hold them only in another case or form
    for i in range(800):
        parts = [rng.choice(PLAIN_WORDS) + rng.choice(SEPS) for _ in range(rng.randint(0, 12))]
        turns.append((f"p{i}", f"p{i % 41}", None, i, "user", "".join(parts)))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    con = build_features(
        tmp_path_factory.mktemp("grain"), _turns(), ["feat_grain", "feat_text_meta"]
    )
    yield con
    con.close()


def test_models_goldens(built):
    grain = by_turn(built, "feat_grain", "grain_sentiment, grain_n_sent")
    meta = by_turn(built, "feat_text_meta", "text_meta_consistency, text_meta_contradictions")
    assert grain["m98a"][0] == pytest.approx(1.0, abs=TOL)
    assert grain["m98b"][0] == pytest.approx(0.6666666667, abs=TOL)
    assert meta["m147a"] == (pytest.approx(0.8, abs=TOL), 1)
    assert meta["m147b"] == (pytest.approx(1.0, abs=TOL), 0)
    assert grain["empty"] == (0.0, 0) and meta["empty"] == (1.0, 0)
    assert grain["emoji"] == (0.0, 0) and meta["emoji"] == (1.0, 0)


def test_models_match_python_on_every_turn(built):
    turns = _turns()
    grain = by_turn(built, "feat_grain", "grain_sentiment, grain_n_sent")
    meta = by_turn(
        built, "feat_text_meta", "text_meta_consistency, text_meta_contradictions, text_meta_n_sent"
    )
    assert len(grain) == len(meta) == len(turns)
    for turn_id, _, _, _, _, text in turns:
        assert grain[turn_id] == grain_sentiment_value(text, POS, NEG)
        assert meta[turn_id] == text_meta_value(text)
