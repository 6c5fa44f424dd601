"""udf:embedding: the hashed char-n-gram embedding of ENGINE §3.2, its exact cosines, and the
per-session dot-product pass shared by A_Phys and the context cosines.

    emb(text): x = 0 in Z^1024; for every gram g of chargrams(tokens(text)), with repetition,
               h = BLAKE2b-64(UTF-8(g)) read little-endian; x[h mod 1024] += +1 if h < 2^63 else -1
    cos(x, y) = (x.y) / sqrt((x.x)(y.y)) from exact integer dot products; 0 if x or y is zero.

Storage: an embedding leaves this module as one BLOB per turn: a kind byte, the 1024-bit
presence bitmap and the non-zero values as int8 (int32 when a value leaves -127..127), with x.x
alongside (`emb_unpack` turns a BLOB back into index and value lists for inspection). About 1.5
bytes per non-zero entry keeps the per-session aggregation that the session UDF needs small.
The gram -> (index, sign) map is a pure cached function; on top of it every distinct token's
integer vector is cached (a token's grams do not depend on its neighbours, and emb is a sum over
tokens), so a batch of texts is embedded with a handful of numpy calls.

Scratch arrays are kept small (chunks of a few hundred rows): on this machine a fresh
multi-megabyte numpy temporary costs more in page faults than the arithmetic done in it.

Exact dot products: rows are expanded into dense blocks and multiplied with BLAS. Every product
and every partial sum of a dot product x.y is an integer of magnitude at most |x|·|y|
(Cauchy-Schwarz). When that bound is below 2^24 (float32) or 2^53 (float64) every intermediate
value is exactly representable, so the result is the exact integer whatever order BLAS adds in;
otherwise an int64 product is used, and a bound of 2^62 or more raises (unreachable for texts
below about 10^9 characters; ordinary chat turns have |x| of a few dozen: float32). Cosines are
then dot / sqrt(float(x.x) * float(y.y)): the same correctly rounded operations as the formula
evaluated on Python integers.

`session_dots` is the one pass over each session's lower-triangular Gram matrix that A_Phys
(udfs/a_phys.py) and the context cosines of METRICS P-5 (`context_from_dots`) share.
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import math
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evoki_sql import udf
from udfs._text import chargrams, tokens

DIM = 1024
_HALF = 1 << 63
_F32_EXACT = float(1 << 24)
_F64_EXACT = float(1 << 53)
_I64_SAFE = float(1 << 62)
_INT32_MAX = (1 << 31) - 1
#: texts embedded per dense scratch block (128 x 1024 float64 = 1 MB: stays in cache)
_EMBED_CHUNK = 128
#: distinct tokens kept in the token cache before it is emptied (bounds memory, not results)
_TOKEN_CACHE_MAX = 2_000_000
#: rows per block of the lower-triangular (all earlier turns) pass
_TRI_BLOCK = 128
#: sessions up to this many non-zero turns are expanded densely once for the triangular pass
_TRI_WHOLE = 4096
#: pairs per block of the row-wise pair pass (emb_cosine)
_PAIR_BLOCK = 256

#: A66 HISTORY_WINDOW (ENGINE §3.2 memories M(t), METRICS m157 window L(t))
WINDOW = 10
#: m133 topic shift: cosine to the latest earlier non-empty same-role turn below COH_THRESHOLD
TOPIC_SHIFT_THRESHOLD = 0.08

EMB_TYPE = pa.struct(
    [
        pa.field("emb", pa.binary()),
        pa.field("emb_norm2", pa.int64()),
        pa.field("emb_nnz", pa.int32()),
        pa.field("n_grams", pa.int64()),
    ]
)
EMB_SQL_TYPE = "STRUCT(emb BLOB, emb_norm2 BIGINT, emb_nnz INTEGER, n_grams BIGINT)"

CONTEXT_FIELDS = [
    pa.field("cos_prev", pa.float64()),
    pa.field("rag_align", pa.float64()),
    pa.field("relevance", pa.float64()),
    pa.field("coherence", pa.float64()),
    pa.field("novelty", pa.float64()),
    pa.field("topic_shift", pa.int32()),
]


# --- the hash and the reference definition ---------------------------------------------------------


@lru_cache(maxsize=1 << 20)
def gram_slot(gram: str) -> tuple[int, int]:
    """(index, sign) of one char-gram: BLAKE2b digest_size 8, little-endian, index h mod 1024."""
    h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "little")
    return h % DIM, (1 if h < _HALF else -1)


def token_vector(token: str) -> tuple[np.ndarray, np.ndarray]:
    """One token's integer vector: sorted non-zero indices (int16) and their values (int64)."""
    acc: dict[int, int] = {}
    for gram in chargrams([token]):
        index, sign = gram_slot(gram)
        acc[index] = acc.get(index, 0) + sign
    keys = sorted(k for k, v in acc.items() if v != 0)
    return np.array(keys, dtype=np.int16), np.array([acc[k] for k in keys], dtype=np.int64)


def emb(text: str | None) -> np.ndarray:
    """emb(text) as a dense int64 vector of length 1024 (the reference definition, one text)."""
    x = np.zeros(DIM, dtype=np.int64)
    for gram in chargrams(tokens(text)):
        index, sign = gram_slot(gram)
        x[index] += sign
    return x


def cosine(x: Sequence[int], y: Sequence[int]) -> float:
    """Exact cosine of two integer vectors (Python integers, no overflow); 0 if one is zero."""
    xs = [int(v) for v in x]
    ys = [int(v) for v in y]
    xx = sum(v * v for v in xs)
    yy = sum(v * v for v in ys)
    if xx == 0 or yy == 0:
        return 0.0
    return sum(a * b for a, b in zip(xs, ys)) / math.sqrt(float(xx) * float(yy))


def cos_from_dots(dot: np.ndarray, xx: np.ndarray, yy: np.ndarray) -> np.ndarray:
    """Vectorised cosine from exact integer dots and squared norms; 0 where a norm is 0."""
    dot = np.asarray(dot, dtype=np.float64)
    den = np.sqrt(np.asarray(xx, dtype=np.float64) * np.asarray(yy, dtype=np.float64))
    shape = np.broadcast_shapes(dot.shape, den.shape)
    out = np.zeros(shape, dtype=np.float64)
    np.divide(dot, den, out=out, where=np.broadcast_to(den > 0, shape))
    return out


