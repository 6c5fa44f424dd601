"""METRICS.md Part 2 golden values through the real CLI (metrics_fep, metrics_integrity).

Golden session G (P2.8) is built from its texts; the text-derived columns (partner, m40,
ctx_break, causal_density) are checked as computed by the whole pipeline. The catalogue then
gives m15 and ZLF as inputs: they are written into metrics_core and the two Part 2 models are run
again through the CLI (`set_inputs`, `rerun_part2`), and the whole table is compared to 1e-9
(m58 exactly). The single-turn composite check of P2.8 reuses turn t1 of G (its m40 = 0.375 and
ctx_break = 0.3716619197 are the real values; m15 = 0.20 is G's input as well) with the other
given inputs written into metrics_core, trauma_prescan and metrics_trauma.

A copy of G under another session id, inserted in reverse row order and interleaved in
prompt_num with a third session, checks partitioning and row-order independence of the real
(not overridden) values.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from part2_support import TOL, build_part2, query, rerun_part2, rows, set_inputs

G_TEXTS = [  # (role, text), positions 0-5 (P2.8)
    ("user", "Ich habe Angst vor morgen."),
    ("ai", "Warum hast du Angst vor morgen?"),
    ("user", "Weil ich eine Prüfung habe, deshalb kann ich nicht schlafen."),
    ("ai", "Das verstehe ich. Daher schlage ich vor, dass wir gemeinsam einen Plan machen."),
    ("user", ""),
    ("ai", "Bist du noch da?"),
]

# P2.8 table (verbatim); partner given as the turn index, '—' = none
G_TABLE = """
| t | role | m15 (in) | ZLF (in) | partner | m40 | ctx_break | A_pred | m56 | b | m60 | c | m57 | m58 | m59 | m68 |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
| 0 | user | 0.40 | 0 | — | 0.5 | 0 | 0.5 | 0.1 | 0 | −0.05 | 0 | 49.95 | 29 | 0.39475 | 0.6325987842 |
| 1 | ai | 0.20 | 0 | t0 | 0.375 | 0.3716619197 | 0.5 | 0.3 | 0 | −0.05 | 0 | 49.90 | 28 | 0.3895 | 0.6404826081 |
| 2 | user | 0.90 | 0 | t1 | 0.0 | 1.0 | 0.4 | 0.5 | 0 | −0.05 | 0.5 | 49.85 | 26 | 0.37925 | 0.6571315581 |
| 3 | ai | 0.60 | 0.7 | t2 | 0.05 | 0.6725026197 | 0.2 | 0.4 | 0 | −0.05 | 0.25 | 49.80 | 25 | 0.374 | 0.6656864056 |
| 4 | user | 0.85 | 0 | t3 | 0.5 | 0 | 0.9 | 0.05 | 0.45 | 1.8625 | 0 | 51.6625 | 26 | 0.3883125 | 0.6651324471 |
| 5 | ai | 0.55 | 0.8 | t4 | 0.5 | 0 | 0.6 | 0.05 | 0.35 | 0.9125 | 0 | 52.575 | 26 | 1.0 | 0.6690208055 |
"""

# table column -> model column
G_COLUMNS = {
    "m40": "m40_h_conv",
    "ctx_break": "ctx_break",
    "A_pred": "a_pred",
    "m56": "m56_surprise",
    "b": "surprise_benefit",
    "m60": "m60_delta_tokens",
    "c": "causal_density",
    "m57": "m57_tokens_soc",
    "m58": "m58_tokens_log",
    "m59": "m59_p_antrieb",
    "m68": "m68_drive_balance",
}
TEXT_ONLY = ["m40", "ctx_break", "c"]  # independent of the given m15 / ZLF

# P2.8 single-turn composite check: given inputs and expected values (verbatim)
COMPOSITE_INPUTS = {
    "metrics_core": {
        "m15_affekt_a": 0.20,
        "m7_LL": 0.30,
        "m5_coh": 0.60,
        "m2_PCI": 0.55,
        "m19_z_prox": 0.24,
        "m11_gap_s": 45.0,
    },
    "trauma_prescan": {"m101_t_panic": 0.05},
    "metrics_trauma": {"m103_t_integ": 0.10, "m112_g_phase_norm": 0.5},
}
COMPOSITE = """m36 0.3443323839 · m37 0.6556676161 · m38 0.1311335232 · m39 0.0262267046 · m41 0 ·
m42 −0.125 · m43 0.54 · m44 0.3375 · m45 0.3449534093 · m46 0.43875 · m47 0.6283380803 ·
m48 0.43875 · m49 0.0171960009 · m50 0.6556676161 · m51 0.075 · m52 0.5 · m53 0.0125 ·
m54 0.1513483083 · m55 0.0721234378 · m61 0.275 · m62 0.165 · m63 0.11 · m69 3.8 · m70 0.065"""
# the catalogue's composite m40 and ctx_break are inputs; they must be t1's real values
COMPOSITE_GIVEN = {"m40_h_conv": 0.375, "ctx_break": 0.3716619197}


def num(cell: str) -> float:
    return float(cell.replace("−", "-"))


def parse_table() -> list[dict[str, str]]:
    lines = [ln for ln in G_TABLE.strip().splitlines() if not ln.startswith("|---")]
    head = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(head, (c.strip() for c in ln.strip("|").split("|")))) for ln in lines[1:]]


def composite_expected(columns: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in COMPOSITE.replace("\n", " ").split("·"):
        short, value = item.split()
        (full,) = [c for c in columns if c.startswith(short + "_")]
        out[full] = num(value)
    return out


def g_turns(session: str, prefix: str, offset: int = 0) -> list[tuple]:
    return [
        (f"{prefix}{i}", session, f"2026-01-05T10:0{i}:00Z", offset + i, role, text)
        for i, (role, text) in enumerate(G_TEXTS)
    ]


NOISE = [  # a third session whose prompt_nums interleave with G's
    ("n0", "s3", "2026-01-05T09:00:00Z", 0, "ai", "Weil daher deshalb somit."),
    ("n1", "s3", None, 2, "user", "Ich habe Angst vor morgen."),
    ("n2", "s3", "2026-01-05T09:01:00Z", 4, "ai", "Ich habe Angst vor morgen!"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    tmp: Path = tmp_path_factory.mktemp("part2_golden")
    turns = g_turns("s1", "t") + list(reversed(g_turns("s2", "c"))) + NOISE
    history, out = build_part2(tmp, turns)
    real = rows(out)
    upstream = query(out, "select turn_id, m15_affekt_a, m6_ZLF from metrics_core")
    table = parse_table()
    given: dict[str, dict[str, dict[str, float]]] = {
        "metrics_core": {
            f"t{r['t']}": {"m15_affekt_a": num(r["m15 (in)"]), "m6_ZLF": num(r["ZLF (in)"])}
            for r in table
        }
    }
    for relation, columns in COMPOSITE_INPUTS.items():
        given.setdefault(relation, {}).setdefault("t1", {}).update(columns)
    set_inputs(out, given)
    rerun_part2(history, out)
    return {"real": real, "golden": rows(out), "upstream": upstream, "table": table}


def test_partner_and_text_only_columns_real(built: dict) -> None:
    """Partner, m40, ctx_break and c of G as the pipeline computes them (no given inputs)."""
    for row in built["table"]:
        tid = f"t{row['t']}"
        got = built["real"][tid]
        partner = None if row["partner"] == "—" else row["partner"]
        assert got["partner_turn_id"] == partner, tid
        for short in TEXT_ONLY:
            assert got[G_COLUMNS[short]] == pytest.approx(num(row[short]), abs=TOL), (tid, short)


@pytest.mark.parametrize("short", list(G_COLUMNS))
def test_golden_session_g(built: dict, short: str) -> None:
    """Every column of the P2.8 table, with the catalogue's m15 / ZLF written in."""
    for row in built["table"]:
        tid = f"t{row['t']}"
        got = built["golden"][tid][G_COLUMNS[short]]
        if short == "m58":
            assert isinstance(got, int) and got == int(row[short]), tid
        else:
            assert got == pytest.approx(num(row[short]), abs=TOL), (tid, short)


