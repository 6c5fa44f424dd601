"""METRICS.md Part 3 properties over a seeded random history, through the real CLI.

About 160 turns in several sessions, built from lexicon terms (panic, suicide, self-harm,
ctx_safe, sentiment, spatial words), arbitrary Unicode (emoji, combining marks, RTL, CJK,
control characters), punctuation and empty texts, with random roles and prompt_num (NULL and
duplicates included). Checks: every contract value finite and inside the contract range, the
m110 safety rules (confirmed emergency → ≥ 0.85; ai turn or safe context → at most base + 0.1),
m104 on every T_shock hit, m111 in (−π, π], m113 = first 13 hex digits / 2^52, and a rerun of
the Part 3 models reproduces every value bit for bit.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

import pytest
from part3_support import MODELS, Built, build_part3

from prod_cli import ROOT

SEED = 20260105
LISTS = [
    "T_panic",
    "Suicide",
    "Self_harm",
    "ctx_safe",
    "sent_pos",
    "sent_neg",
    "T_shock",
    "T_integ",
    "T_disso",
    "spatial",
    "arousal_high",
    "dom_low",
]
FILLER = [
    "ich",
    "habe",
    "heute",
    "und",
    "aber",
    "der",
    "Tag",
    "im",
    "war",
    "sehr",
    "nicht",
    "Straße",
    "İstanbul",
    "ß",
    "x-ten",
    "3,5",
]
ODD = [
    "😀",
    "🔥🔥",
    "e\u0301",
    "שלום",
    "漢字",
    "\u200b",
    "\x07",
    "\t",
    "\n",
    "—",
    "...",
    "!?",
    "()",
]


def _terms() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with open(ROOT / "seeds" / "lexika.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["lexicon"] in LISTS:
                out.setdefault(row["lexicon"], []).append(row["term"])
    return out


def _history() -> list[tuple[str, str, str | None, int | None, str, str]]:
    rng = random.Random(SEED)
    terms = _terms()
    turns = []
    for s in range(8):
        n = rng.randint(1, 30)
        for i in range(n):
            k = rng.randint(0, 14)
            parts = []
            for _ in range(k):
                r = rng.random()
                if r < 0.45:
                    parts.append(rng.choice(terms[rng.choice(LISTS)]))
                elif r < 0.8:
                    parts.append(rng.choice(FILLER))
                else:
                    parts.append(rng.choice(ODD))
                if rng.random() < 0.2:
                    parts.append(rng.choice([".", "!", "?", ",", " -"]))
            text = " ".join(parts)
            if rng.random() < 0.3:
                text = text.capitalize()
            pos = None if rng.random() < 0.1 else rng.randint(0, n)
            role = rng.choice(["user", "ai", "assistant"])
            ts = None if rng.random() < 0.3 else f"2026-01-05T10:{rng.randint(0, 59):02d}:00Z"
            turns.append((f"s{s}_t{i:02d}", f"sess{s}", ts, pos, role, text))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp: Path = tmp_path_factory.mktemp("part3_property")
    return build_part3(tmp, _history())


@pytest.fixture(scope="module")
def contract() -> dict[str, tuple[float | None, float | None]]:
    out = {}
    with open(ROOT / "seeds" / "metric_contract.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            lo = float(row["range_lo"]) if row["range_lo"] else None
            hi = float(row["range_hi"]) if row["range_hi"] else None
            out[row["key"]] = (lo, hi)
    return out


def test_contract_ranges(built: Built, contract: dict) -> None:
    seen = set()
    for model in MODELS:
        for tid, row in built.rows(model).items():
            for col, value in row.items():
                if col not in contract:
                    continue
                seen.add(col)
                lo, hi = contract[col]
                assert value is not None and math.isfinite(value), (model, tid, col)
                assert lo is None or value >= lo, (model, tid, col)
                assert hi is None or value <= hi, (model, tid, col)
    assert len(seen) == 45  # m71 … m115


def test_m110_safety_rules(built: Built) -> None:
    rows = built.query(
        "select t.turn_id, t.role, t.m110_black_hole, t.m110_base, w.lex_T_panic_nterms, "
        "w.lex_Suicide_hits + w.lex_Self_harm_hits, w.lex_ctx_safe_hits "
        "from metrics_trauma t join feat_lexicon_wide w using (turn_id)"
    )
    emergencies = 0
    for tid, role, m110, base, panic, harm, safe in rows:
        if panic < 2:
            assert m110 == base, tid
        elif role == "user" and (harm >= 1 or safe == 0):
            emergencies += 1
            assert m110 >= 0.85, tid
        else:
            assert m110 <= min(1.0, base + 0.1) + 1e-15, tid
            assert m110 < 0.85 or base >= 0.75, tid
    assert emergencies > 0  # the random history exercises the rule


def test_m104_fires_on_every_shock_hit(built: Built) -> None:
    rows = built.query(
        "select t.m104_t_shock, w.lex_T_shock_hits, t.m101_t_panic, t.m103_t_integ "
        "from metrics_trauma t join feat_lexicon_wide w using (turn_id)"
    )
    assert any(r[1] >= 1 for r in rows)
    for shock, hits, panic, integ in rows:
        assert shock == int(hits >= 1 or (panic > 0.8 and integ < 0.2))


def test_phase_and_hash(built: Built) -> None:
    for tid, row in built.rows("metrics_trauma").items():
        g = row["m111_g_phase"]
        assert -math.pi < g <= math.pi, tid
        assert abs(row["m112_g_phase_norm"] - (g + math.pi) / (2 * math.pi)) <= 1e-15, tid
        hx = row["m113_hash_state_hex"]
        assert len(hx) == 64 and hx == hx.lower()
        assert row["m113_hash_state"] == int(hx[:13], 16) / 2**52


def test_rerun_is_bit_identical(built: Built) -> None:
    before = {m: built.rows(m) for m in MODELS}
    built.rerun(MODELS)
    after = {m: built.rows(m) for m in MODELS}
    assert before == after
