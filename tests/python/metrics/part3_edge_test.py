"""METRICS.md Part 3 edge cases through the real CLI: empty, whitespace, punctuation, emoji and
control-character texts, a 20k-character text, first turns, single-role sessions (user only, ai
only), NULL prompt_num, missing and out-of-order timestamps, and independence of the history's
row order. Expected values are the catalogue's edge-case values (the blocks' "edge cases").
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from part3_support import MODELS, Built, assert_close, build_part3

LONG = ("Ich habe Angst und Panik, hier oben ist es dunkel. " * 400)[:20000]

TURNS = [
    # mixed session with empty / wordless turns, missing and out-of-order timestamps
    ("x1", "mix", None, 1, "user", ""),
    ("x2", "mix", "2026-01-05T10:00:00Z", 2, "ai", "   \n\t "),
    ("x3", "mix", "2026-01-05T09:00:00Z", 3, "user", "?!... --- ()"),
    ("x4", "mix", "not a timestamp", 4, "ai", "😀🙂🔥"),
    ("x5", "mix", None, 5, "user", "\x00\x07\x1b"),
    ("x6", "mix", None, None, "user", "Hier bin ich, ruhig und entspannt."),
    ("x7", "mix", None, None, "ai", LONG),
    # user-only session
    ("u1", "only_user", None, 1, "user", "Mir geht es gut."),
    ("u2", "only_user", None, 2, "user", "Heute ist alles schlecht und dunkel."),
    ("u3", "only_user", None, 3, "user", "Mir geht es wieder gut, danke."),
    # ai-only session
    ("a1", "only_ai", None, 1, "ai", "Wie kann ich helfen?"),
    ("a2", "only_ai", None, 2, "ai", "Ich bin da. Erzähl mir mehr, wenn du magst."),
    ("a3", "only_ai", None, 3, "ai", "Gut."),
    # the same three-turn dialogue twice: once in order, once inserted in reverse row order
    ("o1", "ord", None, 1, "user", "Ich habe Angst vor morgen."),
    ("o2", "ord", None, 2, "ai", "Was genau macht dir Angst?"),
    ("o3", "ord", None, 3, "user", "Die Prüfung, ich bin ganz ruhig aber traurig."),
]
REVERSED = [
    ("r3", "rev", None, 3, "user", "Die Prüfung, ich bin ganz ruhig aber traurig."),
    ("r2", "rev", None, 2, "ai", "Was genau macht dir Angst?"),
    ("r1", "rev", None, 1, "user", "Ich habe Angst vor morgen."),
]
WORDLESS = ["x1", "x2", "x3", "x4", "x5"]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp: Path = tmp_path_factory.mktemp("part3_edge")
    return build_part3(tmp, TURNS + REVERSED)


@pytest.fixture(scope="module")
def tables(built: Built) -> dict[str, dict[str, dict[str, object]]]:
    return {m: built.rows(m) for m in [*MODELS, "feat_vad"]}


def test_every_turn_once(built: Built, tables: dict) -> None:
    ids = {t[0] for t in TURNS + REVERSED}
    for model, rows in tables.items():
        assert set(rows) == ids, model
        n = built.query(f"select count(*) from {model}")[0][0]
        assert n == len(ids), model


def test_no_null_nan_inf(tables: dict) -> None:
    for model, rows in tables.items():
        for tid, row in rows.items():
            for col, value in row.items():
                assert value is not None, (model, tid, col)
                if isinstance(value, float):
                    assert math.isfinite(value), (model, tid, col)


EMPTY_GRAIN = {
    "m96_grain_word": 0.5,
    "m97_grain_impact": 0.0,
    "m98_grain_sentiment": 0.0,
    "m99_grain_novelty": 1.0,
}
EMPTY_SENTIMENT = {
    "m76_ev_1": 0.5,
    "m77_sent_4": 0.0,
    "m78_sent_5": 0.5,
    "m79_sent_6": 0.5,
    "m80_sent_7": 2.5 / 3,
    "m81_sent_8": 0.5,
    "m82_sent_9": 0.35,
    "m83_sent_10": 0.4,
    "m84_sent_11": 0.5,
    "m85_sent_12": 0.45,
    "m86_sent_13": 0.5,
    "m89_sent_16": 0.5,
    "m90_sent_17": 0.25,
    "m92_sent_19": 0.5,
    "m93_sent_20": 0.0,
    "m94_sent_21": 0.45,
    "m95_sent_22": 0.0,
    "m100_sent_27": 0.375,
}
EMPTY_TRAUMA = {
    "m101_t_panic": 0.0,
    "m102_t_disso": 0.0,
    "m103_t_integ": 0.5,
    "m104_t_shock": 0,
    "m114_cos_sim": 0.0,
    "m115_spatial_1": 0.5,
}


@pytest.mark.parametrize("tid", WORDLESS)
def test_wordless_edge_values(tables: dict, tid: str) -> None:
    for model, expected in [
        ("metrics_grain", EMPTY_GRAIN),
        ("metrics_sentiment", EMPTY_SENTIMENT),
        ("metrics_trauma", EMPTY_TRAUMA),
    ]:
        for col, value in expected.items():
            assert_close(tables[model][tid][col], value, f"{tid} {col}")
    vad = tables["feat_vad"][tid]
    assert (vad["sent_valence"], vad["sent_arousal"], vad["sent_dominance"]) == (0.5, 0.5, 0.5)
    tr = tables["metrics_trauma"][tid]
    # panic_hits 0 → m110 = base
    assert tr["m110_black_hole"] == tr["m110_base"]


def test_m80_empty_catalogue_value(tables: dict) -> None:
    assert_close(tables["metrics_sentiment"]["x1"]["m80_sent_7"], 0.8333333333, "x1 m80")


def test_first_turn_values(tables: dict) -> None:
    tr, evo = tables["metrics_trauma"], tables["metrics_evolution"]
    for tid in ("x1", "u1", "a1", "o1", "r1"):
        assert tr[tid]["m111_g_phase"] == 0.0
        assert tr[tid]["m112_g_phase_norm"] == 0.5
        assert tr[tid]["m114_cos_sim"] == 0.0
        assert evo[tid]["m72_ev_tension"] == 0.0
    # first ai turn of a mixed session: m72 0 as well (first of its role)
    assert evo["x2"]["m72_ev_tension"] == 0.0
    assert evo["o2"]["m72_ev_tension"] == 0.0


def test_genesis_hash(built: Built, tables: dict) -> None:
    import hashlib

    # first turn: prev = '0' × 64, NULL prompt_num never occurs here (x1 has 1)
    text_hash = hashlib.sha256(b"").hexdigest()
    state = "0" * 64 + "|mix|x1|1|user|" + text_hash
    expected = hashlib.sha256(state.encode()).hexdigest()
    assert tables["metrics_trauma"]["x1"]["m113_hash_state_hex"] == expected
    # NULL prompt_num: position '' in the state, chained from the previous turn
    prev = tables["metrics_trauma"]["x5"]["m113_hash_state_hex"]
    th = hashlib.sha256(b"Hier bin ich, ruhig und entspannt.").hexdigest()
    state6 = f"{prev}|mix|x6||user|{th}"
    assert tables["metrics_trauma"]["x6"]["m113_hash_state_hex"] == (
        hashlib.sha256(state6.encode()).hexdigest()
    )


def test_user_only_session_phase(tables: dict) -> None:
    tr = tables["metrics_trauma"]
    for tid in ("u1", "u2", "u3"):
        assert tr[tid]["nabla_b"] == 0.0
        assert tr[tid]["m111_g_phase"] in (0.0, math.pi / 2, -math.pi / 2)


def test_ai_only_session_phase(tables: dict) -> None:
    tr = tables["metrics_trauma"]
    for tid in ("a1", "a2", "a3"):
        assert tr[tid]["nabla_a"] == 0.0
        assert tr[tid]["m111_g_phase"] in (0.0, math.pi)
        assert tr[tid]["m112_g_phase_norm"] in (0.5, 1.0)
    # never −π: a negative ai step gives +π
    if tr["a2"]["nabla_b"] < 0:
        assert tr["a2"]["m111_g_phase"] == math.pi


def test_single_role_m72(tables: dict, built: Built) -> None:
    m15 = dict(built.query("select turn_id, m15_affekt_a from metrics_core"))
    evo = tables["metrics_evolution"]
    for prev, cur in (("u1", "u2"), ("u2", "u3"), ("a1", "a2"), ("a2", "a3")):
        expected = min(1.0, abs(m15[cur] - m15[prev]) * (1 - evo[cur]["m71_ev_resonance"]))
        assert_close(evo[cur]["m72_ev_tension"], expected, f"{cur} m72")


def test_long_text(tables: dict) -> None:
    tr = tables["metrics_trauma"]["x7"]
    assert tr["role"] == "ai"
    # ≥ 2 distinct panic terms (angst, panik) but an ai turn → base + 0.1 at most
    assert tr["m110_guardian"] == 0
    assert_close(tr["m110_black_hole"], min(1.0, tr["m110_base"] + 0.1), "x7 m110")
    assert 0.0 <= tables["metrics_grain"]["x7"]["m99_grain_novelty"] <= 1.0


def test_row_order_and_other_sessions_do_not_matter(tables: dict) -> None:
    pairs = {"o1": "r1", "o2": "r2", "o3": "r3"}
    skip = {"turn_id", "session_id", "m113_hash_state", "m113_hash_state_hex"}
    for model, rows in tables.items():
        for a, b in pairs.items():
            for col, value in rows[a].items():
                if col in skip:
                    continue
                assert rows[b][col] == value, (model, a, col)


def test_timestamps_do_not_matter(tables: dict) -> None:
    # x2/x3 have out-of-order timestamps, x4 an unparseable one: ordinary values, in range
    for tid in ("x2", "x3", "x4"):
        assert -math.pi < tables["metrics_trauma"][tid]["m111_g_phase"] <= math.pi
