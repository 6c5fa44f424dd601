"""udf:lexicon (udfs/lexicon.py) and the models feat_lexicon, feat_lexicon_wide, feat_hazard.

ENGINE §2.4 (matcher), §2.6 (B_past patterns), §2.7 (hazard), §4 (B-vector keyword sums):
every golden value to 1e-9, the matcher's rules one by one, a literal reference implementation
of §2.4 compared with the fast one on random texts and lexica (hypothesis), properties on
arbitrary unicode text, independence of batch size and row order through DuckDB, and the
models built through the CLI on a small history.
"""

from __future__ import annotations

import csv
import importlib
import math
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evoki_sql.udf_registry import LoadedUdf, register
from udfs._text import tokens, tokens_with_segments
from udfs.lexicon import (
    Entry,
    LexStats,
    bpast_rx,
    bpast_scan,
    compile_lexica,
    compile_patterns,
    lexicon_match,
    match_text,
)

from history_db import make_history

ROOT = Path(__file__).resolve().parents[3]
SEEDS = ROOT / "seeds"
TOL = 1e-9


def _rows(name: str) -> list[dict[str, str]]:
    with open(SEEDS / f"{name}.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def seed_entries() -> list[Entry]:
    """The entries feat_lexicon passes to the UDF, read from the seed CSVs the same way."""
    token_lists = {r["lexicon"] for r in _rows("lexicon_catalog") if r["match_kind"] == "token"}
    lexika = _rows("lexika")
    weight = {(r["lexicon"], r["term"]): float(r["weight"]) for r in lexika}
    entries: list[Entry] = [
        (r["lexicon"], r["term"], float(r["weight"]), r["term"])
        for r in lexika
        if r["lexicon"] in token_lists
    ]
    entries += [
        (r["lexicon"], r["term"], weight[(r["lexicon"], r["term"])], r["variant"])
        for r in _rows("lexika_variants")
    ]
    entries += [
        (r["dimension"], r["term"], float(r["weight"]), r["term"])
        for r in _rows("b_vector_keywords")
    ]
    return sorted(entries)


ENTRIES = seed_entries()
LX = compile_lexica(ENTRIES)
PATTERNS = compile_patterns(
    (int(r["pattern_id"]), r["pattern"], float(r["weight"])) for r in _rows("b_past_patterns")
)
ZERO = LexStats("", 0, 0, 0.0, 0.0, 0.0, 0.0, ())


def lex(text: str) -> dict[str, LexStats]:
    return {s.lexicon: s for s in match_text(LX, text)[1]}


def hazard_of(text: str) -> tuple[float, float, list[str]]:
    """ENGINE §2.7 computed from the matcher (the definition the SQL model implements)."""
    s = lex(text)
    su, sh, cr = (s.get(n, ZERO) for n in ("Suicide", "Self_harm", "Crisis"))
    hazard = max(su.max, 0.9 * sh.max, 0.8 * cr.max)
    bonus = min(0.5, su.score + sh.score + cr.score)
    terms = [
        f"{n}:{t}" for n, x in (("Suicide", su), ("Self_harm", sh), ("Crisis", cr)) for t in x.terms
    ]
    return hazard, bonus, terms


# -- golden values of ENGINE §2.4, §2.6, §2.7, §4 -------------------------------------------


def test_golden_suicide_score() -> None:
    s = lex("Ich will sterben.")["Suicide"]
    assert abs(s.score - 0.4190597842) < TOL
    assert s.score == 1 / (1 + math.log(4))
    assert (s.hits, s.nterms, s.terms, s.max) == (1, 1, ("will sterben",), 1.0)


def test_golden_t_panic() -> None:
    s = lex("Hilfe, ich habe Panik und Herzrasen! Hilfe!")["T_panic"]
    assert (s.hits, s.nterms, s.terms) == (4, 3, ("hilfe", "panik", "herzrasen"))
    assert abs(s.sum - 2.6) < TOL and abs(s.sum_occ - 3.3) < TOL and s.max == 1.0
    assert abs(s.score - 0.8443089323) < TOL


def test_golden_zlf_terms() -> None:
    s = lex("zum x-ten Mal: noch mal von vorne")["ZLF"]
    assert set(s.terms) == {"zum x-ten mal", "noch mal", "von vorne"}
    assert s.terms == ("zum x-ten mal", "noch mal", "von vorne")  # first-occurrence order


def test_b_empathy_equal_length_overlap_takes_the_earlier() -> None:
    """`ich verstehe dich`: `ich verstehe` (0.8) blocks `verstehe dich` (1.0) — the rule."""
    s = lex("ich verstehe dich")["B_empathy"]
    assert (s.hits, s.terms, s.sum, s.max) == (1, ("ich verstehe",), 0.8, 0.8)


def test_golden_b_vector_keyword_sums() -> None:
    text = "Ich fühle mich sicher und geborgen, ich will leben und vertraue dir. Klar!"
    s = lex(text)
    total = {}
    for r in _rows("b_vector_keywords"):
        total[r["dimension"]] = total.get(r["dimension"], 0.0) + float(r["weight"])
    b = {d: s.get(d, ZERO).sum / total[d] for d in total}
    golden = {
        "B_life": 0.2045454545,
        "B_truth": 0.0,
        "B_depth": 0.0,
        "B_init": 0.1891891892,
        "B_warmth": 0.2,
        "B_safety": 0.4318181818,
        "B_clarity": 0.2272727273,
    }
    for d, value in golden.items():
        assert abs(b[d] - value) < TOL, d
    assert abs(sum(b.values()) / 7 - 0.1789750790) < TOL
    assert s["B_life"].terms == ("will leben",)  # `will leben` consumes its `leben`


def test_golden_bpast() -> None:
    assert bpast_scan(PATTERNS, "Als ich klein war, mit 7 Jahren, vor 20 Jahren") == (1.0, 3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mit 7", (0.9, 1)),
        ("mit 19 jahren", (0.9, 1)),
        ("mit 70", (0.0, 0)),  # no right boundary match
        ("amit 7", (0.0, 0)),  # left word boundary of pattern 1
        ("zuvor 3 jahren", (0.8, 1)),  # patterns 2-5 have no left boundary (C-09)
        ("seit 3 Jahren und seit 4 Jahren", (0.7, 2)),
        ("in den 90ern", (0.8, 1)),
        ("", (0.0, 0)),
    ],
)
def test_bpast_patterns(text: str, expected: tuple[float, int]) -> None:
    assert bpast_scan(PATTERNS, text) == expected


