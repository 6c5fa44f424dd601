"""udf:lexicon — the lexicon matcher of ENGINE §2.4 and the B_past patterns of ENGINE §2.6.

The matcher, for one lexicon LEX = {term: weight} and a text (tk = tokens(text)):

1. candidates: every (term, i) with tk[i .. i+k-1] == tokens(term); a phrase (k >= 2) must lie
   inside one segment of norm(text) cut at the runs of [.!?] (udfs._text.tokens_with_segments);
2. selection: candidates sorted by (k descending, i ascending); a candidate is accepted iff none
   of its token positions is covered by an accepted one;
3. every accepted occurrence is a hit;
4. an inflected variant (seed `lexika_variants`) is a candidate like a term, and its accepted
   occurrence is a hit of its base term, with the base term's weight.

Per text and lexicon: hits, nterms (distinct matched base terms), sum (weights of the distinct
terms), sum_occ (weights of all hits), max, score = min(1, sum / (1 + ln(1 + n_words))) and the
distinct terms in first-occurrence order (base spelling from the seed, e.g. `zum x-ten mal`).
Sums are exact (math.fsum), so they do not depend on any order.

The lexica are not written here. The SQL model passes them in from the seeds, as one list of
entries (lexicon, term, weight, surface): surface is what is matched (the term itself or one of
its variants), term and weight are what a hit counts as. All lexica are matched in one pass
over the tokens: every surface is indexed by its first token, so a text costs one dictionary
look-up per token plus the work for its candidates. The compiled index is cached by the
entries' content (a pure function of them), so the result never depends on how DuckDB batches
rows. To keep that list from being copied into every row, the UDFs take a whole batch of texts
per row (`VARCHAR[]`) and return one result per text, in order.

Optional: with EVOKI_UDF_WORKERS=N (N > 1) a call with PARALLEL_MIN_TEXTS texts or more (the
model passes every distinct text in one call) is split over N processes: this one and N - 1
workers started fresh by forkserver (never fork: DuckDB runs threads). Each text is matched on
its own, so the split changes only the time, never a result; the seed entries are checked here
before any worker sees them, and a worker that dies is replaced by doing its part here. The
default is 1: on a 2-core machine the gain was small (the GIL-free second core is often busy,
and a worker costs about a second to start), so it is opt-in for very large histories.

Entries are checked when compiled; anything the matcher cannot treat exactly raises (a NULL
field, a weight outside [0, 1] or not finite, a surface without tokens, two surfaces of one
lexicon with the same tokens but different base terms or weights).

`bpast_rx` applies the B_past regular expressions of the seed `b_past_patterns` with Python `re`
(no flags) to norm(text): bpast_rx_max = max weight of the patterns found at least once (0 if
none), bpast_rx_hits = number of non-overlapping matches summed over the patterns.

Pure functions for other modules and tests: compile_lexica, match_text, compile_patterns,
bpast_scan. No turn text is ever logged or put into an error message.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, compress
from typing import Any, NamedTuple

import pyarrow as pa

from evoki_sql import udf
from udfs._text import norm, tokens, tokens_with_segments

ENTRY_TYPE = "STRUCT(lexicon VARCHAR, term VARCHAR, weight DOUBLE, surface VARCHAR)"
PATTERN_TYPE = "STRUCT(pattern_id INTEGER, pattern VARCHAR, weight DOUBLE)"
LEX_STATS_TYPE = (
    "STRUCT(lexicon VARCHAR, hits INTEGER, nterms INTEGER, sum DOUBLE, sum_occ DOUBLE, "
    "max DOUBLE, score DOUBLE, terms VARCHAR[])"
)

_LEX_STATS_ARROW = pa.struct(
    [
        pa.field("lexicon", pa.string()),
        pa.field("hits", pa.int32()),
        pa.field("nterms", pa.int32()),
        pa.field("sum", pa.float64()),
        pa.field("sum_occ", pa.float64()),
        pa.field("max", pa.float64()),
        pa.field("score", pa.float64()),
        pa.field("terms", pa.list_(pa.string())),
    ]
)
_MATCH_ARROW = pa.struct(
    [pa.field("n_words", pa.int32()), pa.field("lexica", pa.list_(_LEX_STATS_ARROW))]
)
_BPAST_ARROW = pa.struct(
    [pa.field("bpast_rx_max", pa.float64()), pa.field("bpast_rx_hits", pa.int32())]
)

Entry = tuple[str, str, float, str]
Phrase = tuple[int, tuple[str, ...], int, int]


class LexStats(NamedTuple):
    """The matcher's result for one lexicon and one text (only lexica with a hit are listed)."""

    lexicon: str
    hits: int
    nterms: int
    sum: float
    sum_occ: float
    max: float
    score: float
    terms: tuple[str, ...]


