"""feat_text and macros/text.sql: the SQL text primitives equal the Python reference (ENGINE §1).

Three layers of proof:
1. the code point classes written into macros/text.sql are exactly what Python 3 (`re`,
   `str.lower`, `unicodedata`) and this DuckDB (RE2, utf8proc) say today (generate_classes);
2. the macros give Python's nfc / norm / tokens / tokens_cased / sentences / n_chars for every
   code point in the contexts that matter (a stratified sample by default, all code points
   with EVOKI_EXHAUSTIVE=1) and for arbitrary unicode text (hypothesis), rendered from the same
   macro file the model uses and run in DuckDB in-process;
3. the feat_text model, built through the CLI on a small history, matches Python turn by turn.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import duckdb
import jinja2
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from udfs._text import nfc, norm, sentences, tokens, tokens_cased

from history_db import make_history

ROOT = Path(__file__).resolve().parents[3]
MACROS = ROOT / "macros" / "text.sql"
CODE_POINTS = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]

# characters that exercise every reconciliation of macros/text.sql
TRICKY = (
    "aAzZäÄöÖüÜßẞ0123456789_ \t\n\r.!?,;:-'’…—()\x00\x07İIi\u0307ΣσςΑΒΟΔ\u0301\u0316\u0334\u0345"
    "ᄀ\u1161\u11a8가\u212b\u2160\u24b6ǅ\U0001123f\U00011f02\U00031350\U00010efd\U0001e4ec"
    "\U0001e08f😀\ufe0f\u200d\U0001f469\u00ad\u0130\u03a3\u0300\u0399\u0308"
)


# -- 1. the classes of macros/text.sql -------------------------------------------------------


def _ranges(points: Iterable[int]) -> str:
    """'41-5A 61' notation of a set of code points."""
    out: list[list[int]] = []
    for c in sorted(points):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return " ".join(f"{a:X}" if a == b else f"{a:X}-{b:X}" for a, b in out)


def _duck_nfc_differs(con: duckdb.DuckDBPyConnection, texts: list[str]) -> list[bool]:
    probe_texts = pa.table({"i": list(range(len(texts))), "t": texts})  # noqa: F841 - DuckDB reads it
    got = [
        r[0] for r in con.execute("select nfc_normalize(t) from probe_texts order by i").fetchall()
    ]
    return [g != unicodedata.normalize("NFC", t) for g, t in zip(got, texts)]


def generate_classes(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The five code point classes of macros/text.sql, computed from Python and DuckDB."""
    points = pa.table({"c": CODE_POINTS, "t": [chr(c) for c in CODE_POINTS]})  # noqa: F841
    re2_word = {
        c
        for (c,) in con.execute(
            r"select c from points where regexp_matches(t, '[\p{L}\p{N}_]')"
        ).fetchall()
    }
    py_word = {c for c in CODE_POINTS if re.match(r"\w", chr(c))}
    assert py_word <= re2_word, "a Python word character that RE2 does not know"

    # NFC: DuckDB's nfc_normalize stops at U+0000; code points unassigned for Python may be
    # combining marks for DuckDB. Probe them in joined chunks, then one by one where needed.
    split = set()
    if _duck_nfc_differs(con, ["\xe4\x00b"])[0]:  # (an ASCII-only text is returned as is)
        split.add(0)
    unassigned = [c for c in CODE_POINTS if unicodedata.category(chr(c)) == "Cn"]
    probes = ["a{}\u0301", "a\u0301{}", "a{}\u0334", "a\u0345{}", "{}\u0301", "a\u0316{}"]
    for probe in probes:
        chunks = [unassigned[i : i + 512] for i in range(0, len(unassigned), 512)]
        joined = ["\n".join(probe.format(chr(c)) for c in chunk) for chunk in chunks]
        for chunk, differs in zip(chunks, _duck_nfc_differs(con, joined)):
            if differs:
                singles = [probe.format(chr(c)) for c in chunk]
                split.update(c for c, d in zip(chunk, _duck_nfc_differs(con, singles)) if d)

    # NFC_QC = No or Maybe, or a non-zero combining class (Python's tables)
    unsafe = set()
    for c in CODE_POINTS:
        ch = chr(c)
        if unicodedata.combining(ch) or unicodedata.normalize("NFC", ch) != ch:
            unsafe.add(c)
        decomposition = unicodedata.decomposition(ch)
        if decomposition and not decomposition.startswith("<"):
            parts = [int(p, 16) for p in decomposition.split()]
            pair = "".join(chr(p) for p in parts)
            if len(parts) == 2 and unicodedata.normalize("NFC", pair) == ch:
                unsafe.add(parts[1])
    unsafe.update(range(0x1161, 0x1176))  # Hangul V jamo compose with a preceding L
    unsafe.update(range(0x11A8, 0x11C3))  # Hangul T jamo compose with a preceding LV

    # Final_Sigma context classes, read off Python's own str.lower
    cased, ignorable = set(), set()
    for c in CODE_POINTS:
        ch = chr(c)
        if (ch + "Σ").lower()[-1] == "ς":  # cased; ignorable too if it is skipped
            if ("1" + ch + "Σ").lower()[-1] == "σ":
                ignorable.add(c)
            else:
                cased.add(c)
        elif ("A" + ch + "Σ").lower()[-1] == "ς":
            ignorable.add(c)
    return {
        "text_cls_u15_word": _ranges(re2_word - py_word),
        "text_cls_nfc_split": _ranges(split),
        "text_cls_nfc_unsafe": _ranges(unsafe),
        "text_cls_cased": _ranges(cased),
        "text_cls_case_ignorable": _ranges(ignorable),
    }


