"""The token-economy fold of METRICS.md Part 2 (P2.7): m57_tokens_soc and m58_tokens_log.

One call row = one whole session, its turns in engine order (ENGINE §0; the SQL side aggregates
`list(x order by turn_idx)` per session). One shared state per session, all roles, updated at
every turn (current turn included):

    SOC_0 = 50.0                LOG_0 = 30
    SOC_k = min(100.0, max(0.0, SOC_{k-1} + d_k))
    LOG_k = min(100, max(0, trunc(LOG_{k-1} + (d_k - 2.0 * c_k))))     trunc = Python int()

with d_k = m60_delta_tokens and c_k = causal_density of turn k. The evaluation order is the
catalogue's (IEEE double, left to right as written), so the values are bit for bit those of the
catalogue's Python reference and of its WITH RECURSIVE form. The result depends only on the
session's own lists, never on how DuckDB batches sessions. A NULL or non-finite input raises:
a silent wrong reserve would be worse than a failed build.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import pyarrow as pa

from evoki_sql import udf

SOC_0 = 50.0
LOG_0 = 30

ECONOMY_TYPE = pa.list_(
    pa.struct(
        [
            pa.field("turn_idx", pa.int64()),
            pa.field("soc", pa.float64()),
            pa.field("log", pa.int64()),
        ]
    )
)


def economy_step(soc: float, log: int, d: float, c: float) -> tuple[float, int]:
    """One update of the shared state (P2.7) from the previous (SOC, LOG) and the turn's d, c."""
    soc = min(100.0, max(0.0, soc + d))
    log = min(100, max(0, int(log + (d - 2.0 * c))))
    return soc, log


def session_economy(
    deltas: Sequence[float | None], causal: Sequence[float | None]
) -> list[tuple[float, int]]:
    """(SOC_k, LOG_k) for every turn of one session, given its d and c lists in engine order."""
    if len(deltas) != len(causal):
        raise ValueError("token_economy: the per-session lists differ in length")
    soc, log = SOC_0, LOG_0
    out: list[tuple[float, int]] = []
    for d, c in zip(deltas, causal):
        if d is None or c is None or not math.isfinite(d) or not math.isfinite(c):
            raise ValueError("token_economy: m60_delta_tokens and causal_density must be finite")
        soc, log = economy_step(soc, log, float(d), float(c))
        out.append((soc, log))
    return out


@udf(
    args=["BIGINT[]", "DOUBLE[]", "DOUBLE[]"],
    returns="STRUCT(turn_idx BIGINT, soc DOUBLE, log BIGINT)[]",
    vectorized="arrow",
)
def part2_token_economy(turn_idxs: pa.Array, deltas: pa.Array, causal: pa.Array) -> pa.Array:
    """Per session row: (turn_idx, SOC, LOG) of every turn (lists in engine order)."""
    result: list[list[dict[str, object]]] = []
    for idxs, ds, cs in zip(turn_idxs.to_pylist(), deltas.to_pylist(), causal.to_pylist()):
        if idxs is None or ds is None or cs is None:
            raise ValueError("token_economy: a session list must not be NULL")
        if len(idxs) != len(ds):
            raise ValueError("token_economy: the per-session lists differ in length")
        if any(a is None or b is None or a >= b for a, b in pairwise(idxs)):
            raise ValueError("token_economy: turn_idx must be strictly increasing")
        states = session_economy(ds, cs)
        result.append([{"turn_idx": i, "soc": s, "log": lg} for i, (s, lg) in zip(idxs, states)])
    return pa.array(result, type=ECONOMY_TYPE)