@pytest.mark.parametrize(
    ("text", "hazard", "bonus"),
    [
        ("Ich will sterben.", 1.0, 0.4190597842),
        ("Ich will mich verletzen", 0.81, None),
        ("Es gibt keine Hoffnung mehr, ich bin am Ende", 0.72, 0.4844689705),
        ("", 0.0, 0.0),
        ("Schönes Wetter heute.", 0.0, 0.0),
    ],
)
def test_golden_hazard(text: str, hazard: float, bonus: float | None) -> None:
    h, b, _ = hazard_of(text)
    assert abs(h - hazard) < TOL
    if bonus is not None:
        assert abs(b - bonus) < TOL


# -- rule 4: inflected variants --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lexicon", "term"),
    [
        ("Ich denke ständig daran, mich umzubringen", "Suicide", "mich umbringen"),
        ("Ich habe mich gestern wieder geritzt.", "Self_harm", "ritzen"),
    ],
)
def test_variant_is_a_hit_of_its_base_term_and_vetoes(text: str, lexicon: str, term: str) -> None:
    s = lex(text)[lexicon]
    weight = next(e[2] for e in ENTRIES if e[0] == lexicon and e[1] == term and e[3] == term)
    assert s.terms == (term,) and s.max == weight and s.sum == weight
    assert hazard_of(text)[0] > 0.8


def test_every_variant_counts_as_its_base_term() -> None:
    """Each variant of the seed, in a sentence, is a hit of its base term; for Suicide and
    Self_harm the hazard then passes the 0.8 veto line."""
    variants = _rows("lexika_variants")
    assert len(variants) == 404
    for r in variants:
        text = f"Sie sagte: {r['variant']}."
        s = lex(text).get(r["lexicon"], ZERO)
        assert r["term"] in s.terms, (r["lexicon"], r["variant"])
        if r["lexicon"] in ("Suicide", "Self_harm"):
            assert hazard_of(text)[0] > 0.8, r["variant"]


