"""feat_b_vector (ENGINE §4) through the real CLI, on top of feat_lexicon_wide.

Golden quoted from ENGINE §4 ("Ich fühle mich sicher und geborgen, ich will leben und vertraue
dir. Klar!"). Every other turn is checked against an independent reference written here from
the ENGINE §2.4 rules (whole tokens, phrases inside one [.!?] segment, longest first, no
overlap, distinct terms) and the seed, over more turns than one Arrow batch.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import pytest
from b_meta_cli import build_features, by_turn

from udfs._text import tokens, tokens_with_segments

TOL = 1e-9
ROOT = Path(__file__).resolve().parents[3]
DIMS = ["B_life", "B_truth", "B_depth", "B_init", "B_warmth", "B_safety", "B_clarity"]
COLS = "b_life, b_truth, b_depth, b_init, b_warmth, b_safety, b_clarity, b_align"

GOLDEN_TEXT = "Ich fühle mich sicher und geborgen, ich will leben und vertraue dir. Klar!"
GOLDEN = {
    "b_life": 0.2045454545,
    "b_truth": 0.0,
    "b_depth": 0.0,
    "b_init": 0.1891891892,
    "b_warmth": 0.2,
    "b_safety": 0.4318181818,
    "b_clarity": 0.2272727273,
    "b_align": 0.1789750790,
}
W_D = {
    "B_life": 4.4,
    "B_truth": 4.3,
    "B_depth": 4.2,
    "B_init": 3.7,
    "B_warmth": 4.5,
    "B_safety": 4.4,
    "B_clarity": 4.4,
}


def _keywords() -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {d: {} for d in DIMS}
    with open(ROOT / "seeds" / "b_vector_keywords.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[row["dimension"]][row["term"]] = float(row["weight"])
    return out


KEYWORDS = _keywords()


def ref_lex_sum(terms: dict[str, float], text: str) -> float:
    """ENGINE §2.4 lex_sum, written independently of udfs/lexicon.py."""
    tk, seg = tokens_with_segments(text)
    cands = []
    for term, weight in terms.items():
        tt = tokens(term)
        k = len(tt)
        for i in range(len(tk) - k + 1):
            if tk[i : i + k] == tt and seg[i] == seg[i + k - 1]:
                cands.append((-k, i, term, weight))
    covered: set[int] = set()
    matched: dict[str, float] = {}
    for negk, i, term, weight in sorted(cands):
        span = set(range(i, i - negk))
        if not span & covered:
            covered |= span
            matched[term] = weight
    return math.fsum(matched.values())


def ref_b(text: str) -> dict[str, float]:
    b = {d.lower(): min(1.0, ref_lex_sum(KEYWORDS[d], text) / W_D[d]) for d in DIMS}
    b["b_align"] = sum(b[d.lower()] for d in DIMS) / 7
    return b


def test_seed_weights_are_the_engine_table():
    for dim, total in W_D.items():
        assert math.fsum(KEYWORDS[dim].values()) == pytest.approx(total, abs=1e-12)


def test_reference_reproduces_the_golden():
    got = ref_b(GOLDEN_TEXT)
    for key, value in GOLDEN.items():
        assert got[key] == pytest.approx(value, abs=TOL)


# -- the model through the real CLI ----------------------------------------------------------

FIXED = {
    "golden": GOLDEN_TEXT,
    "empty": "",
    "emoji": "😀🙏",
    "punct": "... !!! ???",
    "ctrl": "sicher\x00\x07 geborgen\u200b klar",
    "all_life": "leben lebenswille lebensfreude will leben lebe gerne",
    "repeat": "Sicher, sicher, SICHER!",
    "split_phrase": "Ich will. Leben ist schön.",  # `will leben` must not cross the cut
    "long": ("Ich will leben, das ist klar und echt. " * 600)[:20000],
}
VOCAB = [
    "leben",
    "will",
    "lebe",
    "gerne",
    "wahrheit",
    "ehrlich",
    "warum",
    "sinn",
    "werde",
    "mache",
    "wärme",
    "Geborgen",
    "liebe",
    "sicher",
    "halt",
    "klar",
    "verstehe",
    "eindeutig",
    "vertraue",
    "und",
    "ich",
    "😀",
]
SEPS = [" ", " ", ", ", ". ", "! ", "? ", " - "]


def _turns():
    turns = [(k, "fixed", None, i, "user", t) for i, (k, t) in enumerate(FIXED.items())]
    rng = random.Random(19)
    for i in range(2300):  # more than one 2048-row batch, many sessions, both roles
        parts = [rng.choice(VOCAB) + rng.choice(SEPS) for _ in range(rng.randint(0, 14))]
        turns.append((f"r{i}", f"s{i % 150}", None, i, rng.choice(["user", "ai"]), "".join(parts)))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    con = build_features(tmp_path_factory.mktemp("bvec"), _turns(), ["feat_b_vector"])
    yield con
    con.close()


def _row(got: dict, turn_id: str) -> dict[str, float]:
    return dict(zip([c.strip() for c in COLS.split(",")], got[turn_id]))


def test_golden(built):
    row = _row(by_turn(built, "feat_b_vector", COLS), "golden")
    for key, value in GOLDEN.items():
        assert row[key] == pytest.approx(value, abs=TOL), key


def test_edge_cases(built):
    got = by_turn(built, "feat_b_vector", COLS)
    for turn_id in ("empty", "emoji", "punct"):
        assert _row(got, turn_id) == {k: 0.0 for k in GOLDEN}
    ctrl = _row(got, "ctrl")
    assert ctrl["b_safety"] == pytest.approx(1.9 / 4.4, abs=TOL)
    assert ctrl["b_clarity"] == pytest.approx(1.0 / 4.4, abs=TOL)
    assert _row(got, "all_life")["b_life"] == pytest.approx(1.0, abs=TOL)
    assert _row(got, "repeat")["b_safety"] == pytest.approx(1.0 / 4.4, abs=TOL)  # distinct terms
    split = _row(got, "split_phrase")
    assert split["b_life"] == pytest.approx(0.8 / 4.4, abs=TOL)  # only `leben`
    assert split["b_init"] == pytest.approx(0.7 / 3.7, abs=TOL)


def test_every_turn_matches_the_reference(built):
    turns = _turns()
    got = by_turn(built, "feat_b_vector", COLS)
    assert len(got) == len(turns)
    for turn_id, *_, text in turns:
        row = _row(got, turn_id)
        expected = ref_b(text)
        for key, value in row.items():
            assert math.isfinite(value) and 0.0 <= value <= 1.0
            assert value == pytest.approx(expected[key], abs=1e-12), (turn_id, key)
        mean = sum(row[d.lower()] for d in DIMS) / 7
        assert row["b_align"] == pytest.approx(mean, abs=1e-15)


def test_w_d_comes_from_the_seed(built):
    rows = built.execute(
        "select dimension, cast(sum(cast(weight as decimal(18, 6))) as double) "
        "from b_vector_keywords group by dimension"
    ).fetchall()
    assert dict(rows) == W_D
