"""A_Phys V11 (ENGINE §3) in udfs.a_phys, and the physics models through the real CLI.

Unit level: the golden session of ENGINE §3.6 (every column of every row, is_f_turn given as
input as the table says), the edge cases of §3.4, a literal one-turn-at-a-time reference of the
§3.2 algorithm on Python integers (hypothesis, arbitrary unicode), ranges and totality, and
independence of batch composition and of the order in which sessions arrive.
CLI level: feat_embedding, trauma_prescan, feat_a_phys and feat_emb_context build (with their
data tests) on a small history holding the golden session, oddities and more sessions than
one Arrow batch; the stored values reproduce the goldens.
"""

from __future__ import annotations

import csv
import math
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import udfs.embedding as E
from udfs import a_phys as A

from history_db import make_history

ROOT = Path(__file__).resolve().parents[3]
TOL = 1e-9
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
GERMANISH = st.sampled_from(
    [
        "",
        "😀",
        "?!",
        "Ich will sterben.",
        "Ich will nicht mehr leben",
        "mich verletzen",
        "Hallo, wie geht es dir?",
        "Mir geht es heute nicht gut.",
        "Ich habe Angst vor morgen.",
        "Das tut mir leid. Was ist passiert?",
        "suizid",
        "Wir drehen uns im Kreis.",
    ]
)

GOLDEN_TEXTS = [
    "Hallo, mir geht es heute nicht gut.",
    "Das tut mir leid. Was ist passiert?",
    "Ich will sterben.",
    "Bitte ruf sofort die Telefonseelsorge an: 0800 111 0 111.",
    "Ich will nicht mehr. Ich will sterben.",
    "",
]
GOLDEN_ROLES = ["user", "ai", "user", "ai", "user", "user"]
GOLDEN_F = [0, 0, 1, 0, 1, 0]
# ENGINE §3.6: R, D, A_phys_raw, A_phys (None = no physics), max_sim, trip, closest
GOLDEN = [
    (
        0.0,
        0.2561336594,
        -0.3842004891,
        0.4051141910,
        0.3146266025,
        0,
        "lex:Suicide:nicht mehr leben",
    ),
    (
        0.0666666667,
        0.1992540753,
        -0.2322144463,
        0.4422058608,
        0.2253744679,
        0,
        "lex:Self_harm:mir wehtun",
    ),
    (
        0.0218217890,
        1.0273633940,
        -1.5192233021,
        0.1795759206,
        0.9102589898,
        1,
        "lex:Suicide:will sterben",
    ),
    (
        0.0349215148,
        0.1758404694,
        -0.2288391894,
        0.4430385627,
        0.0698430296,
        0,
        "lex:Suicide:suizid",
    ),
    (0.4413667828, 1.1062210242, -1.2179647535, 0.2282948145, 0.8412818208, 0, "turn:2"),
    (0.0, 0.0, 0.0, None, 0.0, 0, None),
]
# METRICS Part 1 golden session, turns 6-9 (m28, m31, m32; A_phys = m15 where physics exists)
PART1_MORE_TEXTS = [
    "Ich bin für dich da. Magst du mir erzählen, was passiert ist?",
    (
        "Als ich klein war, mit 7 Jahren, war ich oft traurig und einsam... Meine Mutter war nie da. "
        "Ich war allein."
    ),
    "Ich bin für dich da. Magst du mir erzählen, was passiert ist?",
    "Wir drehen uns im Kreis. Wir drehen uns im Kreis. Wir drehen uns im Kreis.",
]
PART1_MORE = [  # m28, m31, m32, m15, m30
    (0.2374483610, 0.2777450876, 0.6540659925, 0.5590847425, 0),
    (0.0222308699, 0.2516734214, 0.3997410020, 0.5055574886, 0),
    (1.4272415073, 0.2777450876, 1.8438591387, 0.8064711467, 0),
    (-0.1928862475, 0.2215558238, 0.1394474881, 0.4519273913, 0),
]


