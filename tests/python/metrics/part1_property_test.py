"""METRICS.md Part 1 properties on a random history, through the real CLI.

A seeded random history (arbitrary unicode including control characters, emoji and combining
marks, German crisis and everyday phrases, empty texts, a long text; missing, zone-less,
unparseable and out-of-order timestamps; NULL and duplicate prompt_num) is built twice:
- whole, with its rows inserted in shuffled order;
- truncated: every session loses its later turns (a random cut per session).
Checked: every turn once in both models, every contract column finite, non-NULL and inside the
contract range of seeds/metric_contract.csv, the catalogue's identities between columns, and
causality: a turn's values in the truncated build equal those of the whole build bit for bit
(no look-ahead, no dependence on row order or on other sessions).
"""

from __future__ import annotations

import csv
import math
import random

import pytest
from part1_support import build_part1, rows

from prod_cli import ROOT

PHRASES = [
    "",
    "😀",
    "?!",
    "...",
    "Ich will sterben.",
    "Ich will nicht mehr leben",
    "mich verletzen",
    "Es gibt keine Hoffnung mehr, ich bin am Ende",
    "Hallo, wie geht es dir?",
    "Mir geht es heute nicht gut.",
    "Ich habe Angst vor morgen. Ich bin traurig und einsam...",
    "Das tut mir leid. Was ist passiert?",
    "Als ich klein war, mit 7 Jahren, vor 20 Jahren",
    "Wir drehen uns im Kreis. Wir drehen uns im Kreis.",
    "Ich bin glücklich -- und dankbar (). Wirklich!",
    "İstanbul ΟΔΟΣ Straße",
]
TIMESTAMPS = [None, "", "gestern", "2026-03-01T10:00:00", "2026-03-01T10:00:00+02:00"]


def random_text(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.55:
        return rng.choice(PHRASES)
    if kind < 0.95:
        chars = []
        for _ in range(rng.randint(0, 80)):
            pick = rng.random()
            if pick < 0.5:
                chars.append(rng.choice("abcdefghijklmnopqrstuvwxyzäöüß .,!?-—()…\n\t"))
            elif pick < 0.9:
                code = rng.randint(1, 0x2FFFF)
                if 0xD800 <= code <= 0xDFFF:
                    code = 0x20
                chars.append(chr(code))
            else:
                chars.append(rng.choice(["\x07", "\u0301", "\u200b", "\U0001f600", "  "]))
        return "".join(chars)
    return ("Ich bin da. Wirklich " * rng.randint(50, 800)).strip()


def random_history(seed: int) -> list[tuple]:
    rng = random.Random(seed)
    turns = []
    for s in range(12):
        session = f"s{s:02d}"
        n = rng.randint(1, 14)
        single_role = rng.choice([None, None, "user", "ai"])
        clock = 1_767_600_000 + s * 10_000
        for i in range(n):
            clock += rng.randint(-30, 300)
            if rng.random() < 0.7:
                ts = f"2026-01-05T{(clock // 3600) % 24:02d}:{(clock // 60) % 60:02d}:" + (
                    f"{clock % 60:02d}Z"
                )
            else:
                ts = rng.choice(TIMESTAMPS)
            prompt = None if rng.random() < 0.08 else i // (2 if rng.random() < 0.1 else 1)
            role = single_role or rng.choice(["user", "ai", "assistant"])
            turns.append((f"{session}-{i:02d}", session, ts, prompt, role, random_text(rng)))
    return turns


def contract() -> dict[str, tuple[float | None, float | None]]:
    with open(ROOT / "seeds" / "metric_contract.csv", encoding="utf-8", newline="") as handle:
        found = {}
        for r in csv.DictReader(handle):
            if int(r["id"]) <= 35:
                lo = float(r["range_lo"]) if r["range_lo"] else None
                hi = float(r["range_hi"]) if r["range_hi"] else None
                found[r["key"]] = (lo, hi)
    return found


CONTRACT = contract()
HISTORY = random_history(20260105)


@pytest.fixture(scope="module")
def whole(tmp_path_factory: pytest.TempPathFactory):
    shuffled = list(HISTORY)
    random.Random(1).shuffle(shuffled)
    con = build_part1(tmp_path_factory.mktemp("part1_whole"), shuffled)
    yield con, rows(con)
    con.close()


@pytest.fixture(scope="module")
def truncated(tmp_path_factory: pytest.TempPathFactory, whole):
    con, _ = whole
    order = con.execute("select turn_id, session_id, turn_idx from stg_turns").fetchall()
    rng = random.Random(2)
    sizes: dict[str, int] = {}
    for _, session, idx in order:
        sizes[session] = max(sizes.get(session, 0), idx)
    keep_upto = {s: rng.randint(1, n) for s, n in sizes.items()}
    kept = {turn for turn, session, idx in order if idx <= keep_upto[session]}
    assert len(kept) < len(order)
    con2 = build_part1(tmp_path_factory.mktemp("part1_cut"), [t for t in HISTORY if t[0] in kept])
    yield rows(con2)
    con2.close()


def test_every_turn_once(whole):
    con, got = whole
    assert len(got) == len(HISTORY)
    assert con.execute("select count(distinct turn_id) from metrics_physics").fetchone()[0] == len(
        HISTORY
    )


def test_contract_columns_total_and_in_range(whole):
    _, got = whole
    assert len(CONTRACT) == 35
    for row in got.values():
        for key, (lo, hi) in CONTRACT.items():
            value = row[key]
            assert value is not None, (row["turn_id"], key)
            assert math.isfinite(value), (row["turn_id"], key)
            assert lo is None or value >= lo, (row["turn_id"], key, value)
            assert hi is None or value <= hi, (row["turn_id"], key, value)
        assert row["m30_phys_3"] in (0, 1)
        assert 0.1 - 1e-12 <= row["m29_phys_2"] <= 0.9 + 1e-12


def test_identities(whole):
    _, got = whole
    for r in got.values():
        assert r["effective_A"] == min(r["m1_A"], r["m15_affekt_a"])
        assert r["m13_base_score"] == r["m4_flow"] * r["m5_coh"]
        assert r["m14_base_stability"] == 1 - r["m7_LL"]
        assert r["m34_phys_7"] == abs(r["m17_nabla_a"])
        assert r["m35_phys_8"] == r["m6_ZLF"]
        assert r["m12_lex_hit"] == max(r["s_self"], r["m8_x_exist"], r["m9_b_past"])
        expected_z = min(1.0, (1 - r["effective_A"]) * r["m7_LL"] * (1 + r["hazard_bonus"]))
        assert r["m19_z_prox"] == pytest.approx(expected_z, abs=1e-15)
        if r["physics_available"] == 0:
            assert r["m15_affekt_a"] == r["m29_phys_2"] and r["m17_nabla_a"] == 0.0
            assert (r["m28_phys_1"], r["m30_phys_3"], r["m31_phys_4"], r["m32_phys_5"]) == (
                0.0,
                0,
                0.0,
                0.0,
            )


def test_no_look_ahead_and_row_order_free(whole, truncated):
    _, full = whole
    assert truncated
    for turn, row in truncated.items():
        for column, value in row.items():
            assert full[turn][column] == value, (turn, column)