def _render(expression: str) -> str:
    """Render a Jinja expression with the project's macros/text.sql (plain Jinja suffices)."""
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return env.from_string(MACROS.read_text() + "{{ " + expression + " }}").render().strip()


def test_macro_classes_are_current() -> None:
    """A new Python or DuckDB (other Unicode tables) makes this fail instead of drifting."""
    con = duckdb.connect()
    expected = generate_classes(con)
    for name, ranges in expected.items():
        written = " ".join(_render(f"{name}()").split())
        assert written == ranges, f"macros/text.sql {name} is out of date"


# -- 2. the macros against Python --------------------------------------------------------------

COLUMNS = {
    "nfc": "text_nfc('t')",
    "norm": "text_norm('t')",
    "tokens": "text_tokens('t')",
    "tokens_cased": "text_tokens_cased('t')",
    "sentences": "text_sentences('t')",
    "sentence_tokens": "text_sentence_tokens(text_sentences('t'), text_nfc('t'))",
    "n_chars": "text_n_chars('t')",
}


def python_side(text: str) -> dict[str, object]:
    return {
        "nfc": nfc(text),
        "norm": norm(text),
        "tokens": tokens(text),
        "tokens_cased": tokens_cased(text),
        "sentences": sentences(text),
        "sentence_tokens": [tokens(piece) for piece in sentences(text)],
        "n_chars": len(nfc(text)),
    }


_SQL: str | None = None
_CON = duckdb.connect()