# METRICS m101 / m102 goldens: text, m101 (None = not given), m102 (None = not given)
PRESCAN = [
    (
        (
            "Ich habe ein bisschen Angst vor morgen, weil ich nicht weiß, was passiert und wie es dann "
            "weitergehen soll."
        ),
        0.35,
        None,
    ),
    ("Hilfe, ich habe Panik und Herzrasen! Hilfe!", 1.0, None),
    (
        "Ich bin hilflos und habe Angst, alles ist so schnell und ich bin überfordert.",
        0.9333333333,
        None,
    ),
    ("Ich habe Angst", 1.0, None),
    ("Der Code funktioniert nicht", 0.0, 0.0),
    (
        (
            "Manchmal fühlt sich alles so weit weg an, als wäre ich gar nicht richtig da und alles ist "
            "verschwommen heute."
        ),
        None,
        0.4952380952,
    ),
    ("Ich fühle mich, als würde ich neben mir stehen.", None, 0.8),
]


def seed_centres() -> str:
    """The static centre ids as feat_a_phys passes them: Suicide, then Self_harm, file order."""
    with open(ROOT / "seeds" / "lexika.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return "\n".join(
        f"lex:{lex}:{r['term']}"
        for lex in ("Suicide", "Self_harm")
        for r in rows
        if r["lexicon"] == lex
    )


CENTRES = seed_centres()


def run_batch(sessions: list[list[str]], flags: list[list[int]]) -> dict[str, np.ndarray]:
    texts = [t for s in sessions for t in s]
    vectors, _ = E.embed_texts(texts)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in sessions]))).astype(np.int64)
    ids, centres = A.static_centres(CENTRES)
    return A.a_phys_batch(
        E.Batch(vectors, offsets), np.array([f for s in flags for f in s], bool), ids, centres
    )


# --- reference: ENGINE §3.2 literally, one turn at a time, Python integers ---------------------------


def reference_session(texts: list[str], flags: list[int], turn_ids: list[str]) -> list[dict]:
    ids, _ = A.static_centres(CENTRES)
    static = [(cid, E.emb(cid.split(":", 2)[2])) for cid in ids]
    vectors = [E.emb(t) for t in texts]
    rows = []
    for t, v in enumerate(vectors):
        earlier = [j for j in range(t) if vectors[j].any()]
        memories = earlier[-10:]
        f_turns = [j for j in earlier if flags[j]][-10:]
        centres = static + [(f"turn:{turn_ids[j]}", vectors[j]) for j in f_turns]
        row = {"n_active_memories": len(memories), "n_danger_centres": len(centres)}
        if not v.any():
            row.update(
                physics_available=0,
                a_phys=None,
                a_phys_raw=0.0,
                resonance=0.0,
                danger=0.0,
                a29_trip=0,
                a29_max_sim=0.0,
                a29_id=None,
            )
            rows.append(row)
            continue
        r = 0.0
        for j in memories:
            weight = 0.3 if flags[j] else 1.0
            r += weight * max(0.0, min(1.0, E.cosine(v, vectors[j])))
        d = 0.0
        best, best_id = -math.inf, None
        for cid, c in centres:
            cos = max(-1.0, min(1.0, E.cosine(v, c)))
            d += math.exp(-5.0 * max(0.0, 1.0 - cos))
            if cos > best:
                best, best_id = cos, cid
        raw = 1.0 * r - 1.5 * d
        a = 1.0 / (1.0 + math.exp(-raw)) if raw >= 0 else math.exp(raw) / (1.0 + math.exp(raw))
        row.update(
            physics_available=1,
            a_phys=a,
            a_phys_raw=raw,
            resonance=r,
            danger=d,
            a29_trip=int(best > 0.85),
            a29_max_sim=best,
            a29_id=best_id,
        )
        rows.append(row)
    return rows


# --- goldens ------------------------------------------------------------------------------------------