# --- BLAS threads ------------------------------------------------------------------------------------


def _openblas_set_local() -> Callable[[int], int] | None:
    """`openblas_set_num_threads_local` of the OpenBLAS bundled with numpy, or None.

    It sets the BLAS thread count of the calling thread only and returns the previous value.
    """
    base = os.path.dirname(np.__file__)
    for folder in (os.path.join(base, os.pardir, "numpy.libs"), os.path.join(base, ".dylibs")):
        for path in sorted(glob.glob(os.path.join(folder, "*openblas*"))):
            try:
                func = ctypes.CDLL(path).openblas_set_num_threads_local
            except (OSError, AttributeError):
                continue
            func.argtypes = [ctypes.c_int]
            func.restype = ctypes.c_int
            return func
    return None


_BLAS_SET_LOCAL = _openblas_set_local()


@contextmanager
def single_thread_blas() -> Iterator[None]:
    """Run the block with one BLAS thread in this thread (no effect without numpy's OpenBLAS).

    The session pass makes thousands of small matrix products; multi-threaded OpenBLAS spends
    more time synchronising its threads than computing, and on a busy machine a pass measured
    15-20 s instead of 2-3 s single-threaded (results are identical: the products are exact).
    """
    if _BLAS_SET_LOCAL is None:
        yield
        return
    previous = _BLAS_SET_LOCAL(1)
    try:
        yield
    finally:
        _BLAS_SET_LOCAL(previous)


# --- sparse rows ------------------------------------------------------------------------------------


@dataclass
class Sparse:
    """Row-compressed integer vectors: row r is idx/val[indptr[r]:indptr[r+1]], indices sorted."""

    indptr: np.ndarray  # int64, n + 1, starting at 0
    idx: np.ndarray  # int16
    val: np.ndarray  # int32 (int64 accepted), never 0
    _stats: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.indptr) - 1

    def _segment_sum(self, values: np.ndarray) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        filled = np.flatnonzero(np.diff(self.indptr) != 0)
        if len(filled):
            out[filled] = np.add.reduceat(values, self.indptr[filled], dtype=np.int64)
        return out

    def compress(self, rows: np.ndarray) -> Sparse:
        """The given rows when every other row is empty: a view, no copy of the entries."""
        rows = np.asarray(rows, dtype=np.int64)
        if int(self.indptr[-1]) != int(np.diff(self.indptr)[rows].sum()):
            raise ValueError("compress: a dropped row is not empty")
        out = Sparse(np.append(self.indptr[rows], self.indptr[-1]), self.idx, self.val)
        for key, value in self._stats.items():
            out._stats[key] = value[rows]
        return out

    def norm2(self) -> np.ndarray:
        """x.x of every row (int64, exact), computed in row chunks (no full-size temporaries)."""
        if "norm2" not in self._stats:
            out = np.zeros(self.n, dtype=np.int64)
            for r0 in range(0, self.n, _NORM_CHUNK):
                r1 = min(self.n, r0 + _NORM_CHUNK)
                a, b = int(self.indptr[r0]), int(self.indptr[r1])
                if a == b:
                    continue
                val = self.val[a:b]
                top = max(abs(int(val.max())), abs(int(val.min())))
                widest = int(np.diff(self.indptr[r0 : r1 + 1]).max())
                if float(top) * float(top) * widest >= 2.0**63:
                    raise ValueError("embedding too large for an exact int64 norm")
                part = Sparse(self.indptr[r0 : r1 + 1] - a, self.idx[a:b], val)
                out[r0:r1] = part._segment_sum(np.multiply(val, val, dtype=np.int64))
            self._stats["norm2"] = out
        return self._stats["norm2"]

    def take(self, rows: np.ndarray) -> Sparse:
        """The given rows, in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.indptr[rows]
        lengths = self.indptr[rows + 1] - starts
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        pos = np.arange(int(indptr[-1]), dtype=np.int64) - np.repeat(indptr[:-1] - starts, lengths)
        return Sparse(indptr, self.idx[pos], self.val[pos])

    def dense(self, lo: int = 0, hi: int | None = None, dtype: type = np.float64) -> np.ndarray:
        """Rows lo..hi-1 as a dense (hi - lo, 1024) array."""
        hi = self.n if hi is None else hi
        a, b = int(self.indptr[lo]), int(self.indptr[hi])
        out = np.zeros((hi - lo, DIM), dtype=dtype)
        rows = np.repeat(np.arange(hi - lo), np.diff(self.indptr[lo : hi + 1]))
        out[rows, self.idx[a:b].astype(np.int64)] = self.val[a:b]
        return out


def exact_dtype(a: Sparse, a_rows: np.ndarray | slice, b: Sparse, b_rows: np.ndarray | slice):
    """The narrowest dense dtype in which every a_i.b_j of these rows is computed exactly."""
    na, nb = a.norm2()[a_rows], b.norm2()[b_rows]
    if len(na) == 0 or len(nb) == 0:
        return np.float32
    return dtype_for_norms(float(na.max()), float(nb.max()))


def dtype_for_norms(max_norm2_a: float, max_norm2_b: float):
    """Dense dtype for dots between rows whose squared norms are at most these.

    Every product and partial sum of a_i.b_j is an integer of magnitude at most
    sum |a_ik b_jk| <= |a_i| |b_j| (Cauchy-Schwarz), and every entry is at most its row's norm.
    """
    ra, rb = math.sqrt(max_norm2_a), math.sqrt(max_norm2_b)
    bound = max(ra * rb, ra, rb) * (1.0 + 1e-12)
    if bound < _F32_EXACT:
        return np.float32
    if bound < _F64_EXACT:
        return np.float64
    if bound < _I64_SAFE:
        return np.int64
    raise ValueError("embedding dot product too large to compute exactly (text far too long)")


def exact_dots(a: Sparse, b: Sparse) -> np.ndarray:
    """All dot products a_i . b_j as exact integers held in float64, shape (a.n, b.n)."""
    dtype = exact_dtype(a, slice(None), b, slice(None))
    return (a.dense(dtype=dtype) @ b.dense(dtype=dtype).T).astype(np.float64)


def pair_dots(z: Sparse, ks: np.ndarray, js: np.ndarray) -> np.ndarray:
    """z_k . z_j for the given pairs (exact, as float64).

    Row-wise: the k rows of a block of pairs are expanded densely, and each pair adds
    val_j * dense_k[idx_j] over the non-zero entries of z_j, so the work is the number of
    non-zero entries of the j rows, whatever the distance between k and j.
    """
    ks = np.asarray(ks, dtype=np.int64)
    js = np.asarray(js, dtype=np.int64)
    out = np.zeros(len(ks), dtype=np.float64)
    order = np.argsort(ks, kind="stable")
    for s in range(0, len(order), _PAIR_BLOCK):
        sel = order[s : s + _PAIR_BLOCK]
        rows, local = np.unique(ks[sel], return_inverse=True)
        dtype = exact_dtype(z, rows, z, js[sel])
        if dtype is np.float32:
            dtype = np.float64  # the row-wise sums below accumulate in float64: still exact
        dense = z.take(rows).dense(dtype=dtype)
        other = z.take(js[sel])
        owner = np.repeat(local, np.diff(other.indptr))
        prod = dense[owner, other.idx.astype(np.int64)] * other.val.astype(dtype)
        sums = np.zeros(len(sel), dtype=dtype)
        filled = np.flatnonzero(np.diff(other.indptr) != 0)
        if len(filled):
            sums[filled] = np.add.reduceat(prod, other.indptr[filled])
        out[sel] = sums
    return out


def row_dots(x: Sparse, y: Sparse, rows: np.ndarray) -> np.ndarray:
    """x_r . y_r for the given rows r of two equally long row sets (exact, as float64)."""
    both = Sparse(
        np.concatenate([x.indptr, y.indptr[1:] + x.indptr[-1]]),
        np.concatenate([x.idx, y.idx]),
        np.concatenate([x.val, y.val]),
    )
    rows = np.asarray(rows, dtype=np.int64)
    return pair_dots(both, rows, rows + x.n)


class _TokenTable:
    """Cache token -> integer vector (row-compressed, for vectorised gathering) and gram count."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self.ids: dict[str, int] = {}
        self._ptr: list[int] = [0]
        self._grams: list[int] = []
        self.ptr = np.zeros(1, dtype=np.int64)
        self.idx = np.zeros(0, dtype=np.int32)  # gram index
        self.val = np.zeros(0, dtype=np.float64)  # integer count, as the bincount weight
        self.grams = np.zeros(0, dtype=np.int64)

    def lookup(self, words: list[str]) -> tuple[np.ndarray, ...]:
        """Ids of `words` and the (ptr, idx, val, grams) arrays they index, consistent together."""
        with self._lock:
            ids = list(map(self.ids.get, words))
            if None in ids:
                if len(self.ids) + len(words) > _TOKEN_CACHE_MAX:
                    self._clear()
                new_idx: list[np.ndarray] = []
                new_val: list[np.ndarray] = []
                for token in words:
                    if token not in self.ids:
                        index, value = token_vector(token)
                        self.ids[token] = len(self._grams)
                        self._ptr.append(self._ptr[-1] + len(index))
                        self._grams.append(len(chargrams([token])))
                        new_idx.append(index)
                        new_val.append(value)
                self.ptr = np.array(self._ptr, dtype=np.int64)
                self.grams = np.array(self._grams, dtype=np.int64)
                self.idx = np.concatenate([self.idx, *new_idx]).astype(np.int32)
                self.val = np.concatenate([self.val, *new_val]).astype(np.float64)
                ids = list(map(self.ids.get, words))
            found = np.fromiter(ids, dtype=np.int64, count=len(ids))
            return found, self.ptr, self.idx, self.val, self.grams


