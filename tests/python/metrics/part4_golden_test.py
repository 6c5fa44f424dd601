"""Golden values of METRICS.md Part 4 (m116-m168), through the real CLI on one small history.

Sessions:
- txt:  the single-text examples of the blocks (m116-m150, m155-m160, m167);
- emb / emb_safe: the P-5 golden session (ENGINE §3.6 texts) for m142, m156, m157, m159 and
  topic_shift; emb_safe sets rag_safe_mode = 1 on turn 4 (the table's SAFE_MODE variant);
- chr:  the chronos golden session (given z = m19_z_prox) for m131-m134, m144, m162, m168;
- p4:   the P-4 golden user affect series 0.5, 0.7, 0.4, 0.6 (m123, m124, m128-m130, m164),
  with hand-set m111_g_phase for the m127 wrap.
Given upstream values enter through the overlay of part4_support (test copy only).
"""

from __future__ import annotations

import math

import pytest
from part4_support import all_rows, build_part4, close

GOLD_116 = (
    "Ich denke, dass ich das Konzept verstanden habe. Außerdem ist es wichtig, weil es die "
    "Grundlage für alles Weitere bildet!"
)
GOLD_117 = "WARUM hilft mir NIEMAND??? aaaa 😢😢🤔"
GOLD_135 = "Also gut: zusammenfassend war es gestern schwierig, und morgen wird es besser."

TXT = {
    "txt-116": GOLD_116,
    "txt-117": GOLD_117,
    "txt-135": GOLD_135,
    "txt-hallo": "Hallo wie geht's",
    "txt-heart": "Danke ❤️👍🏽!",
    "txt-muede": "Ich bin müde. Ich bin nicht müde.",
    "txt-stimmt": "Das stimmt. Nicht das stimmt.",
    "txt-da": "Ich bin da, weil es so ist",
    "txt-weil": "Ich gehe, weil.",
    "txt-sicher": "Bist du sicher?",
    "txt-empty": "",
    "txt-ok": "ok ja",
    "txt-tel": "Bitte ruf sofort die Telefonseelsorge an: 0800 111 0 111.",
}

EMB_TEXTS = [
    ("user", "Hallo, mir geht es heute nicht gut."),
    ("ai", "Das tut mir leid. Was ist passiert?"),
    ("user", "Ich will sterben."),
    ("ai", "Bitte ruf sofort die Telefonseelsorge an: 0800 111 0 111."),
    ("user", "Ich will nicht mehr. Ich will sterben."),
    ("user", ""),
]
# m142, m156, m157, m159, topic_shift (P-5 table)
EMB_GOLD = [
    (0.0, 0.0, 1.0, 1.0, 1),
    (0.0666666667, 0.0666666667, 0.0666666667, 0.9333333333, 0),
    (0.0149403576, 0.0218217890, 0.0442442278, 0.9781782110, 1),
    (0.0140389772, 0.0, 0.0244158190, 0.9650784852, 1),
    (0.3597944619, 0.0, 0.0117123183, 0.1587181792, 0),
    (0.0, 0.0, 0.0117123183, 0.0, 0),
]
EMB_SAFE_142_TURN4 = 0.0730499688

CHR = [  # role, timestamp, z
    ("user", "2025-03-01T10:00:00Z", 0.6),
    ("ai", "2025-03-01T10:00:20Z", 0.2),
    ("user", "2025-03-01T10:10:00Z", 0.6),
    ("ai", None, 0.2),
    ("user", "2025-03-01T10:05:00Z", 0.6),
    ("ai", "2025-03-01T10:30:40Z", 0.3),
    ("user", "2025-03-01T10:45:00Z", 0.7),
    ("ai", "2025-03-01T10:45:30+00:00", 0.7),
    ("user", "garbage", 0.1),
]
# m131, m132, m134, m162, m168, m144 (chronos table)
CHR_GOLD = [
    (0.0, 0.0, 0.0, 0.0, 0.0, 1.0),
    (0.3333333333, 0.1, 20.0, 0.0055555556, 0.1333333333, 0.5),
    (10.0, 0.005, 20.0, 0.1666666667, 4.0, 0.5),
    (10.0, 0.0066666667, 20.0, 0.1666666667, 4.0, 0.5),
    (10.0, 0.0083333333, 20.0, 0.1666666667, 4.0, 0.5),
    (30.6666666667, 0.0032608696, 780.0, 0.5111111111, 9.3, 0.5),
    (45.0, 0.0025925926, 780.0, 0.75, 7.1666666667, 0.5),
    (45.5, 0.0029304029, 530.0, 0.7583333333, 7.5166666667, 0.5),
    (45.5, 0.0032967033, 530.0, 0.7583333333, 7.5166666667, 0.5),
]
# m133 = e(t) − start(t) in seconds (= 60 · m131, exact)
CHR_133 = [0.0, 20.0, 600.0, 600.0, 600.0, 1840.0, 2700.0, 2730.0, 2730.0]
CHR_TEXT = "Mir geht es heute gut, danke der Nachfrage."  # same text: no topic shift after turn 0

