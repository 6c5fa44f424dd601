"""Batched pass checks of the built-in column tests (evoki_sql/test_batch.py): the results are
the same as running every test on its own — failures with their rows, project overrides of a
built-in test, `where` configs, and a model whose batch query cannot run."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from runner_support import SOURCES_YML, CliResult

MODEL = """\
select id, v, kind from (values
    (1, 0.5, 'a'), (2, 1.5, 'b'), (3, null, 'a'), (4, 0.25, 'z')
) as t(id, v, kind)
"""

SCHEMA = """\
version: 2
models:
  - name: numbers
    columns:
      - name: id
        data_tests: [not_null]
      - name: v
        data_tests:
          - not_null
          - accepted_range: {min_value: 0, max_value: 1}
          - accepted_range:
              name: v_in_range_where_small_id
              min_value: 0
              max_value: 1
              config: {where: "id < 2"}
          - accepted_range: {min_value: 0, max_value: 2, inclusive: false}
      - name: kind
        data_tests:
          - accepted_values: {values: ['a', 'b']}
          - accepted_values:
              name: kind_any
              values: ['a', 'b', 'z']
"""


def names_with(result: CliResult, status: str) -> set[str]:
    """Names of the tests whose node line has `status` (PASS, FAIL or ERROR)."""
    pattern = re.compile(rf"^\d+ of \d+ {status}(?: \d+| test)? (\S+)$")
    return {m.group(1) for line in result.node_lines() if (m := pattern.match(line))}


def test_batched_results_equal_single_test_results(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    project = project_factory(
        {"models/sources.yml": SOURCES_YML, "models/numbers.sql": MODEL, "models/s.yml": SCHEMA},
        name="batch",
    )
    result = cli(project, "build")
    assert result.code == 1
    # v = 1.5 is out of [0, 1]; v is NULL once; kind 'z' is not in (a, b)
    assert names_with(result, "FAIL") == {
        "not_null_numbers_v",
        "accepted_range_numbers_v",
        "accepted_values_numbers_kind",
    }
    assert {"not_null_numbers_id", "v_in_range_where_small_id", "kind_any"} <= names_with(
        result, "PASS"
    )
    # the failing tests ran their own SQL: their counts and failing rows are reported
    lines = result.node_lines()
    assert any(line.endswith("FAIL 1 accepted_range_numbers_v") for line in lines)
    assert "id=2, v=1.50" in result.out and "id=3, v=None" in result.out


def test_a_project_override_of_a_builtin_test_is_not_batched(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    strict = (
        "{% test not_null(model, column_name) %}\n"
        "select * from {{ model }} where {{ column_name }} is null or {{ column_name }} = 0.25\n"
        "{% endtest %}\n"
    )
    files = {
        "models/sources.yml": SOURCES_YML,
        "models/numbers.sql": MODEL,
        "models/s.yml": SCHEMA,
        "macros/not_null.sql": strict,
    }
    project = project_factory(files, name="batch_override")
    result = cli(project, "build")
    # the project's not_null also rejects 0.25 (row 4): id passes, v fails on 2 rows
    assert "not_null_numbers_v" in names_with(result, "FAIL")
    assert any(line.endswith("FAIL 2 not_null_numbers_v") for line in result.node_lines())


def test_a_missing_column_fails_its_own_test_only(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    schema = SCHEMA.replace(
        "      - name: kind\n",
        "      - name: nope\n        data_tests: [not_null]\n      - name: kind\n",
    )
    files = {"models/sources.yml": SOURCES_YML, "models/numbers.sql": MODEL, "models/s.yml": schema}
    project = project_factory(files, name="batch_missing")
    result = cli(project, "build")
    assert names_with(result, "ERROR") == {"not_null_numbers_nope"}
    assert "not_null_numbers_id" in names_with(result, "PASS")


POSITIVE = """\
{% test positive(model, column_name) %}
select * from {{ model }} where {{ positive_condition(column_name) }}
{% endtest %}