def sql_side(con: duckdb.DuckDBPyConnection, texts: list[str]) -> list[dict[str, object]]:
    """The macros of macros/text.sql evaluated by DuckDB on `texts`."""
    global _SQL
    if _SQL is None:
        _SQL = ", ".join(f"{_render(expr)} as {name}" for name, expr in COLUMNS.items())
    sample = pa.table({"i": list(range(len(texts))), "t": texts})  # noqa: F841 - DuckDB reads it
    cur = con.execute(f"select {_SQL} from sample order by i")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _sample_code_points() -> list[int]:
    if os.environ.get("EVOKI_EXHAUSTIVE") == "1":
        return CODE_POINTS
    con = duckdb.connect()
    special: set[int] = set()
    for name in (
        "text_cls_u15_word",
        "text_cls_nfc_split",
        "text_cls_nfc_unsafe",
        "text_cls_cased",
        "text_cls_case_ignorable",
    ):
        for item in _render(f"{name}()").split():
            a, _, b = item.partition("-")
            lo, hi = int(a, 16), int(b or a, 16)
            special.update({lo - 1, lo, hi, hi + 1})
            special.update(range(lo, hi + 1, max(1, (hi - lo) // 8)))
    con.close()
    return sorted(
        c for c in CODE_POINTS if c < 0x3400 or c in special or c % 17 == 0 or 0x1E00 <= c <= 0x1FFF
    )


def test_macros_equal_python_on_code_points_in_context() -> None:
    """Each code point alone, between letters, in both sigma contexts, next to combining marks
    and inside sentence cuts; joined into long texts (joining is itself a valid input)."""
    points = _sample_code_points()
    probes = [
        "{}",
        "a{}b",
        "A{}Σ",
        "1{}Σ",
        "AΣ{}B",
        "a{}\u0301",
        "a\u0301{}",
        "I{}\u0307",
        "x.{}!y",
    ]
    texts = [
        "\n".join(probe.format(chr(c)) for c in points[i : i + 400])
        for probe in probes
        for i in range(0, len(points), 400)
    ]
    con = duckdb.connect()
    for text, got in zip(texts, sql_side(con, texts)):
        expected = python_side(text)
        assert got == expected, [k for k in got if got[k] != expected[k]]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hallo Welt. Wie geht's?",
        "ΟΔΟΣ ΑΣ.Β ΑΣΣ ΑΣ Σ Α\u0301Σ",  # final sigma in every context
        "I\u0307stanbul İstanbul",  # İ composed by NFC vs. given
        "a\x00b \x00Σ",  # U+0000
        "x\U00011f02y a\u0301\U00010efd\u0316",  # Unicode 15 letter and mark
        "Angst-Szenario, geht's? 3,5 x-ten ... !!! ?",
        "😀😀😀",
        "\u0301\u0301 leading marks",
    ],
)
def test_macros_equal_python_on_examples(text: str) -> None:
    assert sql_side(duckdb.connect(), [text]) == [python_side(text)]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=60), min_size=1, max_size=12))
def test_macros_equal_python_on_arbitrary_unicode(texts: list[str]) -> None:
    got = sql_side(_CON, texts)
    assert got == [python_side(t) for t in texts]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet=TRICKY, max_size=40), min_size=1, max_size=12))
def test_macros_equal_python_on_tricky_text(texts: list[str]) -> None:
    got = sql_side(_CON, texts)
    assert got == [python_side(t) for t in texts]


M116_TEXT = (
    "Ich denke, dass ich das Konzept verstanden habe. Außerdem ist es wichtig, weil es die "
    "Grundlage für alles Weitere bildet!"
)
M4_TEXT = (
    "Als ich klein war, mit 7 Jahren, war ich oft traurig und einsam... Meine Mutter war nie "
    "da. Ich war allein."
)
ENGINE_EXAMPLES = [
    # ENGINE §1.1: hyphens and apostrophes split, umlauts and ß kept, no stemming
    ("x-ten geht's 3,5 Straße", ["x", "ten", "geht", "s", "3", "5", "straße"], 1, None),
    ("", [], 0, None),
    ("   \t\n", [], 0, None),
    ("?!... ,;", [], 0, None),
    ("😀😢🤔", [], 0, None),
    ("Kein Satzzeichen hier", ["kein", "satzzeichen", "hier"], 1, None),
    # METRICS m116 golden: 20 tokens, 2 sentences
    (M116_TEXT, None, 2, None),
    ("Hallo wie geht's", ["hallo", "wie", "geht", "s"], 1, None),
    # METRICS m4 golden: tokens per sentence 13, 5, 3
    (M4_TEXT, None, 3, [13, 5, 3]),
]


@pytest.mark.parametrize(("text", "expected_tokens", "n_sent", "per_sentence"), ENGINE_EXAMPLES)
def test_engine_examples(
    text: str, expected_tokens: list[str] | None, n_sent: int, per_sentence: list[int] | None
) -> None:
    sql = _render("text_tokens('t')")
    got_tokens = _CON.execute(f"select {sql} from (select ? as t)", [text]).fetchone()[0]
    if expected_tokens is not None:
        assert got_tokens == expected_tokens
    if text == M116_TEXT:
        assert len(got_tokens) == 20
    sentences_sql = _render("text_sentences('t')")
    got_sentences = _CON.execute(f"select {sentences_sql} from (select ? as t)", [text]).fetchone()
    assert len(got_sentences[0]) == n_sent
    if per_sentence is not None:
        assert [len(tokens(p)) for p in got_sentences[0]] == per_sentence