def test_golden_session_every_column():
    out = run_batch([GOLDEN_TEXTS], [GOLDEN_F])
    ids, _ = A.static_centres(CENTRES)
    closest = A.a29_ids(out["a29_ref"], ids, [str(i) for i in range(6)])
    for t, (r, d, raw, a, sim, trip, cid) in enumerate(GOLDEN):
        assert out["resonance"][t] == pytest.approx(r, abs=TOL), t
        assert out["danger"][t] == pytest.approx(d, abs=TOL), t
        assert out["a_phys_raw"][t] == pytest.approx(raw, abs=TOL), t
        if a is None:
            assert out["physics_available"][t] == 0
        else:
            assert out["physics_available"][t] == 1
            assert out["a_phys"][t] == pytest.approx(a, abs=TOL), t
        assert out["a29_max_sim"][t] == pytest.approx(sim, abs=TOL), t
        assert out["a29_trip"][t] == trip, t
        assert closest[t] == cid, t
    assert list(out["n_active_memories"]) == [0, 1, 2, 3, 4, 5]
    # dynamic centres: turn 2 from turn 3 on, turn 4 from turn 5 on
    assert list(out["n_danger_centres"]) == [25, 25, 25, 26, 26, 27]


def test_metrics_part1_golden_session_continues():
    texts = GOLDEN_TEXTS + PART1_MORE_TEXTS
    out = run_batch([texts], [GOLDEN_F + [0, 0, 0, 0]])
    for i, (m28, m31, m32, m15, m30) in enumerate(PART1_MORE):
        t = 6 + i
        assert out["a_phys_raw"][t] == pytest.approx(m28, abs=TOL), t
        assert out["danger"][t] == pytest.approx(m31, abs=TOL), t
        assert out["resonance"][t] == pytest.approx(m32, abs=TOL), t
        assert out["a_phys"][t] == pytest.approx(m15, abs=TOL), t
        assert out["a29_trip"][t] == m30


def _udf_args(
    sessions: list[list[str]],
    flags: list[list[int]],
    safe: list[list[int]],
    shuffle: random.Random | None = None,
):
    """The UDF's inputs as DuckDB builds them: one list of turn structs per session."""
    rows = []
    for s, texts in enumerate(sessions):
        roles = (
            GOLDEN_ROLES
            if texts == GOLDEN_TEXTS
            else [["user", "ai"][i % 2] for i in range(len(texts))]
        )
        session_rows = [
            (i + 1, f"{s}-{i}", roles[i], texts[i], flags[s][i], safe[s][i])
            for i in range(len(texts))
        ]
        if shuffle is not None:
            shuffle.shuffle(session_rows)
        rows.append(session_rows)
    flat = [r for x in rows for r in x]
    embs = E.emb_sparse(pa.array([r[3] for r in flat])).field("emb")
    struct = pa.StructArray.from_arrays(
        [
            pa.array([r[0] for r in flat], pa.int64()),
            pa.array([r[1] for r in flat]),
            pa.array([r[2] for r in flat]),
            embs,
            pa.array([r[4] for r in flat], pa.int32()),
            pa.array([r[5] for r in flat], pa.int32()),
        ],
        names=["turn_idx", "turn_id", "role", "emb", "is_f_turn", "rag_safe_mode"],
    )
    offsets = pa.array(np.cumsum([0] + [len(x) for x in rows]).astype(np.int32))
    return (
        pa.chunked_array([pa.ListArray.from_arrays(offsets, struct)]),
        pa.chunked_array([pa.array([CENTRES] * len(sessions))]),
    )


