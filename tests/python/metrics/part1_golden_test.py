"""METRICS.md Part 1 golden session through the real CLI: every column of every turn.

The session, the table and the checks are the catalogue's (METRICS.md Part 1, "Golden session"),
copied verbatim; tolerance 1e-9 absolute. A_Phys runs for real (feat_embedding -> trauma_prescan
-> feat_a_phys -> metrics_core): the catalogue fixes is_f_turn = 1 for turns 2 and 4 (hazard 1.0
> 0.8, user) and 0 elsewhere (no T_panic term anywhere), and the real phase-1 flag is asserted to
be exactly that before any A_Phys-dependent value is compared, so a change in m101 or hazard that
moved the F-turns would fail loudly at the precondition rather than somewhere in m15.

A second session whose turns interleave with the golden one in prompt_num, and a copy of the
golden session under another session id inserted in reverse row order, check that sessions are
partitioned correctly and that the values depend neither on the row order of the history nor on
the other sessions.
"""

from __future__ import annotations

import pytest
from part1_support import TOL, build_part1, rows

GOLDEN_SESSION = [  # role, timestamp ('-' = missing), text
    ("user", "2026-01-05T10:00:00Z", "Hallo, mir geht es heute nicht gut."),
    ("ai", "2026-01-05T10:00:30Z", "Das tut mir leid. Was ist passiert?"),
    ("user", "2026-01-05T10:02:05Z", "Ich will sterben."),
    ("ai", None, "Bitte ruf sofort die Telefonseelsorge an: 0800 111 0 111."),
    ("user", "2026-01-05T10:03:00Z", "Ich will nicht mehr. Ich will sterben."),
    ("user", "2026-01-05T10:02:50Z", ""),
    ("ai", "2026-01-05T10:03:40Z", "Ich bin für dich da. Magst du mir erzählen, was passiert ist?"),
    (
        "user",
        "2026-01-05T10:05:00Z",
        (
            "Als ich klein war, mit 7 Jahren, war ich oft traurig und einsam... Meine Mutter war "
            "nie da. Ich war allein."
        ),
    ),
    ("ai", "2026-01-05T10:05:20Z", "Ich bin für dich da. Magst du mir erzählen, was passiert ist?"),
    (
        "user",
        "2026-01-05T10:06:00Z",
        "Wir drehen uns im Kreis. Wir drehen uns im Kreis. Wir drehen uns im Kreis.",
    ),
]

