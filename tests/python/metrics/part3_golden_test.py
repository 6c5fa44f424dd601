"""METRICS.md Part 3 golden values through the real CLI (single-text examples of the blocks,
P3.2, the m113 hash-chain session and the m114 cosine session).

Every golden text is the only turn of its own session (role user) unless the block gives a
session. The expected numbers are the catalogue's, or, where a block gives a formula over
another family's values (m105-m109, m87/m88/m91, m71-m75), recomputed here by hand from the
catalogue formula over the upstream values read from the built DuckDB file. Tolerance 1e-9.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from part3_support import Built, assert_close, build_part3, single_turns

GOLDEN_TEXTS = {
    "glueck": "Ich bin so glücklich und dankbar, das ist wirklich schön!",
    "hilflos": "Ich bin hilflos und habe Angst, alles ist so schnell und ich bin überfordert.",
    "donau": "Donaudampfschifffahrtsgesellschaft ist lang",
    "gl_tr": "Ich bin glücklich. Aber ich bin auch traurig.",
    "wetter": "Heute war gut. Das Wetter ist okay. Ich bin traurig.",
    "ich": "ich ich ich bin da",
    "angst19": (
        "Ich habe ein bisschen Angst vor morgen, weil ich nicht weiß, was passiert und wie es "
        "dann weitergehen soll."
    ),
    "hilfe": "Hilfe, ich habe Panik und Herzrasen! Hilfe!",
    "habe_angst": "Ich habe Angst",
    "code": "Der Code funktioniert nicht",
    "weitweg": (
        "Manchmal fühlt sich alles so weit weg an, als wäre ich gar nicht richtig da und alles "
        "ist verschwommen heute."
    ),
    "neben": "Ich fühle mich, als würde ich neben mir stehen.",
    "therapie": (
        "Ich habe in der Therapie viel gelernt und bin stärker geworden, auch wenn es noch "
        "schwer ist für mich."
    ),
    "vorbei": "Es ist jetzt vorbei. Ich kann wieder atmen.",
    "fassungslos": "Ich bin fassungslos.",
    "sofort": "Ich brauche sofort Hilfe, ich kann nicht mehr!",
    "spatial": (
        "Ich sitze oben im Zimmer und schaue aus dem Fenster auf die Straße und denke über "
        "alles nach."
    ),
}

HASH_SESSION = [
    ("t1", "s1", "2026-01-05T10:00:00Z", 0, "user", "Hallo"),
    ("t2", "s1", "2026-01-05T10:00:10Z", 1, "ai", "Hallo! Wie geht es dir?"),
]
COS_SESSION = [
    ("c1", "cs", None, 1, "user", "Mir geht es heute nicht gut."),
    ("c2", "cs", None, 2, "ai", "Das tut mir leid. Was ist passiert?"),
    ("c3", "cs", None, 3, "user", "Mir geht es heute wirklich nicht gut."),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp: Path = tmp_path_factory.mktemp("part3_golden")
    return build_part3(tmp, single_turns(GOLDEN_TEXTS) + HASH_SESSION + COS_SESSION)


@pytest.fixture(scope="module")
def grain(built: Built) -> dict[str, dict[str, object]]:
    return built.rows("metrics_grain")


@pytest.fixture(scope="module")
def trauma(built: Built) -> dict[str, dict[str, object]]:
    return built.rows("metrics_trauma")


@pytest.fixture(scope="module")
def sent(built: Built) -> dict[str, dict[str, object]]:
    return built.rows("metrics_sentiment")


@pytest.fixture(scope="module")
def vad(built: Built) -> dict[str, dict[str, object]]:
    return built.rows("feat_vad")


@pytest.fixture(scope="module")
def upstream(built: Built) -> dict[str, dict[str, object]]:
    """m2, m7, m15, effective_A (metrics_core), m21 (metrics_physics), m38/m45 (integrity)."""
    result = built.query(
        "select c.turn_id, c.m2_PCI, c.m7_LL, c.m15_affekt_a, c.effective_A, p.m21_chaos, "
        "i.m38_soul_integrity, i.m45_trust_score, c.role, c.session_id, c.turn_idx "
        "from metrics_core c join metrics_physics p using (turn_id) "
        "join metrics_integrity i using (turn_id)"
    )
    keys = ["m2", "m7", "m15", "eff_a", "m21", "m38", "m45", "role", "session", "idx"]
    return {r[0]: dict(zip(keys, r[1:])) for r in result}


# ---------------------------------------------------------------- P3.2 valence/arousal/dominance


@pytest.mark.parametrize(
    ("name", "v", "a", "d"),
    [("glueck", 0.65, 0.5, 0.5), ("hilflos", 0.4, 0.55, 0.4)],
)
def test_vad_golden(vad: dict, name: str, v: float, a: float, d: float) -> None:
    assert_close(vad[name]["sent_valence"], v, f"{name} v")
    assert_close(vad[name]["sent_arousal"], a, f"{name} a")
    assert_close(vad[name]["sent_dominance"], d, f"{name} d")


def test_vad_hit_counts(vad: dict) -> None:
    # glücklich, dankbar, schön: 3 positive; hilflos, angst: 2 negative, schnell: 1 high arousal,
    # hilflos + überfordert: 2 low dominance
    assert (vad["glueck"]["sent_pos_hits"], vad["glueck"]["sent_neg_hits"]) == (3, 0)
    row = vad["hilflos"]
    assert (row["sent_pos_hits"], row["sent_neg_hits"], row["arousal_high_hits"]) == (0, 2, 1)
    assert (row["dom_high_hits"], row["dom_low_hits"]) == (0, 2)


# ---------------------------------------------------------------- grain m96-m99


@pytest.mark.parametrize(
    ("name", "column", "expected"),
    [
        ("glueck", "m96_grain_word", 46 / 120),
        ("glueck", "m96_grain_word", 0.3833333333),
        ("donau", "m96_grain_word", 0.5277777778),
        ("hilflos", "m97_grain_impact", 5 / 14),
        ("hilflos", "m97_grain_impact", 0.3571428571),
        ("gl_tr", "m98_grain_sentiment", 1.0),
        ("wetter", "m98_grain_sentiment", 0.6666666667),
        ("ich", "m99_grain_novelty", 0.6),
    ],
)
def test_grain_golden(grain: dict, name: str, column: str, expected: float) -> None:
    assert_close(grain[name][column], expected, f"{name} {column}")


def test_m96_exact_ratio(grain: dict) -> None:
    # the integer-sum evaluation gives the exact ratio, bit for bit
    assert grain["glueck"]["m96_grain_word"] == 46 / 120


# ---------------------------------------------------------------- sentiment m76-m95, m100


@pytest.mark.parametrize(
    ("name", "column", "expected"),
    [
        ("glueck", "m77_sent_4", 0.15),
        ("hilflos", "m80_sent_7", 0.9166666667),
        ("hilflos", "m80_sent_7", 2.75 / 3),
        ("glueck", "m100_sent_27", 0.4125),
    ],
)
def test_sentiment_golden(sent: dict, name: str, column: str, expected: float) -> None:
    assert_close(sent[name][column], expected, f"{name} {column}")


def _sentiment_by_hand(
    v: float, a: float, d: float, pci: float, panic: float, disso: float, integ: float
) -> dict[str, float]:
    clip = lambda x: min(1.0, max(0.0, x))
    m78 = clip((2 - v - a) / 2)
    m83 = 0.8 * a
    m89 = (v + (1 - a) + integ) / 3
    return {
        "m76_ev_1": d,
        "m77_sent_4": clip(v + a - 1),
        "m78_sent_5": m78,
        "m79_sent_6": clip((1 - v + a) / 2),
        "m80_sent_7": max(clip((3 - v + a - d) / 3), 0.8 * panic),
        "m81_sent_8": max(clip((v + (1 - a) + d) / 3), 0.6 * integ),
        "m82_sent_9": 0.7 * (1 - v),
        "m83_sent_10": m83,
        "m84_sent_11": a * (1 - 2 * abs(v - 0.5)),
        "m85_sent_12": (v + m83) / 2,
        "m86_sent_13": ((1 - v) + m78) / 2,
        "m87_sent_14": a * (1 - pci),
        "m88_sent_15": pci * (0.5 + 0.5 * a),
        "m89_sent_16": m89,
        "m90_sent_17": a * (1 - m89),
        "m91_sent_18": pci * (1 - disso),
        "m92_sent_19": (1 - a) * (1 - 2 * abs(v - 0.5)),
        "m93_sent_20": math.sqrt((v - 0.5) ** 2 + (a - 0.5) ** 2 + (d - 0.5) ** 2),
        "m94_sent_21": (1 - a) * (1 - abs(v - 0.6)),
        "m95_sent_22": 2 * a * abs(v - 0.5),
        "m100_sent_27": d * (0.5 + 0.5 * v),
    }


@pytest.mark.parametrize(
    ("name", "v", "a", "d", "panic", "integ"),
    [
        # VAD from the catalogue's P3.2 goldens; m101 of `hilflos` from the m101 block; m103 = 0
        # (words, no T_integ term in either text)
        ("glueck", 0.65, 0.5, 0.5, 0.0, 0.0),
        ("hilflos", 0.4, 0.55, 0.4, 0.9333333333333333, 0.0),
    ],
)
def test_sentiment_all_columns_by_hand(
    sent: dict,
    upstream: dict,
    name: str,
    v: float,
    a: float,
    d: float,
    panic: float,
    integ: float,
) -> None:
    expected = _sentiment_by_hand(v, a, d, upstream[name]["m2"], panic, 0.0, integ)
    for column, value in expected.items():
        assert_close(sent[name][column], value, f"{name} {column}")


def test_sentiment_every_turn_matches_formulas(
    sent: dict, vad: dict, trauma: dict, upstream: dict
) -> None:
    for tid, row in sent.items():
        f, t = vad[tid], trauma[tid]
        expected = _sentiment_by_hand(
            f["sent_valence"],
            f["sent_arousal"],
            f["sent_dominance"],
            upstream[tid]["m2"],
            t["m101_t_panic"],
            t["m102_t_disso"],
            t["m103_t_integ"],
        )
        for column, value in expected.items():
            assert_close(row[column], value, f"{tid} {column}")


# ---------------------------------------------------------------- trauma m101-m104


@pytest.mark.parametrize(
    ("name", "column", "expected"),
    [
        ("angst19", "m101_t_panic", 0.35),
        ("hilfe", "m101_t_panic", 1.0),
        ("hilflos", "m101_t_panic", 0.9333333333),
        ("habe_angst", "m101_t_panic", 1.0),
        ("code", "m101_t_panic", 0.0),
        ("weitweg", "m102_t_disso", 0.4952380952),
        ("neben", "m102_t_disso", 0.8),
        ("therapie", "m103_t_integ", 0.64),
        ("vorbei", "m103_t_integ", 1.0),
        ("fassungslos", "m104_t_shock", 1),
        ("sofort", "m104_t_shock", 1),
        ("sofort", "m101_t_panic", 1.0),
        ("sofort", "m103_t_integ", 0.0),
        ("angst19", "m104_t_shock", 0),
        ("spatial", "m115_spatial_1", 0.5263157895),
    ],
)
def test_trauma_golden(trauma: dict, name: str, column: str, expected: float) -> None:
    assert_close(trauma[name][column], expected, f"{name} {column}")


def test_m101_m102_are_the_prescan_values(built: Built) -> None:
    diff = built.query(
        "select count(*) from metrics_trauma t join trauma_prescan p using (turn_id) "
        "where t.m101_t_panic is distinct from p.m101_t_panic "
        "or t.m102_t_disso is distinct from p.m102_t_disso"
    )
    assert diff == [(0,)]


def test_m104_binary_integer(trauma: dict) -> None:
    assert {type(r["m104_t_shock"]) for r in trauma.values()} == {int}
    assert trauma["code"]["m104_t_shock"] == 0


# ---------------------------------------------------------------- turbidity m105-m110 formulas


def test_turbidity_formulas_every_turn(trauma: dict, upstream: dict) -> None:
    for tid, row in trauma.items():
        u = upstream[tid]
        ll, chaos, disso = u["m7"], u["m21"], row["m102_t_disso"]
        assert_close(row["m105_t_fog"], (ll + disso) / 2, f"{tid} m105")
        assert_close(row["m106_i_eff"], 1 - (ll + disso) / 2, f"{tid} m106")
        assert_close(row["m107_turb_c"], ll * chaos, f"{tid} m107")
        assert_close(row["m108_turb_l"], ll * disso, f"{tid} m108")
        assert_close(row["m109_turb_1"], (ll + 0.5 * chaos + 0.5 * disso) / 2, f"{tid} m109")
        base = 0.4 * chaos + 0.3 * (1 - u["eff_a"]) + 0.3 * ll
        assert_close(row["m110_base"], base, f"{tid} m110 base")


def test_m110_real_inputs(trauma: dict, upstream: dict) -> None:
    # `hilfe`: 2 distinct panic terms (hilfe, panik, herzrasen → 3), user, no ctx_safe → ≥ 0.85
    assert trauma["hilfe"]["m110_guardian"] == 1
    assert_close(
        trauma["hilfe"]["m110_black_hole"], max(trauma["hilfe"]["m110_base"], 0.85), "hilfe m110"
    )
    # `code`: no panic term → base
    assert_close(trauma["code"]["m110_black_hole"], trauma["code"]["m110_base"], "code m110")


# ---------------------------------------------------------------- m111-m115 on real inputs


def test_phase_on_real_m15(trauma: dict, upstream: dict) -> None:
    # session cs: user, ai, user → nabla_A at c3 = m15(c3) − m15(c1), nabla_B = 0 (one ai turn)
    na = upstream["c3"]["m15"] - upstream["c1"]["m15"]
    assert_close(trauma["c1"]["m111_g_phase"], 0.0, "c1 m111")
    assert_close(trauma["c2"]["m111_g_phase"], 0.0, "c2 m111")
    assert_close(trauma["c3"]["nabla_a"], na, "c3 nabla_A")
    assert_close(trauma["c3"]["m111_g_phase"], math.atan2(na, 0.0), "c3 m111")
    expected_norm = (math.atan2(na, 0.0) + math.pi) / (2 * math.pi)
    assert_close(trauma["c3"]["m112_g_phase_norm"], expected_norm, "c3 m112")


def test_m113_hash_chain_golden(trauma: dict) -> None:
    assert trauma["t1"]["m113_hash_state_hex"] == (
        "59a8fc17ee9e4f1bb88db8fb23ce5f303a64ced282511b2f7423366e80824f0b"
    )
    assert_close(trauma["t1"]["m113_hash_state"], 0.3502347525, "t1 m113")
    assert trauma["t2"]["m113_hash_state_hex"] == (
        "fc0ed30aba8ae11348bbad9fecfaea67e585d7d3678783d7a1b787d1f7c3de9b"
    )
    assert_close(trauma["t2"]["m113_hash_state"], 0.9846012021, "t2 m113")
    # value = first 13 hex digits / 2^52, exactly
    for tid in ("t1", "t2"):
        hx = trauma[tid]["m113_hash_state_hex"]
        assert trauma[tid]["m113_hash_state"] == int(hx[:13], 16) / 2**52


def test_m114_cosine_golden(trauma: dict) -> None:
    assert_close(trauma["c1"]["m114_cos_sim"], 0.0, "c1 m114 (first turn)")
    assert_close(trauma["c2"]["m114_cos_sim"], 0.1095445115, "c2 m114")
    assert_close(trauma["c3"]["m114_cos_sim"], 0.1057696299, "c3 m114")


# ---------------------------------------------------------------- evolution m71-m75 formulas


def test_evolution_formulas_every_turn(built: Built, upstream: dict) -> None:
    evo = built.rows("metrics_evolution")
    assert set(evo) == set(upstream)
    clip = lambda x: min(1.0, max(0.0, x))
    for tid, row in evo.items():
        u = upstream[tid]
        m71 = clip((u["m15"] + u["m2"] + u["m38"]) / 3)
        same_role = [
            x
            for x in upstream.values()
            if x["session"] == u["session"] and x["role"] == u["role"] and x["idx"] < u["idx"]
        ]
        a_prev = max(same_role, key=lambda x: x["idx"])["m15"] if same_role else u["m15"]
        m73 = clip(m71 * u["m45"])
        assert_close(row["m71_ev_resonance"], m71, f"{tid} m71")
        assert_close(row["m72_ev_tension"], clip(abs(u["m15"] - a_prev) * (1 - m71)), f"{tid} m72")
        assert_close(row["m73_ev_readiness"], m73, f"{tid} m73")
        assert row["m74_ev_signal"] == (1 if m73 > 0.8 else 0)
        assert_close(row["m75_vkon_mag"], clip(2 * abs(m71 - 0.5)), f"{tid} m75")