def test_golden_through_the_arrow_udf():
    out = A.a_phys(
        *_udf_args(
            [GOLDEN_TEXTS, ["Hallo", "Ich habe Angst."]], [GOLDEN_F, [0, 0]], [[0] * 6, [0, 0]]
        )
    ).to_pylist()
    assert [len(x) for x in out] == [6, 2]
    golden = out[0]
    assert [row["turn_id"] for row in golden] == [f"0-{i}" for i in range(6)]
    assert golden[5]["a_phys"] is None and golden[5]["a29_id"] is None
    assert golden[4]["a29_id"] == "turn:0-2"
    for row, (r, d, raw, a, sim, trip, cid) in zip(golden, GOLDEN):
        assert row["a_phys_raw"] == pytest.approx(raw, abs=TOL)
        assert row["resonance"] == pytest.approx(r, abs=TOL)
        assert row["danger"] == pytest.approx(d, abs=TOL)
        assert row["a29_trip"] == trip
        assert (cid is None) == (row["a29_id"] is None)
    assert golden[2]["rag_align"] == pytest.approx(0.0149403576, abs=TOL)
    assert golden[4]["novelty"] == pytest.approx(0.1587181792, abs=TOL)
    assert out[1][0]["topic_shift"] == 1 and out[1][0]["novelty"] == 1.0


def test_shared_pass_equals_the_separate_passes():
    rng = random.Random(5)
    pool = GOLDEN_TEXTS + PART1_MORE_TEXTS + ["suizid", "Hilfe"]
    sessions = [[rng.choice(pool) for _ in range(n)] for n in (7, 1, 30, 12)]
    flags = [[int(rng.random() < 0.3) for _ in x] for x in sessions]
    safe = [[int(rng.random() < 0.3) for _ in x] for x in sessions]
    roles = E.role_codes([["user", "ai"][rng.random() < 0.5] for x in sessions for _ in x])
    vectors, _ = E.embed_texts([t for x in sessions for t in x])
    offsets = np.cumsum([0] + [len(x) for x in sessions])
    f = np.array([v for x in flags for v in x], bool)
    sm = np.array([v for x in safe for v in x], bool)
    ids, centres = A.static_centres(CENTRES)
    both = A.physics_batch(E.Batch(vectors, offsets), roles, f, sm, ids, centres)
    alone = A.a_phys_batch(E.Batch(vectors, offsets), f, ids, centres)
    context = E.context_batch(E.Batch(vectors, offsets), roles, f, sm)
    for key, value in {**alone, **context}.items():
        assert np.array_equal(both[key], value, equal_nan=True), key


def test_udf_orders_turns_itself_and_rejects_bad_input():
    sessions = [GOLDEN_TEXTS, PART1_MORE_TEXTS, ["Hallo"]]
    flags = [GOLDEN_F, [0, 0, 0, 0], [0]]
    safe = [[0] * 6, [1, 0, 0, 1], [0]]
    ordered = A.a_phys(*_udf_args(sessions, flags, safe)).to_pylist()
    shuffled = A.a_phys(*_udf_args(sessions, flags, safe, random.Random(1))).to_pylist()
    assert shuffled == ordered
    # a repeated turn_idx, a NULL flag, a NULL embedding: loud errors, not guesses
    turns, centres = _udf_args([["a b", "c"]], [[0, 0]], [[0, 0]])
    struct = turns.chunk(0).values
    cols = {f.name: struct.field(f.name) for f in struct.type}
    offsets = pa.array([0, 2], pa.int32())
    for name, bad in [
        ("turn_idx", pa.array([1, 1], pa.int64())),
        ("is_f_turn", pa.array([0, None], pa.int32())),
        ("emb", pa.array([None, b""], pa.binary())),
    ]:
        changed = pa.StructArray.from_arrays(
            [bad if n == name else c for n, c in cols.items()], names=list(cols)
        )
        with pytest.raises(ValueError):
            A.a_phys(pa.ListArray.from_arrays(offsets, changed), centres)


def test_centre_order_is_the_seed_file_order_and_alphabetical():
    """feat_a_phys orders the centres `by lexicon (Suicide first), term`: that is the
    lexika.csv order only while the seed keeps both lexica alphabetical."""
    ids = CENTRES.split("\n")
    assert len(ids) == 25
    suicide = [i for i in ids if i.startswith("lex:Suicide:")]
    harm = [i for i in ids if i.startswith("lex:Self_harm:")]
    assert ids == suicide + harm and len(suicide) == 19 and len(harm) == 6
    for group in (suicide, harm):
        assert [g.encode() for g in group] == sorted(g.encode() for g in group)


