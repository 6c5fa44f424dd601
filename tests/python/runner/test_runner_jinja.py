"""The Jinja context of models and tests: ref, source (with identifier), config (materialized,
tags, unique_key, description; in the file and in YAML), var, env_var, this,
is_incremental(), selected_resources, macros calling macros across files, `-- depends_on:`, and
exceptions.raise_compiler_error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from runner_support import Built, query, read_json, run_cli, write_project

FILES = {
    "models/sources.yml": """\
        version: 2
        sources:
          - name: hist
            tags: [raw]
            tables:
              - name: ev
                identifier: events
        """,
    "models/base.sql": """\
        {{ config(materialized='table', tags=['core'], unique_key='id',
                  description='described in config') }}
        select id, v, '{{ this }}' as me, {{ is_incremental() }} as inc,
               {{ var('missing_with_default', 41) + 1 }} as answer
        from {{ source('hist', 'ev') }}
        """,
    "models/yaml_configured.sql": "select id from {{ ref('base') }}\n",
    "models/dep_comment.sql": """\
        -- depends_on: {{ ref('yaml_configured') }}
        select {{ cents('v') }} as cents from {{ ref('base') }}
        """,
    "models/schema.yml": """\
        version: 2
        models:
          - name: yaml_configured
            config:
              materialized: table
              tags: [from_yaml]
        """,
    "macros/money.sql": "{% macro cents(col) %}{{ round_to(col ~ ' * 100', 0) }}{% endmacro %}\n",
    "macros/round.sql": "{% macro round_to(expr, n) %}round({{ expr }}, {{ n }}){% endmacro %}\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    project = write_project(tmp_path_factory.mktemp("jinja"), FILES)
    result = run_cli(project, "run")
    target = project / "target"
    return Built(
        project, result, read_json(target / "manifest.json"), read_json(target / "run_results.json")
    )


def test_run_succeeds(built: Built) -> None:
    assert built.result.code == 0, built.result.text
    assert built.result.node_lines() == [
        "1 of 3 OK created table model main.base (5 rows)",
        "2 of 3 OK created table model main.yaml_configured (5 rows)",
        "3 of 3 OK created view model main.dep_comment",
    ]


def test_source_identifier_this_is_incremental_and_var_default(built: Built) -> None:
    compiled = (built.project / "target" / "compiled" / "models" / "base.sql").read_text()
    assert "from hist.main.events" in compiled
    assert query(built.db, "select distinct me, inc, answer from base") == [
        ("main.base", False, 42)
    ]


def test_config_in_file_and_in_yaml(built: Built) -> None:
    nodes = built.manifest["nodes"]
    base = nodes["model.fx.base"]
    assert base["config"]["materialized"] == "table"
    assert base["config"]["unique_key"] == "id"
    assert base["tags"] == ["core"]
    yaml_configured = nodes["model.fx.yaml_configured"]
    assert yaml_configured["config"]["materialized"] == "table"
    assert yaml_configured["tags"] == ["from_yaml"]
    assert built.manifest["sources"]["source.fx.hist.ev"]["tags"] == ["raw"]


def test_config_description_reaches_the_manifest(built: Built) -> None:
    assert built.manifest["nodes"]["model.fx.base"]["description"] == "described in config"


def test_macros_call_macros_from_other_files(built: Built) -> None:
    compiled = (built.project / "target" / "compiled" / "models" / "dep_comment.sql").read_text()
    assert "select round(v * 100, 0) as cents from main.base" in compiled


def test_depends_on_comment_declares_a_dependency(built: Built) -> None:
    deps = built.manifest["nodes"]["model.fx.dep_comment"]["depends_on"]["nodes"]
    assert sorted(deps) == ["model.fx.base", "model.fx.yaml_configured"]


def test_ref_reached_only_inside_is_incremental_asks_for_depends_on(tmp_path: Path) -> None:
    files = {
        **FILES,
        "models/late.sql": """\
            {{ config(materialized='incremental') }}
            select id from {{ ref('base') }}
            {% if is_incremental() %}
            where id > (select max(id) from {{ ref('yaml_configured') }})
            {% endif %}
            """,
    }
    project = write_project(tmp_path / "p", files)
    first = run_cli(project, "run")
    assert first.code == 0, first.text
    second = run_cli(project, "run", "-s", "late")
    assert second.code == 2
    assert "Traceback" not in second.err
    assert "models/late.sql" in second.err
    assert "ref('yaml_configured') is only reached at compile time" in second.err
    assert "-- depends_on: {{ ref('yaml_configured') }}" in second.err


def test_selected_resources_lists_what_the_command_runs(tmp_path: Path) -> None:
    files = {
        **FILES,
        "models/selection.sql": """\
            {{ config(materialized='table') }}
            select
                {{ selected_resources | length }} as n_selected,
                {{ 'model.fx.base' in selected_resources }} as base_runs,
                {{ 'model.fx.selection' in selected_resources }} as self_runs
            """,
    }
    project = write_project(tmp_path / "p", files)
    everything = run_cli(project, "run")
    assert everything.code == 0, everything.text
    n_models = len(read_json(project / "target" / "manifest.json")["nodes"])
    db = project / "target" / "fx.duckdb"
    n_all, base_all, self_all = query(db, "select * from main.selection")[0]
    assert (base_all, self_all) == (True, True) and 4 <= n_all <= n_models
    alone = run_cli(project, "run", "-s", "selection")
    assert alone.code == 0, alone.text
    assert query(db, "select * from main.selection")[0] == (1, False, True)


def test_raise_compiler_error_from_a_macro(tmp_path: Path) -> None:
    files = {
        "macros/guard.sql": (
            "{% macro must_be_positive(n) %}{% if n <= 0 %}"
            "{{ exceptions.raise_compiler_error('n must be positive, got ' ~ n) }}"
            "{% endif %}{{ n }}{% endmacro %}\n"
        ),
        "models/m.sql": "select {{ must_be_positive(-1) }} as n\n",
    }
    project = write_project(tmp_path / "p", files)
    result = run_cli(project, "ls")
    assert result.code == 2
    assert result.err.startswith("Error: models/m.sql")
    assert "n must be positive, got -1" in result.err
    assert "Traceback" not in result.err


def test_accepted_range_without_bounds_is_a_compile_error(tmp_path: Path) -> None:
    files = {
        "models/m.sql": "select 1 as x\n",
        "models/schema.yml": (
            "version: 2\nmodels:\n  - name: m\n    columns:\n      - name: x\n"
            "        data_tests: [accepted_range]\n"
        ),
    }
    project = write_project(tmp_path / "p", files)
    result = run_cli(project, "build")
    assert result.code == 2
    assert "models/schema.yml" in result.err
    assert "accepted_range needs min_value or max_value" in result.err


def test_compiled_templates_are_cached_and_a_changed_macro_is_compiled_again(
    tmp_path: Path,
) -> None:
    """The second compile loads the templates from target/jinja_bytecode; a macro file edited
    in place (same name, new text) is compiled again, not served from the cache; a project
    whose cache cannot be written still compiles."""
    project = write_project(tmp_path / "p", FILES)
    compiled = project / "target" / "compiled" / "models" / "dep_comment.sql"
    assert run_cli(project, "compile").code == 0
    cached = list((project / "target" / "jinja_bytecode").glob("*/*.jinja"))
    # the macro files and the model and test texts, each compiled once
    assert len(cached) >= len([f for f in FILES if f.endswith(".sql")])
    first = compiled.read_text()
    assert run_cli(project, "compile").code == 0
    assert compiled.read_text() == first
    assert sorted((project / "target" / "jinja_bytecode").glob("*/*.jinja")) == sorted(cached)

    (project / "macros" / "round.sql").write_text(
        "{% macro round_to(expr, n) %}trunc({{ expr }}){% endmacro %}\n", encoding="utf-8"
    )
    assert run_cli(project, "compile").code == 0
    assert "select trunc(v * 100) as cents from main.base" in compiled.read_text()

    # entries that are not bytecode are compiled again
    for entry in (project / "target" / "jinja_bytecode").glob("*/*.jinja"):
        entry.write_bytes(b"not bytecode")
    assert run_cli(project, "compile").code == 0
    assert "select trunc(v * 100) as cents from main.base" in compiled.read_text()
    # a cache that cannot be created (a file where its directory belongs) is skipped
    shutil.rmtree(project / "target" / "jinja_bytecode")
    (project / "target" / "jinja_bytecode").write_text("in the way", encoding="utf-8")
    result = run_cli(project, "compile")
    assert result.code == 0, result.text
    assert "select trunc(v * 100) as cents from main.base" in compiled.read_text()