@dataclass(frozen=True)
class CompiledLexica:
    """Every lexicon's surfaces indexed by their first token.

    index[token] = (singles, phrases): singles are (lexicon id, term id) of one-token surfaces;
    phrases maps the second token of surfaces with k >= 2 tokens to their
    (k, tokens after the second, lexicon id, term id), or is None.
    """

    names: tuple[str, ...]
    term_text: tuple[str, ...]
    term_weight: tuple[float, ...]
    index: dict[str, tuple[tuple[tuple[int, int], ...], dict[str, tuple[Phrase, ...]] | None]]


def compile_lexica(entries: Iterable[Entry]) -> CompiledLexica:
    """Compile (lexicon, term, weight, surface) entries; the lexicon order is first appearance."""
    names: dict[str, int] = {}
    term_ids: dict[tuple[int, str], int] = {}
    term_text: list[str] = []
    term_weight: list[float] = []
    seen: dict[tuple[int, tuple[str, ...]], int] = {}
    singles: dict[str, list[tuple[int, int]]] = {}
    phrases: dict[str, dict[str, list[Phrase]]] = {}
    for lexicon, term, weight, surface in entries:
        if lexicon is None or term is None or surface is None or weight is None:
            raise ValueError(
                f"lexicon: an entry has a NULL field (lexicon={lexicon!r}, term={term!r}); "
                "a variant whose base term is missing from the lexika seed has no weight"
            )
        weight = float(weight)
        if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
            raise ValueError(f"lexicon: weight of {lexicon}:{term} is {weight}, not in [0, 1]")
        lex_id = names.setdefault(lexicon, len(names))
        term_id = term_ids.get((lex_id, term))
        if term_id is None:
            term_id = term_ids[(lex_id, term)] = len(term_text)
            term_text.append(term)
            term_weight.append(weight)
        elif term_weight[term_id] != weight:
            raise ValueError(f"lexicon: {lexicon}:{term} has two weights")
        tt = tuple(tokens(surface))
        if not tt:
            raise ValueError(f"lexicon: {lexicon}:{surface!r} has no tokens and can never match")
        previous = seen.get((lex_id, tt))
        if previous is not None:
            if previous != term_id:
                raise ValueError(
                    f"lexicon: in {lexicon}, {surface!r} tokenises like a surface of another "
                    f"term ({term_text[previous]!r}); a hit would be ambiguous"
                )
            continue  # the same surface twice for the same term: one candidate
        seen[(lex_id, tt)] = term_id
        if len(tt) == 1:
            singles.setdefault(tt[0], []).append((lex_id, term_id))
        else:
            by_second = phrases.setdefault(tt[0], {})
            by_second.setdefault(tt[1], []).append((len(tt), tt[2:], lex_id, term_id))
    index = {
        token: (
            tuple(singles.get(token, ())),
            {second: tuple(v) for second, v in phrases[token].items()}
            if token in phrases
            else None,
        )
        for token in set(singles) | set(phrases)
    }
    return CompiledLexica(tuple(names), tuple(term_text), tuple(term_weight), index)


def match_text(lx: CompiledLexica, text: str | None) -> tuple[int, list[LexStats]]:
    """(n_words, the stats of every lexicon with at least one hit, in lexicon order)."""
    n, found = _match(lx, text)
    return n, [LexStats._make(s) for s in found]


