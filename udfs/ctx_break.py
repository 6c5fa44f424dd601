"""ctx_break (METRICS.md P2.4): the topic break of a turn against the previous turn.

    ctx_break(t) = 0                                 first turn, or emb(t) = 0, or emb(prev) = 0
                 = 1 - max(0, cos(emb(t), emb(prev)))  otherwise                    in [0, 1]

`emb` is the ENGINE §3.2 hashed embedding: for every char-3/4/5-gram of the turn's tokens
(`udfs._text.chargrams`, with repetition) the 8-byte BLAKE2b digest read as an unsigned
little-endian integer h adds +1 (h < 2**63) or -1 at index h mod 1024. The vectors stay
integers; the cosine is (x.y) / sqrt((x.x)(y.y)) from exact integer dot products, so it is
bit-identical on every platform. `prev` is the immediately previous turn of the session,
any role.

`ctx_break_value` is the reference, straight from the definition on the two texts. The
UDF `ctx_break_emb` takes the embeddings feat_embedding already holds (emb of the turn and
of the previous turn, NULL for the first turn), so no text is tokenized or hashed again;
it is a pure function of the pair, so batching and row order cannot change a value, and
tests/python/features/test_ctx_break.py checks it equals the reference on every turn.

Outputs per row: `ctx_break` (the input of m36 and m47) and `ctx_cos`, the cosine itself
(0 where undefined; a negative cosine counts as a complete break, ctx_break = 1).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pyarrow as pa

from evoki_sql import udf
from udfs._text import chargrams, tokens
from udfs.embedding import Sparse, combined, row_dots, unpack

DIM = 1024
_HALF = 1 << 63
_EXACT = 2**53  # integer sums below this are exact in a double

RESULT_TYPE = pa.struct([pa.field("ctx_break", pa.float64()), pa.field("ctx_cos", pa.float64())])


def gram_slot(gram: str) -> tuple[int, int]:
    """(index, sign) of one char-gram: BLAKE2b-64 little-endian, index h mod 1024."""
    h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")
    return h % DIM, (1 if h < _HALF else -1)


def emb_sparse(text: str | None) -> dict[int, int]:
    """emb(text) straight from the definition, as {index: non-zero count}; {} = zero vector."""
    vec: dict[int, int] = {}
    for gram in chargrams(tokens(text)):
        index, sign = gram_slot(gram)
        vec[index] = vec.get(index, 0) + sign
    return {k: v for k, v in vec.items() if v != 0}


def cosine(x: dict[int, int], y: dict[int, int]) -> float:
    """Exact-integer cosine of two sparse embeddings; 0.0 if either is the zero vector."""
    if not x or not y:
        return 0.0
    dot = sum(v * y.get(k, 0) for k, v in x.items())
    xx = sum(v * v for v in x.values())
    yy = sum(v * v for v in y.values())
    return dot / math.sqrt(xx * yy)


def ctx_break_value(text: str | None, prev_text: str | None) -> tuple[float, float]:
    """Reference: (ctx_break, cos) of a turn given the previous turn's text (None = first turn)."""
    if prev_text is None:
        return 0.0, 0.0
    x, y = emb_sparse(text), emb_sparse(prev_text)
    if not x or not y:
        return 0.0, 0.0
    return _finish(cosine(x, y))


def _finish(cos: float) -> tuple[float, float]:
    """(ctx_break, cos) from a defined cosine; the clamps only guard the last ulp."""
    cos = min(1.0, max(-1.0, cos))
    return 1.0 - max(0.0, cos), cos


def ctx_break_from_embeddings(emb: Sparse, prev: Sparse) -> tuple[np.ndarray, np.ndarray]:
    """(ctx_break, cos) arrays for rows of (emb(text), emb(previous text)) pairs.

    The same arithmetic as `ctx_break_value`: exact integer dot products and squared norms;
    below 2**53 they are exact doubles, the product xx * yy rounds once (as float(int * int)
    does) and sqrt and the division are correctly rounded, so the result is bit for bit the
    reference value. Larger norms (texts of tens of millions of characters) take Python's
    integers, exactly as the reference does.
    """
    n = emb.n
    xx, yy = emb.norm2(), prev.norm2()
    defined = (xx > 0) & (yy > 0)
    coss = np.zeros(n, dtype=np.float64)
    # |x.y| <= max(x.x, y.y) (Cauchy-Schwarz), so the dot product is exact here too
    fast = np.flatnonzero(defined & (np.maximum(xx, yy) < _EXACT))
    if len(fast):
        dots = row_dots(emb, prev, fast)
        coss[fast] = dots / np.sqrt(xx[fast].astype(np.float64) * yy[fast].astype(np.float64))
    for i in np.flatnonzero(defined & (np.maximum(xx, yy) >= _EXACT)):
        coss[i] = cosine(_row_dict(emb, i), _row_dict(prev, i))
    coss = np.clip(coss, -1.0, 1.0) + 0.0  # + 0.0 turns a -0.0 into 0.0
    breaks = np.where(defined, 1.0 - np.maximum(coss, 0.0), 0.0)
    return breaks, coss


def _row_dict(rows: Sparse, i: int) -> dict[int, int]:
    """Row i of `rows` as {index: value} with Python integers (the reference's sparse form)."""
    lo, hi = int(rows.indptr[i]), int(rows.indptr[i + 1])
    return {int(k): int(v) for k, v in zip(rows.idx[lo:hi], rows.val[lo:hi])}


@udf(args=["BLOB", "BLOB"], returns="STRUCT(ctx_break DOUBLE, ctx_cos DOUBLE)")
def ctx_break_emb(embs: pa.Array, prev_embs: pa.Array) -> pa.Array:
    """Per turn: (ctx_break, ctx_cos) from its packed embedding (feat_embedding.emb) and the
    previous turn's (NULL on the first turn of a session: (0, 0))."""
    embs, prev_embs = combined(embs), combined(prev_embs)
    n = len(embs)
    rows = np.flatnonzero(~np.asarray(prev_embs.is_null().to_numpy(zero_copy_only=False)))
    breaks = np.zeros(n, dtype=np.float64)
    coss = np.zeros(n, dtype=np.float64)
    if len(rows):
        take = pa.array(rows)
        breaks[rows], coss[rows] = ctx_break_from_embeddings(
            unpack(embs.take(take)), unpack(prev_embs.take(take), "previous emb")
        )
    return pa.StructArray.from_arrays(
        [pa.array(breaks, pa.float64()), pa.array(coss, pa.float64())],
        fields=list(RESULT_TYPE),
    )