# p4: user m1_A 0.5, 0.7, 0.4, 0.6 at 0, 60, 120, 180 s, AI turns (m1_A 0.9) in between
P4 = [
    ("p4-1", "user", "2025-03-01T09:00:00Z", 0.5, 3.0),
    ("p4-2", "ai", "2025-03-01T09:00:30Z", 0.9, -3.0),
    ("p4-3", "user", "2025-03-01T09:01:00Z", 0.7, 1.0),
    ("p4-4", "ai", "2025-03-01T09:01:30Z", 0.9, 0.5),
    ("p4-5", "user", "2025-03-01T09:02:00Z", 0.4, -1.0),
    ("p4-6", "ai", "2025-03-01T09:02:30Z", 0.9, 2.0),
    ("p4-7", "user", "2025-03-01T09:03:00Z", 0.6, -2.0),
    ("p4-8", "ai", "2025-03-01T09:03:30Z", 0.9, 2.5),
]


def _history():
    turns = []
    for i, (turn_id, text) in enumerate(TXT.items(), start=1):
        turns.append((turn_id, "txt", None, i, "user", text))
    for session in ("emb", "emb_safe"):
        for i, (role, text) in enumerate(EMB_TEXTS):
            turns.append((f"{session}-{i}", session, None, i + 1, role, text))
    for i, (role, ts, _z) in enumerate(CHR):
        turns.append((f"chr-{i}", "chr", ts, i + 1, role, CHR_TEXT))
    for i, (turn_id, role, ts, _a, _g) in enumerate(P4):
        turns.append((turn_id, "p4", ts, i + 1, role, "Wie geht es dir heute?"))
    overrides = {
        "trauma_prescan": {"emb_safe-4": {"rag_safe_mode": 1}},
        "metrics_core": {
            **{f"chr-{i}": {"m19_z_prox": z} for i, (_r, _t, z) in enumerate(CHR)},
            **{turn_id: {"m1_A": a} for turn_id, _r, _t, a, _g in P4},
        },
        "metrics_trauma": {turn_id: {"m111_g_phase": g} for turn_id, _r, _t, _a, g in P4},
    }
    return turns, overrides


