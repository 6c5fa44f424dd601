"""udfs/cum_stress.py (m168's window sum) equals the catalogue's definition written as a
brute-force sum over every earlier segment, on random sessions with missing and repeated
timestamps."""

from __future__ import annotations

import random

from udfs.cum_stress import WINDOW_S, session_cum_stress


def brute_force(idxs, effs, seg_idxs, seg_prev, segs):
    out = []
    for idx, eff in zip(idxs, effs):
        if eff is None:
            out.append(None)
            continue
        total = 0.0
        for j, prev, seg in zip(seg_idxs, seg_prev, segs):
            if j <= idx and prev >= eff - WINDOW_S:
                total += seg
        out.append(total)
    return out


def random_session(rng: random.Random, n: int):
    # e(t): running max of timestamps, NULL before the first valid one (P-3)
    effs, current = [], None
    for _ in range(n):
        if rng.random() < 0.15:
            effs.append(current)
            continue
        step = rng.choice([0.0, 5.0, 60.0, 400.0, 1799.0, 1800.0, 1801.0, 7200.0])
        current = step if current is None else max(current, current + rng.choice([-1, 1]) * step)
        effs.append(current)
    idxs = list(range(1, n + 1))
    seg_idxs, seg_prev, segs = [], [], []
    for k in range(1, n):
        if effs[k - 1] is not None and effs[k] is not None and effs[k] > effs[k - 1]:
            seg_idxs.append(idxs[k])
            seg_prev.append(effs[k - 1])
            segs.append(rng.random() * (effs[k] - effs[k - 1]) / 60.0)
    return idxs, effs, seg_idxs, seg_prev, segs


def test_window_sum_equals_the_definition_on_random_sessions() -> None:
    rng = random.Random(168)
    for _ in range(300):
        session = random_session(rng, rng.randint(1, 80))
        assert session_cum_stress(*session) == brute_force(*session)


def test_boundaries_of_the_30_minute_window() -> None:
    # segments of turns 2 and 3 start at e = 0 and e = 1800; turn 3 at e = 3600 keeps the
    # segment starting exactly 1800 s earlier and drops the one starting 3600 s earlier
    idxs, effs = [1, 2, 3], [0.0, 1800.0, 3600.0]
    got = session_cum_stress(idxs, effs, [2, 3], [0.0, 1800.0], [1.5, 2.5])
    assert got == [0.0, 1.5, 2.5]
    assert session_cum_stress([1], [None], [], [], []) == [None]
