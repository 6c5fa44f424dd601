"""METRICS.md Part 1 edge cases through the real CLI, expected values worked out by hand.

Every expected number below comes from the catalogue formula applied by hand to the text (token
and sentence counts, break markers, Jaccard sets, lexicon weights of seeds/lexika.csv); A_Phys
values, which need the hashed embedding, are only used through the catalogue's identities
(m15 = m29 without physics, m17 = m15(t) − m15(p), m24 = (1 − m19)·m15, ...).
"""

from __future__ import annotations

import math
from collections import Counter

import pytest
from part1_support import TOL, build_part1, rows

CJK_100 = "".join(chr(0x4E00 + i) for i in range(100))  # one token of 100 distinct letters
LONG = "Ich bin da. " * 1700  # 20,400 characters, 5,100 words, 1,700 equal sentences
# 10 sentences, L = [1, 2, 2, 1, 2, 1, 1, 1, 1, 1]; breaks: '....' (one '...'), em dash, two
# spaces, '()' = 4 (the ellipsis character U+2026 is none), so the penalty is 0.4 < 0.5
MARKERS = (
    "Eins.... Zwei — drei. Vier…  fünf (). Sechs! Sechs acht. Neun. Zehn. Elf. Zwölf. Dreizehn"
)

TURNS = [
    # session e: mixed roles, wordless turns, every kind of timestamp
    ("e-1", "e", None, 1, "user", ""),
    ("e-2", "e", "2026-02-01T08:00:00Z", 2, "ai", "?!"),
    ("e-3", "e", "2026-02-01T08:00:00.250Z", 3, "user", "😀😀"),
    ("e-4", "e", "2026-02-01T08:00:10", 4, "user", "Eins zwei drei. Vier fünf. Sechs!"),
    ("e-5", "e", "2026-02-01T08:00:05Z", 5, "user", "Zwei drei vier -- fünf. Ich bin glücklich."),
    ("e-6", "e", "2026-02-01T08:01:00Z", 6, "ai", MARKERS),
    ("e-7", "e", "kein datum", 7, "ai", CJK_100),
    ("e-8", "e", "2026-02-01T09:00:00Z", 8, "ai", LONG),
    # session u: a single role (user only)
    ("u-1", "u", "2026-02-02T10:00:00Z", 1, "user", "Ich bin traurig."),
    ("u-2", "u", "2026-02-02T10:01:00Z", 2, "user", "Ich bin traurig."),
    # session b: a B_past pattern without a B_past term
    ("b-1", "b", None, None, "user", "Vor 20 Jahren."),
]

EMPTY = {  # the catalogue's values for a word-less first turn
    "m1_A": 0.5,
    "m2_PCI": 0.5,
    "m3_gen_index": 0.5,
    "m4_flow": 0.8,
    "m5_coh": 1.0,
    "m6_ZLF": 0.1,
    "m7_LL": 0.08,
    "m8_x_exist": 0.0,
    "m9_b_past": 0.0,
    "m10_angstrom": 1.25,
    "m11_gap_s": 300.0,
    "m12_lex_hit": 0.0,
    "m13_base_score": 0.8,
    "m14_base_stability": 0.92,
    "m15_affekt_a": 0.826,
    "m16_pci": 0.904,
    "m17_nabla_a": 0.0,
    "m18_s_entropy": 0.0,
    "m19_z_prox": 0.04,
    "m20_phi_proxy": 0.413,
    "m21_chaos": 0.0,
    "m22_cog_load": 0.0,
    "m23_nabla_pci": 0.0,
    "m24_zeta": (1 - 0.04) * 0.826,
    "m25_psi": 0.5,
    "m26_e_i_proxy": 0.0,
    "m27_lambda_depth": 0.0,
    "m28_phys_1": 0.0,
    "m29_phys_2": 0.826,
    "m30_phys_3": 0,
    "m31_phys_4": 0.0,
    "m32_phys_5": 0.0,
    "m33_phys_6": 0.5,
    "m34_phys_7": 0.0,
    "m35_phys_8": 0.1,
    "effective_A": 0.5,
    "rep_same": 0.0,
    "physics_available": 0,
}


def entropy(text: str) -> float:
    """Character entropy in bits of an already lower-case NFC string (m18 by hand)."""
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values()) if n else 0.0


