"""Seeds (seeds/*.csv + seeds/properties.yml) against the facts the metric catalogue states.

The expected numbers below are quoted from the catalogue (spec/README.md, ENGINE.md, METRICS.md);
the tests never read the catalogue files themselves, so they run wherever the repo is cloned.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import re
import unicodedata
from collections import Counter, OrderedDict
from pathlib import Path

import duckdb
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"
PROPS = SEEDS / "properties.yml"

CRITICAL = ["m1_A", "m2_PCI", "m19_z_prox", "m101_t_panic", "m110_black_hole"]

# ENGINE §2.2: the 22 lexica in JSON order with their term counts (451 in all).
BASE_LEXICA = OrderedDict(
    [
        ("B_empathy", 19),
        ("B_past", 50),
        ("Coh_conn", 15),
        ("Crisis", 8),
        ("Emotion_neg", 10),
        ("Emotion_pos", 10),
        ("Flow_neg", 9),
        ("Flow_pos", 10),
        ("Help", 8),
        ("Kastasis_intent", 12),
        ("Lambda_depth", 18),
        ("Math_meta", 12),
        ("Physics_meta", 11),
        ("S_self", 26),
        ("Self_harm", 6),
        ("Suicide", 19),
        ("T_disso", 34),
        ("T_integ", 42),
        ("T_panic", 36),
        ("T_shock", 17),
        ("X_exist", 55),
        ("ZLF", 24),
    ]
)
# ENGINE §2.1
LEXIKA_SHA256 = "7316cf61a4a8a24de8791d84e06bb23ba77f63cc37c824c46c203a172b95ed9e"
SAFETY_LEXICA = [
    "T_panic",
    "T_disso",
    "T_integ",
    "T_shock",
    "Suicide",
    "Self_harm",
    "Crisis",
    "Help",
    "S_self",
    "X_exist",
]
# ENGINE §2.4 rule 4
VARIANT_LEXICA = {"Suicide", "Self_harm", "Crisis", "T_panic", "T_disso", "T_shock"}

# Part-local lists written out in METRICS.md, with the sizes the catalogue states or writes out.
PART_LOCAL = OrderedDict(
    [
        ("m4_break_markers", 5),  # m4_flow: ..., --, —, (), two spaces
        ("CAUSAL_MARKERS", 10),  # P2.6
        # P3.1 table
        ("sent_pos", 16),
        ("sent_neg", 16),
        ("arousal_high", 5),
        ("arousal_low", 5),
        ("dom_high", 6),
        ("dom_low", 5),
        ("spatial", 8),
        ("ctx_safe", 77),
        ("EMOJI_MAP", 22),  # m120 "22 code points"
        ("FUTURE", 8),
        ("PAST", 7),
        ("ABSTRACT", 9),
        ("INTEGRATION", 6),
        ("SYNTHESIS", 7),
        ("EVAL", 10),
        ("RECURSIVE", 3),
        ("PARADOX", 4),
        ("PAST_T", 5),
        ("FUTURE_T", 4),
        ("BRIDGE", 2),
        ("CAUSAL", 5),
        ("CLOSURE", 5),
        ("COMPLETION", 5),
        ("DEPTH", 5),
        ("CLARITY", 5),
    ]
)

# ENGINE §4: total keyword weight W_d per B-vector dimension.
B_TOTALS = OrderedDict(
    [
        ("B_life", 4.4),
        ("B_truth", 4.3),
        ("B_depth", 4.2),
        ("B_init", 3.7),
        ("B_warmth", 4.5),
        ("B_safety", 4.4),
        ("B_clarity", 4.4),
    ]
)

DUCKDB_TYPES = {"integer", "varchar", "double", "boolean", "bigint"}


# ------------------------------------------------------------------ helpers
def read_seed(name: str) -> tuple[list[str], list[list[str]]]:
    raw = (SEEDS / f"{name}.csv").read_bytes()
    text = raw.decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return rows[0], rows[1:]


def dict_rows(name: str) -> list[dict[str, str]]:
    header, rows = read_seed(name)
    return [dict(zip(header, r)) for r in rows]


def tokens(text: str) -> list[str]:
    """ENGINE §1.1 tokens(): runs of [\\p{L}\\p{N}_] in lower(nfc(text)) (U+0130 -> I)."""
    return re.findall(r"\w+", unicodedata.normalize("NFC", text.replace("\u0130", "I")).lower())


def props() -> dict:
    return yaml.safe_load(PROPS.read_text(encoding="utf-8"))


def seed_props() -> dict[str, dict]:
    return {s["name"]: s for s in props()["seeds"]}


def csv_names() -> list[str]:
    return sorted(p.stem for p in SEEDS.glob("*.csv"))


@pytest.fixture(scope="module")
def contract() -> list[dict[str, str]]:
    return dict_rows("metric_contract")


@pytest.fixture(scope="module")
def lexika() -> list[dict[str, str]]:
    return dict_rows("lexika")


# ------------------------------------------------------------------ files and format
@pytest.mark.parametrize("name", csv_names())
def test_csv_format(name):
    raw = (SEEDS / f"{name}.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"
    assert b"\r" not in raw, "LF line endings only"
    assert raw.endswith(b"\n")
    raw.decode("utf-8")
    header, rows = read_seed(name)
    assert rows, "header plus at least one row"
    assert len(set(header)) == len(header)
    assert all(len(r) == len(header) for r in rows)


@pytest.mark.parametrize("name", csv_names())
def test_duckdb_reads_exact_values(name):
    header, rows = read_seed(name)
    rel = duckdb.read_csv(str(SEEDS / f"{name}.csv"), header=True, all_varchar=True)
    assert rel.columns == header
    got = [["" if v is None else v for v in r] for r in rel.fetchall()]
    assert got == rows


def test_every_csv_is_documented_and_every_seed_exists():
    p = props()
    assert p["version"] == 2
    declared = [s["name"] for s in p["seeds"]]
    assert len(declared) == len(set(declared))
    assert sorted(declared) == csv_names()


@pytest.mark.parametrize("name", csv_names())
def test_column_types_and_columns_exist(name):
    sp = seed_props()[name]
    header, _ = read_seed(name)
    types = sp["config"]["column_types"]
    missing = set(types) - set(header)
    assert not missing, f"column_types names a missing column: {missing}"
    assert set(types) == set(header), "every column has a declared type"
    assert all(t in DUCKDB_TYPES for t in types.values())
    documented = [c["name"] for c in sp.get("columns", [])]
    assert set(documented) <= set(header)
    assert sp.get("description", "").strip()
    assert all(c.get("description", "").strip() for c in sp.get("columns", []))


def _typed(name: str):
    types = seed_props()[name]["config"]["column_types"]
    con = duckdb.connect()
    rel = con.read_csv(str(SEEDS / f"{name}.csv"), header=True, dtype=types)
    return rel.columns, rel.fetchall()


def _run_generic_test(name, test, column, cols, rows, tables):
    """Evaluate one dbt generic test (as declared) in Python; returns failing values."""
    if isinstance(test, str):
        kind, args = test, {}
    else:
        ((kind, args),) = test.items()
        args = dict(args or {})
    column = args.pop("column_name", column)
    where = (args.pop("config", None) or {}).get("where")
    if where is not None:  # only the simple form used here: "<col> in ('a', 'b', ...)"
        m = re.fullmatch(r"\s*(\w+)\s+in\s+\((.*)\)\s*", where, re.DOTALL)
        assert m, where
        wcol, allowed = m.group(1), set(re.findall(r"'([^']*)'", m.group(2)))
        rows = [r for r in rows if r[cols.index(wcol)] in allowed]
    if " || " in column:  # composite key "a || '|' || b"
        parts = [c for c in re.findall(r"\w+", column)]
        vals = ["|".join(str(r[cols.index(c)]) for c in parts) for r in rows]
    else:
        vals = [r[cols.index(column)] for r in rows]
    if kind == "not_null":
        return [v for v in vals if v is None]
    if kind == "unique":
        return [v for v, n in Counter(vals).items() if n > 1]
    if kind == "accepted_values":
        allowed = set(args["values"])
        return [v for v in vals if v is not None and v not in allowed]
    if kind == "accepted_range":
        lo, hi = args.get("min_value"), args.get("max_value")
        return [
            v
            for v in vals
            if v is not None and ((lo is not None and v < lo) or (hi is not None and v > hi))
        ]
    if kind == "relationships":
        target = re.fullmatch(r"ref\('(\w+)'\)", args["to"]).group(1)
        tcols, trows = tables[target]
        ref_vals = {r[tcols.index(args["field"])] for r in trows}
        return [v for v in vals if v is not None and v not in ref_vals]
    raise AssertionError(f"unknown generic test {kind}")


def test_declared_generic_tests_pass():
    tables = {n: _typed(n) for n in csv_names()}
    failures = {}
    for name, sp in seed_props().items():
        cols, rows = tables[name]
        for t in sp.get("data_tests", []):
            bad = _run_generic_test(name, t, None, cols, rows, tables)
            if bad:
                failures[(name, str(t))] = bad[:5]
        for c in sp.get("columns", []):
            for t in c.get("data_tests", []):
                bad = _run_generic_test(name, t, c["name"], cols, rows, tables)
                if bad:
                    failures[(name, c["name"], str(t))] = bad[:5]
    assert not failures


def test_typed_load_keeps_numbers():
    cols, rows = _typed("metric_contract")
    assert [r[cols.index("id")] for r in rows] == list(range(1, 169))
    los = {r[cols.index("key")]: r[cols.index("range_lo")] for r in rows}
    his = {r[cols.index("key")]: r[cols.index("range_hi")] for r in rows}
    assert los["m111_g_phase"] == -math.pi and his["m111_g_phase"] == math.pi
    assert his["m93_sent_20"] == math.sqrt(3) / 2
    assert los["m28_phys_1"] is None and his["m28_phys_1"] is None  # unbounded


# ------------------------------------------------------------------ metric_contract
def test_contract_shape(contract):
    header, _ = read_seed("metric_contract")
    assert header == [
        "id",
        "key",
        "family",
        "contract_category",
        "phase",
        "type",
        "range_lo",
        "range_hi",
        "enum_values",
        "critical_column",
        "depends_on",
        "needs",
        "implementation",
    ]
    assert len(contract) == 168
    assert [int(r["id"]) for r in contract] == list(range(1, 169))
    keys = [r["key"] for r in contract]
    assert len(set(keys)) == 168
    for r in contract:
        assert r["key"].startswith(f"m{r['id']}_"), r["key"]
    assert keys[0] == "m1_A" and keys[-1] == "m168_cum_stress"


def test_contract_critical_columns(contract):
    assert [r["key"] for r in contract if r["critical_column"] == "1"] == CRITICAL
    assert {r["critical_column"] for r in contract} == {"0", "1"}
    # m151 is m151_omega; the history column m151_hazard is not a contract metric (ENGINE C-11)
    assert contract[150]["key"] == "m151_omega"
    assert "m160_clarity" == contract[159]["key"]  # F_risk is not a contract slot (C-17)


def test_contract_ranges(contract):
    for r in contract:
        lo, hi = r["range_lo"], r["range_hi"]
        if lo and hi:
            assert float(lo) <= float(hi), r["key"]
        for v in (lo, hi):
            if v:
                assert math.isfinite(float(v))
        if r["type"] == "binary":
            assert (lo, hi) == ("0", "1"), r["key"]


def test_contract_enums(contract):
    enums = {r["key"]: r["enum_values"] for r in contract if r["type"] == "enum"}
    assert enums == {
        "m161_commit_action": "commit|retry|alert",
        "m165_platform": "pc|apk|rover",
        "m166_modality": "text|voice|image|multimodal",
    }
    for r in contract:
        if r["type"] == "enum":
            assert r["range_lo"] == "" and r["range_hi"] == ""
        else:
            assert r["enum_values"] == "", r["key"]


def test_contract_types_and_phases(contract):
    assert Counter(r["type"] for r in contract) == {"float": 158, "binary": 4, "int": 3, "enum": 3}
    assert {int(r["phase"]) for r in contract} <= set(range(1, 7))
    # ENGINE §5: m101/m102 are hoisted to phase 1; m28-m32 are phase 2
    ph = {r["key"]: int(r["phase"]) for r in contract}
    assert ph["m101_t_panic"] == 1 and ph["m102_t_disso"] == 1
    for k in ("m28_phys_1", "m29_phys_2", "m30_phys_3", "m31_phys_4", "m32_phys_5"):
        assert ph[k] == 2, k


def test_contract_references_resolve(contract, lexika):
    keys = {r["key"] for r in contract}
    lex_names = {r["lexicon"] for r in lexika}
    for r in contract:
        for d in filter(None, r["depends_on"].split(";")):
            assert d in keys, (r["key"], d)
        for n in filter(None, r["needs"].split(";")):
            if n.startswith("lexicon:"):
                lx = n.split(":", 1)[1]
                assert lx in lex_names or lx == "b_past_patterns", (r["key"], lx)
            else:
                assert n in {
                    "text",
                    "prev_turn",
                    "session",
                    "timestamp",
                    "other_role",
                    "embedding",
                    "a_phys",
                }, (r["key"], n)


# ------------------------------------------------------------------ lexika
def test_base_lexica(lexika):
    base = lexika[:451]
    names = list(OrderedDict.fromkeys(r["lexicon"] for r in base))
    assert names == list(BASE_LEXICA)
    assert Counter(r["lexicon"] for r in base) == BASE_LEXICA
    assert sum(BASE_LEXICA.values()) == 451
    assert not any(r["lexicon"] in BASE_LEXICA for r in lexika[451:])
    for r in base:
        assert 0.3 <= float(r["weight"]) <= 1.0, r
        assert r["term"] == r["term"].lower() == unicodedata.normalize("NFC", r["term"])
        assert r["term"] == " ".join(r["term"].split())
    for n in SAFETY_LEXICA:
        assert BASE_LEXICA[n] > 0


def test_base_lexica_integrity_hash(lexika):
    """ENGINE §2.1: SHA-256 of the compact, key-sorted JSON of the 22 lexica."""
    d: dict[str, dict[str, float]] = {}
    for r in lexika[:451]:
        d.setdefault(r["lexicon"], {})[r["term"]] = float(r["weight"])
    s = json.dumps(d, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(s.encode("utf-8")).hexdigest() == LEXIKA_SHA256


def test_base_terms_unique_after_tokenisation(lexika):
    """ENGINE §2.1: unique per lexicon also after tokenisation; only `zum x-ten mal` changes."""
    changed = [r["term"] for r in lexika[:451] if " ".join(tokens(r["term"])) != r["term"]]
    assert changed == ["zum x-ten mal"]
    for n in BASE_LEXICA:
        toks = [" ".join(tokens(r["term"])) for r in lexika[:451] if r["lexicon"] == n]
        assert len(toks) == len(set(toks)), n


def test_lexicon_term_pairs_unique(lexika):
    pairs = [(r["lexicon"], r["term"]) for r in lexika]
    assert len(pairs) == len(set(pairs))


def test_part_local_lexica(lexika):
    local = lexika[451:]
    names = list(OrderedDict.fromkeys(r["lexicon"] for r in local))
    assert names == list(PART_LOCAL)
    assert Counter(r["lexicon"] for r in local) == PART_LOCAL
    assert len(lexika) == 451 + sum(PART_LOCAL.values())
    for r in local:
        if r["lexicon"] in ("EMOJI_MAP", "m4_break_markers"):
            continue
        # normalised as the matcher expects: lower(NFC) tokens joined by one space
        assert r["term"] == " ".join(tokens(r["term"])), r
        assert r["weight"] == "1.0", r


def test_part_local_examples(lexika):
    by = {}
    for r in lexika:
        by.setdefault(r["lexicon"], []).append(r["term"])
    assert by["spatial"] == ["oben", "unten", "innen", "außen", "hier", "dort", "zentrum", "tiefe"]
    assert by["CAUSAL_MARKERS"] == [
        "weil",
        "daher",
        "deshalb",
        "daraus folgt",
        "bedingt durch",
        "aufgrund",
        "infolge",
        "somit",
        "folglich",
        "demnach",
    ]
    assert by["CAUSAL"] == ["weil", "da", "denn", "deshalb", "daher"]
    assert by["RECURSIVE"] == ["ich denke dass ich", "wenn ich überlege", "mein gedanke über"]
    assert by["m4_break_markers"] == ["...", "--", "\u2014", "()", "  "]
    # P3.1: sent_pos / sent_neg contain the JSON Emotion_pos / Emotion_neg terms
    assert set(by["Emotion_pos"]) <= set(by["sent_pos"])
    assert set(by["Emotion_neg"]) <= set(by["sent_neg"])
    # P3.1: a term in two lists counts in both
    assert "sicher" in by["sent_pos"] and "sicher" in by["dom_high"]
    assert {"hilflos", "verloren"} <= set(by["sent_neg"]) & set(by["dom_low"])
    for phrase in ("im roman", "was wäre wenn", "mal angenommen"):
        assert phrase in by["ctx_safe"]
    # P3.1: deliberately omitted ambiguous words
    for w in (
        "spiel",
        "spielen",
        "film",
        "serie",
        "roman",
        "theoretisch",
        "beispiel",
        "szenario",
        "geschichte",
    ):
        assert w not in by["ctx_safe"]


def test_emoji_map(lexika):
    emo = [(r["term"], r["weight"]) for r in lexika if r["lexicon"] == "EMOJI_MAP"]
    assert all(len(t) == 1 for t, _ in emo), "one code point each, no variation selector"
    vals = {t: float(w) for t, w in emo}
    pos = [
        0x1F60A,
        0x1F604,
        0x2764,
        0x1F600,
        0x1F603,
        0x1F389,
        0x1F495,
        0x1F44D,
        0x2728,
        0x1F31F,
        0x2B50,
    ]
    neg = [0x1F622, 0x1F61E, 0x1F494, 0x1F62D, 0x1F620, 0x1F621, 0x1F44E, 0x1F614, 0x1F61F]
    neu = [0x1F914, 0x1F610]
    assert vals == {
        **{chr(c): 1.0 for c in pos},
        **{chr(c): -1.0 for c in neg},
        **{chr(c): 0.0 for c in neu},
    }

    # m120 goldens: "…😢😢🤔" -> -2/3; "Danke ❤️👍🏽!" -> 1.0
    def score(text):
        hits = [vals[ch] for ch in unicodedata.normalize("NFC", text) if ch in vals]
        return sum(hits) / len(hits) if hits else 0.0

    assert score("WARUM hilft mir NIEMAND??? aaaa 😢😢🤔") == pytest.approx(-2 / 3, abs=1e-12)
    assert score("Danke ❤️👍🏽!") == 1.0


def test_lexicon_catalog(lexika):
    cat = dict_rows("lexicon_catalog")
    names = list(OrderedDict.fromkeys(r["lexicon"] for r in lexika))
    assert [c["lexicon"] for c in cat] == names
    counts = Counter(r["lexicon"] for r in lexika)
    for c in cat:
        assert int(c["n_terms"]) == counts[c["lexicon"]]
        base = c["lexicon"] in BASE_LEXICA
        assert c["origin"] == ("evoki_lexika_v3" if base else "metrics_part_local")
        kind = "weight" if base else "value" if c["lexicon"] == "EMOJI_MAP" else "unit"
        assert c["weight_kind"] == kind
        assert c["has_variants"] == ("1" if c["lexicon"] in VARIANT_LEXICA else "0")
        assert c["source"]
    kinds = {c["lexicon"]: c["match_kind"] for c in cat}
    assert kinds.pop("EMOJI_MAP") == "codepoint" and kinds.pop("m4_break_markers") == "substring"
    assert set(kinds.values()) == {"token"}


def test_lexika_yaml_records_sources():
    desc = seed_props()["lexika"]["description"]
    for n in PART_LOCAL:
        assert re.search(rf"^\s*- {re.escape(n)} \(\d+, \w+\): .*line", desc, re.MULTILINE), n


def test_ctx_safe_groups(lexika):
    groups = dict_rows("lexika_groups")
    ctx = [r["term"] for r in lexika if r["lexicon"] == "ctx_safe"]
    assert [g["term"] for g in groups] == ctx
    assert Counter(g["term_group"] for g in groups).keys() == {"gaming", "fiction", "hypothetical"}


# ------------------------------------------------------------------ variants
def test_variants(lexika):
    variants = dict_rows("lexika_variants")
    base = {(r["lexicon"], r["term"]) for r in lexika[:451]}
    assert variants
    for v in variants:
        assert (v["lexicon"], v["term"]) in base, v
        assert v["lexicon"] in VARIANT_LEXICA
        assert v["variant"] == " ".join(tokens(v["variant"])), v
        assert v["variant"] != v["term"]
    assert {v["lexicon"] for v in variants} == VARIANT_LEXICA
    triples = [(v["lexicon"], v["term"], v["variant"]) for v in variants]
    assert len(triples) == len(set(triples))
    # one base term per (lexicon, variant)
    assert len({(v["lexicon"], v["variant"]) for v in variants}) == len(variants)
    # examples named in ENGINE §2.4 / METRICS m104
    pairs = {(v["term"], v["variant"]) for v in variants}
    assert ("ritzen", "geritzt") in pairs
    assert ("mich umbringen", "mich umzubringen") in pairs
    assert ("geschockt", "schockiert") in pairs


# ------------------------------------------------------------------ B_past patterns
def test_b_past_patterns():
    header, rows = read_seed("b_past_patterns")
    assert header == ["pattern_id", "pattern", "weight"]
    assert len(rows) == 5
    assert [r[0] for r in rows] == ["1", "2", "3", "4", "5"]
    assert [float(r[2]) for r in rows] == [0.9, 1.0, 0.8, 0.7, 0.8]
    compiled = [(re.compile(r[1]), float(r[2])) for r in rows]
    assert rows[0][1] == r"(?<!\w)mit\s+(1[0-9]|[5-9])\s*(jahren)?(?!\w)"
    assert rows[1][1] == r"als\s+ich\s+(klein|jung|kind)\s+war"
    # ENGINE §2.6 golden: rx_max 1.0, rx_hits 3
    text = unicodedata.normalize("NFC", "Als ich klein war, mit 7 Jahren, vor 20 Jahren").lower()
    hits = [len(list(rx.finditer(text))) for rx, _ in compiled]
    assert sum(hits) == 3
    assert max(w for (rx, w), h in zip(compiled, hits) if h) == 1.0
    # pattern 1 as a whole word only
    assert not compiled[0][0].search("damit 7")
    assert compiled[0][0].search("mit 19 jahren")


def test_b_past_regexes_are_quoted_in_csv():
    lines = (SEEDS / "b_past_patterns.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert all(re.fullmatch(r'\d,"[^"]*",\d\.\d', ln) for ln in lines), lines


# ------------------------------------------------------------------ B-vector
def test_b_vector_keywords():
    header, rows = read_seed("b_vector_keywords")
    assert header == ["dimension", "term", "weight"]
    dims = list(OrderedDict.fromkeys(r[0] for r in rows))
    assert dims == list(B_TOTALS)
    assert Counter(r[0] for r in rows) == {d: 5 for d in B_TOTALS}
    for d, total in B_TOTALS.items():
        assert sum(float(r[2]) for r in rows if r[0] == d) == pytest.approx(total, abs=1e-12)
    assert len({(r[0], r[1]) for r in rows}) == 35
    assert {r[0] for r in rows if r[1] == "geborgen"} == {"B_warmth", "B_safety"}