def _match(lx: CompiledLexica, text: str | None) -> tuple[int, list[tuple]]:
    """match_text with plain tuples (the UDF's inner loop; cheaper to build and to pickle)."""
    tk = tokens(text)
    n = len(tk)
    index = lx.index
    if index.keys().isdisjoint(tk):
        return n, []
    # accepted (position, term id) per lexicon; phrase candidates (k, i, term id) per lexicon
    accepted: dict[int, list[tuple[int, int]]] = {}
    phrase_cands: dict[int, list[tuple[int, int, int]]] = {}
    segments: list[int] | None = None
    last = n - 1
    # positions whose token starts some surface (membership tested in C, no Python loop)
    for i in compress(range(n), map(index.__contains__, tk)):
        singles, phrases = index[tk[i]]
        for lex_id, term_id in singles:
            accepted.setdefault(lex_id, []).append((i, term_id))
        if phrases is None or i == last:
            continue
        following = phrases.get(tk[i + 1])
        if following is None:
            continue
        for k, rest, lex_id, term_id in following:
            end = i + k
            if end > n or (rest and tuple(tk[i + 2 : end]) != rest):
                continue
            if segments is None:
                seg_tokens, segments = tokens_with_segments(text)
                if seg_tokens != tk:  # the two primitives of udfs._text must agree
                    raise RuntimeError("lexicon: tokens and tokens_with_segments disagree")
            if segments[i] == segments[end - 1]:
                phrase_cands.setdefault(lex_id, []).append((k, i, term_id))
    for lex_id, cands in phrase_cands.items():
        singles_here = accepted.get(lex_id, [])
        # longest first, then earliest; a candidate is taken iff all its positions are free
        ordered = sorted(cands, key=lambda c: (-c[0], c[1]))
        ordered.extend((1, i, term_id) for i, term_id in singles_here)
        covered: set[int] = set()
        taken: list[tuple[int, int]] = []
        for k, i, term_id in ordered:
            span = range(i, i + k)
            if covered.isdisjoint(span):
                covered.update(span)
                taken.append((i, term_id))
        taken.sort()
        accepted[lex_id] = taken
    denominator = 1.0 + math.log(1.0 + n)
    weights = lx.term_weight
    out: list[tuple] = []
    for lex_id in sorted(accepted):
        hits = accepted[lex_id]
        if len(hits) == 1:
            term_id = hits[0][1]
            w = weights[term_id]
            out.append(
                (
                    lx.names[lex_id],
                    1,
                    1,
                    w,
                    w,
                    w,
                    min(1.0, w / denominator),
                    (lx.term_text[term_id],),
                )
            )
            continue
        distinct = list(dict.fromkeys([term_id for _, term_id in hits]))
        w_distinct = [weights[t] for t in distinct]
        total = math.fsum(w_distinct)
        out.append(
            (
                lx.names[lex_id],
                len(hits),
                len(distinct),
                total,
                math.fsum([weights[t] for _, t in hits]),
                max(w_distinct),
                min(1.0, total / denominator),
                tuple([lx.term_text[t] for t in distinct]),
            )
        )
    return n, out


@dataclass(frozen=True)
class CompiledPatterns:
    """The B_past patterns, compiled with Python `re` (no flags), with their weights."""

    patterns: tuple[tuple[re.Pattern[str], float], ...]


def compile_patterns(rows: Iterable[tuple[int, str, float]]) -> CompiledPatterns:
    """Compile (pattern_id, pattern, weight) rows, in pattern_id order."""
    compiled: list[tuple[int, re.Pattern[str], float]] = []
    for pattern_id, pattern, weight in rows:
        if pattern_id is None or pattern is None or weight is None:
            raise ValueError("bpast_rx: a pattern row has a NULL field")
        weight = float(weight)
        if not (math.isfinite(weight) and 0.0 <= weight <= 1.0):
            raise ValueError(f"bpast_rx: weight of pattern {pattern_id} is not in [0, 1]")
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"bpast_rx: pattern {pattern_id} does not compile: {exc}") from None
        compiled.append((int(pattern_id), regex, weight))
    compiled.sort(key=lambda c: c[0])
    return CompiledPatterns(tuple((regex, weight) for _, regex, weight in compiled))


def bpast_scan(cp: CompiledPatterns, text: str | None) -> tuple[float, int]:
    """(bpast_rx_max, bpast_rx_hits) of one text (ENGINE §2.6)."""
    normed = norm(text)
    best = 0.0
    hits = 0
    for regex, weight in cp.patterns:
        count = sum(1 for _ in regex.finditer(normed))
        if count:
            hits += count
            best = max(best, weight)
    return best, hits


