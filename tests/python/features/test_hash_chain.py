"""m113 hash chain (udf:hash_chain, feat_hash_chain) against METRICS.md block m113.

Goldens are quoted from the block (session s1: (t1, 0, user, "Hallo"), (t2, 1, ai, "Hallo! Wie
geht es dir?")). Properties: determinism, no look-ahead (a prefix of a session gives the same
chain), every edit of an earlier turn changes every later value, values in [0, 1), and the
model's result does not depend on DuckDB's batching (more sessions than one Arrow batch).
"""

from __future__ import annotations

import hashlib
import random

import pyarrow as pa
import pytest
from b_meta_cli import build_features, by_turn
from hypothesis import given, settings
from hypothesis import strategies as st

from udfs.hash_chain import (
    GENESIS,
    chain_step,
    hash_chain,
    hex_value,
    position_str,
    session_chain,
    text_hash,
)

HEX_T1 = "59a8fc17ee9e4f1bb88db8fb23ce5f303a64ced282511b2f7423366e80824f0b"
HEX_T2 = "fc0ed30aba8ae11348bbad9fecfaea67e585d7d3678783d7a1b787d1f7c3de9b"
VALUE_T1 = 0.3502347525
VALUE_T2 = 0.9846012021
EMPTY_SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# valid UTF-8 text (DuckDB strings never hold lone surrogates)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


def test_golden_session_s1():
    chain = session_chain(
        "s1", ["t1", "t2"], ["0", "1"], ["user", "ai"], ["Hallo", "Hallo! Wie geht es dir?"]
    )
    assert chain[0][:2] == ("t1", HEX_T1)
    assert chain[1][:2] == ("t2", HEX_T2)
    assert chain[0][2] == pytest.approx(VALUE_T1, abs=1e-9)
    assert chain[1][2] == pytest.approx(VALUE_T2, abs=1e-9)


def test_state_string_is_the_documented_one():
    state = f"{GENESIS}|s1|t1|0|user|{hashlib.sha256(b'Hallo').hexdigest()}"
    assert hashlib.sha256(state.encode()).hexdigest() == HEX_T1
    assert chain_step(GENESIS, "s1", "t1", "0", "user", "Hallo") == HEX_T1


def test_empty_and_null_text_hash_the_empty_string():
    assert text_hash("") == EMPTY_SHA
    assert text_hash(None) == EMPTY_SHA


def test_text_is_hashed_in_nfc():
    assert text_hash("Cafe\u0301") == text_hash("Caf\u00e9")


def test_position_formatting():
    assert position_str(None) == ""
    assert position_str(0) == "0"
    assert position_str(12) == "12"
    assert position_str(-3) == "-3"


def test_value_is_first_52_bits():
    assert hex_value("0" * 64) == 0.0
    assert hex_value("f" * 64) == (2**52 - 1) / 2**52 < 1.0
    assert hex_value("8" + "0" * 63) == 0.5


def test_mismatched_lists_fail_loudly():
    with pytest.raises(ValueError):
        session_chain("s", ["a", "b"], ["1"], ["user", "ai"], ["x", "y"])


def _session(n: int, rng: random.Random) -> tuple[list[str], list[str], list[str], list[str]]:
    tids = [f"t{i}" for i in range(n)]
    pos = [str(i) for i in range(n)]
    roles = [rng.choice(["user", "ai"]) for _ in range(n)]
    texts = [rng.choice(["", "Hallo", "Ich will sterben.", "ok 😀", "x" * 50]) for _ in range(n)]
    return tids, pos, roles, texts


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(TEXT, min_size=1, max_size=8),
    roles=st.lists(st.sampled_from(["user", "ai"]), min_size=8, max_size=8),
    data=st.data(),
)
def test_edit_of_an_earlier_turn_changes_every_later_value(texts, roles, data):
    n = len(texts)
    tids = [f"t{i}" for i in range(n)]
    pos = [str(i) for i in range(n)]
    base = session_chain("s", tids, pos, roles[:n], texts)
    k = data.draw(st.integers(0, n - 1))
    new_text = data.draw(TEXT.filter(lambda t: t != texts[k]))
    edited = list(texts)
    edited[k] = new_text
    after = session_chain("s", tids, pos, roles[:n], edited)
    assert [c[1] for c in after[:k]] == [c[1] for c in base[:k]]  # earlier turns unchanged
    for i in range(k, n):
        assert after[i][1] != base[i][1]  # the edited turn and every later one change
    for _, hx, value in after:
        assert len(hx) == 64 and hx == hx.lower()
        assert 0.0 <= value < 1.0


@settings(max_examples=40, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=8))
def test_deterministic_and_no_look_ahead(texts):
    n = len(texts)
    tids = [f"t{i}" for i in range(n)]
    pos = [str(i) for i in range(n)]
    roles = ["user" if i % 2 == 0 else "ai" for i in range(n)]
    full = session_chain("s", tids, pos, roles, texts)
    assert full == session_chain("s", tids, pos, roles, texts)
    for k in range(1, n + 1):
        assert session_chain("s", tids[:k], pos[:k], roles[:k], texts[:k]) == full[:k]