@pytest.fixture(scope="module")
def got(tmp_path_factory: pytest.TempPathFactory):
    con = build_part1(tmp_path_factory.mktemp("part1_edge"), TURNS)
    yield rows(con)
    con.close()


def check(row: dict, expected: dict) -> None:
    for column, value in expected.items():
        assert abs(row[column] - value) <= TOL, (row["turn_id"], column, row[column], value)


def test_empty_first_turn(got):
    check(got["e-1"], EMPTY)


@pytest.mark.parametrize("turn", ["e-2", "e-3"])
def test_wordless_turns_take_the_empty_values(got, turn):
    """Punctuation / emoji only: no words, no physics; only m11 and m18 depend on the text."""
    text_dependent = ("m11_gap_s", "m18_s_entropy", "m21_chaos")
    check(got[turn], {k: v for k, v in EMPTY.items() if k not in text_dependent})
    assert got["e-2"]["m18_s_entropy"] == pytest.approx(1.0, abs=TOL)  # '?!': two characters
    assert got["e-2"]["m21_chaos"] == pytest.approx(0.25, abs=TOL)
    assert got["e-3"]["m18_s_entropy"] == 0.0  # one repeated character


def test_gap_seconds(got):
    assert got["e-1"]["m11_gap_s"] == 300.0  # first turn
    assert got["e-2"]["m11_gap_s"] == 300.0  # previous timestamp missing
    assert got["e-3"]["m11_gap_s"] == pytest.approx(0.25, abs=TOL)  # fractional seconds
    assert got["e-4"]["m11_gap_s"] == pytest.approx(9.75, abs=TOL)  # zone-less read as UTC
    assert got["e-5"]["m11_gap_s"] == 0.0  # out of order
    assert got["e-6"]["m11_gap_s"] == 55.0
    assert got["e-7"]["m11_gap_s"] == 300.0  # unparseable timestamp
    assert got["e-8"]["m11_gap_s"] == 300.0  # previous timestamp unparseable
    assert got["u-2"]["m11_gap_s"] == 60.0
    assert got["b-1"]["m11_gap_s"] == 300.0


def test_three_sentences_after_wordless_turns(got):
    """e-4: L = [3, 2, 1], no breaks; previous turns have no tokens and no physics."""
    r = got["e-4"]
    m2 = 0.5 * 1 + 0.3 * (2 / 15)
    m4 = 1 / (1 + (2 / 3) / 2)
    m7 = 0.4 * (1 - m4)
    m6 = 0.5 * (1 - m4) + 0.5 * 1
    check(
        r,
        {
            "m2_PCI": m2,
            "m3_gen_index": 1.0,  # no earlier turn has a bigram
            "m4_flow": m4,
            "m5_coh": 0.0,
            "m6_ZLF": m6,
            "rep_same": 0.0,  # previous user turn (emoji) has no tokens
            "m7_LL": m7,
            "m1_A": 0.4 + 0.6 * (2 / 15),  # no emotion word; m17 of e-3 is 0
            "m10_angstrom": 0.0,
            "m12_lex_hit": 0.0,
            "m13_base_score": 0.0,
            "m17_nabla_a": 0.0,  # earlier user turns have no physics
            "m22_cog_load": 6 / 500,
            "m23_nabla_pci": 0.0,  # earlier user turns have no words
            "m25_psi": m2 / 1.06,
            "m27_lambda_depth": 0.06,
            "m29_phys_2": 0.5 + 0.2 * m4 + 0.0 - 0.3 * m7 - 0.1 * m6,
            "physics_available": 1,
        },
    )