# --- edge cases (ENGINE §3.4) ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "?!...", "😀😢", "\x00\x07", "—–-"])
def test_no_tokens_no_physics(text):
    out = run_batch([["Hallo du", text, "Hallo du"]], [[0, 1, 0]])
    assert out["physics_available"][1] == 0
    assert np.isnan(out["a_phys"][1])  # published as NULL
    for key in ("a_phys_raw", "resonance", "danger", "a29_max_sim"):
        assert out[key][1] == 0.0
    assert out["a29_trip"][1] == 0 and out["a29_ref"][1] == -1
    # never a memory or a centre, even when flagged as an F-turn
    assert out["n_active_memories"][2] == 1
    assert out["n_danger_centres"][2] == 25


def test_first_turn_and_static_centres():
    out = run_batch([["Hallo, wie geht es dir?"]], [[1]])
    assert out["resonance"][0] == 0.0 and out["n_active_memories"][0] == 0
    assert out["n_danger_centres"][0] == 25
    assert 0.40 <= out["a_phys"][0] <= 0.45  # ENGINE §3.2: neutral text, no context


def test_windows_are_capped_at_ten():
    texts = ["Ich will sterben."] * 30
    out = run_batch([texts], [[1] * 30])
    assert list(out["n_active_memories"]) == [min(t, 10) for t in range(30)]
    assert list(out["n_danger_centres"]) == [25 + min(t, 10) for t in range(30)]
    assert out["resonance"].max() <= 10 * 0.3 + 1e-12
    assert out["danger"].max() <= 35 + 1e-12
    # a verbatim repeat of an earlier crisis turn trips at cosine 1 (first centre reaching it:
    # the static 'will sterben' is not identical, so the dynamic centre of turn 0 wins)
    assert out["a29_max_sim"][1] == 1.0 and out["a29_trip"][1] == 1


def test_single_role_sessions():
    ai_only = run_batch([["Ich will sterben.", "Ich will sterben."]], [[0, 0]])
    assert list(ai_only["n_danger_centres"]) == [25, 25]
    assert ai_only["resonance"][1] == pytest.approx(1.0, abs=1e-15)


def test_tie_goes_to_the_first_centre_in_f_order():
    # the same F text twice: both dynamic centres have cosine 1; the earlier one is reported
    out = run_batch([["suizid", "Ich will es nicht", "suizid", "suizid"]], [[1, 0, 1, 0]])
    ids, _ = A.static_centres(CENTRES)
    closest = A.a29_ids(out["a29_ref"], ids, ["a", "b", "c", "d"])
    # 'suizid' equals the static centre lex:Suicide:suizid, which precedes every dynamic one
    assert closest[3] == "lex:Suicide:suizid"
    out = run_batch(
        [
            [
                "Ich will nicht mehr hier sein",
                "x",
                "Ich will nicht mehr hier sein",
                "y",
                "Ich will nicht mehr hier sein",
            ]
        ],
        [[1, 0, 1, 0, 0]],
    )
    closest = A.a29_ids(out["a29_ref"], ids, ["a", "b", "c", "d", "e"])
    assert closest[4] == "turn:a" and out["a29_max_sim"][4] == 1.0


def test_sigmoid_is_stable():
    x = np.array([-800.0, -52.5, -1e-300, 0.0, 1e-300, 10.0, 800.0])
    y = A.sigmoid(x)
    assert np.isfinite(y).all() and (y >= 0).all() and (y <= 1).all()
    assert y[3] == 0.5


def test_bad_centres_are_loud():
    with pytest.raises(ValueError):
        A.static_centres("lex:Suicide:?!")
    with pytest.raises(ValueError):
        A.static_centres("Suicide:will sterben")


# --- reference and properties ------------------------------------------------------------------------


