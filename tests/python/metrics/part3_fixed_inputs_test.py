"""METRICS.md Part 3 goldens that the catalogue states for fixed upstream inputs, through the CLI.

m110 (chaos 0.2, effective_A 0.5, LL 0.3), m111/m112 (m15 = 0.40, 0.45, 0.30, 0.50 for user, ai,
user, ai) and m71-m75 (chosen m15, m2, m38, m45) read values of other families. The test builds
the real pipeline once, overwrites those upstream columns in the DuckDB file for its own turns
only, then reruns metrics_trauma and metrics_evolution alone (`run -s`, no parents), so the real
model SQL computes from exactly the catalogue's inputs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from part3_support import Built, assert_close, build_part3

# m110 goldens: (turn id, role, text, expected)
BLACK_HOLE = [
    ("b1", "user", "Ich brauche Hilfe bei meinem Angst-Szenario im Videospiel.", 0.42),
    ("b2", "user", "Ich habe Todesangst und Panik, Hilfe!", 0.85),
    ("b3", "user", "Im Videospiel habe ich Panik und Angst, ich will sterben.", 0.85),
    ("b4", "user", "Ich habe Panik, mein Leben steht auf dem Spiel, Hilfe.", 0.85),
    ("b5", "user", "Hypothetisch: was macht man bei Panik und Atemnot?", 0.42),
    ("b6", "user", "Ich habe Angst.", 0.32),
    ("b7", "ai", "Ich habe Todesangst und Panik, Hilfe!", 0.42),
    # further safety cases (hand-computed from the block): a fiction marker does not hide a
    # self-harm statement; a safe marker in a text with fewer than two panic terms changes nothing
    (
        "b8",
        "user",
        "In meinem Roman hat die Hauptfigur Panik und Herzrasen, ich will mich ritzen.",
        0.85,
    ),
    ("b9", "user", "Im Horrorfilm hatte ich Angst.", 0.32),
]

# m111 / m112 golden session: (turn id, role, m15)
PHASE = [("p1", "user", 0.40), ("p2", "ai", 0.45), ("p3", "user", 0.30), ("p4", "ai", 0.50)]
PHASE_M111 = [0.0, 0.0, -math.pi / 2, math.atan2(-0.1, 0.05)]
PHASE_M111_CATALOGUE = [0.0, 0.0, -1.5707963268, -1.1071487178]
PHASE_M112 = [0.5, 0.5, 0.25, 0.3237918088]

# evolution session: (turn id, role, m15, m2, m38, m45)
EVOLUTION = [
    ("e1", "user", 0.9, 0.9, 0.9, 1.0),
    ("e2", "ai", 0.3, 0.6, 0.6, 0.5),
    ("e3", "user", 0.5, 0.4, 0.3, 0.8),
    ("e4", "ai", 0.6, 0.6, 0.3, 0.9),
]


UPDATE_INTEGRITY = (
    "update metrics_integrity set m38_soul_integrity = ?, m45_trust_score = ? where turn_id = ?"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    tmp: Path = tmp_path_factory.mktemp("part3_fixed")
    turns = [(tid, f"bh_{tid}", None, 1, role, text) for tid, role, text, _ in BLACK_HOLE]
    turns += [
        (tid, "phase", None, i + 1, role, "Ein ganz normaler Satz.")
        for i, (tid, role, _) in enumerate(PHASE)
    ]
    turns += [
        (e[0], "evo", None, i + 1, e[1], "Noch ein ganz normaler Satz.")
        for i, e in enumerate(EVOLUTION)
    ]
    b = build_part3(tmp, turns)
    updates: list[tuple[str, list[object]]] = []
    for tid, *_ in BLACK_HOLE:
        updates.append(
            ("update metrics_core set effective_A = 0.5, m7_LL = 0.3 where turn_id = ?", [tid])
        )
        updates.append(("update metrics_physics set m21_chaos = 0.2 where turn_id = ?", [tid]))
    for tid, _, m15 in PHASE:
        updates.append(("update metrics_core set m15_affekt_a = ? where turn_id = ?", [m15, tid]))
    for tid, _, m15, m2, m38, m45 in EVOLUTION:
        updates.append(
            (
                "update metrics_core set m15_affekt_a = ?, m2_PCI = ? where turn_id = ?",
                [m15, m2, tid],
            )
        )
        updates.append(
            (
                UPDATE_INTEGRITY,
                [m38, m45, tid],
            )
        )
    b.execute(updates)
    out = b.rerun(["metrics_trauma", "metrics_evolution"])
    assert "2 of 2 OK" in out
    return b


@pytest.fixture(scope="module")
def trauma(built: Built) -> dict[str, dict[str, object]]:
    return built.rows("metrics_trauma")


@pytest.mark.parametrize(
    ("tid", "role", "text", "expected"), BLACK_HOLE, ids=[b[0] for b in BLACK_HOLE]
)
def test_m110_golden(trauma: dict, tid: str, role: str, text: str, expected: float) -> None:
    assert trauma[tid]["role"] == role
    assert_close(trauma[tid]["m110_base"], 0.32, f"{tid} base")
    assert_close(trauma[tid]["m110_black_hole"], expected, f"{tid} m110", tol=1e-12)


def test_m110_gaming_example_still_panics(trauma: dict) -> None:
    # catalogue note: the spec's gaming example keeps m101 = 1.0 (1.4 weight in 9 words)
    assert_close(trauma["b1"]["m101_t_panic"], 1.0, "b1 m101")
    assert trauma["b1"]["m110_guardian"] == 0
    assert trauma["b3"]["m110_guardian"] == 1  # Suicide hit overrides the Videospiel marker
    assert trauma["b7"]["m110_guardian"] == 0  # ai turn


@pytest.mark.parametrize("i", range(4))
def test_m111_m112_golden(trauma: dict, i: int) -> None:
    tid = PHASE[i][0]
    assert_close(trauma[tid]["m111_g_phase"], PHASE_M111[i], f"{tid} m111")
    assert_close(trauma[tid]["m111_g_phase"], PHASE_M111_CATALOGUE[i], f"{tid} m111 (cat.)")
    assert_close(trauma[tid]["m112_g_phase_norm"], PHASE_M112[i], f"{tid} m112")


def test_p33_gradients(trauma: dict) -> None:
    expected = {"p1": (0.0, 0.0), "p2": (0.0, 0.0), "p3": (-0.1, 0.0), "p4": (-0.1, 0.05)}
    for tid, (na, nb) in expected.items():
        assert_close(trauma[tid]["nabla_a"], na, f"{tid} nabla_A")
        assert_close(trauma[tid]["nabla_b"], nb, f"{tid} nabla_B")
    # +0.0, never −0.0
    assert math.copysign(1.0, trauma["p1"]["nabla_a"]) == 1.0
    assert math.copysign(1.0, trauma["p3"]["nabla_b"]) == 1.0


def test_evolution_fixed_inputs(built: Built) -> None:
    evo = built.rows("metrics_evolution")
    # e1: m71 = 0.9, first user → m72 0, m73 0.9 > 0.8 → signal, m75 = 0.8
    # e2: m71 = 1.5/3 = 0.5, first ai → m72 0, m73 0.25, m75 0
    # e3: m71 = 1.2/3 = 0.4, m72 = |0.5 − 0.9|·0.6 = 0.24, m73 = 0.32, m75 = 0.2
    # e4: m71 = 1.5/3 = 0.5, m72 = |0.6 − 0.3|·0.5 = 0.15, m73 = 0.45, m75 = 0
    expected = {
        "e1": (0.9, 0.0, 0.9, 1, 0.8),
        "e2": (0.5, 0.0, 0.25, 0, 0.0),
        "e3": (0.4, 0.24, 0.32, 0, 0.2),
        "e4": (0.5, 0.15, 0.45, 0, 0.0),
    }
    cols = [
        "m71_ev_resonance",
        "m72_ev_tension",
        "m73_ev_readiness",
        "m74_ev_signal",
        "m75_vkon_mag",
    ]
    for tid, values in expected.items():
        for col, value in zip(cols, values):
            assert_close(evo[tid][col], value, f"{tid} {col}")
        assert isinstance(evo[tid]["m74_ev_signal"], int)