_TOKENS = _TokenTable()


def embed_tokens(token_lists: Sequence[Sequence[str]]) -> tuple[Sparse, np.ndarray]:
    """emb of every token list (as `Sparse`) and each list's gram count (int64)."""
    counts = np.fromiter(map(len, token_lists), dtype=np.int64, count=len(token_lists))
    flat = list(chain.from_iterable(token_lists))
    uniq = list(dict.fromkeys(flat))
    position = {token: i for i, token in enumerate(uniq)}
    occurrences = np.fromiter(map(position.__getitem__, flat), dtype=np.int64, count=len(flat))
    return embed_occurrences(uniq, occurrences, counts)


def embed_occurrences(
    uniq: list[str], occurrences: np.ndarray, counts: np.ndarray
) -> tuple[Sparse, np.ndarray]:
    """emb of texts given as token occurrences: text i holds the next counts[i] entries of
    `occurrences`, each an index into the distinct tokens `uniq`. Returns (Sparse, gram counts)."""
    found, ptr, tidx, tval, tgrams = _TOKENS.lookup(uniq)
    ids = found[occurrences]
    bounds = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    n = len(counts)
    parts = [
        _embed_chunk(
            ids[bounds[s] : bounds[min(n, s + _EMBED_CHUNK)]],
            counts[s : s + _EMBED_CHUNK],
            ptr,
            tidx,
            tval,
        )
        for s in range(0, n, _EMBED_CHUNK)
    ]
    owner = np.repeat(np.arange(n, dtype=np.int64), counts)
    n_grams = np.bincount(owner, weights=tgrams[ids], minlength=n).astype(np.int64)
    if not parts:
        return Sparse(np.zeros(1, np.int64), np.zeros(0, np.int16), np.zeros(0, np.int32)), n_grams
    if len(parts) == 1:
        return parts[0], n_grams
    shift = np.cumsum([0] + [int(p.indptr[-1]) for p in parts[:-1]])
    indptr = np.concatenate([[0]] + [p.indptr[1:] + o for p, o in zip(parts, shift)])
    sparse = Sparse(
        indptr.astype(np.int64),
        np.concatenate([p.idx for p in parts]),
        np.concatenate([p.val for p in parts]),
    )
    return sparse, n_grams