{% macro positive_condition(column_name) -%}
coalesce({{ column_name }} <= 0, true)
{%- endmacro %}
"""


def test_a_project_test_with_a_condition_macro_joins_the_batch(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    schema = SCHEMA.replace(
        "      - name: id\n        data_tests: [not_null]\n",
        "      - name: id\n        data_tests: [not_null, positive]\n",
    ).replace("          - not_null\n", "          - not_null\n          - positive\n", 1)
    files = {
        "models/sources.yml": SOURCES_YML,
        "models/numbers.sql": MODEL,
        "models/s.yml": schema,
        "macros/positive.sql": POSITIVE,
    }
    project = project_factory(files, name="batch_condition")
    result = cli(project, "build")
    # id is positive everywhere; v is NULL once (the condition counts NULL as failing)
    assert "positive_numbers_id" in names_with(result, "PASS")
    assert any(line.endswith("FAIL 1 positive_numbers_v") for line in result.node_lines())
    assert "id=3, v=None" in result.out
    compiled = project / "target" / "compiled" / "models" / "s.yml"
    # build writes the compiled SQL of the tests that ran their own SQL (the failing ones),
    # not of those the batch proved; `compile` writes every one
    assert (compiled / "positive_numbers_v.sql").is_file()
    assert not (compiled / "positive_numbers_id.sql").exists()
    assert cli(project, "compile").code == 0
    assert "coalesce(id <= 0, true)" in (compiled / "positive_numbers_id.sql").read_text()


# the events source with unique tests on its columns
UNIQUE_SOURCES = (
    SOURCES_YML
    + """\
        columns:
          - name: id
            data_tests: [unique, not_null]
          - name: kind
            data_tests:
              - unique
              - accepted_values: {values: ['a', 'b']}
          - name: note
            data_tests: [unique]
"""
)

UNIQUE_MODEL_SCHEMA = """\
version: 2
models:
  - name: keyed
    columns:
      - name: id
        data_tests: [unique, not_null]
      - name: dup
        data_tests: [unique]
      - name: sparse
        data_tests: [unique]
"""

KEYED = """\
select * from (values
    (1, 10, null), (2, 20, null), (3, 20, 7), (4, 40, null)
) as t(id, dup, sparse)
"""


def test_unique_tests_join_the_batch_and_failures_run_their_own_sql(
    project_factory: Callable[..., Path], cli: Callable[..., CliResult]
) -> None:
    # events: ids 1-5 unique; kind repeats ('a' three times, 'b' twice); note is unique
    # among its non-NULL values (one NULL)
    files = {
        "models/sources.yml": UNIQUE_SOURCES,
        "models/keyed.sql": KEYED,
        "models/keyed.yml": UNIQUE_MODEL_SCHEMA,
    }
    project = project_factory(files, name="batch_unique")
    result = cli(project, "build")
    assert result.code == 1
    assert names_with(result, "FAIL") == {"unique_hist_events_kind", "unique_keyed_dup"}
    assert {
        "unique_hist_events_id",
        "unique_hist_events_note",
        "unique_keyed_id",
        "unique_keyed_sparse",
    } <= names_with(result, "PASS")
    lines = result.node_lines()
    # the failing ones ran their own SQL: the number of repeated values and their rows
    assert any(line.endswith("FAIL 2 unique_hist_events_kind") for line in lines)
    assert any(line.endswith("FAIL 1 unique_keyed_dup") for line in lines)
    assert "n_records=2" in result.out
    # the passing ones were proven by the batch: their own SQL was never written
    compiled = project / "target" / "compiled"
    written = {p.stem for p in compiled.rglob("*.sql")}
    assert {"unique_hist_events_kind", "unique_keyed_dup"} <= written
    assert (
        not {
            "unique_hist_events_id",
            "unique_hist_events_note",
            "unique_keyed_id",
            "unique_keyed_sparse",
        }
        & written
    )