# METRICS.md Part 1, golden session table (verbatim)
GOLDEN_TABLE = """
| column | t0 | t1 | t2 | t3 | t4 | t5 | t6 | t7 | t8 | t9 |
|---|---|---|---|---|---|---|---|---|---|---|
| physics_available | 1 | 1 | 1 | 1 | 1 | 0 | 1 | 1 | 1 | 1 |
| rep_same | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.6000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 |
| s_self | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.0000000000 |
| effective_A | 0.4051141910 | 0.4422058608 | 0.1795759206 | 0.4430385627 | 0.2282948145 | 0.5000000000 | 0.5590847425 | 0.5055574886 | 0.5734529732 | 0.4519273913 |
| hazard_bonus | 0.0000000000 | 0.0000000000 | 0.4190597842 | 0.0000000000 | 0.3247342047 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 |
| m1_A | 0.6800000000 | 0.5400000000 | 0.5200000000 | 0.8000000000 | 0.4406227150 | 0.5000000000 | 0.6394675141 | 0.7059047619 | 0.5734529732 | 0.4697545870 |
| m2_PCI | 0.6400000000 | 0.5985714286 | 0.5600000000 | 0.6500000000 | 0.4271428571 | 0.5000000000 | 0.6200000000 | 0.5459523810 | 0.6533333333 | 0.2666666667 |
| m3_gen_index | 1.0000000000 | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.6000000000 | 0.5000000000 | 1.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 |
| m4_flow | 0.8000000000 | 0.9333333333 | 0.8000000000 | 0.8000000000 | 0.9333333333 | 0.8000000000 | 0.8571428571 | 0.1818181818 | 0.8571428571 | 1.0000000000 |
| m5_coh | 1.0000000000 | 0.0000000000 | 1.0000000000 | 1.0000000000 | 0.4000000000 | 1.0000000000 | 0.0000000000 | 0.1047619048 | 0.0000000000 | 1.0000000000 |
| m6_ZLF | 0.1000000000 | 0.5333333333 | 0.1000000000 | 0.1000000000 | 0.3333333333 | 0.1000000000 | 0.5714285714 | 0.8567099567 | 0.5714285714 | 0.0000000000 |
| m7_LL | 0.0800000000 | 0.0266666667 | 0.0800000000 | 0.0800000000 | 0.3866666667 | 0.0800000000 | 0.0571428571 | 0.3272727273 | 0.6571428571 | 0.0000000000 |
| m8_x_exist | 0.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 |
| m9_b_past | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 | 0.0000000000 |
| m10_angstrom | 2.5000000000 | 1.2500000000 | 3.7500000000 | 1.2500000000 | 3.0000000000 | 1.2500000000 | 1.2500000000 | 2.6309523810 | 1.2500000000 | 1.2500000000 |
| m11_gap_s | 300.0000000000 | 30.0000000000 | 95.0000000000 | 300.0000000000 | 300.0000000000 | 0.0000000000 | 50.0000000000 | 80.0000000000 | 20.0000000000 | 40.0000000000 |
| m12_lex_hit | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 | 0.0000000000 | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.0000000000 |
| m13_base_score | 0.8000000000 | 0.0000000000 | 0.8000000000 | 0.8000000000 | 0.3733333333 | 0.8000000000 | 0.0000000000 | 0.0190476190 | 0.0000000000 | 1.0000000000 |
| m14_base_stability | 0.9200000000 | 0.9733333333 | 0.9200000000 | 0.9200000000 | 0.6133333333 | 0.9200000000 | 0.9428571429 | 0.6727272727 | 0.3428571429 | 1.0000000000 |
| m15_affekt_a | 0.4051141910 | 0.4422058608 | 0.1795759206 | 0.4430385627 | 0.2282948145 | 0.8260000000 | 0.5590847425 | 0.5055574886 | 0.8064711467 | 0.4519273913 |
| m16_pci | 0.9040000000 | 0.5680000000 | 0.9040000000 | 0.9040000000 | 0.6560000000 | 0.9040000000 | 0.5314285714 | 0.2491774892 | 0.4114285714 | 1.0000000000 |
| m17_nabla_a | 0.0000000000 | 0.0000000000 | -0.2255382704 | 0.0008327020 | 0.0487188939 | 0.0000000000 | 0.1160461797 | 0.2772626741 | 0.2473864043 | -0.0536300973 |
| m18_s_entropy | 3.7718608740 | 3.5900172175 | 3.6168746060 | 3.9389383128 | 3.5997909218 | 0.0000000000 | 4.1898731852 | 4.0194327415 | 4.1898731852 | 3.4635789539 |
| m19_z_prox | 0.0475908647 | 0.0148745104 | 0.0931384654 | 0.0445569150 | 0.3952909787 | 0.0400000000 | 0.0251951576 | 0.1618175492 | 0.2803023319 | 0.0000000000 |
| m20_phi_proxy | 0.2592730822 | 0.2646917938 | 0.1005625155 | 0.2879750658 | 0.0975144993 | 0.4130000000 | 0.3466325403 | 0.2760103146 | 0.5268944825 | 0.1205139710 |
| m21_chaos | 0.9429652185 | 0.8975043044 | 0.9042186515 | 0.9847345782 | 0.8999477304 | 0.0000000000 | 1.0000000000 | 1.0000000000 | 1.0000000000 | 0.8658947385 |
| m22_cog_load | 0.0140000000 | 0.0140000000 | 0.0060000000 | 0.0200000000 | 0.0140000000 | 0.0000000000 | 0.0240000000 | 0.0420000000 | 0.0240000000 | 0.0300000000 |
| m23_nabla_pci | 0.0000000000 | 0.0000000000 | -0.0800000000 | 0.0514285714 | -0.1328571429 | 0.0000000000 | -0.0300000000 | 0.1188095238 | 0.0333333333 | -0.2792857143 |
| m24_zeta | 0.3858344563 | 0.4356282651 | 0.1628504949 | 0.4232981311 | 0.1380519338 | 0.7929600000 | 0.5449985143 | 0.4237494148 | 0.5804154037 | 0.4519273913 |
| m25_psi | 0.5981308411 | 0.5594125501 | 0.5436893204 | 0.5909090909 | 0.3991989319 | 0.5000000000 | 0.5535714286 | 0.4512003148 | 0.5833333333 | 0.2318840580 |
| m26_e_i_proxy | 0.0000000000 | 0.0000000000 | 0.0992368390 | 0.0002914457 | 0.0279089663 | 0.0000000000 | 0.0440975483 | 0.1258904570 | 0.0857606202 | 0.0393287380 |
| m27_lambda_depth | 0.0700000000 | 0.0700000000 | 0.0300000000 | 0.1000000000 | 0.0700000000 | 0.0000000000 | 0.1200000000 | 0.2100000000 | 0.1200000000 | 0.1500000000 |
| m28_phys_1 | -0.3842004891 | -0.2322144463 | -1.5192233021 | -0.2288391894 | -1.2179647535 | 0.0000000000 | 0.2374483610 | 0.0222308699 | 1.4272415073 | -0.1928862475 |
| m29_phys_2 | 0.8260000000 | 0.6253333333 | 0.8260000000 | 0.8260000000 | 0.6173333333 | 0.8260000000 | 0.5971428571 | 0.3734632035 | 0.4171428571 | 0.9000000000 |
| m30_phys_3 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 0 | 0 |
| m31_phys_4 | 0.2561336594 | 0.1992540753 | 1.0273633940 | 0.1758404694 | 1.1062210242 | 0.0000000000 | 0.2777450876 | 0.2516734214 | 0.2777450876 | 0.2215558238 |
| m32_phys_5 | 0.0000000000 | 0.0666666667 | 0.0218217890 | 0.0349215148 | 0.4413667828 | 0.0000000000 | 0.6540659925 | 0.3997410020 | 1.8438591387 | 0.1394474881 |
| m33_phys_6 | 0.6400000000 | 0.0000000000 | 0.5600000000 | 0.6500000000 | 0.1708571429 | 0.5000000000 | 0.0000000000 | 0.0571950113 | 0.0000000000 | 0.2666666667 |
| m34_phys_7 | 0.0000000000 | 0.0000000000 | 0.2255382704 | 0.0008327020 | 0.0487188939 | 0.0000000000 | 0.1160461797 | 0.2772626741 | 0.2473864043 | 0.0536300973 |
| m35_phys_8 | 0.1000000000 | 0.5333333333 | 0.1000000000 | 0.1000000000 | 0.3333333333 | 0.1000000000 | 0.5714285714 | 0.8567099567 | 0.5714285714 | 0.0000000000 |
"""