# -- rule 1: tokens, word boundaries, segments -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms"),
    [
        ("Angst!", ("angst",)),
        ("ein Angst-Szenario", ("angst",)),
        ("Todesangst", ("todesangst",)),
        ("ängstlich", ()),
        ("Ich habe keine   Luft", ("keine luft",)),
        ("keine, Luft", ("keine luft",)),
        ("keine – Luft", ("keine luft",)),
        ("keine. Luft", ()),  # a phrase never crosses [.!?]
        ("keine?! Luft", ()),
    ],
)
def test_t_panic_tokens_and_segments(text: str, terms: tuple[str, ...]) -> None:
    assert lex(text).get("T_panic", ZERO).terms == terms


def test_phrase_does_not_cross_sentence_end() -> None:
    assert "Suicide" not in lex("Ich will. Sterben ist ein Thema.")
    assert lex("Ich will sterben, sagt sie.")["Suicide"].terms == ("will sterben",)


# -- rules 2 and 3 on a toy lexicon ---------------------------------------------------------------

TOY = compile_lexica(
    [
        ("L", "a b c", 0.5, "a b c"),
        ("L", "a b", 0.9, "a b"),
        ("L", "b c", 1.0, "b c"),
        ("L", "c", 0.3, "c"),
        ("L", "x", 0.4, "x"),
        ("L", "x", 0.4, "xs"),  # a variant of x
        ("M", "b c", 0.7, "b c"),  # the same phrase in a second list, matched independently
    ]
)


def toy(text: str) -> dict[str, LexStats]:
    return {s.lexicon: s for s in match_text(TOY, text)[1]}


def test_longest_first_no_overlap() -> None:
    s = toy("a b c")["L"]
    assert (s.hits, s.terms) == (1, ("a b c",))


def test_equal_length_overlap_earliest_wins() -> None:
    s = toy("a b c d")["L"]
    assert s.terms == ("a b c",)
    s = toy("z a b q b c")["L"]  # no overlap: both two-token phrases
    assert s.terms == ("a b", "b c")
    s = toy("q a b c")["L"]
    assert s.terms == ("a b c",)


def test_every_occurrence_is_a_hit_distinct_terms_once() -> None:
    s = toy("x x. X, xs c")["L"]
    assert (s.hits, s.nterms, s.terms) == (5, 2, ("x", "c"))
    assert s.sum == 0.4 + 0.3 and s.sum_occ == math.fsum([0.4] * 4 + [0.3])
    assert s.max == 0.4


def test_lists_are_matched_independently() -> None:
    got = toy("a b c")
    assert got["L"].terms == ("a b c",) and got["M"].terms == ("b c",)


def test_compile_rejects_what_it_cannot_treat_exactly() -> None:
    with pytest.raises(ValueError, match="NULL"):
        compile_lexica([("L", "a", None, "a")])  # a variant without base term
    with pytest.raises(ValueError, match="not in"):
        compile_lexica([("L", "a", 1.5, "a")])
    with pytest.raises(ValueError, match="not in"):
        compile_lexica([("L", "a", float("nan"), "a")])
    with pytest.raises(ValueError, match="no tokens"):
        compile_lexica([("L", "-", 0.5, "--")])
    with pytest.raises(ValueError, match="ambiguous"):
        compile_lexica([("L", "a", 0.5, "a"), ("L", "b", 0.5, "A!")])
    with pytest.raises(ValueError, match="two weights"):
        compile_lexica([("L", "a", 0.5, "a"), ("L", "a", 0.6, "aa")])


# -- a literal reference implementation of §2.4 ---------------------------------------------------