def _compare(out, ref, offset=0):
    for t, row in enumerate(ref):
        k = offset + t
        for key in ("physics_available", "a29_trip", "n_active_memories", "n_danger_centres"):
            assert out[key][k] == row[key], (key, t)
        for key in ("a_phys_raw", "resonance", "danger", "a29_max_sim"):
            assert out[key][k] == pytest.approx(row[key], abs=1e-12), (key, t)
        if row["a_phys"] is None:
            assert np.isnan(out["a_phys"][k])
        else:
            assert out["a_phys"][k] == pytest.approx(row["a_phys"], abs=1e-12)


@given(st.lists(st.tuples(st.one_of(GERMANISH, TEXT), st.booleans()), min_size=1, max_size=16))
@settings(max_examples=120, deadline=None)
def test_matches_the_literal_reference(turns):
    texts = [t for t, _ in turns]
    flags = [int(f) for _, f in turns]
    turn_ids = [f"id{i}" for i in range(len(texts))]
    out = run_batch([texts], [flags])
    ref = reference_session(texts, flags, turn_ids)
    _compare(out, ref)
    ids, _ = A.static_centres(CENTRES)
    closest = A.a29_ids(out["a29_ref"], ids, turn_ids)
    for t, row in enumerate(ref):
        if row["a29_id"] is not None and closest[t] != row["a29_id"]:
            # a different centre may only be reported on an exact tie of cosines
            assert out["a29_max_sim"][t] == row["a29_max_sim"]
        else:
            assert closest[t] == row["a29_id"]


SESSIONS = st.lists(
    st.lists(st.tuples(st.one_of(GERMANISH, TEXT), st.booleans()), min_size=1, max_size=14),
    min_size=1,
    max_size=6,
)


@given(SESSIONS)
@settings(max_examples=80, deadline=None)
def test_total_in_range_and_independent_of_batching(sessions):
    texts = [[t for t, _ in s] for s in sessions]
    flags = [[int(f) for _, f in s] for s in sessions]
    together = run_batch(texts, flags)
    has = together["physics_available"] == 1
    for key in ("a_phys_raw", "resonance", "danger", "a29_max_sim"):
        assert np.isfinite(together[key]).all(), key
    assert np.isfinite(together["a_phys"][has]).all() and np.isnan(together["a_phys"][~has]).all()
    assert ((together["a_phys"][has] >= 0) & (together["a_phys"][has] <= 1)).all()
    assert ((together["resonance"] >= 0) & (together["resonance"] <= 10)).all()
    assert ((together["danger"] >= 0) & (together["danger"] <= 35)).all()
    assert ((together["a_phys_raw"] >= -52.5) & (together["a_phys_raw"] <= 10)).all()
    assert ((together["a29_max_sim"] >= -1) & (together["a29_max_sim"] <= 1)).all()
    assert (together["a29_trip"] == (together["a29_max_sim"] > 0.85)).all()
    assert ((together["n_danger_centres"] >= 25) & (together["n_danger_centres"] <= 35)).all()
    bounds = np.concatenate(([0], np.cumsum([len(s) for s in texts])))
    order = list(range(len(texts)))[::-1]
    rev = run_batch([texts[i] for i in order], [flags[i] for i in order])
    rev_bounds = np.concatenate(([0], np.cumsum([len(texts[i]) for i in order])))
    for pos, i in enumerate(order):
        alone = run_batch([texts[i]], [flags[i]])
        for key in alone:
            mine = together[key][bounds[i] : bounds[i + 1]]
            other = rev[key][rev_bounds[pos] : rev_bounds[pos + 1]]
            if key == "a29_ref":  # dynamic refs hold batch positions: compare session-relative
                mine = _session_relative(mine, bounds[i])
                other = _session_relative(other, rev_bounds[pos])
            assert np.array_equal(mine, alone[key], equal_nan=True), key
            assert np.array_equal(mine, other, equal_nan=True), key


def _session_relative(ref: np.ndarray, base: int) -> np.ndarray:
    """a29_ref values of dynamic centres (>= 25) minus the session's first batch position."""
    return np.where(ref >= 25, ref - base, ref)