def test_tokens_cased_keeps_case() -> None:
    """METRICS m119 golden text: the capitals metric reads tokens_cased."""
    sql = _render("text_tokens_cased('t')")
    text = "WARUM hilft mir NIEMAND??? aaaa 😢😢🤔"
    got = _CON.execute(f"select {sql} from (select ? as t)", [text]).fetchone()[0]
    assert got == ["WARUM", "hilft", "mir", "NIEMAND", "aaaa"]


def test_spec_expressions_alone_are_not_enough() -> None:
    """Why the macros exist: ENGINE §1.3's expressions differ from Python on these inputs."""
    con = duckdb.connect()
    spec_tokens = (
        r"regexp_extract_all(lower(nfc_normalize(replace(?, 'İ', 'I'))), '[\p{L}\p{N}_]+')"
    )
    for text in ["ΟΔΟΣ", "x\U00011f02y", "I\u0307x", "\xe4\x00b"]:
        assert con.execute(f"select {spec_tokens}", [text]).fetchone()[0] != tokens(text)


# -- 3. the model through the CLI ------------------------------------------------------------

TURNS_TEXT = [
    "",
    "Hallo Welt. Wie geht's dir?",
    "Ich habe Angst!!! Keine   Luft... was jetzt?",
    "ΟΔΟΣ ΑΣ.Β und İstanbul, I\u0307x",
    "a\x00b c",
    "x\U00011f02y a\u0301\U00010efd\u0316 ä",
    "😀 🙂",
    "...",
    "Zwei Sätze. Noch einer! Und? Ende",
    "Straße STRASSE ǅemal 3,5 x-ten",
    M4_TEXT,
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    tmp = tmp_path_factory.mktemp("feat_text")
    turns = [
        (f"t-{i:02d}", "s1", f"2026-01-01T10:{i:02d}:00Z", i + 1, "user" if i % 2 else "ai", text)
        for i, text in enumerate(TURNS_TEXT)
    ]
    history = make_history(tmp / "history.db", ["s1"], turns)
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(tmp / "out.duckdb"),
    }
    # run, then the model's own tests (`build -s +feat_text` would also pick up tests of other
    # models that merely point at stg_turns)
    for args in (["seed"], ["run", "-s", "+feat_text"], ["test", "-s", "feat_text"]):
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


def test_model_matches_python_turn_by_turn(built: duckdb.DuckDBPyConnection) -> None:
    # sentence_tokens is not stored: metrics_core computes it from these columns (the macro)
    sentence_tokens = _render("text_sentence_tokens('f.sentences', 'f.text_nfc')")
    rows = built.execute(
        "select f.turn_id, t.text, f.text_nfc, f.text_norm, f.tokens, f.tokens_cased, "
        f"f.sentences, {sentence_tokens}, f.n_words, f.n_unique, f.n_chars, f.n_sent "
        "from feat_text f join stg_turns t using (turn_id) order by f.turn_id"
    ).fetchall()
    assert len(rows) == len(TURNS_TEXT)
    for row in rows:
        text = row[1]
        tk = tokens(text)
        pieces = sentences(text)
        expected = (
            nfc(text),
            norm(text),
            tk,
            tokens_cased(text),
            pieces,
            [tokens(p) for p in pieces],
            len(tk),
            len(set(tk)),
            len(nfc(text)),
            len(pieces),
        )
        assert tuple(row[2:]) == expected, row[0]


def test_model_counts_examples(built: duckdb.DuckDBPyConnection) -> None:
    got = {
        r[0]: r[1:]
        for r in built.execute(
            "select turn_id, n_words, n_unique, n_sent, n_chars from feat_text"
        ).fetchall()
    }
    assert got["t-00"] == (0, 0, 0, 0)  # empty text
    assert got["t-06"] == (0, 0, 0, 3)  # emoji only: characters but no words
    assert got["t-07"] == (0, 0, 0, 3)  # punctuation only
    assert got["t-08"][2] == 4  # "Zwei Sätze. Noch einer! Und? Ende"
    sentence_tokens = _render("text_sentence_tokens('sentences', 'text_nfc')")
    per_sentence = built.execute(
        f"select list_transform({sentence_tokens}, lambda s: len(s)) from feat_text "
        "where turn_id = 't-10'"
    ).fetchone()[0]
    assert per_sentence == [13, 5, 3]  # METRICS m4 golden