def test_metadata_edits_change_the_chain():
    tids, pos, roles, texts = ["a", "b"], ["1", "2"], ["user", "ai"], ["x", "y"]
    base = session_chain("s", tids, pos, roles, texts)[-1][1]
    assert session_chain("s2", tids, pos, roles, texts)[-1][1] != base
    assert session_chain("s", ["a2", "b"], pos, roles, texts)[-1][1] != base
    assert session_chain("s", tids, ["0", "2"], roles, texts)[-1][1] != base
    assert session_chain("s", tids, pos, ["ai", "ai"], texts)[-1][1] != base


def test_arrow_udf_is_batch_and_order_independent():
    rng = random.Random(7)
    sessions = [(f"s{i}", *_session(rng.randint(1, 6), rng)) for i in range(50)]

    def call(rows):
        arrays = [pa.array([r[j] for r in rows]) for j in range(5)]
        return hash_chain(*arrays).to_pylist()

    whole = call(sessions)
    assert [c for i in range(0, 50, 7) for c in call(sessions[i : i + 7])] == whole
    order = list(range(50))
    rng.shuffle(order)
    shuffled = call([sessions[i] for i in order])
    assert [shuffled[order.index(i)] for i in range(50)] == whole
    for (sid, tids, pos, roles, texts), got in zip(sessions, whole):
        ref = session_chain(sid, tids, pos, roles, texts)
        assert [(g["turn_id"], g["hash_state_hex"], g["hash_state"]) for g in got] == ref


# -- the model through the real CLI ----------------------------------------------------------

N_BATCH_SESSIONS = 2100  # more sessions than one 2048-row Arrow batch


def _turns():
    turns = [
        ("t1", "s1", "2026-01-01T10:00:00Z", 0, "user", "Hallo"),
        ("t2", "s1", "2026-01-01T10:00:05Z", 1, "assistant", "Hallo! Wie geht es dir?"),
        # NULL prompt_num sorts last and enters the state as ''
        ("n1", "s2", None, None, "user", "letzte"),
        ("n0", "s2", None, 5, "ai", ""),
    ]
    rng = random.Random(3)
    for i in range(N_BATCH_SESSIONS):
        for j in range(rng.randint(1, 3)):
            turns.append((f"b{i}-{j}", f"b{i}", None, j + 1, "user", f"Text {i} {j}"))
    return turns


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    con = build_features(tmp_path_factory.mktemp("hash"), _turns(), ["feat_hash_chain"])
    yield con
    con.close()


def test_model_golden(built):
    got = by_turn(built, "feat_hash_chain", "hash_state_hex, hash_state, turn_idx")
    assert got["t1"][0] == HEX_T1 and got["t2"][0] == HEX_T2
    assert got["t1"][1] == pytest.approx(VALUE_T1, abs=1e-9)
    assert got["t2"][1] == pytest.approx(VALUE_T2, abs=1e-9)


def test_model_null_prompt_num_and_empty_text(built):
    got = by_turn(built, "feat_hash_chain", "hash_state_hex")
    first = chain_step(GENESIS, "s2", "n0", "5", "ai", "")
    assert got["n0"][0] == first
    assert got["n1"][0] == chain_step(first, "s2", "n1", "", "user", "letzte")


def test_model_every_turn_once_and_matches_python_over_many_batches(built):
    turns = _turns()
    got = by_turn(built, "feat_hash_chain", "hash_state_hex, hash_state")
    assert len(got) == len(turns)
    by_session: dict[str, list] = {}
    for t in turns:
        if t[1].startswith("b"):
            by_session.setdefault(t[1], []).append(t)
    for sid, rows in by_session.items():
        rows.sort(key=lambda r: r[3])
        ref = session_chain(
            sid,
            [r[0] for r in rows],
            [str(r[3]) for r in rows],
            [r[4] for r in rows],
            [r[5] for r in rows],
        )
        for turn_id, hx, value in ref:
            assert got[turn_id] == (hx, value)


def test_packed_variant_equals_the_text_variant():
    # feat_hash_chain packs each session into one text of JSON arrays, one per line; turn ids
    # holding a newline, a quote, a separator byte or emoji must survive the packing
    import json

    from udfs.hash_chain import hash_chain_packed, text_sha256

    texts = ["Hallo", "", None, "Cafe\u0301", "x" * 5000, "emoji \U0001f600"]
    ids = ["t0", "line\nbreak", 'quote"d', "sep\x1e\x1f", "t4", "\U0001f600"]
    roles = ["user", "ai", "user", None, "user", "ai"]
    positions = ["0", "1", "", "3", "4", "5"]
    digests = text_sha256(pa.array(texts, pa.string())).to_pylist()
    packed = "\n".join(
        json.dumps([t, p, r, d], ensure_ascii=False)
        for t, p, r, d in zip(ids, positions, roles, digests)
    )
    got = hash_chain_packed(
        pa.array(["s1", "s2"]), pa.array([packed, json.dumps(["u1", "", "user", text_hash("y")])])
    )
    expected = hash_chain(
        pa.array(["s1", "s2"]),
        pa.array([ids, ["u1"]]),
        pa.array([positions, [""]], pa.list_(pa.string())),
        pa.array([roles, ["user"]], pa.list_(pa.string())),
        pa.array([texts, ["y"]], pa.list_(pa.string())),
    )
    assert got.equals(expected)
    with pytest.raises(ValueError, match="packed turn"):
        hash_chain_packed(pa.array(["s1"]), pa.array(['["only", "three", "fields"]']))
