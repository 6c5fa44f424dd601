"""udf:grain — m98_grain_sentiment, the local sentiment variance of a turn (METRICS.md m98).

The block's implementation is this UDF, so it computes the metric value itself:

    S = sentences(text); if |S| < 2: 0
    for each sentence s: P = lex_hits(sent_pos, s), N = lex_hits(sent_neg, s)
                         sigma_s = P / (P + N) if P + N > 0 else 0.5
    mu = mean(sigma); Var = mean((sigma_s - mu)^2)   (population, two passes)
    m98 = min(1, 4 * Var)                              in [0, 1]

`sentences` and `tokens` come from `udfs._text` (ENGINE §1.1); `lex_hits` is the ENGINE §2.4
matcher applied to the sentence piece: whole-token matches, longest term first, no overlap,
every accepted occurrence one hit (a sentence piece holds no [.!?] cut, so the segment rule
is trivially met). The sent_pos / sent_neg terms are not written here: the SQL side passes
them from the `lexika` seed, each list as one newline-joined string, so the seed stays the
only source. The lists have no inflected variants (ENGINE §2.4 rule 4 covers only the
safety lexica).
"""

from __future__ import annotations

import pyarrow as pa

from evoki_sql import udf
from udfs._text import sentences, tokens

RESULT_TYPE = pa.struct(
    [pa.field("grain_sentiment", pa.float64()), pa.field("grain_n_sent", pa.int32())]
)

TermSets = dict[int, frozenset[tuple[str, ...]]]


def compile_terms(terms: list[str]) -> TermSets:
    """Token tuples of the terms grouped by token length (ENGINE §2.4: tt(term) = tokens(term))."""
    by_len: dict[int, set[tuple[str, ...]]] = {}
    for term in terms:
        tt = tuple(tokens(term))
        if not tt:
            raise ValueError("grain: a keyword term has no tokens and could never match")
        by_len.setdefault(len(tt), set()).add(tt)
    return {k: frozenset(v) for k, v in by_len.items()}


def parse_terms(joined: str | None) -> TermSets:
    """The newline-joined term list passed from SQL, compiled."""
    if joined is None:
        raise ValueError("grain: the keyword list is NULL (is the lexika seed loaded?)")
    return compile_terms([t for t in joined.split("\n") if t != ""])


def lex_hits(tk: list[str], terms: TermSets) -> int:
    """Accepted occurrences: candidates by (length desc, position asc), no token used twice."""
    if not terms or not tk:
        return 0
    if set(terms) == {1}:
        singles = terms[1]
        return sum(1 for t in tk if (t,) in singles)
    n = len(tk)
    covered = bytearray(n)
    hits = 0
    for k in sorted(terms, reverse=True):
        found = terms[k]
        for i in range(n - k + 1):
            if tuple(tk[i : i + k]) in found and not any(covered[i : i + k]):
                covered[i : i + k] = b"\x01" * k
                hits += 1
    return hits


def grain_sentiment_value(text: str | None, pos: TermSets, neg: TermSets) -> tuple[float, int]:
    """(m98_grain_sentiment, number of sentences) of one text."""
    pieces = sentences(text)
    m = len(pieces)
    if m < 2:
        return 0.0, m
    sigmas: list[float] = []
    for piece in pieces:
        tk = tokens(piece)
        p = lex_hits(tk, pos)
        q = lex_hits(tk, neg)
        sigmas.append(p / (p + q) if p + q > 0 else 0.5)
    mu = sum(sigmas) / m
    var = sum((s - mu) * (s - mu) for s in sigmas) / m
    return min(1.0, max(0.0, 4.0 * var)), m


@udf(
    args=["VARCHAR", "VARCHAR", "VARCHAR"],
    returns="STRUCT(grain_sentiment DOUBLE, grain_n_sent INTEGER)",
)
def grain_sentiment(texts: pa.Array, pos_terms: pa.Array, neg_terms: pa.Array) -> pa.Array:
    """Per turn: (m98 value, sentence count); pos/neg = newline-joined sent_pos / sent_neg."""
    compiled: dict[tuple[str | None, str | None], tuple[TermSets, TermSets]] = {}
    values: list[float] = []
    counts: list[int] = []
    for text, pos, neg in zip(texts.to_pylist(), pos_terms.to_pylist(), neg_terms.to_pylist()):
        key = (pos, neg)
        sets = compiled.get(key)
        if sets is None:
            sets = (parse_terms(pos), parse_terms(neg))
            compiled[key] = sets
        value, m = grain_sentiment_value(text, sets[0], sets[1])
        values.append(value)
        counts.append(m)
    return pa.StructArray.from_arrays(
        [pa.array(values, pa.float64()), pa.array(counts, pa.int32())], fields=list(RESULT_TYPE)
    )