@pytest.fixture(scope="module")
def got(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    turns, overrides = _history()
    con = build_part4(tmp_path_factory.mktemp("part4_golden"), turns, overrides=overrides)
    try:
        return all_rows(con)
    finally:
        con.close()


@pytest.mark.parametrize(
    ("turn_id", "column", "expected"),
    [
        ("txt-116", "m116_lix", 40.0),
        ("txt-hallo", "m116_lix", 4.0),
        ("txt-empty", "m116_lix", 50.0),
        ("txt-117", "m117_question_density", 0.5),
        ("txt-117", "m118_capital_stress", 0.4),
        ("txt-117", "m120_emoji_sentiment", -2.0 / 3.0),
        ("txt-heart", "m120_emoji_sentiment", 1.0),
        ("txt-135", "m135_meta_20", 1.0),
        ("txt-116", "m136_meta_21", 0.75),
        ("txt-muede", "m136_meta_21", 1.0),
        ("txt-116", "m137_meta_22", 0.5),
        ("txt-116", "m138_meta_23", 1.0 / 3.0),
        ("txt-135", "m139_meta_24", 1.0),
        ("txt-116", "m140_meta_25", 0.75),
        ("txt-116", "m145_meta_30", 1),
        ("txt-stimmt", "m147_meta_32", 0.8),
        ("txt-muede", "m147_meta_32", 1.0),
        ("txt-135", "m148_meta_33", 0.6),
        ("txt-da", "m149_meta_34", 1.0),
        ("txt-weil", "m149_meta_34", 0.0),
        ("txt-135", "m150_meta_35", 1.0),
        ("txt-116", "m150_meta_35", 0.7),
        ("txt-empty", "m150_meta_35", 0.3),
        ("txt-sicher", "m150_meta_35", 0.5),
        ("txt-116", "m158_depth", 1),
        ("txt-117", "m167_noise", 0.44),
        ("txt-ok", "m167_noise", 0.7),
        ("txt-tel", "m167_noise", 0.81),
    ],
)
def test_single_text_goldens(got, turn_id: str, column: str, expected: float) -> None:
    assert close(got[turn_id][column], expected), (turn_id, column, got[turn_id][column])


def test_integer_metrics_are_integers(got) -> None:
    assert got["txt-116"]["m145_meta_30"] == 1 and isinstance(got["txt-116"]["m145_meta_30"], int)
    assert got["txt-116"]["m158_depth"] == 1 and isinstance(got["txt-116"]["m158_depth"], int)


@pytest.mark.parametrize("index", range(6))
def test_p5_embedding_context_goldens(got, index: int) -> None:
    row = got[f"emb-{index}"]
    m142, m156, m157, m159, shift = EMB_GOLD[index]
    assert close(row["m142_rag_align"], m142), row["m142_rag_align"]
    assert close(row["m156_relevance"], m156), row["m156_relevance"]
    assert close(row["m157_coherence"], m157), row["m157_coherence"]
    assert close(row["m159_novelty"], m159), row["m159_novelty"]
    assert row["topic_shift"] == shift


def test_p5_safe_mode_variant_leaves_the_f_turn_out(got) -> None:
    assert close(got["emb_safe-4"]["m142_rag_align"], EMB_SAFE_142_TURN4)
    # the other turns of the copy are unchanged
    for index in range(4):
        assert close(got[f"emb_safe-{index}"]["m142_rag_align"], EMB_GOLD[index][0])


@pytest.mark.parametrize("index", range(9))
def test_chronos_goldens(got, index: int) -> None:
    row = got[f"chr-{index}"]
    m131, m132, m134, m162, m168, m144 = CHR_GOLD[index]
    assert close(row["m131_session_dur"], m131), row["m131_session_dur"]
    assert close(row["m132_inter_freq"], m132), row["m132_inter_freq"]
    assert close(row["m134_chr_2"], m134), row["m134_chr_2"]
    assert close(row["m162_ctx_time"], m162), row["m162_ctx_time"]
    assert close(row["m168_cum_stress"], m168), row["m168_cum_stress"]
    assert close(row["m144_sys_stab"], m144), row["m144_sys_stab"]
    # topic shift only at turn 0, so m133 = 60 · m131
    assert row["topic_shift"] == (1 if index == 0 else 0)
    assert close(row["m133_chr_1"], CHR_133[index]), row["m133_chr_1"]


def test_p4_same_role_window_goldens(got) -> None:
    row = got["p4-7"]  # the 4th user turn: window 0.5, 0.7, 0.4, 0.6
    assert row["dyn_window_n"] == 4 and row["dyn_rev"] == 2
    assert close(row["m123_dyn_2"], 0.0)  # c = 0.2, p = -0.3
    assert close(row["m124_dyn_3"], 1.0)
    assert close(row["m128_dyn_7"], 0.15)
    assert close(row["m130_dyn_9"], 0.875)
    assert close(row["m164_user_state"], 0.55)
    # m129: rev 2 over the window's span 09:00:00 -> 09:03:00 = 3 minutes
    assert close(row["m129_dyn_8"], 2.0 / 3.0)
    # the AI turn after it carries the latest user state; its own window is flat (0.9 …)
    ai = got["p4-8"]
    assert close(ai["m164_user_state"], 0.55)
    assert close(ai["m124_dyn_3"], 0.0) and close(ai["m128_dyn_7"], 0.0)
    assert close(ai["m130_dyn_9"], 1.0)


def test_p4_momentum_when_steps_share_a_sign(got) -> None:
    # third user turn: 0.5, 0.7, 0.4 -> c = -0.3, p = 0.2: opposite signs -> 0
    assert close(got["p4-5"]["m123_dyn_2"], 0.0)
    # m164 at the 2nd user turn: (0.10·0.5 + 0.15·0.7 … only existing lags) -> (0.25·0.5 + 0.30·0.7)/0.55
    assert close(got["p4-3"]["m164_user_state"], (0.25 * 0.5 + 0.30 * 0.7) / 0.55)
    # before the first user turn there is none; the first user turn is its own value
    assert close(got["p4-1"]["m164_user_state"], 0.5)


def test_m127_wraps_the_phase_difference(got) -> None:
    assert close(got["p4-1"]["m127_dyn_6"], 0.0)  # no earlier AI turn
    assert close(got["p4-2"]["m127_dyn_6"], -6.0 + 2 * math.pi)  # -3 - 3 = -6 < -π


def test_m127_wrap_above_pi(got) -> None:
    assert close(got["p4-3"]["m127_dyn_6"], 4.0 - 2 * math.pi)
    assert close(got["p4-4"]["m127_dyn_6"], 0.5 - 1.0)
    assert close(got["p4-7"]["m127_dyn_6"], -2.0 - 2.0 + 2 * math.pi)
