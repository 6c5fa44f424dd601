"""udf:part1_char_entropy: the character-level Shannon entropy of m18_s_entropy (METRICS.md m18).

    s = norm(text)   (feat_text.text_norm: lowercased NFC, the whole string, spaces included)
    N = number of code points of s;  H = 0 if N = 0
    H = -sum_c (n_c / N) * log2(n_c / N)   over the distinct code points c of s

The cap at 6.0 is applied by metrics_core (m18 = min(H, 6.0)). The sum runs over the code points
in order of first occurrence, so the value is the same on every run and for every batching. The
SQL form (regexp_extract_all + a histogram per text) gives the same numbers but is about ten
times slower on a large history, which is why this is a vectorized UDF. A NULL input gives NULL
(metrics_core's not_null test then reports it); feat_text never produces one.
"""

from __future__ import annotations

import math
from collections import Counter

import pyarrow as pa

from evoki_sql import udf


def char_entropy(s: str) -> float:
    """Shannon entropy in bits of the code points of s; 0.0 for the empty string."""
    n = len(s)
    if n == 0:
        return 0.0
    h = 0.0
    for count in Counter(s).values():
        p = count / n
        h -= p * math.log2(p)
    return h


@udf(args=["VARCHAR"], returns="DOUBLE", vectorized="arrow", null_handling="default")
def part1_char_entropy(texts: pa.Array) -> pa.Array:
    """Entropy per text of a batch (NULL stays NULL)."""
    return pa.array(
        [None if s is None else char_entropy(s) for s in texts.to_pylist()], pa.float64()
    )