def test_golden_session_g_given_inputs_untouched_elsewhere(built: dict) -> None:
    """The copy of G (session s2, reverse insert order) keeps its real values, which agree
    with G's real values turn by turn: sessions are partitioned, row order does not matter."""
    real = built["real"]
    for i in range(len(G_TEXTS)):
        a, b = real[f"t{i}"], real[f"c{i}"]
        for col, value in a.items():
            if col in ("turn_id", "session_id", "partner_turn_id"):
                continue
            assert b[col] == value, (i, col)
        partner = a["partner_turn_id"]
        assert b["partner_turn_id"] == (None if partner is None else "c" + partner[1:])
    # and they are what the real m15 gives (the golden ones differ: the test is not vacuous)
    assert real["t0"]["a_pred"] == 0.5
    assert real["t0"]["m56_surprise"] == pytest.approx(
        abs(built["upstream"]["t0"]["m15_affekt_a"] - 0.5), abs=TOL
    )


def test_composite_check(built: dict) -> None:
    """P2.8 single-turn composite check on turn t1 with the given inputs."""
    got = built["golden"]["t1"]
    for col, value in COMPOSITE_GIVEN.items():
        assert got[col] == pytest.approx(value, abs=TOL), col
    expected = composite_expected(list(got))
    assert len(expected) == 24
    for col, value in expected.items():
        assert got[col] == pytest.approx(value, abs=TOL), col


def test_causal_density_cap(built: dict) -> None:
    """Four distinct markers → min(1, 4/4) = 1; identical token sets → m40 = 1, m41 = 1."""
    real = built["real"]
    assert real["n0"]["causal_density"] == 1.0
    assert real["n1"]["m40_h_conv"] == 0.0  # disjoint from its partner n0
    assert real["n1"]["m41_h_symbol"] == 0.0
    assert real["n2"]["partner_turn_id"] == "n1"
    assert real["n2"]["m40_h_conv"] == 1.0  # same token set as its partner n1
    assert real["n2"]["m41_h_symbol"] == 1.0
    assert real["n2"]["m42_nabla_dyad"] == 0.5
