"""udf:core_char_entropy: m18's character entropy (udfs/part1_entropy.py), computed per batch with numpy.

    s = norm(text);  N = number of code points of s;  H = 0 if N = 0
    H = -sum_c (n_c / N) * log2(n_c / N)   over the distinct code points c of s

The value is bit-for-bit the one of part1_entropy.char_entropy: the same counts n_c, the same
division n_c / N (both exact integers below 2**53, one correctly rounded IEEE division), the
same math.log2 (applied to each distinct p of the batch, never numpy's own log2), the same
product, and the same sequential subtraction in order of first occurrence (H starts at 0.0 and
subtracts the k-th term of every text in step k). Only the counting is vectorized: the code
points of the batch are numbered densely, counted per (text, code point) with bincount, and the
first position of each pair orders the terms. A NULL input gives NULL.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa

from evoki_sql import udf

# (text, code point) cells of one counting pass; a larger batch is cut into slices
_MAX_CELLS = 1 << 22


def _entropies(texts: list[str]) -> np.ndarray:
    """Entropy in bits of each text (all non-NULL), as float64."""
    n_texts = len(texts)
    out = np.zeros(n_texts, dtype=np.float64)
    lengths = np.fromiter((len(s) for s in texts), dtype=np.int64, count=n_texts)
    total = int(lengths.sum())
    if total == 0:
        return out
    code_points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    # the batch's code points, numbered 0..width-1 (tables only as long as the largest one)
    per_code_point = np.bincount(code_points)
    alphabet = np.flatnonzero(per_code_point)
    width = alphabet.size
    if n_texts > 1 and n_texts * width > _MAX_CELLS:
        half = n_texts // 2
        return np.concatenate([_entropies(texts[:half]), _entropies(texts[half:])])
    number = np.zeros(per_code_point.size, dtype=np.int64)
    number[alphabet] = np.arange(width, dtype=np.int64)
    dense = number[code_points]
    text_of = np.repeat(np.arange(n_texts, dtype=np.int64), lengths)
    cell = text_of * width + dense
    counts = np.bincount(cell, minlength=n_texts * width)
    first = np.full(n_texts * width, total, dtype=np.int64)
    np.minimum.at(first, cell, np.arange(total, dtype=np.int64))
    held = np.flatnonzero(counts)
    # the terms text by text, each text's code points in order of first occurrence
    held = held[np.argsort(first[held], kind="stable")]
    term_text = held // width
    p = counts[held] / lengths[term_text]
    distinct_p, which = np.unique(p, return_inverse=True)
    log2_p = np.array([math.log2(x) for x in distinct_p.tolist()], dtype=np.float64)
    terms = p * log2_p[which]
    # step k subtracts the k-th term of every text that has more than k terms (the texts taken
    # in order of decreasing term count, so those of step k are a prefix)
    n_terms = np.bincount(term_text, minlength=n_texts)
    starts = np.concatenate(([0], np.cumsum(n_terms)[:-1]))
    by_terms = np.argsort(-n_terms, kind="stable")
    sorted_terms = n_terms[by_terms]
    for k in range(int(sorted_terms[0])):
        step_texts = by_terms[: int(np.count_nonzero(sorted_terms > k))]
        out[step_texts] -= terms[starts[step_texts] + k]
    return out


@udf(args=["VARCHAR"], returns="DOUBLE", vectorized="arrow", null_handling="default")
def core_char_entropy(texts: pa.Array) -> pa.Array:
    """Entropy per text of a batch (NULL stays NULL)."""
    values = texts.to_pylist()
    present = [s for s in values if s is not None]
    result = _entropies(present)
    if len(present) == len(values):
        return pa.array(result, pa.float64())
    it = iter(result.tolist())
    return pa.array([None if s is None else next(it) for s in values], pa.float64())