INTEGER_COLUMNS = {"physics_available", "m30_phys_3"}


def parse_table(text: str) -> dict[str, list[float]]:
    """{column: [t0 .. t9]} from the markdown table."""
    out = {}
    for line in text.strip().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] in ("column",) or cells[0].startswith("---"):
            continue
        out[cells[0]] = [float(c) for c in cells[1:]]
    return out


GOLDEN = parse_table(GOLDEN_TABLE)


def golden_turns(session: str, first_prompt: int = 0) -> list[tuple]:
    return [
        (f"{session}-{i}", session, ts, first_prompt + 2 * i, role, text)
        for i, (role, ts, text) in enumerate(GOLDEN_SESSION)
    ]


OTHER = [  # interleaves with session g in prompt_num (odd numbers)
    ("h-0", "h", "2026-01-05T09:00:00Z", 1, "ai", "Ich will sterben."),
    ("h-1", "h", "2026-01-05T09:00:07Z", 3, "user", "Hallo, mir geht es heute nicht gut."),
    ("h-2", "h", None, 5, "user", "Wir drehen uns im Kreis."),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("part1_golden")
    turns = golden_turns("g") + OTHER + list(reversed(golden_turns("r", first_prompt=100)))
    con = build_part1(tmp, turns)
    yield con, rows(con)
    con.close()


def test_table_is_complete():
    assert len(GOLDEN) == 40
    assert all(len(v) == 10 for v in GOLDEN.values())


def test_real_is_f_turn_is_the_catalogues(built):
    con, _ = built
    got = con.execute(
        "select is_f_turn from feat_a_phys where session_id = 'g' order by turn_idx"
    ).fetchall()
    assert [r[0] for r in got] == [0, 0, 1, 0, 1, 0, 0, 0, 0, 0]
    panic = con.execute(
        "select max(m101_t_panic) from trauma_prescan where session_id = 'g'"
    ).fetchone()[0]
    assert panic <= 0.8


def test_one_row_per_turn(built):
    con, got = built
    assert len(got) == 10 + 3 + 10
    assert con.execute("select count(*) from metrics_core").fetchone()[0] == 23
    assert con.execute("select count(*) from metrics_physics").fetchone()[0] == 23


@pytest.mark.parametrize("session", ["g", "r"])
@pytest.mark.parametrize("column", sorted(GOLDEN))
def test_golden_value(built, session, column):
    _, got = built
    for t, expected in enumerate(GOLDEN[column]):
        value = got[f"{session}-{t}"][column]
        if column in INTEGER_COLUMNS:
            assert value == int(expected), (column, t)
        else:
            assert isinstance(value, float), (column, t)
            assert abs(value - expected) <= TOL, (column, t, value, expected)


def test_sessions_are_independent(built):
    """The reversed copy gives bit-identical values, and so do the golden texts in session h."""
    _, got = built
    for t in range(10):
        g, r = got[f"g-{t}"], got[f"r-{t}"]
        for column in g:
            if column not in ("turn_id", "session_id"):
                assert g[column] == r[column], (column, t)
    # h-0: first turn of its session, same text as g-2 -> the text-only metrics agree
    for column in ("m4_flow", "m5_coh", "m8_x_exist", "m18_s_entropy", "hazard_bonus", "s_self"):
        assert got["h-0"][column] == got["g-2"][column]
    # h-0 / h-1 / h-2: first turn / first of its role / missing timestamp
    assert got["h-0"]["m11_gap_s"] == 300.0 and got["h-1"]["m11_gap_s"] == 7.0
    assert got["h-2"]["m11_gap_s"] == 300.0
    assert got["h-0"]["m17_nabla_a"] == 0.0 and got["h-1"]["m17_nabla_a"] == 0.0
    assert got["h-0"]["m3_gen_index"] == 1.0 and got["h-0"]["m32_phys_5"] == 0.0


# --- the catalogue's "checks worth testing explicitly" ----------------------------------------


def test_empty_turn_t5(built):
    _, got = built
    t5 = got["g-5"]
    assert t5["physics_available"] == 0
    assert t5["m1_A"] == 0.5
    assert abs(t5["m15_affekt_a"] - 0.826) <= TOL and t5["m15_affekt_a"] == t5["m29_phys_2"]
    assert t5["m17_nabla_a"] == 0.0 and t5["m18_s_entropy"] == 0.0
    assert t5["m11_gap_s"] == 0.0  # its timestamp is earlier than t4's


def test_missing_timestamp_t3_t4(built):
    _, got = built
    assert got["g-3"]["m11_gap_s"] == 300.0 and got["g-4"]["m11_gap_s"] == 300.0


def test_t7_gradient_skips_the_empty_t5(built):
    _, got = built
    expected = got["g-7"]["m15_affekt_a"] - got["g-4"]["m15_affekt_a"]
    assert got["g-7"]["m17_nabla_a"] == pytest.approx(expected, abs=1e-15)
    # m1's damping reads m17 of the immediately previous user turn (t5, m17 = 0): stability 1
    assert abs(got["g-7"]["m1_A"] - 0.7059047619) <= TOL


def test_t8_verbatim_repeat(built):
    _, got = built
    assert got["g-8"]["rep_same"] == 1.0 and got["g-8"]["m3_gen_index"] == 0.0


def test_t9_one_sentence_repeated(built):
    _, got = built
    t9 = got["g-9"]
    assert (t9["m4_flow"], t9["m5_coh"], t9["m6_ZLF"]) == (1.0, 1.0, 0.0)


def test_single_text_examples(built):
    """Block examples: m4 and m9 on the t7 text, m8 on "Ich will sterben."."""
    _, got = built
    assert abs(got["g-7"]["m4_flow"] - 0.1818181818) <= TOL
    assert got["g-7"]["m9_b_past"] == 1.0
    assert got["g-2"]["m8_x_exist"] == 1.0
    assert abs(got["g-2"]["hazard_bonus"] - 0.4190597842) <= TOL
