"""`target` in Jinja (dbt's target.name / target.type / target.profile_name), config(enabled=...)
on singular tests, and Jinja inside string arguments of generic tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from runner_support import SOURCES_YML, CliResult

PROFILES_TWO_TARGETS = """\
fx:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "target/fx.duckdb"
      attach:
        - {path: "{{ env_var('FX_HIST', 'hist.db') }}", alias: hist, type: sqlite, read_only: true}
    other:
      type: duckdb
      path: "target/other.duckdb"
      attach:
        - {path: "{{ env_var('FX_HIST', 'hist.db') }}", alias: hist, type: sqlite, read_only: true}
"""

FILES = {
    "profiles.yml": PROFILES_TWO_TARGETS,
    "models/sources.yml": SOURCES_YML,
    "models/where_am_i.sql": (
        "select '{{ target.name }}' as target_name, '{{ target.type }}' as target_type,"
        " '{{ target.profile_name }}' as profile from {{ source('hist', 'events') }} limit 1\n"
    ),
    "models/schema.yml": """\
version: 2
models:
  - name: where_am_i
    data_tests:
      - expression_is_true:
          name: target_is_rendered_in_test_args
          expression: "target_name = '{{ target.name }}' and {{ one() }} = 1"
""",
    "macros/one.sql": "{% macro one() %}1{% endmacro %}\n",
    "macros/tests.sql": (
        "{% test expression_is_true(model, expression) %}\n"
        "select * from {{ model }} where not coalesce(({{ expression }}), false)\n"
        "{% endtest %}\n"
    ),
    "tests/only_on_dev.sql": (
        "{{ config(enabled=target.name == 'dev') }}\n"
        "select * from {{ ref('where_am_i') }} where target_name <> 'dev'\n"
    ),
    "tests/always.sql": "select * from {{ ref('where_am_i') }} where profile <> 'fx'\n",
}


def test_target_renders_in_models_and_test_arguments(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    project = project_factory(FILES, name="target")
    result = cli(project, "build")
    assert result.code == 0, result.text
    names = " ".join(result.node_lines())
    assert "target_is_rendered_in_test_args" in names
    assert "only_on_dev" in names and "always" in names
    other = cli(project, "build", "--target", "other")
    assert other.code == 0, other.text
    names = " ".join(other.node_lines())
    # the disabled test is not part of the project on the other target; the rest runs there
    assert "only_on_dev" not in names
    assert "always" in names and "target_is_rendered_in_test_args" in names


def test_listing_shows_a_test_only_where_it_is_enabled(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    project = project_factory(FILES, name="target_ls")
    assert "only_on_dev" in cli(project, "ls").out
    assert "only_on_dev" not in cli(project, "ls", "--target", "other").out


def test_enabled_must_be_a_boolean(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    files = {**FILES, "tests/bad.sql": "{{ config(enabled='no') }}\nselect 1 where false\n"}
    project = project_factory(files, name="target_bad")
    result = cli(project, "ls")
    assert result.code == 2
    assert "tests/bad.sql" in result.text and "enabled must be true or false" in result.text


def test_unknown_target_attribute_is_a_clear_error(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    files = {**FILES, "models/bad.sql": "select '{{ target.password }}' as x\n"}
    project = project_factory(files, name="target_attr")
    result = cli(project, "ls")
    assert result.code == 2
    assert "target has no attribute 'password'" in result.text
