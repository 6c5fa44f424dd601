"""The guardian of ENGINE §4/§6 (F_risk, safe_context, guardian_action, is_alert) and m161.

Three layers:
1. the decision macros on hand-made inputs (`show --inline`, no history involved): every rule of
   the §6 table, its order, the strict thresholds (C-29, C-31, C-32) and m161's own rule;
2. the real pipeline on the catalogue's explicit examples (a suicidal statement vetoes, panic
   words in a game context warn, a calm fear sentence warns, everyday talk does not alert);
3. the guardian model on a small history whose upstream inputs are set through the overlay of
   part4_support, so that each veto is reached through the model's own joins.
Expected values are worked out by hand from ENGINE §4/§6 and METRICS m161.
"""

from __future__ import annotations

import json

import pytest
from part4_support import build_part4, close, rows, run_cli

from history_db import make_history

# (hazard, t_panic, black_hole, z_prox, phys_3, f_risk, cum_stress, rule_conflict, omega, safe)
CALM = (0.0, 0.0, 0.0, 0.0, 0, 0.5, 0.0, 0.0, 0.5, False)
FIELDS = (
    "hazard",
    "t_panic",
    "black_hole",
    "z_prox",
    "phys_3",
    "f_risk",
    "cum_stress",
    "rule_conflict",
    "omega",
    "safe",
)


def case(**changes: object) -> tuple:
    values = dict(zip(FIELDS, CALM, strict=True))
    values.update(changes)
    return tuple(values[f] for f in FIELDS)


RULE_CASES = [
    # rule 1: hazard > 0.8 (strict), before everything, safe context or not
    (case(hazard=0.81), "veto_hazard"),
    (case(hazard=0.8), "commit"),
    (case(hazard=0.81, t_panic=0.95, safe=True, f_risk=0.9), "veto_hazard"),
    # rule 2: panic > 0.8 and not safe_context; in a safe context it warns (C-32)
    (case(t_panic=0.81), "veto_panic"),
    (case(t_panic=0.8), "commit"),
    (case(t_panic=0.81, safe=True), "warn"),
    (case(t_panic=0.95, safe=True, omega=0.1), "warn"),
    # rule 3: black hole > 0.7 (C-28) and not safe_context; in a safe context it warns
    # (project decision PD-1: the C-32 verdict applied to rule 3 as well)
    (case(black_hole=0.71), "veto_black_hole"),
    (case(black_hole=0.7), "commit"),
    (case(black_hole=0.71, t_panic=0.9, safe=True), "warn"),
    (case(black_hole=0.71, safe=True, omega=0.1), "warn"),
    (case(black_hole=0.71, safe=True, z_prox=0.66), "veto_z_prox"),
    # rule 4: z_prox > 0.65; 0.50 < z ≤ 0.65 warns
    (case(z_prox=0.66), "veto_z_prox"),
    (case(z_prox=0.65), "warn"),
    (case(z_prox=0.51), "warn"),
    (case(z_prox=0.5), "commit"),
    # rule 5: A29 trip
    (case(phys_3=1), "veto_a29"),
    (case(phys_3=1, z_prox=0.66), "veto_z_prox"),
    # rule 6: F_risk > 0.75 and not safe (C-31); (0.6, 0.75] warns; safe context warns
    (case(f_risk=0.76), "veto_f_risk"),
    (case(f_risk=0.75), "warn"),
    (case(f_risk=0.61), "warn"),
    (case(f_risk=0.6), "commit"),
    (case(f_risk=0.9, safe=True), "warn"),
    # rule 7: warn on cumulative stress > 15 and rule_conflict > 0.5 (C-29: no veto)
    (case(cum_stress=15.01), "warn"),
    (case(cum_stress=15.0), "commit"),
    (case(rule_conflict=0.51), "warn"),
    (case(rule_conflict=0.5), "commit"),
    (case(rule_conflict=1.0, omega=-1.0), "warn"),
    # rule 8: omega < 0.3 retries; 0.3 commits
    (case(omega=0.29), "retry"),
    (case(omega=0.3), "commit"),
    (case(omega=-1.0), "retry"),
]

COMMIT_CASES = [  # (hazard, z_prox, rule_conflict, omega) -> m161
    ((0.81, 0.0, 0.0, 0.9), "alert"),
    ((0.8, 0.0, 0.0, 0.9), "commit"),
    ((0.0, 0.66, 0.0, 0.9), "alert"),
    ((0.0, 0.0, 0.51, 0.9), "alert"),
    ((0.0, 0.0, 0.5, 0.9), "commit"),
    ((0.0, 0.6, 0.0, 0.1), "commit"),  # the spec's warn zone: commit, omega check skipped
    ((0.0, 0.5, 0.0, 0.1), "retry"),
    ((0.0, 0.0, 0.0, 0.29), "retry"),
    ((0.0, 0.0, 0.0, 0.3), "commit"),
]