def _embed_chunk(
    ids: np.ndarray, counts: np.ndarray, ptr: np.ndarray, tidx: np.ndarray, tval: np.ndarray
) -> Sparse:
    """Sum the cached token vectors of up to _EMBED_CHUNK texts (int32 keys: n * 1024 < 2^31)."""
    n = len(counts)
    starts = ptr[ids]
    lengths = ptr[ids + 1] - starts
    ends = np.cumsum(lengths)
    pos = np.arange(int(ends[-1]) if len(ends) else 0, dtype=np.int64)
    pos += np.repeat(starts - (ends - lengths), lengths)
    owner = np.repeat(np.repeat(np.arange(n, dtype=np.int32) * DIM, counts), lengths)
    key = owner + tidx[pos]
    # float64 sums of integers: exact while a bin stays below 2^53 grams
    dense = np.bincount(key, weights=tval[pos], minlength=n * DIM)
    cells = np.flatnonzero(dense != 0)
    indptr = np.searchsorted(cells, np.arange(n + 1, dtype=np.int64) * DIM).astype(np.int64)
    values = dense[cells]
    if len(values) and np.abs(values).max() > _INT32_MAX:
        raise ValueError("embedding value exceeds INTEGER (text far too long)")
    return Sparse(indptr, (cells % DIM).astype(np.int16), values.astype(np.int32))


def embed_texts(texts: Sequence[str | None]) -> tuple[Sparse, np.ndarray]:
    """emb of every text (NULL = '') as `Sparse`, and each text's gram count."""
    return embed_tokens([tokens(t) for t in texts])