def test_block_sizes_do_not_change_values(monkeypatch):
    rng = random.Random(3)
    pool = ["Ich will sterben.", "Hallo", "", "Wie geht es dir heute?", "mir wehtun", "ok danke"]
    sessions = [[rng.choice(pool) for _ in range(n)] for n in (1, 60, 2, 33)]
    flags = [[int(rng.random() < 0.3) for _ in s] for s in sessions]
    ref = run_batch(sessions, flags)
    for name, value in [("_TRI_BLOCK", 3), ("_TRI_WHOLE", 5), ("_PAIR_BLOCK", 2)]:
        monkeypatch.setattr(E, name, value)
    small = run_batch(sessions, flags)
    for key in ref:
        assert np.array_equal(ref[key], small[key], equal_nan=True), key


# --- through the CLI --------------------------------------------------------------------------------

MODELS = ["feat_embedding", "trauma_prescan", "feat_a_phys", "feat_emb_context"]


def run_cli(args: list[str], history: Path, duckdb_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(duckdb_path),
    }
    return subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def cli_turns() -> list[tuple]:
    turns = [
        (str(i), "g", f"2026-01-05T10:0{i}:00Z", i, GOLDEN_ROLES[i], GOLDEN_TEXTS[i])
        for i in range(6)
    ]
    # oddities: emoji / control / long text, an 'assistant' role, a NULL prompt_num, a session
    # of one role, a very long text
    turns += [
        ("o1", "odd", None, 1, "user", "😀😢 \x07\x1b"),
        ("o2", "odd", None, 2, "assistant", "Hallo! Wie geht es dir? Ich bin da."),
        ("o3", "odd", None, None, "user", "Ich will sterben, ich kann nicht mehr."),
        ("o4", "odd", None, 3, "user", ("Angst und Panik, ich kann nicht mehr atmen. " * 500)),
        ("s1", "solo", None, 1, "ai", "Guten Morgen."),
        ("s2", "solo", None, 2, "ai", "Guten Morgen."),
    ]
    # METRICS Part 3 goldens of m101 / m102 (one user turn each)
    turns += [(f"tp{i}", "tp", None, i, "user", text) for i, (text, _, _) in enumerate(PRESCAN)]
    # more sessions than one Arrow batch (2048 rows), to cross batch boundaries
    rng = random.Random(11)
    pool = GOLDEN_TEXTS + PART1_MORE_TEXTS + ["Hilfe", "Ich habe Angst.", ""]
    for s in range(2100):
        for i in range(rng.randint(1, 3)):
            role = "user" if i % 2 == 0 else "ai"
            turns.append((f"b{s}-{i}", f"b{s:04d}", None, i, role, rng.choice(pool)))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    import duckdb

    tmp = tmp_path_factory.mktemp("physics")
    turns = cli_turns()
    history = make_history(tmp / "history.db", sorted({t[1] for t in turns}), turns)
    out = tmp / "out.duckdb"
    seeded = run_cli(["seed"], history, out)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    result = run_cli(["build", "-s", *[f"+{m}" for m in MODELS]], history, out)
    assert result.returncode == 0, result.stdout + result.stderr
    con = duckdb.connect(str(out), read_only=True)
    yield con, turns
    con.close()


def by_turn(con, model: str, columns: str) -> dict[str, tuple]:
    return {
        r[0]: tuple(r[1:])
        for r in con.execute(f"select turn_id, {columns} from {model}").fetchall()
    }


def test_cli_a_phys_golden(built):
    con, _ = built
    rows = by_turn(
        con,
        "feat_a_phys",
        "resonance, danger, a_phys_raw, a_phys, a29_max_sim, a29_trip, a29_id, is_f_turn",
    )
    for t, (r, d, raw, a, sim, trip, cid) in enumerate(GOLDEN):
        got = rows[str(t)]
        assert got[0] == pytest.approx(r, abs=TOL) and got[1] == pytest.approx(d, abs=TOL)
        assert got[2] == pytest.approx(raw, abs=TOL)
        assert (got[3] is None) if a is None else got[3] == pytest.approx(a, abs=TOL)
        assert got[4] == pytest.approx(sim, abs=TOL) and got[5] == trip and got[6] == cid
        assert got[7] == GOLDEN_F[t]  # the F-turns come from hazard > 0.8 (phase 1)