# -- caches: pure functions of the seed content ------------------------------------------


@lru_cache(maxsize=8)
def _compiled_lexica(entries: tuple[Entry, ...]) -> CompiledLexica:
    return compile_lexica(entries)


@lru_cache(maxsize=8)
def _compiled_patterns(rows: tuple[tuple[int, str, float], ...]) -> CompiledPatterns:
    return compile_patterns(rows)


def _struct_rows(values: pa.Array, fields: Sequence[str]) -> tuple[tuple, ...]:
    """The rows of a struct array as tuples of the named fields."""
    columns = [values.field(name).to_pylist() for name in fields]
    return tuple(zip(*columns))


class _PerRow:
    """The compiled seed list of each call row; a row equal to the previous one reuses it
    (the model passes the same list on every row, so it is read and hashed once per call)."""

    def __init__(self, fields: Sequence[str], compile_rows: Callable[[tuple], Any]) -> None:
        self.fields = fields
        self.compile_rows = compile_rows
        self.previous: pa.Array | None = None
        self.key: tuple = ()
        self.compiled: Any = None

    def get(self, values: pa.Array) -> Any:
        if self.previous is None or not values.equals(self.previous):
            self.key = _struct_rows(values, self.fields)
            self.compiled = self.compile_rows(self.key)
            self.previous = values
        return self.compiled


# -- optional second process for large calls -------------------------------------------------

PARALLEL_MIN_TEXTS = 8192
_pool_state: dict[str, Any] = {}


def worker_count() -> int:
    """Processes that match one large call: EVOKI_UDF_WORKERS (default 1: this process only)."""
    value = os.environ.get("EVOKI_UDF_WORKERS")
    if value is None or not value.strip():
        return 1
    try:
        return max(1, int(value))
    except ValueError:
        raise ValueError("EVOKI_UDF_WORKERS must be a whole number") from None


def _pool(size: int) -> ProcessPoolExecutor:
    """A pool of `size` fresh worker processes (forkserver, never fork: DuckDB has threads)."""
    pool = _pool_state.get("pool")
    if pool is None or _pool_state.get("size") != size:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = ProcessPoolExecutor(max_workers=size, mp_context=context)
        _pool_state.update(pool=pool, size=size)
        if not _pool_state.get("atexit"):
            atexit.register(_shutdown_pool)
            _pool_state["atexit"] = True
    return pool


def _shutdown_pool() -> None:
    pool = _pool_state.pop("pool", None)
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _match_chunk(key: tuple[Entry, ...], texts: list[str | None]) -> list:
    """Worker side: match texts with the lexica of `key` (compiled once per process)."""
    lx = _compiled_lexica(key)
    return [_match(lx, text) for text in texts]