def _sql(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}::integer"
    return f"{value!r}::double"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("part4_guardian_macro")
    return make_history(tmp / "h.db", ["s"], [("t", "s", None, 1, "user", "")]), tmp


def _show(history, query: str) -> list[dict[str, str]]:
    path, tmp = history
    result = run_cli(
        ["show", "--inline", query, "--output", "json", "--limit", "1000"], path, tmp / "o.duckdb"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    return json.loads(text[text.index("[") :])


def test_guardian_rule_table_on_hand_made_inputs(history) -> None:
    values = ",\n".join(
        f"({i}, {', '.join(_sql(v) for v in inputs)})" for i, (inputs, _e) in enumerate(RULE_CASES)
    )
    query = (
        "select i, {{ part4_guardian_action('hazard', 't_panic', 'black_hole', 'z_prox', "
        "'phys_3', 'f_risk', 'cum_stress', 'rule_conflict', 'omega', 'safe') }} as action "
        f"from (values {values}) as v(i, {', '.join(FIELDS)}) order by i"
    )
    got = {int(r["i"]): r["action"] for r in _show(history, query)}
    for i, (inputs, expected) in enumerate(RULE_CASES):
        assert got[i] == expected, (inputs, got[i], expected)


def test_guardian_null_input_gives_null_never_commit(history) -> None:
    query = (
        "select {{ part4_guardian_action('NULL::double', '0.0', '0.0', '0.0', '0', '0.5', "
        "'0.0', '0.0', '0.5', 'false') }} as action"
    )
    assert _show(history, query)[0]["action"] is None


def test_commit_action_rule(history) -> None:
    values = ",\n".join(
        f"({i}, {', '.join(_sql(v) for v in inputs)})"
        for i, (inputs, _e) in enumerate(COMMIT_CASES)
    )
    query = (
        "select i, {{ part4_commit_action('h', 'z', 'c', 'o') }} as action "
        f"from (values {values}) as v(i, h, z, c, o) order by i"
    )
    got = {int(r["i"]): r["action"] for r in _show(history, query)}
    for i, (inputs, expected) in enumerate(COMMIT_CASES):
        assert got[i] == expected, (inputs, got[i], expected)


def test_f_risk_and_safe_context_macros(history) -> None:
    query = (
        "select {{ part4_f_risk('0.3', '0.75', '0.0') }} as a, "
        "{{ part4_f_risk('1.0', '0.0', '1.0') }} as b, "
        "{{ part4_f_risk('0.0', '1.0', '0.0') }} as c, "
        "{{ part4_safe_context('1', '0', '0') }} as s1, "
        "{{ part4_safe_context('2', '1', '0') }} as s2, "
        "{{ part4_safe_context('0', '0', '0') }} as s3, "
        "{{ part4_safe_context('1', '0', '1') }} as s4"
    )
    row = _show(history, query)[0]
    # 0.40·0.7 + 0.35·0.75 + 0.25·1 = 0.7925 (ENGINE §6: low affect with strong panic vetoes)
    assert close(float(row["a"]), 0.7925)
    assert close(float(row["b"]), 0.0)
    assert close(float(row["c"]), 1.0)
    assert [row[k] for k in ("s1", "s2", "s3", "s4")] == [True, False, False, False]


# --- the real pipeline on the catalogue's examples -------------------------------------------

EXAMPLES = {
    "suicide": "Ich will sterben.",
    # C-32's held-out case (a horror game), with its game named: safe_context needs a ctx_safe
    # marker in the turn itself (the bare sentence has none and vetoes, see real_panic)
    "game_panic": "Im Horrorspiel hatte meine Spielfigur Panik und Todesangst, als das Monster kam",
    "real_panic": "Ich hatte Panik und Todesangst, als er kam",
    "therapy": "Die Angst von damals hängt mit meiner Kindheit zusammen",
    "film_suicide": "In dem Film sagt er: ich will mich umbringen",
    "everyday": "Wir gehen morgen ins Kino und essen danach Pizza.",
}


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    # each example is the first user turn of its own session (no history effects)
    turns = [(k, k, None, 1, "user", text) for k, text in EXAMPLES.items()]
    con = build_part4(
        tmp_path_factory.mktemp("part4_guardian_real"), turns, ["guardian", "metrics_synthesis"]
    )
    try:
        got = rows(con, "guardian")
        for turn_id, row in rows(con, "metrics_synthesis").items():
            got[turn_id]["m161_commit_action"] = row["m161_commit_action"]
        return got
    finally:
        con.close()


def test_suicidal_statement_vetoes_on_hazard(real) -> None:
    row = real["suicide"]
    assert row["guardian_action"] == "veto_hazard" and row["is_alert"] == 1
    assert row["m161_commit_action"] == "alert"
    assert close(row["hazard"], 1.0)


def test_panic_words_in_a_game_context_warn_not_veto_panic(real) -> None:
    row = real["game_panic"]
    assert row["m101_t_panic"] > 0.8  # the lexicon accuses …
    assert row["safe_context"] == 1  # … the context judges (C-32)
    assert row["guardian_action"] == "warn" and row["is_alert"] == 0


def test_the_same_panic_without_game_context_vetoes(real) -> None:
    row = real["real_panic"]
    assert row["m101_t_panic"] > 0.8 and row["safe_context"] == 0
    assert row["guardian_action"] == "veto_panic" and row["is_alert"] == 1


def test_calm_fear_sentence_warns_not_veto_f_risk(real) -> None:
    row = real["therapy"]  # C-31 held-out: F_risk about 0.63 must not veto
    assert 0.6 < row["F_risk"] <= 0.75
    assert row["guardian_action"] == "warn" and row["is_alert"] == 0


def test_suicide_term_in_a_film_context_still_vetoes(real) -> None:
    row = real["film_suicide"]
    assert row["safe_context"] == 0
    assert row["guardian_action"] == "veto_hazard" and row["is_alert"] == 1


def test_everyday_talk_does_not_alert(real) -> None:
    row = real["everyday"]
    assert row["is_alert"] == 0 and not row["guardian_action"].startswith("veto_")


def test_f_risk_is_the_engine_formula_of_its_inputs(real) -> None:
    for turn_id, row in real.items():
        expected = 0.40 * (1 - row["effective_A"]) + 0.35 * row["m101_t_panic"]
        expected += 0.25 * (1 - row["b_align"])
        assert close(row["F_risk"], min(1.0, max(0.0, expected))), turn_id


# --- the model's own joins, with upstream inputs set through the overlay ---------------------

CALM_TEXT = "Wir reden heute über das Wetter."
MODEL_CASES = {
    # turn_id: (overrides per upstream model, expected action)
    "g-black": ({"metrics_trauma": {"m110_black_hole": 0.75}}, "veto_black_hole"),
    "g-zprox": ({"metrics_core": {"m19_z_prox": 0.66}}, "veto_z_prox"),
    "g-a29": ({"metrics_core": {"m30_phys_3": 1}}, "veto_a29"),
    "g-frisk": (
        {"metrics_core": {"effective_A": 0.3}, "metrics_trauma": {"m101_t_panic": 0.75}},
        "veto_f_risk",
    ),
    "g-panic": ({"metrics_trauma": {"m101_t_panic": 0.85}}, "veto_panic"),
    "g-conflict": ({"metrics_integrity": {"m36_rule_conflict": 0.6}}, "warn"),
}


@pytest.fixture(scope="module")
def wired(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    turns = [(k, k, None, 1, "user", CALM_TEXT) for k in MODEL_CASES]
    overrides: dict[str, dict[str, dict[str, float | int]]] = {}
    for turn_id, (given, _expected) in MODEL_CASES.items():
        for model, columns in given.items():
            overrides.setdefault(model, {})[turn_id] = columns
    con = build_part4(
        tmp_path_factory.mktemp("part4_guardian_wired"),
        turns,
        ["guardian", "metrics_synthesis"],
        overrides=overrides,
    )
    try:
        got = rows(con, "guardian")
        for turn_id, row in rows(con, "metrics_synthesis").items():
            got[turn_id]["m161_commit_action"] = row["m161_commit_action"]
        return got
    finally:
        con.close()


@pytest.mark.parametrize("turn_id", list(MODEL_CASES))
def test_guardian_model_reads_each_input(wired, turn_id: str) -> None:
    row = wired[turn_id]
    expected = MODEL_CASES[turn_id][1]
    assert row["guardian_action"] == expected, (turn_id, row)
    assert row["is_alert"] == (1 if expected.startswith("veto_") else 0)


def test_f_risk_veto_example_value(wired) -> None:
    row = wired["g-frisk"]  # calm text without B keywords: B_align 0
    assert close(row["b_align"], 0.0)
    assert close(row["F_risk"], 0.7925)


def test_rule_conflict_alerts_m161_but_only_warns_the_guardian(wired) -> None:
    row = wired["g-conflict"]  # C-29: m161 keeps the spec rule; is_alert does not
    assert row["m161_commit_action"] == "alert"
    assert row["guardian_action"] == "warn" and row["is_alert"] == 0