def test_cli_emb_context_golden(built):
    con, _ = built
    rows = by_turn(con, "feat_emb_context", "rag_align, relevance, coherence, novelty, topic_shift")
    expected = [
        (0.0, 0.0, 1.0, 1.0, 1),
        (0.0666666667, 0.0666666667, 0.0666666667, 0.9333333333, 0),
        (0.0149403576, 0.0218217890, 0.0442442278, 0.9781782110, 1),
        (0.0140389772, 0.0, 0.0244158190, 0.9650784852, 1),
        (0.3597944619, 0.0, 0.0117123183, 0.1587181792, 0),
        (0.0, 0.0, 0.0117123183, 0.0, 0),
    ]
    for t, want in enumerate(expected):
        got = rows[str(t)]
        assert got[:4] == pytest.approx(want[:4], abs=TOL), t
        assert got[4] == want[4]


def test_cli_embedding_equals_the_python_reference(built):
    con, turns = built
    rows = by_turn(con, "feat_embedding", "emb, emb_norm2, has_vector")
    for turn_id, _, _, _, _, text in turns[:12] + turns[-len(PRESCAN) - 40 :]:
        blob, norm2, has = rows[turn_id]
        got = E.unpack(pa.array([blob], pa.binary())).dense(dtype=np.int64)[0]
        x = E.emb(text)
        assert np.array_equal(got, x)
        assert norm2 == int((x * x).sum()) and has == int(norm2 > 0)


def test_cli_every_turn_once_and_physics_matches_python(built):
    con, turns = built
    n = len(turns)
    for model in MODELS:
        assert con.execute(f"select count(*), count(distinct turn_id) from {model}").fetchone() == (
            n,
            n,
        )
    # the whole table agrees with the Python batch run, session by session
    rows = by_turn(con, "feat_a_phys", "session_id, turn_idx, is_f_turn, a_phys_raw, a29_id")
    sessions: dict[str, list] = {}
    for turn_id, (sid, idx, f, raw, cid) in rows.items():
        sessions.setdefault(sid, []).append((idx, turn_id, f, raw, cid))
    text_of = {t[0]: t[5] for t in turns}
    picked = ["g", "odd", "solo"] + sorted(sessions)[:40]
    for sid in picked:
        ordered = sorted(sessions[sid])
        ids = [r[1] for r in ordered]
        out = run_batch([[text_of[i] for i in ids]], [[r[2] for r in ordered]])
        assert [r[3] for r in ordered] == pytest.approx(list(out["a_phys_raw"]), abs=1e-12)
        ids_a, _ = A.static_centres(CENTRES)
        assert [r[4] for r in ordered] == A.a29_ids(out["a29_ref"], ids_a, ids)


def test_cli_trauma_prescan(built):
    con, _ = built
    rows = by_turn(con, "trauma_prescan", "m101_t_panic, m102_t_disso, rag_safe_mode, is_f_turn")
    for i, (_, m101, m102) in enumerate(PRESCAN):
        got = rows[f"tp{i}"]
        if m101 is not None:
            assert got[0] == pytest.approx(m101, abs=TOL), i
        if m102 is not None:
            assert got[1] == pytest.approx(m102, abs=TOL), i
        assert got[2] == int(got[0] > 0.6 or got[1] > 0.6)
    # m101 > 0.8 makes a user turn an F-turn without any hazard term
    assert rows["tp1"][3] == 1 and rows["tp4"][3] == 0
    assert rows["0"] == (0.0, 0.0, 0, 0)
    assert rows["2"] == (0.0, 0.0, 0, 1)
    assert rows["o3"][3] == 1  # hazard 1.0 on a user turn with NULL prompt_num
    assert rows["o4"][0] == pytest.approx(1.0) and rows["o4"][2] == 1
    assert rows["o2"][3] == 0  # ai turns are never F-turns
