"""udf:part4_token_counts — per-token counts of METRICS.md Part 4 whose definition is Python.

Inputs per turn are the engine token lists of feat_text (ENGINE §1.1): `tokens_cased` (the
word runs of nfc(text)) and `tokens` (the same, lower-cased). Output per turn:

- caps  (m118_capital_stress): tokens_cased w with len(w) >= 2 and w.isupper() (at least one
  cased character, none lower- or titlecase). The block calls Python's str.isupper normative;
  DuckDB's upper()/lower() comparison differs on lowercase letters without an uppercase
  mapping (e.g. 'ABĸ'), so the count is taken here.
- typos (m167_noise): tokens x with len(x) >= 3 made of one repeated code point ('aaaa', '111').
- frags (m167_noise): tokens_cased fully matching [a-z]{1,3} (ASCII lower-case, 1-3 letters).

Pure per-turn function: the result does not depend on batching or row order. NULL lists
count as empty. Speed: the checks run once per distinct token of a batch (dictionary encoding),
then the per-token flags are summed per turn with numpy (tokens repeat heavily in real text).
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evoki_sql import udf

_FRAGMENT = re.compile(r"[a-z]{1,3}")

RESULT_TYPE = pa.struct(
    [
        pa.field("caps", pa.int32()),
        pa.field("typos", pa.int32()),
        pa.field("frags", pa.int32()),
    ]
)


def is_caps(word: str) -> bool:
    """m118: a token of at least two code points that Python calls upper-case."""
    return len(word) >= 2 and word.isupper()


def is_typo(word: str) -> bool:
    """m167: a token of at least three code points, all the same."""
    return len(word) >= 3 and word == word[0] * len(word)


def is_fragment(word: str) -> bool:
    """m167: an ASCII lower-case token of one to three letters."""
    return _FRAGMENT.fullmatch(word) is not None


def token_counts(cased: list[str] | None, lower: list[str] | None) -> tuple[int, int, int]:
    """(caps, typos, frags) of one turn."""
    cased = cased or []
    lower = lower or []
    caps = sum(1 for w in cased if is_caps(w))
    typos = sum(1 for w in lower if is_typo(w))
    frags = sum(1 for w in cased if is_fragment(w))
    return caps, typos, frags


def _per_turn(lists: pa.Array, checks: list) -> list[np.ndarray]:
    """For each check, the number of tokens of each list that pass it (0 for a NULL list)."""
    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    n = len(lists)
    values = pc.list_flatten(lists)
    if len(values) == 0:
        return [np.zeros(n, dtype=np.int64) for _ in checks]
    parents = pc.list_parent_indices(lists).to_numpy(zero_copy_only=False)
    encoded = pc.dictionary_encode(values)
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    distinct = encoded.dictionary.to_pylist()
    out = []
    for check in checks:
        flags = np.fromiter((check(w) for w in distinct), dtype=np.int64, count=len(distinct))
        out.append(np.bincount(parents, weights=flags[indices], minlength=n).astype(np.int64))
    return out


@udf(
    args=["VARCHAR[]", "VARCHAR[]"],
    returns="STRUCT(caps INTEGER, typos INTEGER, frags INTEGER)",
)
def part4_token_counts(tokens_cased: pa.Array, tokens: pa.Array) -> pa.Array:
    """Per turn: (caps, typos, frags) from tokens_cased and tokens."""
    caps, frags = _per_turn(tokens_cased, [is_caps, is_fragment])
    (typos,) = _per_turn(tokens, [is_typo])
    return pa.StructArray.from_arrays(
        [pa.array(caps, pa.int32()), pa.array(typos, pa.int32()), pa.array(frags, pa.int32())],
        fields=list(RESULT_TYPE),
    )