def reference(entries: list[Entry], text: str) -> dict[str, tuple]:
    """ENGINE §2.4 read literally: all candidates, sort by (k desc, i asc), greedy selection."""
    tk, seg = tokens_with_segments(text)
    assert tk == tokens(text)
    n = len(tk)
    out: dict[str, tuple] = {}
    for lexicon in dict.fromkeys(e[0] for e in entries):
        cands = []
        for lex_name, term, weight, surface in entries:
            if lex_name != lexicon:
                continue
            tt = tokens(surface)
            k = len(tt)
            for i in range(n - k + 1):
                if tk[i : i + k] == tt and seg[i] == seg[i + k - 1]:
                    cands.append((k, i, term, weight))
        cands = sorted(set(cands), key=lambda c: (-c[0], c[1]))
        covered: set[int] = set()
        hits = []
        for k, i, term, weight in cands:
            if covered.isdisjoint(range(i, i + k)):
                covered.update(range(i, i + k))
                hits.append((i, term, weight))
        if not hits:
            continue
        hits.sort()
        distinct = {}
        for _, term, weight in hits:
            distinct.setdefault(term, weight)
        total = math.fsum(distinct.values())
        out[lexicon] = (
            len(hits),
            len(distinct),
            total,
            math.fsum(w for _, _, w in hits),
            max(distinct.values()),
            min(1.0, total / (1 + math.log(1 + n))),
            tuple(distinct),
        )
    return out


VOCAB = ["a", "b", "c", "d", "ich", "will", "nicht", "mehr"]
SEPS = [" ", " ", " ", ", ", ". ", "! ", "-", " ?"]


@st.composite
def toy_lexicon(draw: st.DrawFn) -> list[Entry]:
    """Up to three lists of one- to three-token terms over a tiny vocabulary (so that phrases
    overlap a lot), some with a variant; no two surfaces of a list share their tokens."""
    entries: list[Entry] = []
    for lexicon in draw(
        st.lists(st.sampled_from(["P", "Q", "R"]), min_size=1, max_size=3, unique=True)
    ):
        used: set[tuple[str, ...]] = set()
        for _ in range(draw(st.integers(1, 6))):
            words = tuple(draw(st.lists(st.sampled_from(VOCAB[:6]), min_size=1, max_size=3)))
            if words in used:
                continue
            used.add(words)
            base = " ".join(words)
            weight = draw(st.sampled_from([0.3, 0.5, 0.85, 1.0]))
            entries.append((lexicon, base, weight, base))
            variant = tuple(draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=3)))
            if draw(st.booleans()) and variant not in used:
                used.add(variant)
                entries.append((lexicon, base, weight, " ".join(variant)))
    return entries


@settings(max_examples=400, deadline=None)
@given(
    toy_lexicon(),
    st.lists(st.tuples(st.sampled_from(VOCAB), st.sampled_from(SEPS), st.booleans()), max_size=25),
)
def test_fast_matcher_equals_literal_reference(entries: list[Entry], words: list) -> None:
    text = "".join((w.upper() if up else w) + sep for w, sep, up in words)
    lx = compile_lexica(entries)
    got = {s.lexicon: tuple(s[1:]) for s in match_text(lx, text)[1]}
    assert got == reference(entries, text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(sorted({e[3] for e in ENTRIES})), max_size=6), st.text(max_size=20))
def test_seed_lexica_equal_literal_reference(surfaces: list[str], noise: str) -> None:
    text = f" {noise} ".join(surfaces) + noise
    got = {s.lexicon: tuple(s[1:]) for s in match_text(LX, text)[1]}
    assert got == reference(ENTRIES, text)


# -- properties on arbitrary text --------------------------------------------------------------


def check_stats(n: int, s: LexStats) -> None:
    assert 1 <= s.nterms <= s.hits and len(s.terms) == s.nterms == len(set(s.terms))
    for v in (s.sum, s.sum_occ, s.max, s.score):
        assert math.isfinite(v)
    assert 0.0 < s.max <= 1.0 and 0.0 <= s.score <= 1.0
    assert s.max <= s.sum <= s.sum_occ
    assert s.hits <= n


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_properties_on_arbitrary_unicode(text: str) -> None:
    n, found = match_text(LX, text)
    assert n == len(tokens(text))
    for s in found:
        check_stats(n, s)
    h, b, terms = hazard_of(text)
    assert 0.0 <= h <= 1.0 and 0.0 <= b <= 0.5 and (h > 0) == bool(terms)
    m, k = bpast_scan(PATTERNS, text)
    assert m in (0.0, 0.7, 0.8, 0.9, 1.0) and k >= 0 and (m > 0) == (k > 0)


def test_long_and_odd_texts() -> None:
    for text in ["", " ", "😀" * 50, "\x00\x07\u200d", "ich " * 5000, "Hilfe! " * 3000]:
        n, found = match_text(LX, text)
        for s in found:
            check_stats(n, s)


