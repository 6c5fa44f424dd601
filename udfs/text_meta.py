"""udf:text_meta — m147_meta_32, statement consistency of a turn (METRICS.md m147).

The block's implementation is this UDF, so it computes the metric value itself:

    s_1 ... s_m = token lists of sentences(text)          (udfs._text, ENGINE §1.1)
    m < 2 -> 1.0
    c = number of pairs i < j such that s_j contains, as a contiguous token run,
        ['nicht'] + s_i  or  s_i + ['nicht']             (a pair counts once)
    m147 = max(0, 1 - 0.2 * c)                            in [0, 1]

The spec's O(m^2) pairwise loop is evaluated without comparing every pair: for sentence j,
every run of s_j that directly follows or precedes a 'nicht' token and has the length of
some earlier sentence is a candidate; c adds, for each distinct candidate, how many earlier
sentences have exactly that token tuple. This is the same count (s_i is contained with the
'nicht' prefix or suffix iff s_i itself is such a run), and stays fast on a 20k-character
text of short sentences.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from evoki_sql import udf
from udfs._text import sentences, tokens

NEGATION = "nicht"

RESULT_TYPE = pa.struct(
    [
        pa.field("text_meta_consistency", pa.float64()),
        pa.field("text_meta_contradictions", pa.int64()),
        pa.field("text_meta_n_sent", pa.int32()),
    ]
)


def contradiction_pairs(statements: list[list[str]]) -> int:
    """c: pairs i < j where s_j contains [nicht] + s_i or s_i + [nicht] as a token run."""
    earlier: Counter[tuple[str, ...]] = Counter()
    lengths: set[int] = set()
    pairs = 0
    for sj in statements:
        if earlier:
            n = len(sj)
            negations = [p for p, tok in enumerate(sj) if tok == NEGATION]
            if negations:
                candidates: set[tuple[str, ...]] = set()
                for length in lengths:
                    for p in negations:
                        if p + 1 + length <= n:
                            candidates.add(tuple(sj[p + 1 : p + 1 + length]))
                        if p - length >= 0:
                            candidates.add(tuple(sj[p - length : p]))
                pairs += sum(earlier[c] for c in candidates if c in earlier)
        tup = tuple(sj)
        earlier[tup] += 1
        lengths.add(len(tup))
    return pairs


def text_meta_value(text: str | None) -> tuple[float, int, int]:
    """(m147_meta_32, c, number of sentences) of one text."""
    statements = [tokens(piece) for piece in sentences(text)]
    m = len(statements)
    if m < 2:
        return 1.0, 0, m
    c = contradiction_pairs(statements)
    return max(0.0, 1.0 - 0.2 * c), c, m


@udf(
    args=["VARCHAR"],
    returns=(
        "STRUCT(text_meta_consistency DOUBLE, text_meta_contradictions BIGINT, "
        "text_meta_n_sent INTEGER)"
    ),
)
def text_meta(texts: pa.Array) -> pa.Array:
    """Per turn: (m147 value, contradiction pair count c, sentence count)."""
    values: list[float] = []
    pairs: list[int] = []
    counts: list[int] = []
    for text in texts.to_pylist():
        value, c, m = text_meta_value(text)
        values.append(value)
        pairs.append(c)
        counts.append(m)
    return pa.StructArray.from_arrays(
        [pa.array(values, pa.float64()), pa.array(pairs, pa.int64()), pa.array(counts, pa.int32())],
        fields=list(RESULT_TYPE),
    )