def _match_many(key: tuple[Entry, ...], lx: CompiledLexica, texts: list[str | None]) -> list:
    """_match over many texts; a large list is split over worker processes. Every text is
    matched on its own, so the split never changes a result (only the time it takes)."""
    workers = worker_count()
    if workers <= 1 or len(texts) < PARALLEL_MIN_TEXTS:
        return [_match(lx, text) for text in texts]
    size = -(-len(texts) // workers)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    try:
        futures = [_pool(workers - 1).submit(_match_chunk, key, chunk) for chunk in chunks[1:]]
    except (BrokenProcessPool, OSError, RuntimeError):
        _shutdown_pool()
        return [_match(lx, text) for text in texts]
    results = [_match(lx, text) for text in chunks[0]]
    for chunk, future in zip(chunks[1:], futures):
        try:
            results.extend(future.result())
        except BrokenProcessPool:  # a worker died (not an error of the data): do it here
            _shutdown_pool()
            results.extend(_match(lx, text) for text in chunk)
    return results


# -- the UDFs --------------------------------------------------------------------------


@udf(
    args=["VARCHAR[]", f"{ENTRY_TYPE}[]"],
    returns=f"STRUCT(n_words INTEGER, lexica {LEX_STATS_TYPE}[])[]",
    vectorized="arrow",
)
def lexicon_match(texts: pa.Array, entries: pa.Array) -> pa.Array:
    """For every text of every row: n_words and the stats of each lexicon with a hit.

    `entries` (lexicon, term, weight, surface) holds every lexicon to match (normally the same
    list on every row); NULL texts are ''. A NULL row gives NULL.
    """
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(entries, pa.ChunkedArray):
        entries = entries.combine_chunks()
    per_row = _PerRow(("lexicon", "term", "weight", "surface"), _compiled_lexica)
    n_words: list[int] = []
    text_offsets: list[int] = [0]
    row_valid: list[bool] = []
    stat_counts: list[int] = []
    stats: list[tuple] = []
    # consecutive rows with the same lexica form one job, matched in one go
    jobs: list[tuple[tuple, CompiledLexica, list[str | None]]] = []
    for r, row_texts in enumerate(texts.to_pylist()):
        if row_texts is None or not entries[r].is_valid:
            row_valid.append(False)
            text_offsets.append(text_offsets[-1])
            continue
        lx = per_row.get(entries[r].values)
        row_valid.append(True)
        if jobs and jobs[-1][1] is lx:
            jobs[-1][2].extend(row_texts)
        else:
            jobs.append((per_row.key, lx, list(row_texts)))
        text_offsets.append(text_offsets[-1] + len(row_texts))
    for key, lx, job_texts in jobs:
        for n, found in _match_many(key, lx, job_texts):
            n_words.append(n)
            stat_counts.append(len(found))
            stats.extend(found)
    columns = list(zip(*stats)) if stats else [()] * len(LexStats._fields)
    term_lists = columns[7]
    terms = pa.ListArray.from_arrays(
        pa.array([0, *accumulate(map(len, term_lists))], pa.int32()),
        pa.array([t for ts in term_lists for t in ts], pa.string()),
    )
    stats_arr = pa.StructArray.from_arrays(
        [
            pa.array(columns[0], pa.string()),
            pa.array(columns[1], pa.int32()),
            pa.array(columns[2], pa.int32()),
            pa.array(columns[3], pa.float64()),
            pa.array(columns[4], pa.float64()),
            pa.array(columns[5], pa.float64()),
            pa.array(columns[6], pa.float64()),
            terms,
        ],
        fields=list(_LEX_STATS_ARROW),
    )
    stat_offsets = pa.array([0, *accumulate(stat_counts)], pa.int32())
    per_text = pa.StructArray.from_arrays(
        [
            pa.array(n_words, pa.int32()),
            pa.ListArray.from_arrays(stat_offsets, stats_arr),
        ],
        fields=list(_MATCH_ARROW),
    )
    return pa.ListArray.from_arrays(
        pa.array(text_offsets, pa.int32()),
        per_text,
        mask=pa.array([not v for v in row_valid], pa.bool_()),
    )


@udf(
    args=["VARCHAR[]", f"{PATTERN_TYPE}[]"],
    returns="STRUCT(bpast_rx_max DOUBLE, bpast_rx_hits INTEGER)[]",
    vectorized="arrow",
)
def bpast_rx(texts: pa.Array, patterns: pa.Array) -> pa.Array:
    """For every text of every row: (bpast_rx_max, bpast_rx_hits) of ENGINE §2.6."""
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if isinstance(patterns, pa.ChunkedArray):
        patterns = patterns.combine_chunks()
    per_row = _PerRow(("pattern_id", "pattern", "weight"), _compiled_patterns)
    offsets: list[int] = [0]
    row_valid: list[bool] = []
    best: list[float] = []
    hits: list[int] = []
    for r, row_texts in enumerate(texts.to_pylist()):
        if row_texts is None or not patterns[r].is_valid:
            row_valid.append(False)
            offsets.append(offsets[-1])
            continue
        cp = per_row.get(patterns[r].values)
        row_valid.append(True)
        for text in row_texts:
            b, h = bpast_scan(cp, text)
            best.append(b)
            hits.append(h)
        offsets.append(len(best))
    values = pa.StructArray.from_arrays(
        [pa.array(best, pa.float64()), pa.array(hits, pa.int32())], fields=list(_BPAST_ARROW)
    )
    return pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), values, mask=pa.array([not v for v in row_valid])
    )
