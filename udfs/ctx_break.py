"""ctx_break (METRICS.md P2.4): the topic break of a turn against the previous turn.

    ctx_break(t) = 0                                 first turn, or emb(t) = 0, or emb(prev) = 0
                 = 1 - max(0, cos(emb(t), emb(prev)))  otherwise                    in [0, 1]

`emb` is the ENGINE §3.2 hashed embedding: for every char-3/4/5-gram of the turn's tokens
(`udfs._text.chargrams`, with repetition) the 8-byte BLAKE2b digest read as an unsigned
little-endian integer h adds +1 (h < 2**63) or -1 at index h mod 1024. The vectors stay
integers; the cosine is (x.y) / sqrt((x.x)(y.y)) from exact integer dot products, so it is
bit-identical on every platform. `prev` is the immediately previous turn of the session,
any role; the SQL side passes its text (NULL for the first turn). The UDF is a pure
function of the (text, prev_text) pair, so batching and row order cannot change a value.

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

DIM = 1024
_HALF = 1 << 63
_EXACT = float(2**53)  # integer sums below this are exact in a double
_TOKEN_CACHE_MAX = 500_000
_token_cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}

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


def _token_slots(token: str) -> tuple[np.ndarray, np.ndarray]:
    """The summed (index, value) contribution of one token's char-grams (cached per token)."""
    found = _token_cache.get(token)
    if found is None:
        acc: dict[int, int] = {}
        for gram in chargrams([token]):
            index, sign = gram_slot(gram)
            acc[index] = acc.get(index, 0) + sign
        found = (
            np.fromiter(acc.keys(), dtype=np.int64, count=len(acc)),
            np.fromiter(acc.values(), dtype=np.float64, count=len(acc)),
        )
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[token] = found
    return found


_CHUNK_TOKENS = 200_000  # token occurrences per bincount, bounds the temporary arrays


def emb_matrix(texts: list[str | None]) -> np.ndarray:
    """emb of every text as the rows of an (n, 1024) float64 matrix of exact integers.

    chargrams(tokens) is the concatenation of each token's grams, so a text's vector is the
    sum of its tokens' cached contributions: the token occurrences of a chunk of rows are
    expanded into (row, index, value) triples by one gather and summed by one bincount.
    """
    n = len(texts)
    out = np.zeros((n, DIM), dtype=np.float64)
    token_lists = [tokens(t) for t in texts]
    start = 0
    while start < n:
        stop, budget = start, 0
        while stop < n and (stop == start or budget + len(token_lists[stop]) <= _CHUNK_TOKENS):
            budget += len(token_lists[stop])
            stop += 1
        _fill_rows(out, start, token_lists[start:stop])
        start = stop
    return out


def _fill_rows(out: np.ndarray, first: int, token_lists: list[list[str]]) -> None:
    flat_tokens = [tok for tk in token_lists for tok in tk]
    if not flat_tokens:
        return
    ids = {tok: i for i, tok in enumerate(dict.fromkeys(flat_tokens))}
    slots = [_token_slots(tok) for tok in ids]
    sizes_u = np.fromiter((len(s[0]) for s in slots), dtype=np.int64, count=len(slots))
    ptr_u = np.concatenate(([0], np.cumsum(sizes_u)[:-1]))
    cat_idx = np.concatenate([s[0] for s in slots])
    cat_val = np.concatenate([s[1] for s in slots])
    occ = np.fromiter(map(ids.__getitem__, flat_tokens), dtype=np.int64, count=len(flat_tokens))
    rows = np.repeat(
        np.arange(len(token_lists), dtype=np.int64),
        np.fromiter((len(tk) for tk in token_lists), dtype=np.int64, count=len(token_lists)),
    )
    occ_sizes = sizes_u[occ]
    total = int(occ_sizes.sum())
    occ_first = np.cumsum(occ_sizes) - occ_sizes  # where each occurrence starts in the gather
    gather = np.arange(total, dtype=np.int64) + np.repeat(ptr_u[occ] - occ_first, occ_sizes)
    flat = cat_idx[gather] + np.repeat(rows, occ_sizes) * DIM
    block = np.bincount(flat, weights=cat_val[gather], minlength=len(token_lists) * DIM)
    out[first : first + len(token_lists)] = block.reshape(len(token_lists), DIM)


def ctx_break_batch(
    texts: list[str | None], prev_texts: list[str | None]
) -> tuple[np.ndarray, np.ndarray]:
    """(ctx_break, cos) arrays for rows of (text, previous text or None); row-independent."""
    n = len(texts)
    has_prev = np.fromiter((p is not None for p in prev_texts), dtype=bool, count=n)
    # each distinct text of the batch is embedded once (a turn's text is usually also the
    # next turn's previous text)
    prevs = [p if p is not None else "" for p in prev_texts]
    distinct = {t: i for i, t in enumerate(dict.fromkeys([*(t or "" for t in texts), *prevs]))}
    matrix = emb_matrix(list(distinct))
    x = matrix[[distinct[t or ""] for t in texts]]
    y = matrix[[distinct[p] for p in prevs]]
    dot = np.einsum("ij,ij->i", x, y)
    xx = np.einsum("ij,ij->i", x, x)
    yy = np.einsum("ij,ij->i", y, y)
    defined = has_prev & (xx > 0) & (yy > 0)
    coss = np.zeros(n, dtype=np.float64)
    # exact integers below 2**53: the product rounds once, as float(int * int) does, and
    # sqrt and the division are correctly rounded, so this equals `cosine` bit for bit
    fast = defined & (np.maximum(np.maximum(xx, yy), np.abs(dot)) < _EXACT)
    coss[fast] = dot[fast] / np.sqrt(xx[fast] * yy[fast])
    for i in np.flatnonzero(defined & ~fast):  # beyond exact doubles: the integer path
        coss[i] = cosine(emb_sparse(texts[i]), emb_sparse(prev_texts[i]))
    coss = np.clip(coss, -1.0, 1.0) + 0.0  # + 0.0 turns a -0.0 into 0.0
    breaks = np.where(defined, 1.0 - np.maximum(coss, 0.0), 0.0)
    return breaks, coss


@udf(args=["VARCHAR", "VARCHAR"], returns="STRUCT(ctx_break DOUBLE, ctx_cos DOUBLE)")
def ctx_break(texts: pa.Array, prev_texts: pa.Array) -> pa.Array:
    """Per turn: (ctx_break, ctx_cos) from its text and the previous turn's text (NULL = none)."""
    text_list = [t if t is not None else "" for t in texts.to_pylist()]
    breaks, coss = ctx_break_batch(text_list, prev_texts.to_pylist())
    return pa.StructArray.from_arrays(
        [pa.array(breaks, pa.float64()), pa.array(coss, pa.float64())],
        fields=list(RESULT_TYPE),
    )