# -- the UDFs through DuckDB: batch size and row order ---------------------------------------


def _con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register(
        con,
        [
            LoadedUdf(lexicon_match.__evoki_udf__, lexicon_match, "udfs/lexicon.py"),
            LoadedUdf(bpast_rx.__evoki_udf__, bpast_rx, "udfs/lexicon.py"),
        ],
    )
    con.execute(
        "create table spec as select ? as entries",
        [[{"lexicon": a, "term": b, "weight": c, "surface": d} for a, b, c, d in ENTRIES]],
    )
    con.execute(
        "create table pats as select ? as patterns",
        [
            [
                {
                    "pattern_id": int(r["pattern_id"]),
                    "pattern": r["pattern"],
                    "weight": float(r["weight"]),
                }
                for r in _rows("b_past_patterns")
            ]
        ],
    )
    return con


CON = _con()


def via_duckdb(batches: list[list[str | None]]) -> dict[str | None, tuple]:
    """Per text: (n_words, lexica, bpast) with the texts split into the given rows."""
    rows = pa.table({"b": list(range(len(batches))), "texts": batches})  # noqa: F841
    got = CON.execute(
        "select unnest(texts) as text, unnest(lexicon_match(texts, s.entries)) as r, "
        "unnest(bpast_rx(texts, p.patterns)) as x "
        "from rows cross join spec as s cross join pats as p"
    ).fetchall()
    out: dict[str | None, tuple] = {}
    for text, r, x in got:
        value = (r["n_words"], [tuple(d.values()) for d in r["lexica"]], tuple(x.values()))
        assert out.setdefault(text, value) == value
    return out


TEXT_POOL = [
    "Ich will sterben.",
    "Hilfe, ich habe Panik und Herzrasen! Hilfe!",
    "mich umzubringen, geritzt",
    "",
    None,
    "Als ich klein war, mit 7 Jahren",
    "ich verstehe dich",
    "😀",
]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.one_of(st.sampled_from(TEXT_POOL), st.text(max_size=40)), min_size=1, max_size=30),
    st.randoms(use_true_random=False),
)
def test_udf_result_independent_of_batching_and_order(texts: list, rnd: random.Random) -> None:
    whole = via_duckdb([texts])
    singles = via_duckdb([[t] for t in texts])
    shuffled = texts[:]
    rnd.shuffle(shuffled)
    cuts = sorted(rnd.sample(range(1, len(shuffled) + 1), k=min(3, len(shuffled))))
    parts, start = [], 0
    for cut in cuts:
        parts.append(shuffled[start:cut])
        start = cut
    parts.append(shuffled[start:])
    assert whole == singles == via_duckdb(parts)
    for text, (n, lexica, bp) in whole.items():
        expected = match_text(LX, text)
        assert n == expected[0]
        assert lexica == [(*s[:7], list(s.terms)) for s in expected[1]]
        assert bp == bpast_scan(PATTERNS, text)


def test_worker_processes_give_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """The split of a large call over processes changes nothing (and errors still surface)."""
    texts = [*TEXT_POOL[:3], *(f"Text {i}: ich habe Angst, mich umzubringen." for i in range(40))]
    arr_texts = pa.array([texts[:20], texts[20:]], pa.list_(pa.string()))
    spec = [{"lexicon": a, "term": b, "weight": c, "surface": d} for a, b, c, d in ENTRIES]
    entry_type = pa.struct(
        [
            ("lexicon", pa.string()),
            ("term", pa.string()),
            ("weight", pa.float64()),
            ("surface", pa.string()),
        ]
    )
    arr_entries = pa.array([spec, spec], pa.list_(entry_type))
    # the module as it is now: an in-process build earlier in the session may have re-imported
    # udfs.lexicon, and the worker processes pickle its functions by their current name
    module = importlib.import_module("udfs.lexicon")
    run_match = module.lexicon_match
    monkeypatch.setattr(module, "PARALLEL_MIN_TEXTS", 8)
    monkeypatch.setenv("EVOKI_UDF_WORKERS", "1")
    alone = run_match(arr_texts, arr_entries)
    monkeypatch.setenv("EVOKI_UDF_WORKERS", "3")
    assert run_match(arr_texts, arr_entries).equals(alone)
    bad = pa.array([spec[:-1] + [{**spec[-1], "weight": 2.0}]] * 2, pa.list_(entry_type))
    with pytest.raises(ValueError, match="not in"):
        run_match(arr_texts, bad)
    monkeypatch.setenv("EVOKI_UDF_WORKERS", "many")
    with pytest.raises(ValueError, match="EVOKI_UDF_WORKERS"):
        run_match(arr_texts, arr_entries)


