"""Every command through the CLI entry point: seed, run, test, compile, ls, show, lineage,
`--help`, and exit codes and stack traces of real `python -m evoki_sql` processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from runner_support import (
    FULL_FILES,
    SOURCES_YML,
    STG_EVENTS,
    query,
    read_json,
    run_cli,
    run_subprocess,
)

COMMANDS = ["build", "run", "test", "seed", "compile", "ls", "show", "lineage"]


# -- read-only commands on the shared full build ---------------------------------------------


def test_ls_default_output_is_selectors_in_dag_order(full_project: Path) -> None:
    result = run_cli(full_project, "ls")
    assert result.code == 0, result.text
    assert result.out.splitlines() == [
        "source:hist.events",
        "fx.not_null_hist_events_id",
        "fx.unique_hist_events_id",
        "fx.kinds",
        "fx.not_null_kinds_kind",
        "fx.numbers",
        "fx.stg_events",
        "fx.is_positive_stg_events_v2",
        "fx.relationships_stg_events_kind",
        "fx.agg",
        "fx.accepted_range_agg_total",
        "fx.accepted_values_agg_kind",
        "fx.no_negative",
        "fx.unique_agg_kind",
        "fx.inc",
    ]


def test_ls_output_name_path_and_resource_type(full_project: Path) -> None:
    names = run_cli(full_project, "ls", "--output", "name", "--resource-type", "model", "seed")
    assert names.code == 0
    assert names.out.splitlines() == ["kinds", "numbers", "stg_events", "agg", "inc"]
    paths = run_cli(full_project, "ls", "--output", "path", "--resource-type", "model")
    assert paths.out.splitlines() == [
        "models/staging/stg_events.sql",
        "models/marts/agg.sql",
        "models/marts/inc.sql",
    ]
    sources = run_cli(full_project, "ls", "--resource-type", "source", "--output", "name")
    assert sources.out.splitlines() == ["hist.events"]
    tests = run_cli(full_project, "ls", "--resource-type", "test", "--output", "name")
    assert len(tests.out.splitlines()) == 9
    assert "no_negative" in tests.out.splitlines()


def test_ls_output_json(full_project: Path) -> None:
    result = run_cli(full_project, "ls", "-s", "inc", "--output", "json")
    assert result.code == 0
    rows = [json.loads(line) for line in result.out.splitlines()]
    assert rows == [
        {
            "name": "inc",
            "resource_type": "model",
            "unique_id": "model.fx.inc",
            "original_file_path": "models/marts/inc.sql",
            "config": {"materialized": "incremental", "tags": ["daily", "inc"], "unique_key": "id"},
            "depends_on": ["model.fx.stg_events"],
            "tags": ["daily", "inc"],
        }
    ]


def test_ls_writes_the_manifest_without_touching_the_database(project_factory) -> None:
    project = project_factory({"models/m.sql": "select 1 as x\n"}, history=None)
    result = run_cli(project, "ls")
    assert result.code == 0, result.text  # no history file needed: ls never connects
    assert result.out.splitlines() == ["fx.m"]
    assert (project / "target" / "manifest.json").is_file()
    assert not (project / "target" / "fx.duckdb").exists()


def test_show_inline_with_jinja_ref_macro_and_var(full_project: Path) -> None:
    result = run_cli(
        full_project,
        "show",
        "--inline",
        "select kind, {{ double_it('count(*)') }} as n2, {{ var('factor') }} as f "
        "from {{ ref('stg_events') }} group by kind order by kind",
    )
    assert result.code == 0, result.text
    lines = result.out.splitlines()
    assert [c.strip() for c in lines[0].split("|")] == ["kind", "n2", "f"]
    assert [[c.strip() for c in line.split("|")] for line in lines[2:4]] == [
        ["a", "6", "2"],
        ["b", "4", "2"],
    ]
    assert lines[-1] == "(2 rows)"


def test_show_inline_source_as_json(full_project: Path) -> None:
    result = run_cli(
        full_project,
        "show",
        "--inline",
        "select id, kind from {{ source('hist', 'events') }} order by id",
        "--limit",
        "2",
        "--output",
        "json",
    )
    assert result.code == 0, result.text
    assert json.loads(result.out) == [{"id": 1, "kind": "a"}, {"id": 2, "kind": "a"}]


def test_show_model_and_seed_with_limit(full_project: Path) -> None:
    result = run_cli(full_project, "show", "-s", "agg", "--limit", "1", "--output", "json")
    assert result.code == 0, result.text
    rows = json.loads(result.out)
    assert len(rows) == 1
    assert set(rows[0]) == {"kind", "total", "label", "n2", "sq_total", "n_plus_one"}
    seed = run_cli(full_project, "show", "-s", "kinds", "--output", "json")
    assert sorted(r["code"] for r in json.loads(seed.out)) == ["007", "010"]


def test_show_default_limit_is_10(full_project: Path) -> None:
    result = run_cli(full_project, "show", "--inline", "select range as i from range(25)")
    assert result.code == 0, result.text
    assert result.out.splitlines()[-1] == "(10 rows)"


def test_show_usage_errors(full_project: Path) -> None:
    nothing = run_cli(full_project, "show")
    assert nothing.code == 2
    assert "show needs --inline" in nothing.err
    two = run_cli(full_project, "show", "-s", "+agg")
    assert two.code == 2
    assert "exactly one model" in two.err
    bad_sql = run_cli(full_project, "show", "--inline", "select nope from {{ ref('agg') }}")
    assert bad_sql.code == 2
    assert 'column "nope" not found' in bad_sql.err
    assert "Traceback" not in bad_sql.text


def test_lineage_through_models_to_source_and_seed(full_project: Path) -> None:
    total = run_cli(full_project, "lineage", "agg.total")
    assert total.code == 0, total.text
    assert total.out.splitlines() == [
        "agg.total",
        "  <- model stg_events.v2",
        "    <- source hist.events.v",
    ]
    label = run_cli(full_project, "lineage", "agg.label")
    assert label.out.splitlines() == ["agg.label", "  <- seed kinds.label"]


def test_lineage_errors(full_project: Path) -> None:
    no_column = run_cli(full_project, "lineage", "agg")
    assert no_column.code == 2
    assert "lineage takes MODEL.COLUMN" in no_column.err
    unknown = run_cli(full_project, "lineage", "agg.nope")
    assert unknown.code == 2
    assert "models/marts/agg.sql: no lineage for agg.nope" in unknown.err
    seed = run_cli(full_project, "lineage", "kinds.kind")
    assert seed.code == 2
    assert "kinds is a seed, not a model" in seed.err


# -- commands that change the database, on their own copy of the project -----------------------


def test_seed_then_run_then_test_each_do_their_part(project_factory) -> None:
    project = project_factory(FULL_FILES, name="parts")
    db = project / "target" / "fx.duckdb"

    seeded = run_cli(project, "seed")
    assert seeded.code == 0, seeded.text
    assert seeded.node_lines() == [
        "1 of 2 OK loaded seed file main.kinds (2 rows)",
        "2 of 2 OK loaded seed file main.numbers (2 rows)",
    ]
    assert query(db, "select table_name from information_schema.tables order by 1") == [
        ("kinds",),
        ("numbers",),
    ]
    assert read_json(project / "target" / "run_results.json")["metadata"]["command"] == "seed"

    ran = run_cli(project, "run")
    assert ran.code == 0, ran.text
    assert ran.node_lines() == [
        "1 of 3 OK created view model main.stg_events",
        "2 of 3 OK created table model main.agg (2 rows)",
        "3 of 3 OK created incremental model main.inc (5 rows)",
    ]
    assert "Found 3 models" in ran.out

    tested = run_cli(project, "test")
    assert tested.code == 0, tested.text
    assert "Found 9 tests" in tested.out
    assert len(tested.node_lines()) == 9
    assert all(" PASS " in line for line in tested.node_lines())
    assert tested.out.rstrip().endswith("Done. PASS=9 WARN=0 ERROR=0 SKIP=0 TOTAL=9")

    # a second run merges the incremental model (is_incremental() is true now)
    again = run_cli(project, "run", "-s", "inc")
    assert again.code == 0, again.text
    [line] = again.node_lines()
    assert line.startswith("1 of 1 OK merged incremental model main.inc: 0 new, 0 updated")


def test_compile_renders_and_parses_without_running(project_factory) -> None:
    project = project_factory(FULL_FILES, name="compile")
    result = run_cli(project, "compile")
    assert result.code == 0, result.text
    assert "Compiled 3 models and 9 tests to" in result.out
    compiled = project / "target" / "compiled"
    assert (compiled / "models" / "marts" / "agg.sql").is_file()
    assert (compiled / "models" / "schema.yml" / "unique_agg_kind.sql").is_file()
    assert not (project / "target" / "run").exists()
    assert not (project / "target" / "run_results.json").exists()
    assert query(project / "target" / "fx.duckdb", "select count(*) from duckdb_tables()") == [(0,)]
    manifest = read_json(project / "target" / "manifest.json")
    assert manifest["nodes"]["model.fx.agg"]["compiled"] is True

    one = run_cli(
        project, "compile", "-s", "stg_events", "kinds", "--exclude", "is_positive_stg_events_v2"
    )
    assert one.code == 0, one.text
    # the relationships test stg_events -> kinds and the seed's not_null: all parents selected
    assert "Compiled 1 models and 2 tests" in one.out
    alone = run_cli(
        project, "ls", "-s", "stg_events", "--resource-type", "test", "--output", "name"
    )
    # without kinds selected, the relationships test is left out (kinds may not be built)
    assert alone.out.split() == ["is_positive_stg_events_v2"]


# -- --help and usage --------------------------------------------------------------------------


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command: str) -> None:
    result = run_cli(None, command, "--help")
    assert result.code == 0
    assert result.out.startswith(f"usage: python -m evoki_sql {command}")
    assert "--project-dir" in result.out
    assert "--target" in result.out
    assert "--vars" in result.out
    if command in ("build", "run", "test", "seed", "compile", "ls", "show"):
        assert "--select" in result.out
    if command in ("build", "run", "test", "seed", "compile", "ls"):
        assert "--exclude" in result.out
    if command in ("build", "run", "seed", "compile"):
        assert "--full-refresh" in result.out
    if command == "ls":
        assert "--resource-type" in result.out and "--output" in result.out
    if command == "show":
        assert "--inline" in result.out and "--limit" in result.out
    if command == "lineage":
        assert "MODEL.COLUMN" in result.out


def test_usage_errors_exit_2(full_project: Path) -> None:
    assert run_cli(None).code == 2  # no command: help, exit 2
    bogus = run_cli(full_project, "run", "--bogus")
    assert bogus.code == 2
    assert "unrecognized arguments: --bogus" in bogus.err
    unknown_command = run_cli(None, "frobnicate")
    assert unknown_command.code == 2
    bad_choice = run_cli(full_project, "ls", "--output", "yaml")
    assert bad_choice.code == 2


# -- real processes ----------------------------------------------------------------------------


def test_subprocess_help_and_no_command() -> None:
    helped = run_subprocess(None, "--help")
    assert helped.returncode == 0
    for command in COMMANDS:
        assert command in helped.stdout
    bare = run_subprocess(None)
    assert bare.returncode == 2
    assert "usage: python -m evoki_sql" in bare.stdout


def test_subprocess_user_error_has_no_stack_trace_unless_debug(project_factory) -> None:
    project = project_factory(
        {
            "models/a.sql": "select * from {{ ref('b') }}\n",
            "models/b.sql": "select * from {{ ref('a') }}\n",
        }
    )
    plain = run_subprocess(project, "build")
    assert plain.returncode == 2
    assert "Traceback" not in plain.stdout + plain.stderr
    assert plain.stderr.strip().splitlines() == [
        "Error: models/a.sql: dependency cycle: a -> b -> a"
    ]
    debug = run_subprocess(project, "build", "--debug")
    assert debug.returncode == 2
    assert "Traceback (most recent call last)" in debug.stderr
    assert "dependency cycle" in debug.stderr


def test_subprocess_exit_codes_success_and_node_failure(project_factory) -> None:
    project = project_factory(
        {
            "models/sources.yml": SOURCES_YML,
            "models/stg.sql": STG_EVENTS,
            "models/broken.sql": "select no_such_column from {{ ref('stg') }}\n",
        }
    )
    ok = run_subprocess(project, "run", "-s", "stg")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "1 of 1 OK created view model main.stg" in ok.stdout
    failed = run_subprocess(project, "run")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stdout + failed.stderr
    assert "ERROR model broken" in failed.stdout
    assert 'Referenced column "no_such_column" not found' in failed.stdout
