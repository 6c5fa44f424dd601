"""The hashed embedding (ENGINE §3.2) and the context cosines (METRICS P-5, m114) of udfs.embedding.

Goldens are quoted from the catalogue: the hash check values and the cosine sqrt(29/35) of
ENGINE §3.2, m114's golden triple (METRICS Part 3), the cosines behind ctx_break's golden
session G (METRICS P2.8, as cos_prev) and the P-5 table on the ENGINE §3.6 session. Properties
(hypothesis, arbitrary unicode): the vectorised embedding equals the one-text reference, the
exact cosines equal Python-integer cosines, and nothing depends on batch size, chunk size or
the order in which sessions arrive.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import udfs.embedding as E
from udfs._text import chargrams, tokens

TOL = 1e-9
# valid UTF-8 text (DuckDB strings never hold lone surrogates)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80)
GERMANISH = st.text(alphabet="aeinrstuhlmgbdwäöüßIWMSK .,!?-'\n0123456789😀", max_size=80)

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
# METRICS P-5 table: m142, m156, m157, m159, topic_shift
P5 = [
    (0.0, 0.0, 1.0, 1.0, 1),
    (0.0666666667, 0.0666666667, 0.0666666667, 0.9333333333, 0),
    (0.0149403576, 0.0218217890, 0.0442442278, 0.9781782110, 1),
    (0.0140389772, 0.0, 0.0244158190, 0.9650784852, 1),
    (0.3597944619, 0.0, 0.0117123183, 0.1587181792, 0),
    (0.0, 0.0, 0.0117123183, 0.0, 0),
]

EDGE_TEXTS = [
    "",
    None,
    "   \t\n ",
    "?!.,;:-",
    "😀🙂😢",
    "\x00\x07\x1b[0m",
    "İstanbul ΟΔΟΣ Straße x-ten geht's 3,5",
    "Cafe\u0301 vs Café",
    "a",
    "a " * 10_000,
    ("Wort" * 5 + " ") * 800,
]


def batch_of(sessions: list[list[str | None]]) -> E.Batch:
    texts = [t for s in sessions for t in s]
    vectors, _ = E.embed_texts(texts)
    offsets = np.concatenate(([0], np.cumsum([len(s) for s in sessions]))).astype(np.int64)
    return E.Batch(vectors, offsets)


# --- ENGINE §3.2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gram", "index", "sign"),
    [("<ic", 692, 1), ("ich", 787, -1), ("<ich>", 606, -1), ("ter", 308, -1)],
)
def test_hash_check_values(gram, index, sign):
    assert E.gram_slot(gram) == (index, sign)


def test_chargram_example_is_the_one_hashed():
    assert chargrams(tokens("Ich")) == ["<ic", "ich", "ch>", "<ich", "ich>", "<ich>"]


def test_cosine_golden_sqrt_29_35():
    x, y = E.emb("Ich will sterben."), E.emb("will sterben")
    assert int(x @ y) == 29 and int(x @ x) == 35 and int(y @ y) == 29
    assert E.cosine(x, y) == pytest.approx(math.sqrt(29 / 35), abs=TOL)
    assert E.cosine(x, y) == pytest.approx(0.9102589898, abs=TOL)
    sparse, _ = E.embed_texts(["Ich will sterben.", "will sterben"])
    dots = E.exact_dots(sparse, sparse)
    assert dots[0, 1] == 29.0
    assert E.cos_from_dots(dots[0, 1], 35, 29) == E.cosine(x, y)


def test_cosine_udf_golden_and_zero_vectors():
    structs = E.emb_sparse(pa.chunked_array([pa.array(["Ich will sterben.", "", "x", None])]))
    other = E.emb_sparse(pa.array(["will sterben", "will sterben", "", "x"]))
    got = E.emb_cosine(structs.field("emb"), other.field("emb")).to_pylist()
    assert got[0] == pytest.approx(math.sqrt(29 / 35), abs=TOL)
    assert got[1:] == [0.0, 0.0, 0.0]  # zero vector on one side (NULL text = '')
    nulls = E.emb_cosine(pa.array([None], pa.binary()), structs.field("emb").slice(0, 1))
    assert nulls.to_pylist() == [0.0]


def test_emb_sparse_udf_fields_and_unpack():
    out = E.emb_sparse(pa.array(["Ich will sterben.", "", "😀"]))
    x = E.emb("Ich will sterben.")
    lists = E.emb_unpack(out.field("emb")).to_pylist()
    assert lists[0]["emb_idx"] == [int(i) for i in np.flatnonzero(x)]
    assert lists[0]["emb_val"] == [int(v) for v in x[np.flatnonzero(x)]]
    rows = out.to_pylist()
    assert rows[0]["emb_norm2"] == 35 and rows[0]["emb_nnz"] == len(lists[0]["emb_idx"])
    assert len(rows[0]["emb"]) == 129 + rows[0]["emb_nnz"]
    assert rows[0]["n_grams"] == len(chargrams(tokens("Ich will sterben."))) == 33
    for empty in rows[1:]:
        assert empty == {"emb": b"", "emb_norm2": 0, "emb_nnz": 0, "n_grams": 0}
    assert lists[1:] == [{"emb_idx": [], "emb_val": []}] * 2
    tokens_path = E.emb_sparse_tokens(
        pa.array([tokens("Ich will sterben."), [], []], pa.list_(pa.string()))
    )
    assert tokens_path.to_pylist() == rows


def test_pack_round_trip_and_corruption_is_loud():
    sparse, _ = E.embed_texts(["Ich will sterben.", "", "Hallo du da", "😀", "a " * 300])
    blobs = E.pack(sparse)
    lengths = [len(b) for b in blobs.to_pylist()]
    assert lengths[1] == lengths[3] == 0  # zero vectors
    assert lengths[0] == 129 + int(np.diff(sparse.indptr)[0])  # int8 values
    assert lengths[4] == 129 + 4 * int(np.diff(sparse.indptr)[4])  # '<a>' x 300: int32 values
    back = E.unpack(pa.chunked_array([blobs.slice(0, 2), blobs.slice(2)]))
    assert np.array_equal(back.indptr, sparse.indptr)
    assert np.array_equal(back.idx, sparse.idx) and np.array_equal(back.val, sparse.val)
    sliced = E.unpack(blobs.slice(2, 1))
    assert np.array_equal(sliced.dense(dtype=np.int64)[0], E.emb("Hallo du da"))
    good = blobs.to_pylist()[0]
    bitmap_one = bytes([1]) + bytes(127)  # only index 0 present
    bad_cases = [
        good[:-1],  # shorter than the bitmap says
        good + b"\x01",  # longer than the bitmap says
        bytes([3]) + good[1:],  # unknown kind
        bytes([1]) + bitmap_one + bytes([0]),  # a stored 0
        bytes([1]) + bytes(128),  # empty bitmap in a non-empty BLOB
        b"\x01\x00",  # shorter than the header
    ]
    for bad in bad_cases:
        with pytest.raises(ValueError):
            E.unpack(pa.array([good, bad], pa.binary()))
    with pytest.raises(ValueError):
        E.unpack(pa.array([good, None], pa.binary()))


def test_unpack_chunking_does_not_change_rows(monkeypatch):
    sparse, _ = E.embed_texts([f"Satz {i} mit {'a ' * (i % 7)} Wörtern" for i in range(40)] + [""])
    blobs = E.pack(sparse)
    ref = E.unpack(blobs)
    monkeypatch.setattr(E, "_UNPACK_CHUNK", 3)
    small = E.unpack(blobs)
    assert np.array_equal(ref.indptr, small.indptr)
    assert np.array_equal(ref.idx, small.idx) and np.array_equal(ref.val, small.val)


@given(
    st.lists(
        st.dictionaries(
            st.integers(0, E.DIM - 1),
            st.one_of(st.integers(-127, 127), st.integers(-(2**31) + 1, 2**31 - 1)).filter(bool),
            max_size=40,
        ),
        max_size=6,
    )
)
@settings(max_examples=150, deadline=None)
def test_pack_round_trips_any_vectors(rows):
    indptr = np.concatenate(([0], np.cumsum([len(r) for r in rows]))).astype(np.int64)
    idx = np.array([k for r in rows for k in sorted(r)], dtype=np.int16)
    val = np.array([r[k] for r in rows for k in sorted(r)], dtype=np.int32)
    sparse = E.Sparse(indptr, idx, val)
    back = E.unpack(E.pack(sparse))
    assert np.array_equal(back.indptr, indptr)
    assert np.array_equal(back.idx, idx) and np.array_equal(back.val, val)


@pytest.mark.parametrize("text", EDGE_TEXTS, ids=[f"edge{i}" for i in range(len(EDGE_TEXTS))])
def test_edge_texts_match_the_reference(text):
    sparse, n_grams = E.embed_texts([text])
    dense = sparse.dense(dtype=np.int64)[0]
    assert np.array_equal(dense, E.emb(text))
    assert int(n_grams[0]) == len(chargrams(tokens(text)))
    assert int(sparse.norm2()[0]) == int((E.emb(text) ** 2).sum())
    if not tokens(text):
        assert sparse.norm2()[0] == 0


# --- m114 and ctx_break goldens (cos to the previous turn) -------------------------------------------


def test_m114_golden():
    texts = [
        "Mir geht es heute nicht gut.",
        "Das tut mir leid. Was ist passiert?",
        "Mir geht es heute wirklich nicht gut.",
    ]
    out = E.context_batch(batch_of([texts]), E.role_codes(["user", "ai", "user"]), [0] * 3, [0] * 3)
    assert out["cos_prev"][0] == 0.0
    assert out["cos_prev"][1] == pytest.approx(0.1095445115, abs=TOL)
    assert out["cos_prev"][2] == pytest.approx(0.1057696299, abs=TOL)
    assert E.cosine(E.emb(texts[0]), E.emb(texts[2])) == pytest.approx(0.8441580064, abs=TOL)


def test_cos_prev_matches_ctx_break_session_g():
    texts = [
        "Ich habe Angst vor morgen.",
        "Warum hast du Angst vor morgen?",
        "Weil ich eine Prüfung habe, deshalb kann ich nicht schlafen.",
        "Das verstehe ich. Daher schlage ich vor, dass wir gemeinsam einen Plan machen.",
        "",
        "Bist du noch da?",
    ]
    roles = ["user", "ai", "user", "ai", "user", "ai"]
    out = E.context_batch(batch_of([texts]), E.role_codes(roles), [0] * 6, [0] * 6)
    expected = [0.0, 0.6283380803, -0.0115446967, 1 - 0.6725026197, 0.0, 0.0]
    assert out["cos_prev"] == pytest.approx(expected, abs=TOL)


# --- METRICS P-5 ------------------------------------------------------------------------------------


def test_p5_golden_table():
    out = E.context_batch(batch_of([GOLDEN_TEXTS]), E.role_codes(GOLDEN_ROLES), GOLDEN_F, [0] * 6)
    for t, (m142, m156, m157, m159, shift) in enumerate(P5):
        assert out["rag_align"][t] == pytest.approx(m142, abs=TOL), t
        assert out["relevance"][t] == pytest.approx(m156, abs=TOL), t
        assert out["coherence"][t] == pytest.approx(m157, abs=TOL), t
        assert out["novelty"][t] == pytest.approx(m159, abs=TOL), t
        assert out["topic_shift"][t] == shift, t


def test_p5_safe_mode_drops_f_turns_from_the_context():
    safe = [0, 0, 0, 0, 1, 0]
    out = E.context_batch(batch_of([GOLDEN_TEXTS]), E.role_codes(GOLDEN_ROLES), GOLDEN_F, safe)
    assert out["rag_align"][4] == pytest.approx(0.0730499688, abs=TOL)
    # only F-turns in the window under SAFE_MODE: empty context -> 0
    out = E.context_batch(
        batch_of([["Ich will sterben.", "Ich will sterben."]]),
        E.role_codes(["user", "user"]),
        [1, 1],
        [0, 1],
    )
    assert out["rag_align"][1] == 0.0


# --- exactness --------------------------------------------------------------------------------------


def _python_dots(a: E.Sparse, b: E.Sparse) -> np.ndarray:
    da, db = a.dense(dtype=np.int64), b.dense(dtype=np.int64)
    return np.array(
        [[sum(int(x) * int(y) for x, y in zip(ra, rb)) for rb in db] for ra in da], dtype=object
    )


@pytest.mark.parametrize("scale", [1, 3_000, 200_000, 40_000_000])
def test_exact_dots_every_precision_path(scale):
    """float32 (< 2^24), float64 (< 2^53) and int64 paths all give the exact integers."""
    rng = np.random.default_rng(scale)
    rows = []
    for _ in range(6):
        idx = np.sort(rng.choice(E.DIM, size=40, replace=False)).astype(np.int16)
        val = rng.integers(-scale, scale + 1, size=40)
        val[val == 0] = 1
        rows.append((idx, val))
    indptr = np.concatenate(([0], np.cumsum([len(r[0]) for r in rows]))).astype(np.int64)
    sp = E.Sparse(
        indptr, np.concatenate([r[0] for r in rows]), np.concatenate([r[1] for r in rows])
    )
    got = E.exact_dots(sp, sp)
    want = _python_dots(sp, sp)
    for i in range(6):
        for j in range(6):
            assert got[i, j] == float(want[i, j])
    pairs = E.pair_dots(sp, np.array([0, 5, 3]), np.array([1, 2, 3]))
    assert list(pairs) == [float(want[0, 1]), float(want[5, 2]), float(want[3, 3])]


def test_absurd_magnitudes_raise_instead_of_rounding():
    one = E.Sparse(np.array([0, 1], np.int64), np.array([3], np.int16), np.array([2**31 - 1]))
    assert E.exact_dots(one, one)[0, 0] == float((2**31 - 1) ** 2)  # the int64 path, exact
    two = E.Sparse(np.array([0, 2], np.int64), np.array([3, 9], np.int16), np.full(2, 2**31 - 1))
    with pytest.raises(ValueError):  # a dot product could reach 2^62
        E.exact_dots(two, two)
    wide = E.Sparse(
        np.array([0, 1024], np.int64), np.arange(1024, dtype=np.int16), np.full(1024, 2**31 - 1)
    )
    with pytest.raises(ValueError):  # x.x itself would overflow int64
        wide.norm2()


@given(st.lists(GERMANISH, min_size=1, max_size=12), st.integers(1, 4))
@settings(max_examples=60, deadline=None)
def test_session_pass_agrees_with_brute_force(texts, cut):
    sparse, _ = E.embed_texts(texts)
    nz = np.flatnonzero(sparse.norm2() > 0)
    z = sparse.compress(nz)
    # two sessions: rows [0, cut) and [cut, n)
    cut = min(cut, z.n)
    start = np.where(np.arange(z.n) < cut, 0, cut)
    full = _python_dots(z, z)
    extra, _ = E.embed_texts(["will sterben", "mir wehtun"])
    pk = np.array([k for k in range(z.n) for j in range(start[k], k + 1)], dtype=np.int64)
    pj = np.array([j for k in range(z.n) for j in range(start[k], k + 1)], dtype=np.int64)
    out = E.session_dots(z, start, 3, pk, pj, extra)
    norms = z.norm2()
    for k in range(z.n):
        for d in range(4):
            want = float(full[k, k - d]) if k - d >= start[k] else 0.0
            assert out.band[k, d] == want
        for j in range(2):
            want = sum(
                int(a) * int(b)
                for a, b in zip(
                    z.dense(k, k + 1, np.int64)[0], E.emb(["will sterben", "mir wehtun"][j])
                )
            )
            assert out.extra[k, j] == float(want)
        cands = [
            float(full[k, j]) / math.sqrt(float(norms[k]) * float(norms[j]))
            for j in range(start[k], k)
        ]
        assert out.max_cos[k] == (max(cands) if cands else -np.inf)
    for i, (k, j) in enumerate(zip(pk, pj)):
        assert out.pairs[i] == float(full[k, j])
    with pytest.raises(ValueError):  # a pair may not look ahead
        E.session_dots(z, start, 3, np.array([0]), np.array([1]))


# --- properties -------------------------------------------------------------------------------------


@given(st.lists(TEXT, max_size=8))
@settings(max_examples=150, deadline=None)
def test_vectorised_embedding_equals_reference(texts):
    sparse, n_grams = E.embed_texts(texts)
    dense = sparse.dense(dtype=np.int64)
    for i, text in enumerate(texts):
        assert np.array_equal(dense[i], E.emb(text))
        assert n_grams[i] == len(chargrams(tokens(text)))
    assert (np.diff(sparse.indptr) >= 0).all()
    assert (sparse.val != 0).all()


@given(st.lists(TEXT, min_size=2, max_size=8))
@settings(max_examples=100, deadline=None)
def test_exact_cosines_equal_python_integer_cosines(texts):
    sparse, _ = E.embed_texts(texts)
    dots = E.exact_dots(sparse, sparse)
    norms = sparse.norm2()
    for i in range(len(texts)):
        for j in range(len(texts)):
            got = float(E.cos_from_dots(dots[i, j], norms[i], norms[j]))
            assert got == E.cosine(E.emb(texts[i]), E.emb(texts[j]))
            assert -1.0 - 1e-12 <= got <= 1.0 + 1e-12


def test_chunk_size_and_cache_resets_do_not_change_vectors(monkeypatch):
    texts = [f"Satz {i} mit Wörtern wie Angst, Hilfe und {i * 7}" for i in range(50)] + EDGE_TEXTS
    ref, ref_grams = E.embed_texts(texts)
    monkeypatch.setattr(E, "_EMBED_CHUNK", 7)
    monkeypatch.setattr(E, "_TOKEN_CACHE_MAX", 3)
    again, grams = E.embed_texts(texts)
    assert np.array_equal(ref.indptr, again.indptr)
    assert np.array_equal(ref.idx, again.idx) and np.array_equal(ref.val, again.val)
    assert np.array_equal(ref_grams, grams)


SESSION = st.lists(st.tuples(st.sampled_from(["user", "ai"]), GERMANISH), min_size=1, max_size=14)


def _context(sessions, flags_f, flags_safe):
    roles = E.role_codes([r for s in sessions for r, _ in s])
    batch = batch_of([[t for _, t in s] for s in sessions])
    return E.context_batch(batch, roles, flags_f, flags_safe)


@given(st.lists(SESSION, min_size=1, max_size=5), st.randoms(use_true_random=False))
@settings(max_examples=80, deadline=None)
def test_context_is_total_and_independent_of_batching(sessions, rnd):
    n = sum(len(s) for s in sessions)
    f = [rnd.random() < 0.3 for _ in range(n)]
    safe = [rnd.random() < 0.3 for _ in range(n)]
    together = _context(sessions, f, safe)
    for key, values in together.items():
        assert np.isfinite(values).all(), key
    for key in ("rag_align", "relevance", "coherence", "novelty"):
        assert ((together[key] >= 0) & (together[key] <= 1)).all(), key
    assert ((together["cos_prev"] >= -1) & (together["cos_prev"] <= 1)).all()
    # one session at a time, and the sessions in reverse order: bit-identical per turn
    bounds = np.concatenate(([0], np.cumsum([len(s) for s in sessions])))
    order = list(range(len(sessions)))[::-1]
    rev = _context(
        [sessions[i] for i in order],
        [x for i in order for x in f[bounds[i] : bounds[i + 1]]],
        [x for i in order for x in safe[bounds[i] : bounds[i + 1]]],
    )
    rev_bounds = np.concatenate(([0], np.cumsum([len(sessions[i]) for i in order])))
    for pos, i in enumerate(order):
        alone = _context(
            [sessions[i]], f[bounds[i] : bounds[i + 1]], safe[bounds[i] : bounds[i + 1]]
        )
        for key in together:
            mine = together[key][bounds[i] : bounds[i + 1]]
            assert np.array_equal(mine, alone[key]), key
            assert np.array_equal(mine, rev[key][rev_bounds[pos] : rev_bounds[pos + 1]]), key


def test_block_sizes_do_not_change_context(monkeypatch):
    rng = np.random.default_rng(7)
    words = ["angst", "hilfe", "heute", "nicht", "gut", "ich", "will", "leben", "morgen", "da"]
    sessions = [
        [" ".join(rng.choice(words, size=rng.integers(0, 8))) for _ in range(int(n))]
        for n in (1, 40, 3, 75)
    ]
    roles = E.role_codes([["user", "ai"][i % 2] for s in sessions for i in range(len(s))])
    n = sum(len(s) for s in sessions)
    f = rng.random(n) < 0.2
    safe = rng.random(n) < 0.3
    ref = E.context_batch(batch_of(sessions), roles, f, safe)
    for name, value in [("_TRI_BLOCK", 4), ("_TRI_WHOLE", 6), ("_PAIR_BLOCK", 2)]:
        monkeypatch.setattr(E, name, value)
    small = E.context_batch(batch_of(sessions), roles, f, safe)
    for key in ref:
        assert np.array_equal(ref[key], small[key]), key