def test_udf_null_row_and_error_is_loud() -> None:
    got = CON.execute("select lexicon_match(null, s.entries) from spec as s").fetchone()
    assert got == (None,)
    with pytest.raises(duckdb.Error, match="NULL field"):
        CON.execute(
            "select lexicon_match(['x'], [{'lexicon': 'L', 'term': 'x', 'weight': null, "
            "'surface': 'x'}])"
        ).fetchall()


# -- the models through the CLI ---------------------------------------------------------------

MODEL_TEXTS = {
    "golden-suicide": "Ich will sterben.",
    "golden-panic": "Hilfe, ich habe Panik und Herzrasen! Hilfe!",
    "golden-zlf": "zum x-ten Mal: noch mal von vorne",
    "golden-harm": "Ich will mich verletzen",
    "golden-crisis": "Es gibt keine Hoffnung mehr, ich bin am Ende",
    "golden-bpast": "Als ich klein war, mit 7 Jahren, vor 20 Jahren",
    "golden-b": "Ich fühle mich sicher und geborgen, ich will leben und vertraue dir. Klar!",
    "variant-suicide": "Ich denke ständig daran, mich umzubringen",
    "variant-harm": "Ich habe mich gestern wieder geritzt.",
    "cut": "Ich will. Sterben ist ein Thema.",
    "empty": "",
    "nothing": "Schönes Wetter heute 😀",
    "empathy": "ich verstehe dich",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("feat_lexicon")
    turns = [
        (turn_id, "s1" if i % 2 else "s2", None, i, "user" if i % 3 else "ai", text)
        for i, (turn_id, text) in enumerate(MODEL_TEXTS.items())
    ]
    turns.append(("dup", "s2", None, 99, "ai", MODEL_TEXTS["golden-suicide"]))  # repeated text
    history = make_history(tmp / "history.db", ["s1", "s2"], turns)
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(tmp / "out.duckdb"),
    }
    models = ["feat_text", "feat_lexicon", "feat_lexicon_wide", "feat_hazard"]
    for args in (["seed"], ["run", "-s", "+feat_hazard"], ["test", "-s", *models]):
        done = subprocess.run(
            [sys.executable, "-m", "evoki_sql", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    con = duckdb.connect(str(tmp / "out.duckdb"), read_only=True)
    yield con
    con.close()


def wide(con: duckdb.DuckDBPyConnection, turn_id: str, columns: str) -> tuple:
    return con.execute(
        f"select {columns} from feat_lexicon_wide where turn_id = ?", [turn_id]
    ).fetchone()


def test_model_every_turn_once_with_zeros(built: duckdb.DuckDBPyConnection) -> None:
    assert (
        built.execute("select count(*), count(distinct turn_id) from feat_lexicon_wide").fetchone()
        == (len(MODEL_TEXTS) + 1,) * 2
    )
    cols = [r[0] for r in built.execute("describe feat_lexicon_wide").fetchall()]
    assert len(cols) == 3 + 54 * 7
    for turn in ("empty", "nothing"):
        assert wide(
            built, turn, "lex_Suicide_hits, lex_Suicide_score, lex_Suicide_terms, lex_S_self_max"
        ) == (
            0,
            0.0,
            [],
            0.0,
        )
    assert built.execute("select count(*) from feat_hazard").fetchone() == (len(MODEL_TEXTS) + 1,)


def test_model_goldens(built: duckdb.DuckDBPyConnection) -> None:
    assert abs(wide(built, "golden-suicide", "lex_Suicide_score")[0] - 0.4190597842) < TOL
    hits, nterms, s, so, mx, sc, terms = wide(
        built,
        "golden-panic",
        "lex_T_panic_hits, lex_T_panic_nterms, lex_T_panic_sum, lex_T_panic_sum_occ, "
        "lex_T_panic_max, lex_T_panic_score, lex_T_panic_terms",
    )
    assert (hits, nterms, mx, terms) == (4, 3, 1.0, ["hilfe", "panik", "herzrasen"])
    assert abs(s - 2.6) < TOL and abs(so - 3.3) < TOL and abs(sc - 0.8443089323) < TOL
    assert wide(built, "golden-zlf", "lex_ZLF_terms")[0] == [
        "zum x-ten mal",
        "noch mal",
        "von vorne",
    ]
    assert wide(built, "empathy", "lex_B_empathy_terms, lex_B_empathy_sum") == (
        ["ich verstehe"],
        0.8,
    )
    b = wide(
        built, "golden-b", "lex_B_life_sum / 4.4, lex_B_init_sum / 3.7, lex_B_safety_sum / 4.4"
    )
    assert all(abs(x - y) < TOL for x, y in zip(b, (0.2045454545, 0.1891891892, 0.4318181818)))
    assert "Suicide" not in {
        r[0]
        for r in built.execute("select lexicon from feat_lexicon where turn_id = 'cut'").fetchall()
    }


def test_model_hazard(built: duckdb.DuckDBPyConnection) -> None:
    got = {
        r[0]: r[1:]
        for r in built.execute(
            "select turn_id, hazard, hazard_critical, hazard_level, hazard_bonus, hazard_terms, "
            "bpast_rx_max, bpast_rx_hits from feat_hazard"
        ).fetchall()
    }
    h, crit, level, bonus, terms, _, _ = got["golden-suicide"]
    assert (h, crit, level, terms) == (1.0, 1, "critical", ["Suicide:will sterben"])
    assert abs(bonus - 0.4190597842) < TOL
    assert abs(got["golden-harm"][0] - 0.81) < TOL and got["golden-harm"][2] == "critical"
    h, crit, level, bonus, terms, _, _ = got["golden-crisis"]
    assert abs(h - 0.72) < TOL and (crit, level) == (1, "high")
    assert abs(bonus - 0.4844689705) < TOL
    assert terms == ["Crisis:keine hoffnung", "Crisis:am ende"]
    assert got["variant-suicide"][0] > 0.8 and got["variant-suicide"][4] == [
        "Suicide:mich umbringen"
    ]
    assert got["variant-harm"][0] > 0.8 and got["variant-harm"][4] == ["Self_harm:ritzen"]
    assert got["golden-bpast"][5:] == (1.0, 3)
    assert got["empty"] == (0.0, 0, "low", 0.0, [], 0.0, 0)
    assert got["dup"] == got["golden-suicide"]
    for turn_id, text in MODEL_TEXTS.items():
        h, b, terms = hazard_of(text)
        assert got[turn_id][0] == h and got[turn_id][3] == b and got[turn_id][4] == terms


def test_model_long_table_equals_udf(built: duckdb.DuckDBPyConnection) -> None:
    rows = built.execute(
        "select turn_id, lexicon, hits, nterms, sum, sum_occ, max, score, terms from feat_lexicon"
    ).fetchall()
    got: dict[str, dict[str, tuple]] = {}
    for r in rows:
        got.setdefault(r[0], {})[r[1]] = tuple(r[2:])
    for turn_id, text in MODEL_TEXTS.items():
        expected = {s.lexicon: (*s[1:7], list(s.terms)) for s in match_text(LX, text)[1]}
        assert got.get(turn_id, {}) == expected, turn_id


def test_wide_refuses_a_column_list_that_differs_from_the_seeds(
    built: duckdb.DuckDBPyConnection,
) -> None:
    compiled = (
        ROOT / "target" / "compiled" / "models" / "features" / "feat_lexicon_wide.sql"
    ).read_text()
    head = compiled[: compiled.index("by_turn as (")]
    broken = re.sub(r"'B_clarity'\]", "'B_clarityX']", head, count=2)
    assert broken != head
    sql = broken.rstrip().rstrip(",") + "\nselect * from column_list"
    unlisted, missing = built.execute(sql).fetchone()
    assert unlisted == ["B_clarity"] and missing == ["B_clarityX"]
