"""Edge cases of METRICS.md Part 4 through the real CLI: empty and wordless text, the first turn,
single-role sessions, missing / unparseable timestamps, an empty AI answer, a 20k-character
text. Every Part 4 contract column must be non-NULL, finite and inside the contract range, and
the catalogue's edge values must hold (worked out by hand from each block's edge-case line).
"""

from __future__ import annotations

import csv
import math

import pytest
from part4_support import PART4_MODELS, all_rows, build_part4, close

from prod_cli import ROOT

LONG = ("Das ist ein sehr langer Satz über Gefühle und Gedanken. " * 400)[:20000]

TURNS = [
    # edge: starts with an empty AI turn, then wordless user turns, a long AI text
    ("e-1", "edge", "2025-01-01T10:00:00Z", 1, "ai", ""),
    ("e-2", "edge", "2025-01-01T10:00:10Z", 2, "user", "😢😢"),
    ("e-3", "edge", "2025-01-01T10:00:20Z", 3, "user", "\x07\t???"),
    ("e-4", "edge", "2025-01-01T10:01:00Z", 4, "ai", LONG),
    ("e-5", "edge", "2025-01-01T10:02:00Z", 5, "user", "Bist du sicher?"),
    # user only, no timestamps at all
    ("u-1", "useronly", None, 1, "user", "Hallo, ich bin da."),
    ("u-2", "useronly", None, 2, "user", "Noch jemand da?"),
    ("u-3", "useronly", "nicht lesbar", 3, "user", "Ok."),
    # AI only
    ("a-1", "aionly", "2025-01-02T08:00:00Z", 1, "ai", "Guten Morgen, wie geht es dir?"),
    ("a-2", "aionly", "2025-01-02T08:00:05Z", 2, "ai", "Ich bin für dich da."),
    # alternating, missing timestamps, one empty AI answer
    ("m-1", "missing", None, 1, "user", "Mir geht es schlecht."),
    ("m-2", "missing", None, 2, "ai", ""),
    ("m-3", "missing", None, 3, "user", "Hallo?"),
    ("m-4", "missing", None, 4, "ai", "Entschuldige, ich bin da."),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    con = build_part4(tmp_path_factory.mktemp("part4_edge"), TURNS)
    try:
        with (ROOT / "seeds" / "metric_contract.csv").open(encoding="utf-8") as f:
            contract = [
                (
                    r["key"],
                    r["type"],
                    r["range_lo"] or None,
                    r["range_hi"] or None,
                    r["enum_values"],
                )
                for r in csv.DictReader(f)
                if int(r["id"]) >= 116
            ]
        upstream = ["metrics_core", "metrics_physics", "metrics_fep"]
        yield all_rows(con, [*upstream, *PART4_MODELS]), contract
    finally:
        con.close()


def test_every_turn_once_in_every_model(built) -> None:
    got, _ = built
    assert set(got) == {t[0] for t in TURNS}


def test_every_part4_metric_total_and_in_contract_range(built) -> None:
    got, contract = built
    assert len(contract) == 53
    for key, kind, lo, hi, enum in contract:
        for turn_id, row in got.items():
            value = row[key]
            assert value is not None, (key, turn_id)
            if kind == "enum":
                assert value in str(enum).split("|"), (key, turn_id, value)
                continue
            assert math.isfinite(float(value)), (key, turn_id, value)
            if lo is not None:
                assert float(value) >= float(lo), (key, turn_id, value)
            if hi is not None:
                assert float(value) <= float(hi), (key, turn_id, value)


def test_guardian_columns_total(built) -> None:
    got, _ = built
    for turn_id, row in got.items():
        assert row["guardian_action"] is not None and row["is_alert"] in (0, 1), turn_id
        assert 0.0 <= row["F_risk"] <= 1.0


@pytest.mark.parametrize("turn_id", ["e-1", "e-2", "e-3", "m-2"])
def test_wordless_text_values(built, turn_id: str) -> None:
    row = built[0][turn_id]
    expected = {
        "m116_lix": 50.0,
        "m117_question_density": 0.0,
        "m118_capital_stress": 0.0,
        "m135_meta_20": 0.0,
        "m136_meta_21": 0.0,
        "m137_meta_22": 0.0,
        "m138_meta_23": 0.0,
        "m139_meta_24": 0.0,
        "m140_meta_25": 0.0,
        "m145_meta_30": 0,
        "m146_meta_31": 0.0,
        "m147_meta_32": 1.0,
        "m148_meta_33": 1.0,
        "m149_meta_34": 1.0,
        "m155_completeness": 0.5,
        "m158_depth": 0,
        "m159_novelty": 0.0,
        "m167_noise": 0.0,
    }
    for key, value in expected.items():
        assert close(row[key], value), (turn_id, key, row[key])
    # closure: "???"-like texts end with '?' -> 0.5; others have < 3 words -> 0.3
    assert close(row["m150_meta_35"], 0.5 if turn_id == "e-3" else 0.3)


def test_emoji_only_and_question_marks(built) -> None:
    got = built[0]
    assert close(got["e-2"]["m120_emoji_sentiment"], -1.0)
    assert close(got["e-3"]["m117_question_density"], 0.0)  # "???" holds no word
    assert close(got["e-5"]["m117_question_density"], 1.0)


def test_first_turn_values(built) -> None:
    got = built[0]
    for turn_id in ("e-1", "u-1", "a-1", "m-1"):
        row = got[turn_id]
        for key in (
            "m123_dyn_2",
            "m124_dyn_3",
            "m127_dyn_6",
            "m128_dyn_7",
            "m129_dyn_8",
            "m131_session_dur",
            "m132_inter_freq",
            "m133_chr_1",
            "m134_chr_2",
            "m162_ctx_time",
            "m168_cum_stress",
        ):
            assert close(row[key], 0.0), (turn_id, key, row[key])
        assert close(row["m130_dyn_9"], 1.0)
        assert close(row["m143_mem_pressure"], 0.0) and close(row["m163_ctx_loc"], 0.5)
        assert row["m165_platform"] == "pc" and row["m166_modality"] == "text"
    # m153 on the first turn is its own m21_chaos: checked as the running mean's start
    assert close(got["u-1"]["m121_talk_ratio"], 1.0)
    assert close(got["u-1"]["m119_turn_len_ai"], 0.0)
    # a session starting with an AI turn: user state 0.5 (no user turn yet)
    assert close(got["e-1"]["m164_user_state"], 0.5)
    assert close(got["a-1"]["m164_user_state"], 0.5)


def test_single_role_sessions(built) -> None:
    got = built[0]
    for turn_id in ("u-1", "u-2", "u-3"):
        row = got[turn_id]
        assert close(row["m119_turn_len_ai"], 0.0)
        assert close(row["m121_talk_ratio"], 1.0)  # no AI words
        assert close(row["m127_dyn_6"], 0.0)
        assert close(row["m134_chr_2"], 0.0)
        assert close(row["m144_sys_stab"], 1.0)  # no AI turn, no latency
        assert close(row["m156_relevance"], 0.0)  # no turn of the other role
    for turn_id in ("a-1", "a-2"):
        row = got[turn_id]
        assert close(row["m121_talk_ratio"], 0.0)  # AI-only: U = 0
        assert close(row["m164_user_state"], 0.5)
        assert close(row["m134_chr_2"], 0.0)
    assert close(got["a-2"]["m131_session_dur"], 5.0 / 60.0)
    assert close(got["a-2"]["m132_inter_freq"], 2.0 / 5.0)


def test_missing_timestamps_add_no_time(built) -> None:
    got = built[0]
    for turn_id in ("u-1", "u-2", "u-3", "m-1", "m-2", "m-3", "m-4"):
        row = got[turn_id]
        for key in ("m129_dyn_8", "m131_session_dur", "m132_inter_freq", "m133_chr_1"):
            assert close(row[key], 0.0), (turn_id, key)
        assert close(row["m162_ctx_time"], 0.0) and close(row["m168_cum_stress"], 0.0)


def test_empty_ai_answer_lowers_system_stability(built) -> None:
    got = built[0]
    # m-2: 1 empty of 1 AI turn -> err 1 -> 1 - (0 + 1)/2; m-4: 1 of 2 -> 0.75
    assert close(got["m-2"]["m144_sys_stab"], 0.5)
    assert close(got["m-3"]["m144_sys_stab"], 0.5)
    assert close(got["m-4"]["m144_sys_stab"], 0.75)
    # e-4 (AI, 10:01:00) follows a user turn (10:00:20): latency 40 s -> lat_n 1;
    # AI turns e-1 (empty) and e-4 -> err 1/2
    assert close(got["e-4"]["m134_chr_2"], 40.0)
    assert close(got["e-4"]["m144_sys_stab"], 1.0 - (1.0 + 0.5) / 2.0)
    # the empty AI turn counts with 0 words in the AI mean
    assert close(got["m-4"]["m119_turn_len_ai"], (0 + 4) / 2.0)


def test_formulas_over_upstream_inputs(built) -> None:
    """m141, m153, m154, m162 and m122 recomputed from the upstream values of each turn."""
    got = built[0]
    for session, n in (("edge", 5), ("missing", 4)):
        prefix = session[0]
        chaos: list[float] = []
        for i in range(1, n + 1):
            row = got[f"{prefix}-{i}"]
            chaos.append(row["m21_chaos"])
            assert close(row["m153_sys_ent"], sum(chaos) / len(chaos))
            assert close(row["m141_hallu_risk"], row["m21_chaos"] * (1 - row["m142_rag_align"]))
            assert close(
                row["m154_quality"], (row["m1_A"] + row["m2_PCI"] + row["m152_alignment"]) / 3
            )
            assert close(row["m162_ctx_time"], min(1.0, row["m131_session_dur"] / 60.0))
            tok = max(-1.0, min(1.0, row["m60_delta_tokens"] / 5.0))
            assert close(row["m122_dyn_1"], max(0.0, min(1.0, (row["m17_nabla_a"] + tok) / 2)))