def embed_token_lists(token_lists: pa.Array | pa.ChunkedArray) -> tuple[Sparse, np.ndarray]:
    """emb of an Arrow column of token lists (VARCHAR[], one list per text, no NULL lists).

    The tokens are dictionary-encoded in Arrow, so Python touches each distinct token once.
    """
    off, child = list_parts(token_lists, "tokens")
    require_no_nulls(child, "token")
    if len(child):
        encoded = pc.dictionary_encode(child)
        uniq = encoded.dictionary.to_pylist()
        occurrences = np.asarray(encoded.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    else:
        uniq, occurrences = [], np.zeros(0, np.int64)
    return embed_occurrences(uniq, occurrences, np.diff(off))


# --- packing ------------------------------------------------------------------------------------

#: packed layout of one non-zero embedding: a kind byte, the 1024-bit presence bitmap (128 bytes,
#: bit i of byte j <-> index 8j + i), then one value per set bit in index order: int8 (kind 1) or
#: little-endian int32 (kind 2, only when a value leaves -127..127). The zero vector is b"".
_BITMAP = DIM // 8
_HEADER = 1 + _BITMAP
_NARROW, _WIDE = 1, 2
#: rows packed / BLOBs decoded per scratch chunk (small scratch arrays stay in the allocator)
_PACK_CHUNK = 256
_UNPACK_CHUNK = 256
#: rows per chunk when summing squares for x.x
_NORM_CHUNK = 4096


def pack(sparse: Sparse) -> pa.Array:
    """One BLOB per row in the packed layout above (about 1.5 bytes per non-zero entry).

    Rows are packed in chunks of _PACK_CHUNK: small scratch arrays are reused by the allocator,
    large ones are fresh pages every call (measured 8 ms against 45 ms per 2048 rows).
    """
    if sparse.n <= _PACK_CHUNK:
        return _pack_rows(sparse)
    parts = []
    for r0 in range(0, sparse.n, _PACK_CHUNK):
        r1 = min(sparse.n, r0 + _PACK_CHUNK)
        a, b = int(sparse.indptr[r0]), int(sparse.indptr[r1])
        rows = Sparse(sparse.indptr[r0 : r1 + 1] - a, sparse.idx[a:b], sparse.val[a:b])
        parts.append(_pack_rows(rows))
    return pa.concat_arrays(parts)


def _pack_rows(sparse: Sparse) -> pa.Array:
    n = sparse.n
    nnz = np.diff(sparse.indptr)
    filled = np.flatnonzero(nnz > 0)
    top = np.zeros(n, dtype=np.int64)
    if len(filled):
        if max(abs(int(sparse.val.max())), abs(int(sparse.val.min()))) > _INT32_MAX:
            raise ValueError("embedding value exceeds INTEGER (text far too long)")
        magnitude = np.abs(sparse.val.astype(np.int32))
        top[filled] = np.maximum.reduceat(magnitude, sparse.indptr[filled])
    wide = top > 127
    width = np.where(wide, 4, 1)
    length = np.where(nnz > 0, _HEADER + nnz * width, 0)
    offsets = np.concatenate(([0], np.cumsum(length))).astype(np.int64)
    if offsets[-1] > _INT32_MAX:
        raise ValueError("pack: too many embeddings in one call")
    data = np.empty(int(offsets[-1]), dtype=np.uint8)
    # headers: kind byte and presence bitmap (bit idx % 8 of byte idx // 8) of non-empty rows
    rank = np.repeat(np.cumsum(nnz > 0) - 1, nnz)  # each entry's row among `filled`
    idx = sparse.idx.astype(np.int64)
    bitmap = np.bincount(
        rank * _BITMAP + (idx >> 3),
        weights=np.left_shift(1, idx & 7),
        minlength=len(filled) * _BITMAP,
    ).astype(np.uint8)  # indices are unique per row: each bit is added once
    header = np.empty((len(filled), _HEADER), dtype=np.uint8)
    header[:, 0] = np.where(wide[filled], _WIDE, _NARROW)
    header[:, 1:] = bitmap.reshape(len(filled), _BITMAP)
    data[offsets[filled][:, None] + np.arange(_HEADER)[None, :]] = header
    # values: entry e of row r goes to offsets[r] + HEADER + (e - indptr[r]) * width[r]
    if not wide.any():
        base = offsets[:-1] - sparse.indptr[:-1] + _HEADER
        at = np.repeat(base, nnz) + np.arange(len(sparse.val), dtype=np.int64)
        data[at] = sparse.val.astype(np.int8).view(np.uint8)
    else:
        rows = np.repeat(np.arange(n, dtype=np.int64), nnz)
        within = np.arange(len(sparse.val), dtype=np.int64) - sparse.indptr[rows]
        at = offsets[rows] + _HEADER + within * width[rows]
        narrow = ~wide[rows]
        data[at[narrow]] = sparse.val[narrow].astype(np.int8).view(np.uint8)
        wide_bytes = sparse.val[~narrow].astype("<i4").view(np.uint8).reshape(-1, 4)
        data[at[~narrow][:, None] + np.arange(4)[None, :]] = wide_bytes
    return pa.Array.from_buffers(
        pa.binary(),
        n,
        [None, pa.py_buffer(offsets.astype(np.int32).tobytes()), pa.py_buffer(data)],
    )


def unpack(blobs: pa.Array | pa.ChunkedArray, what: str = "emb") -> Sparse:
    """Rows from a BLOB column written by `pack` (no NULLs); a malformed BLOB raises.

    Decoded in chunks of _UNPACK_CHUNK rows, so the scratch memory stays a few MB.
    """
    blobs = combined(blobs)
    require_no_nulls(blobs, what)
    if not (pa.types.is_binary(blobs.type) or pa.types.is_large_binary(blobs.type)):
        raise ValueError(f"{what}: expected BLOB values, got {blobs.type}")
    n = len(blobs)
    kind_of = np.int64 if pa.types.is_large_binary(blobs.type) else np.int32
    bufs = blobs.buffers()
    offsets = np.frombuffer(
        bufs[1], dtype=kind_of, count=n + 1, offset=blobs.offset * np.dtype(kind_of).itemsize
    ).astype(np.int64)
    total = int(offsets[-1] - offsets[0])
    data = (
        np.frombuffer(bufs[2], dtype=np.uint8, count=total, offset=int(offsets[0]))
        if total
        else np.zeros(0, dtype=np.uint8)
    )
    offsets = offsets - offsets[0]
    counts, idx_parts, val_parts = [], [], []
    for r0 in range(0, n, _UNPACK_CHUNK):
        count, idx, val = _unpack_rows(data, offsets[r0 : r0 + _UNPACK_CHUNK + 1], what)
        counts.append(count)
        idx_parts.append(idx)
        val_parts.append(val)
    nnz = np.concatenate(counts) if counts else np.zeros(0, dtype=np.int64)
    return Sparse(
        np.concatenate(([0], np.cumsum(nnz))).astype(np.int64),
        np.concatenate(idx_parts) if idx_parts else np.zeros(0, dtype=np.int16),
        np.concatenate(val_parts) if val_parts else np.zeros(0, dtype=np.int32),
    )


def _unpack_rows(
    data: np.ndarray, offsets: np.ndarray, what: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(non-zero count per row, indices, values) of the BLOBs data[offsets[i]:offsets[i+1]]."""
    n = len(offsets) - 1
    length = np.diff(offsets)
    filled = np.flatnonzero(length > 0)
    start = offsets[filled]
    if (length[filled] < _HEADER).any():
        raise ValueError(f"{what}: a BLOB is shorter than its header")
    kind = data[start]
    if ((kind != _NARROW) & (kind != _WIDE)).any():
        raise ValueError(f"{what}: unknown BLOB kind")
    bitmap = data[start[:, None] + np.arange(1, _HEADER)[None, :]]
    bits = np.unpackbits(bitmap, axis=1, bitorder="little").view(bool)  # 0/1 bytes as bool
    count = bits.sum(axis=1, dtype=np.int64)
    width = np.where(kind == _WIDE, 4, 1)
    if (count == 0).any() or (length[filled] != _HEADER + count * width).any():
        raise ValueError(f"{what}: BLOB length does not match its bitmap")
    cols = np.flatnonzero(bits.ravel()) & (DIM - 1)  # row-major: index order within each row
    first = np.cumsum(count) - count
    entry_width = np.repeat(width, count)
    at = (
        np.repeat(start + _HEADER, count)
        + (np.arange(len(cols)) - np.repeat(first, count)) * entry_width
    )
    val = np.empty(len(cols), dtype=np.int32)
    narrow = entry_width == 1
    val[narrow] = data[at[narrow]].view(np.int8)
    if not narrow.all():
        raw = data[at[~narrow][:, None] + np.arange(4)[None, :]]
        val[~narrow] = np.ascontiguousarray(raw).view("<i4").reshape(-1)
    if (val == 0).any():
        raise ValueError(f"{what}: holds a 0 value (only non-zero entries are stored)")
    nnz = np.zeros(n, dtype=np.int64)
    nnz[filled] = count
    return nnz, cols.astype(np.int16), val


# --- Arrow helpers ----------------------------------------------------------------------------------


def combined(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """One contiguous Arrow array (DuckDB hands arrow UDFs chunked arrays)."""
    if isinstance(arr, pa.ChunkedArray):
        return arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    return arr


def require_no_nulls(arr: pa.Array, what: str) -> None:
    """Raise instead of reading a NULL as some value."""
    if arr.null_count:
        raise ValueError(f"{what}: NULL values are not allowed")


def list_parts(arr: pa.Array | pa.ChunkedArray, what: str) -> tuple[np.ndarray, pa.Array]:
    """(offsets starting at 0, the matching slice of the child) of a list column without NULLs."""
    arr = combined(arr)
    require_no_nulls(arr, what)
    off = np.asarray(arr.offsets, dtype=np.int64)
    child = arr.values.slice(int(off[0]), int(off[-1] - off[0]))
    return off - off[0], child


def session_values(
    outer: pa.Array, off: np.ndarray | None, what: str
) -> tuple[np.ndarray, pa.Array]:
    """(session offsets, flat per-turn child) of a list column; checked against `off` if given."""
    o, child = list_parts(outer, what)
    if off is not None and not np.array_equal(o, off):
        raise ValueError(f"{what}: session lists differ in length from the other inputs")
    require_no_nulls(child, what)
    return o, child


def session_flags(outer: pa.Array, off: np.ndarray, what: str) -> np.ndarray:
    """A per-turn 0/1 list column as a bool array (any non-zero value is 1)."""
    _, child = session_values(outer, off, what)
    return np.asarray(child.to_numpy(zero_copy_only=False)) != 0


def per_session_lists(off: np.ndarray, fields: list[pa.Field], columns: list) -> pa.Array:
    """One list of structs per session, the structs built from per-turn columns."""
    arrays = [
        col.cast(f.type) if isinstance(col, pa.Array) else pa.array(col, type=f.type)
        for f, col in zip(fields, columns)
    ]
    struct = pa.StructArray.from_arrays(arrays, fields=fields)
    return pa.ListArray.from_arrays(pa.array(off.astype(np.int32), pa.int32()), struct)


# --- udf:embedding ----------------------------------------------------------------------------------


def _emb_struct(sparse: Sparse, n_grams: np.ndarray) -> pa.Array:
    return pa.StructArray.from_arrays(
        [
            pack(sparse),
            pa.array(sparse.norm2(), pa.int64()),
            pa.array(np.diff(sparse.indptr).astype(np.int32), pa.int32()),
            pa.array(n_grams, pa.int64()),
        ],
        fields=list(EMB_TYPE),
    )


@udf(args=["VARCHAR"], returns=EMB_SQL_TYPE)
def emb_sparse(texts: pa.Array) -> pa.Array:
    """Per turn: emb(text) packed (BLOB), x.x, the number of non-zero entries, the gram count."""
    return _emb_struct(*embed_texts(texts.to_pylist()))


@udf(args=["VARCHAR[]"], returns=EMB_SQL_TYPE)
def emb_sparse_tokens(token_lists: pa.Array) -> pa.Array:
    """emb_sparse from the turn's tokens(text) list (e.g. feat_text.tokens) instead of its text."""
    return _emb_struct(*embed_token_lists(token_lists))


@udf(args=["BLOB"], returns="STRUCT(emb_idx SMALLINT[], emb_val INTEGER[])")
def emb_unpack(blobs: pa.Array) -> pa.Array:
    """A packed embedding as its index and value lists (for inspection)."""
    sparse = unpack(blobs)
    offsets = pa.array(sparse.indptr.astype(np.int32), pa.int32())
    return pa.StructArray.from_arrays(
        [
            pa.ListArray.from_arrays(offsets, pa.array(sparse.idx, pa.int16())),
            pa.ListArray.from_arrays(offsets, pa.array(sparse.val, pa.int32())),
        ],
        names=["emb_idx", "emb_val"],
    )


@udf(args=["BLOB", "BLOB"], returns="DOUBLE")
def emb_cosine(a: pa.Array, b: pa.Array) -> pa.Array:
    """Row-wise exact cosine of two packed embeddings; 0 if either is zero or NULL."""
    a, b = combined(a), combined(b)
    valid = ~np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    valid &= ~np.asarray(b.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(valid)
    out = np.zeros(len(a), dtype=np.float64)
    if len(rows):
        take = pa.array(rows)
        x, y = unpack(a.take(take)), unpack(b.take(take))
        dots = row_dots(x, y, np.arange(x.n))
        out[rows] = np.clip(cos_from_dots(dots, x.norm2(), y.norm2()), -1.0, 1.0)
    return pa.array(out, pa.float64())


# --- the per-session pass ---------------------------------------------------------------------------


def last_before(cond: np.ndarray, start: np.ndarray) -> np.ndarray:
    """For every turn t: the latest turn j < t of its session with cond[j], else -1.

    `start[t]` is the first turn of t's session (sessions are consecutive in the arrays).
    """
    n = len(cond)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    upto = np.maximum.accumulate(np.where(cond, np.arange(n), -1))
    before = np.concatenate(([-1], upto[:-1]))
    return np.where(before >= start, before, -1).astype(np.int64)


@dataclass
class Batch:
    """Turns of whole sessions, concatenated in session order and turn order within each.

    The non-zero vectors form the compressed rows `z` (in the same order); `comp_start[k]` is
    the first compressed row of row k's session.
    """

    vectors: Sparse  # one row per turn
    offsets: np.ndarray  # int64, session s = turns offsets[s]:offsets[s+1]

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        self.start = np.repeat(self.offsets[:-1], np.diff(self.offsets)).astype(np.int64)
        self.norm2 = self.vectors.norm2()
        self.nonzero = self.norm2 > 0
        #: non-zero turns of the batch strictly before each turn
        self.nz_before = (np.cumsum(self.nonzero) - self.nonzero).astype(np.int64)
        self.comp_turn = np.flatnonzero(self.nonzero)
        self.z = self.vectors.compress(self.comp_turn)
        self.zn = self.norm2[self.comp_turn].astype(np.float64)
        self.comp_start = self.nz_before[self.start[self.comp_turn]]

    def comp_of(self, turns: np.ndarray) -> np.ndarray:
        """Compressed row of each given turn (-1 where the turn is -1 or has the zero vector)."""
        turns = np.asarray(turns, dtype=np.int64)
        out = np.full(len(turns), -1, dtype=np.int64)
        ok = turns >= 0
        ok[ok] = self.nonzero[turns[ok]]
        out[ok] = self.nz_before[turns[ok]]
        return out


@dataclass
class SessionDots:
    """What the triangular pass hands to A_Phys and the context cosines (compressed rows)."""

    band: np.ndarray  # (m, width + 1): G[k, k-d] within the session, 0 across its start
    max_cos: np.ndarray  # (m,): max cos to an earlier row of the session, -inf if none
    pairs: np.ndarray  # dots of the requested (k, j) pairs, j earlier in k's session
    extra: np.ndarray  # (m, extra.n): dots with the extra vectors (the static danger centres)


def session_dots(
    z: Sparse,
    session_start: np.ndarray,
    width: int,
    pair_k: np.ndarray,
    pair_j: np.ndarray,
    extra: Sparse | None = None,
) -> SessionDots:
    """See `_session_dots`; runs with a single BLAS thread (`single_thread_blas`)."""
    with single_thread_blas():
        return _session_dots(z, session_start, width, pair_k, pair_j, extra)


def _session_dots(
    z: Sparse,
    session_start: np.ndarray,
    width: int,
    pair_k: np.ndarray,
    pair_j: np.ndarray,
    extra: Sparse | None = None,
) -> SessionDots:
    """One pass over the lower triangle of every session's Gram matrix (exact integer dots).

    session_start[k] is the first row of k's session (a session's rows are consecutive). Blocks
    of _TRI_BLOCK rows are multiplied with every row of their session up to the block's end
    (a session of at most _TRI_WHOLE rows is expanded densely once). From each block: the band,
    the requested pairs (session_start[k] <= j <= k), the dots with `extra`, and the best earlier
    cosine. The best is found by ranking dot / sqrt(z_j.z_j) in float32 and re-evaluating every
    column within a relative 1e-5 of the row's best with the exact cosine formula (the float32
    ranking error is below 1e-6 relative), so the maximum is the exact cosine of the best row.
    """
    n = z.n
    n_extra = 0 if extra is None else extra.n
    band = np.zeros((n, width + 1), dtype=np.float64)
    max_cos = np.full(n, -np.inf, dtype=np.float64)
    extra_dots = np.zeros((n, n_extra), dtype=np.float64)
    pair_k = np.asarray(pair_k, dtype=np.int64)
    pair_j = np.asarray(pair_j, dtype=np.int64)
    pair_dot = np.zeros(len(pair_k), dtype=np.float64)
    session_start = np.asarray(session_start, dtype=np.int64)
    if len(pair_k) and (
        pair_k.min() < 0
        or pair_k.max() >= n
        or ((pair_j < session_start[np.clip(pair_k, 0, max(n - 1, 0))]) | (pair_j > pair_k)).any()
    ):
        raise ValueError("session_dots: a pair leaves its session or looks ahead")
    if n == 0:
        return SessionDots(band, max_cos, pair_dot, extra_dots)
    norm2 = z.norm2().astype(np.float64)
    inv = (1.0 / np.sqrt(np.where(norm2 > 0, norm2, 1.0))).astype(np.float32)
    order = np.argsort(pair_k, kind="stable")
    sorted_k = pair_k[order]
    firsts = np.flatnonzero(np.concatenate(([True], np.diff(session_start) != 0)))
    ends = np.append(firsts[1:], n)
    lags = np.arange(width + 1)
    session_max = np.zeros(n)
    session_max[firsts] = np.maximum.reduceat(norm2, firsts)
    extra_max = float(extra.norm2().max()) if n_extra else 0.0
    for s0, s1 in zip(firsts.tolist(), ends.tolist()):
        whole = s1 - s0 <= _TRI_WHOLE
        if whole:
            top = float(session_max[s0])
            dtype = _wider(dtype_for_norms(top, top), dtype_for_norms(top, extra_max))
            session = z.dense(s0, s1, dtype)
        for a in range(s0, s1, _TRI_BLOCK):
            b = min(s1, a + _TRI_BLOCK)
            if whole:
                cols = session[: b - s0]
            else:
                top = float(norm2[s0:b].max())
                dtype = _wider(dtype_for_norms(top, top), dtype_for_norms(top, extra_max))
                cols = z.dense(s0, b, dtype)
            rows = cols[a - s0 :]
            dots = rows @ cols.T  # (b - a, b - s0), exact integers
            if n_extra:
                extra_dots[a:b] = rows @ extra.dense(dtype=dtype).T
            # band: row k against row k - d, both in the session
            local = np.arange(b - a)[:, None]
            col = (a - s0) + local - lags[None, :]
            ok = col >= 0
            sub = np.zeros((b - a, width + 1))
            sub[ok] = dots[np.broadcast_to(local, col.shape)[ok], col[ok]]
            band[a:b] = sub
            # requested pairs with k in this block
            lo, hi = np.searchsorted(sorted_k, [a, b])
            sel = order[lo:hi]
            pair_dot[sel] = dots[pair_k[sel] - a, pair_j[sel] - s0]
            # best earlier cosine
            if b - s0 > 1:
                score = dots.astype(np.float32, copy=False) * inv[None, s0:b]
                diag = score[:, a - s0 :]
                diag[np.triu_indices(b - a, 0, b - a)] = -np.inf
                best = score.max(axis=1)
                has = np.isfinite(best)
                thr = np.where(has, best - 1e-5 * np.abs(np.where(has, best, 0.0)), np.inf)
                cand_r, cand_c = np.nonzero(score >= thr[:, None])
                exact = cos_from_dots(
                    dots[cand_r, cand_c].astype(np.float64), norm2[a + cand_r], norm2[s0 + cand_c]
                )
                block_best = np.full(b - a, -np.inf)
                np.maximum.at(block_best, cand_r, exact)
                max_cos[a:b] = block_best
    return SessionDots(band, max_cos, pair_dot, extra_dots)


_WIDER = {np.float32: 0, np.float64: 1, np.int64: 2}


def _wider(*dtypes):
    return max(dtypes, key=_WIDER.__getitem__)


# --- METRICS P-5 ------------------------------------------------------------------------------------


def context_pairs(batch: Batch, roles: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(k, j) pairs the context needs: each non-zero turn with its partner (the latest earlier
    turn of the other role) and with its latest earlier non-zero same-role turn, where those
    have non-zero vectors; and how many of the pairs are partner pairs (they come first)."""
    n = batch.vectors.n
    roles = np.asarray(roles, dtype=np.int8)  # 0 user, 1 ai, 2 any other role
    start = batch.start
    last_user = last_before(roles == 0, start)
    last_ai = last_before(roles == 1, start)
    partner = np.where(roles == 0, last_ai, np.where(roles == 1, last_user, -1))
    same_nz = np.full(n, -1, dtype=np.int64)
    for code in (0, 1, 2):
        mine = roles == code
        same_nz[mine] = last_before(batch.nonzero & mine, start)[mine]
    k = np.arange(batch.z.n)
    t_partner = batch.comp_of(partner[batch.comp_turn])
    t_same = batch.comp_of(same_nz[batch.comp_turn])
    ok_p, ok_s = t_partner >= 0, t_same >= 0
    ks = np.concatenate([k[ok_p], k[ok_s]])
    js = np.concatenate([t_partner[ok_p], t_same[ok_s]])
    return ks, js, int(ok_p.sum())


def context_from_dots(
    batch: Batch,
    is_f_turn: np.ndarray,
    rag_safe_mode: np.ndarray,
    dots: SessionDots,
    pair_k: np.ndarray,
    pair_j: np.ndarray,
    n_partner: int,
) -> dict[str, np.ndarray]:
    """METRICS P-5 per turn from the session pass (v_t = emb(text_t), exact cosines).

    cos_prev (m114): cos(v_t, v_{t-1}), the immediately previous turn of any role; 0 on the first
      turn or if either vector is zero (clamped to [-1, 1]).
    relevance (m156): max(0, cos(v_t, v_q)), q = latest earlier turn of the other role (user <-> ai);
      0 if there is none or either vector is zero.
    coherence (m157): L = the last WINDOW turns j <= t with v_j != 0; 1 if |L| < 2, else
      clamp(mean of cos over consecutive pairs of L, 0, 1).
    novelty (m159): 0 if v_t = 0; 1 if no earlier turn has a non-zero vector; else
      1 - max(0, max_j cos(v_t, v_j)) over all earlier turns.
    rag_align (m142): C = M(t), the WINDOW latest earlier non-zero turns, without F-turns when
      rag_safe_mode(t); max(0, cos(v_t, sum of v_j over C)); 0 if v_t = 0, C empty or the sum zero.
    topic_shift (m133): 1 on the first turn; else 1 iff v_t != 0, an earlier non-zero turn q of the
      same role exists and cos(v_t, v_q) < 0.08 for the latest such q; else 0.
    """
    n = batch.vectors.n
    m = batch.z.n
    nz = batch.nonzero
    start = batch.start
    comp = batch.comp_turn
    zn = batch.zn
    band = dots.band
    is_f = np.asarray(is_f_turn, dtype=bool)
    safe = np.asarray(rag_safe_mode, dtype=bool)
    k = np.arange(m)
    out = {
        "cos_prev": np.zeros(n),
        "rag_align": np.zeros(n),
        "relevance": np.zeros(n),
        "coherence": np.ones(n),
        "novelty": np.zeros(n),
        "topic_shift": np.zeros(n, dtype=np.int32),
    }
    if n == 0:
        return out
    turn = np.arange(n)
    out["topic_shift"][turn == start] = 1

    # m114: the previous turn, when non-zero, is the previous compressed row
    prev = np.where(turn > start, turn - 1, -1)
    t_prev = batch.comp_of(prev[comp])
    ok = t_prev >= 0
    out["cos_prev"][comp[ok]] = np.clip(cos_from_dots(band[ok, 1], zn[ok], zn[t_prev[ok]]), -1, 1)

    # m156 (partner pairs) and m133 (same-role pairs)
    pk, pj = pair_k[:n_partner], pair_j[:n_partner]
    out["relevance"][comp[pk]] = np.clip(
        cos_from_dots(dots.pairs[:n_partner], zn[pk], zn[pj]), 0.0, 1.0
    )
    sk, sj = pair_k[n_partner:], pair_j[n_partner:]
    shift_cos = cos_from_dots(dots.pairs[n_partner:], zn[sk], zn[sj])
    out["topic_shift"][comp[sk[shift_cos < TOPIC_SHIFT_THRESHOLD]]] = 1

    # m159: all earlier non-zero turns of the session
    has_history = k > batch.comp_start
    out["novelty"][comp] = np.where(
        has_history, 1.0 - np.clip(np.where(has_history, dots.max_cos, 0.0), 0.0, 1.0), 1.0
    )

    # m157: consecutive cosines of the compressed sequence, cc[k] = cos(z_{k-1}, z_k)
    cc = np.zeros(m)
    if m > 1:
        cc[1:] = cos_from_dots(band[1:, 1], zn[1:], zn[:-1])
    upto = batch.nz_before + nz  # batch-level count of non-zero turns at or before t
    size = np.minimum(upto - batch.nz_before[start], WINDOW)
    acc = np.zeros(n)
    for i in range(1, WINDOW):
        use = i < size
        # the i-th consecutive pair of L ends at compressed row upto - size + i
        acc[use] = acc[use] + cc[(upto - size + i)[use]]
    many = size >= 2
    out["coherence"][many] = np.clip(acc[many] / (size[many] - 1), 0.0, 1.0)

    # m142: ctx = sum of the memories (F-turns left out in SAFE_MODE); exact integer sums of the
    # band: v_t.ctx = sum_j G[k, j], ctx.ctx = sum_{i, j in C} G[i, j] (all |i - j| < WINDOW)
    drop = safe[comp]
    row_f = is_f[comp]
    member = np.zeros((m, WINDOW + 1), dtype=bool)  # member[k, d]: row k-d is in C(k)
    for d in range(1, WINDOW + 1):
        j = k - d
        use = j >= batch.comp_start
        use[use] = ~(drop[use] & row_f[j[use]])
        member[:, d] = use
    dot_ctx = (band[:, 1:] * member[:, 1:]).sum(axis=1)
    ctx2 = np.zeros(m)
    for d in range(1, WINDOW + 1):
        rows_d = np.flatnonzero(member[:, d])
        ctx2[rows_d] += band[rows_d - d, 0]
        for e in range(d + 1, WINDOW + 1):
            both = rows_d[member[rows_d, e]]
            ctx2[both] += 2.0 * band[both - d, e - d]
    if m and max(np.abs(ctx2).max(), np.abs(dot_ctx).max()) >= _F64_EXACT:
        raise ValueError("rag_align context too large to compute exactly")
    out["rag_align"][comp] = np.clip(cos_from_dots(dot_ctx, zn, ctx2), 0.0, 1.0)
    return out


def context_batch(
    batch: Batch, roles: np.ndarray, is_f_turn: np.ndarray, rag_safe_mode: np.ndarray
) -> dict[str, np.ndarray]:
    """METRICS P-5 per turn for whole sessions on their own (see `context_from_dots`)."""
    ks, js, n_partner = context_pairs(batch, roles)
    dots = session_dots(batch.z, batch.comp_start, WINDOW, ks, js)
    return context_from_dots(batch, is_f_turn, rag_safe_mode, dots, ks, js, n_partner)


ROLE_CODES = {"user": 0, "ai": 1}


def role_codes(roles: Sequence[str | None]) -> np.ndarray:
    """0 for 'user', 1 for 'ai', 2 for anything else (no partner, never anyone's partner)."""
    return np.fromiter((ROLE_CODES.get(r, 2) for r in roles), dtype=np.int8, count=len(roles))
