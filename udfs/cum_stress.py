"""m168_cum_stress's 30-minute window sum, one call row per session (METRICS.md m168, P-3).

Given the session's turns in engine order (turn_idx, e(t)) and its positive-length segments
(turn_idx j, e(j−1), seg_j), cum_stress(t) = Σ seg_j over the segments with j ≤ t and
e(j−1) ≥ e(t) − 1800, added in turn order from 0.0; NULL for a turn without e(t). Because
e is a running maximum, those j form one contiguous run ending at t, so each turn reads only
the segments of its last 30 minutes: memory and time stay linear in the session (the SQL
form, a join of every turn with every earlier segment, was quadratic per session and ran
out of memory at 1M turns).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from evoki_sql import udf

WINDOW_S = 1800.0


def session_cum_stress(
    turn_idxs: Sequence[int],
    effs: Sequence[float | None],
    seg_idxs: Sequence[int],
    seg_prev_effs: Sequence[float],
    segs: Sequence[float],
) -> list[float | None]:
    """cum_stress per turn of one session (inputs in turn order)."""
    if not (len(seg_idxs) == len(seg_prev_effs) == len(segs)):
        raise ValueError("cum_stress_window: the segment lists differ in length")
    out: list[float | None] = []
    first = 0  # first segment whose e(j−1) may still be inside the window
    last = 0  # segments [0, last) have j <= the current turn
    for idx, eff in zip(turn_idxs, effs):
        while last < len(seg_idxs) and seg_idxs[last] <= idx:
            last += 1
        if eff is None:
            out.append(None)
            continue
        threshold = eff - WINDOW_S
        while first < last and seg_prev_effs[first] < threshold:
            first += 1
        total = 0.0
        for k in range(first, last):
            if seg_prev_effs[k] >= threshold:
                total += segs[k]
        out.append(total)
    return out


@udf(
    args=["BIGINT[]", "DOUBLE[]", "BIGINT[]", "DOUBLE[]", "DOUBLE[]"],
    returns="DOUBLE[]",
    vectorized="arrow",
)
def cum_stress_window(
    turn_idxs: pa.Array,
    effs: pa.Array,
    seg_idxs: pa.Array,
    seg_prev_effs: pa.Array,
    segs: pa.Array,
) -> pa.Array:
    """Per session row: cum_stress of each of its turns (same order as turn_idxs)."""
    result: list[list[float | None]] = []
    for idxs, eff, s_idx, s_prev, s_seg in zip(
        turn_idxs.to_pylist(),
        effs.to_pylist(),
        seg_idxs.to_pylist(),
        seg_prev_effs.to_pylist(),
        segs.to_pylist(),
    ):
        if idxs is None or eff is None:
            raise ValueError("cum_stress_window: the turn lists must not be NULL")
        result.append(session_cum_stress(idxs, eff, s_idx or [], s_prev or [], s_seg or []))
    return pa.array(result, type=pa.list_(pa.float64()))