def test_break_marker_and_gradients(got):
    """e-5: L = [4, 3], one '--' break; rep_same with e-4 = 4/9; integration 4/7."""
    r, prev = got["e-5"], got["e-4"]
    m4 = (1 / (1 + 0.25 / 3.5)) * (1 - 0.5)
    m2 = 0.5 * 1 + 0.3 * (3.5 / 15) + 0.2 * (4 / 7)
    m7 = 0.6 * (4 / 9) + 0.4 * (1 - m4)
    check(
        r,
        {
            "m4_flow": m4,
            "m5_coh": 0.0,
            "rep_same": 4 / 9,
            "m7_LL": m7,
            "m2_PCI": m2,
            "m3_gen_index": 0.5,  # 3 of 6 bigrams are new
            "emo_occ": 0.9,  # glücklich
            "m1_A": (0.4 + 0.6 * (3.5 / 15)) * (1 + 0.5 * 0.9 / 7),
            "s_self": 1.0,  # ich
            "m10_angstrom": 1.25,
            "m12_lex_hit": 1.0,
            "m23_nabla_pci": m2 - prev["m2_PCI"],
            "m17_nabla_a": r["m15_affekt_a"] - prev["m15_affekt_a"],
            "m34_phys_7": abs(r["m15_affekt_a"] - prev["m15_affekt_a"]),
            "m26_e_i_proxy": abs(r["m15_affekt_a"] - prev["m15_affekt_a"]) * (1 - m2),
            "m19_z_prox": (1 - min(r["m1_A"], r["m15_affekt_a"])) * m7,  # no hazard term
            "m24_zeta": (1 - r["m19_z_prox"]) * r["m15_affekt_a"],
            "m20_phi_proxy": r["m15_affekt_a"] * m2,
        },
    )
    assert r["m15_affekt_a"] != r["m29_phys_2"]  # physics available: A_phys, not A_legacy


def test_every_break_marker_counts_once(got):
    """e-6: mean 1.3, var_pop 0.21, 4 breaks in 10 sentences; one shared pair (sechs) of 9."""
    r = got["e-6"]
    m4 = (1 / (1 + 0.21 / 1.3)) * (1 - 0.4)
    check(
        r,
        {
            "m4_flow": m4,
            "m5_coh": 0.5 / 9,
            "rep_same": 0.0,  # the previous ai turn ('?!') has no tokens
            "m7_LL": 0.4 * (1 - m4),
            "m13_base_score": m4 * 0.5 / 9,
            "m18_s_entropy": entropy(MARKERS.lower()),
            "m33_phys_6": r["m2_PCI"] * 0.5 / 9,
        },
    )


def test_entropy_cap_and_single_token(got):
    r = got["e-7"]
    assert r["m18_s_entropy"] == 6.0  # log2(100) > 6 is capped
    assert r["m21_chaos"] == 1.0
    check(r, {"m3_gen_index": 0.5, "m4_flow": 0.8, "m5_coh": 1.0, "m2_PCI": 0.5 + 0.3 / 15})


def test_long_text(got):
    r = got["e-8"]
    check(
        r,
        {
            "m22_cog_load": 1.0,
            "m27_lambda_depth": 1.0,
            "m4_flow": 1.0,  # 1,700 equal sentences, no marker
            "m5_coh": 1.0,
            "m6_ZLF": 0.0,
            "m2_PCI": 0.5 * (3 / 5100) + 0.3 * (3 / 15),  # no overlap with the CJK turn
            "m25_psi": r["m2_PCI"] / 52,
            "m18_s_entropy": entropy(LONG.lower()),
            # 5,099 bigram occurrences, 3 distinct (ich bin, bin da, da ich); 'ich bin' is in e-5
            "m3_gen_index": 2 / 3,
        },
    )


def test_single_role_session(got):
    first, second = got["u-1"], got["u-2"]
    m1 = (0.4 + 0.6 * (3 / 15)) * (1 + 0.5 * 0.8 / 3)  # traurig 0.8
    check(
        first,
        {"m1_A": m1, "m2_PCI": 0.5 + 0.3 * 0.2, "m3_gen_index": 1.0, "rep_same": 0.0},
    )
    check(first, {"m17_nabla_a": 0.0, "m23_nabla_pci": 0.0, "m32_phys_5": 0.0, "m7_LL": 0.08})
    check(
        second,
        {
            "rep_same": 1.0,
            "m3_gen_index": 0.0,
            "m7_LL": 0.6 + 0.4 * 0.2,
            "m2_PCI": 0.5 + 0.3 * 0.2 + 0.2,
            "m23_nabla_pci": 0.2,
            "m17_nabla_a": second["m15_affekt_a"] - first["m15_affekt_a"],
            # m1 is damped by m17 of the previous user turn, which is 0 (first of its role)
            "m1_A": m1,
        },
    )
    assert second["m32_phys_5"] > 0  # the first turn is a memory of the second


def test_b_past_pattern_only(got):
    r = got["b-1"]
    check(r, {"m9_b_past": 0.8, "m12_lex_hit": 0.8, "m10_angstrom": 1.25 * (0.8 + 1.0)})
