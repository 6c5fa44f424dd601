"""Data tests: generic (not_null, unique, accepted_values, relationships, accepted_range),
custom generic `{% test %}` macros with arguments, singular tests, tests on models, sources
and seeds under `data_tests:` and `tests:`, config severity / where / limit, failure counts
and the failing rows' keys (ids and numbers, never free text), skipping downstream of a
failing error-severity test, and the exit codes of `build` and `test`."""

from __future__ import annotations

import json
import re

import pytest
from runner_support import (
    STG_EVENTS,
    Built,
    read_json,
    run_cli,
    write_project,
)

# ids 1..10; kind a (odd) / b (even); v = id; note NULL for ids 4 and 8, else private text
HISTORY = [
    (i, "a" if i % 2 else "b", float(i), None if i % 4 == 0 else f"private note {i % 3}")
    for i in range(1, 11)
]

FILES = {
    "models/sources.yml": """\
        version: 2
        sources:
          - name: hist
            tables:
              - name: events
                tests:
                  - row_count_at_least: {n: 5}
                columns:
                  - name: id
                    tests: [unique]
        """,
    "models/stg.sql": STG_EVENTS,  # v2 = 2 * v
    "models/child.sql": "{{ config(materialized='table') }}\nselect * from {{ ref('stg') }}\n",
    "models/grandchild.sql": "select id from {{ ref('child') }}\n",
    "models/independent.sql": "{{ config(materialized='table') }}\nselect 1 as id\n",
    "seeds/kinds.csv": "kind,label\na,A\nb,B\n",
    "seeds/props.yml": """\
        version: 2
        seeds:
          - name: kinds
            columns:
              - name: kind
                tests: [unique, not_null]
        """,
    "macros/tests.sql": """\
        {% macro modulo(col, n) %}({{ col }} % {{ n }}){% endmacro %}
        {% test multiple_of(model, column_name, n) %}
        select id, {{ column_name }} from {{ model }} where {{ modulo(column_name, n) }} <> 0
        {% endtest %}
        {% test row_count_at_least(model, n) %}
        select count(*) as n_rows from {{ model }} having count(*) < {{ n }}
        {% endtest %}
        """,
    "models/schema.yml": """\
        version: 2
        models:
          - name: stg
            columns:
              - name: id
                data_tests:
                  - accepted_range: {min_value: 1, max_value: 3}
                  - accepted_range:
                      {min_value: 2, max_value: 9, inclusive: false, severity: warn, name: open_range}
              - name: v2
                data_tests:
                  - multiple_of: {n: 4, config: {severity: warn}}
                  - multiple_of: {n: 4, where: "id > 6", severity: warn, name: multiple_of_4_late}
              - name: kind
                data_tests:
                  - accepted_values: {values: [a, b]}
                  - relationships: {to: "ref('kinds')", field: kind}
              - name: note
                data_tests:
                  - not_null: {config: {severity: warn}}
        """,
    "tests/too_big.sql": (
        "{{ config(severity='warn') }}\nselect id, v2 from {{ ref('stg') }} where v2 > 18\n"
    ),
    "tests/child_check.sql": "select * from {{ ref('child') }} where false\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    project = write_project(tmp_path_factory.mktemp("dt"), FILES, history=HISTORY)
    result = run_cli(project, "build")
    target = project / "target"
    return Built(
        project, result, read_json(target / "manifest.json"), read_json(target / "run_results.json")
    )


def _results(built: Built) -> dict[str, dict]:
    return {r["unique_id"]: r for r in built.run_results["results"]}


def _block(out: str, name: str) -> list[str]:
    """The node line of `name` and the indented failing-row lines under it."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf" {name} \.", line))
    block = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith("      "):
            break
        block.append(line.strip())
    return block


def test_build_exit_code_and_summary(built: Built) -> None:
    assert built.result.code == 1, built.result.text
    assert "Completed with errors" in built.result.out
    assert built.result.out.rstrip().endswith("Done. PASS=9 WARN=5 ERROR=1 SKIP=3 TOTAL=18")
    assert built.result.err == ""


def test_error_severity_failure_prints_count_and_five_keys(built: Built) -> None:
    block = _block(built.result.out, "accepted_range_stg_id")
    assert "FAIL 7 accepted_range_stg_id" in block[0]
    rows = block[1:]
    assert len(rows) == 5  # 7 failing rows, at most 5 shown
    expected = {f"id={i}, v2={2.0 * i}" for i in range(4, 11)}
    assert set(rows) <= expected
    result = _results(built)["test.fx.accepted_range_stg_id"]
    assert result["status"] == "fail"
    assert result["failures"] == 7
    assert result["message"] == "Got 7 failing rows"
    assert len(result["failing_keys"]) == 5
    assert all(set(k) == {"id", "v2"} for k in result["failing_keys"])


def test_failing_rows_never_show_free_text(built: Built) -> None:
    # accepted_range selects whole rows (note included): only ids and numbers are shown
    assert "private note" not in built.result.text
    results_text = json.dumps(built.run_results)
    assert "private note" not in results_text


def test_children_of_a_failing_error_test_are_skipped_and_reported(built: Built) -> None:
    lines = built.result.node_lines()
    assert lines[-3:] == [
        "16 of 18 SKIP model child",
        "17 of 18 SKIP test child_check",
        "18 of 18 SKIP model grandchild",
    ]
    results = _results(built)
    assert results["model.fx.child"]["status"] == "skipped"
    assert results["model.fx.child"]["message"] == "upstream accepted_range_stg_id failed"
    assert results["model.fx.grandchild"]["status"] == "skipped"
    assert results["model.fx.grandchild"]["message"] == "upstream child failed"
    assert results["test.fx.child_check"]["status"] == "skipped"
    # a model beside the failure still runs; the failing model's other tests still run
    assert results["model.fx.independent"]["status"] == "success"
    assert results["test.fx.relationships_stg_kind"]["status"] == "pass"


def test_warn_severity_failures_do_not_skip_or_fail(built: Built) -> None:
    block = _block(built.result.out, "multiple_of_stg_v2")
    assert "WARN 5 multiple_of_stg_v2" in block[0]
    assert block[1:] == [f"id={i}, v2={2.0 * i}" for i in (1, 3, 5, 7, 9)]
    result = _results(built)["test.fx.multiple_of_stg_v2"]
    assert (result["status"], result["failures"]) == ("warn", 5)


def test_where_config_narrows_the_tested_rows(built: Built) -> None:
    block = _block(built.result.out, "multiple_of_4_late")
    assert "WARN 2 multiple_of_4_late" in block[0]
    assert block[1:] == ["id=7, v2=14.0", "id=9, v2=18.0"]
    compiled = built.project / "target" / "compiled" / "models" / "schema.yml"
    sql = (compiled / "multiple_of_4_late.sql").read_text()
    assert "where id > 6" in sql


def test_accepted_range_exclusive_bounds(built: Built) -> None:
    block = _block(built.result.out, "open_range")
    assert "WARN 4 open_range" in block[0]
    assert block[1:] == [f"id={i}, v2={2.0 * i}" for i in (1, 2, 9, 10)]


def test_not_null_on_text_column_shows_ids_only(built: Built) -> None:
    block = _block(built.result.out, "not_null_stg_note")
    assert "WARN 2 not_null_stg_note" in block[0]
    assert block[1:] == ["id=4, v2=8.0", "id=8, v2=16.0"]


def test_singular_test_with_config_severity_warn(built: Built) -> None:
    block = _block(built.result.out, "too_big")
    assert "WARN 1 too_big" in block[0]
    assert block[1:] == ["id=10, v2=20.0"]
    assert built.manifest["nodes"]["test.fx.too_big"]["config"]["severity"] == "warn"


def test_tests_on_sources_and_seeds_and_custom_generic_tests_pass(built: Built) -> None:
    results = _results(built)
    for uid in (
        "test.fx.row_count_at_least_hist_events",  # custom generic, model-level, on a source
        "test.fx.unique_hist_events_id",  # `tests:` on a source column
        "test.fx.unique_kinds_kind",  # `tests:` on a seed column
        "test.fx.not_null_kinds_kind",
        "test.fx.accepted_values_stg_kind",
        "test.fx.relationships_stg_kind",
    ):
        assert results[uid]["status"] == "pass", uid
    nodes = built.manifest["nodes"]
    assert nodes["test.fx.row_count_at_least_hist_events"]["test_metadata"] == {
        "name": "row_count_at_least",
        "kwargs": {"n": 5},
    }
    assert nodes["test.fx.unique_kinds_kind"]["attached_node"] == "seed.fx.kinds"
    assert nodes["test.fx.unique_hist_events_id"]["attached_node"] == "source.fx.hist.events"
    compiled = built.project / "target" / "compiled"
    custom = (
        compiled / "models" / "sources.yml" / "row_count_at_least_hist_events.sql"
    ).read_text()
    assert "having count(*) < 5" in custom
    multiple = (compiled / "models" / "schema.yml" / "multiple_of_stg_v2.sql").read_text()
    assert "(v2 % 4) <> 0" in multiple  # a macro called from a custom test


def test_test_command_exit_codes(built: Built) -> None:
    warn_only = run_cli(built.project, "test", "-s", "multiple_of_stg_v2", "too_big")
    assert warn_only.code == 0, warn_only.text
    assert "Done. PASS=0 WARN=2 ERROR=0 SKIP=0 TOTAL=2" in warn_only.out
    failing = run_cli(built.project, "test", "-s", "accepted_range_stg_id")
    assert failing.code == 1
    assert "FAIL 7 accepted_range_stg_id" in failing.out
    assert read_json(built.project / "target" / "run_results.json")["metadata"]["command"] == (
        "test"
    )


# -- a second project: failing relationships, `limit`, and unique on a text column -----------

SECOND = {
    "models/sources.yml": FILES["models/sources.yml"],
    "macros/tests.sql": FILES["macros/tests.sql"],
    "models/stg.sql": STG_EVENTS,
    "seeds/kinds.csv": "kind,label\na,A\n",
    "models/schema.yml": """\
        version: 2
        models:
          - name: stg
            columns:
              - name: kind
                data_tests:
                  - relationships: {to: "ref('kinds')", field: kind}
              - name: id
                data_tests:
                  - accepted_range: {max_value: 3, config: {limit: 2}}
              - name: note
                data_tests:
                  - unique: {config: {severity: warn}}
        """,
}


@pytest.fixture(scope="module")
def second(tmp_path_factory: pytest.TempPathFactory) -> Built:
    project = write_project(tmp_path_factory.mktemp("dt2"), SECOND, history=HISTORY)
    result = run_cli(project, "build")
    target = project / "target"
    return Built(
        project, result, read_json(target / "manifest.json"), read_json(target / "run_results.json")
    )


def test_relationships_failure_names_the_orphan_keys(second: Built) -> None:
    result = _results(second)["test.fx.relationships_stg_kind"]
    assert result["status"] == "fail"
    assert result["failures"] == 5  # the five kind 'b' rows have no parent in kinds
    assert "FAIL 5 relationships_stg_kind" in second.result.out


def test_limit_config_caps_the_failures(second: Built) -> None:
    """config limit: 2 on a test with 7 failing rows: FAIL 2, not an error."""
    result = _results(second)["test.fx.accepted_range_stg_id"]
    assert result["status"] == "fail", result["message"]
    assert result["failures"] == 2
    assert "FAIL 2 accepted_range_stg_id" in second.result.out


def test_unique_on_a_free_text_column_does_not_print_the_text(second: Built) -> None:
    """The duplicated notes are free text: they must not reach the console or run_results."""
    result = _results(second)["test.fx.unique_stg_note"]
    assert result["status"] == "warn"
    assert result["failures"] == 3
    assert "private note" not in second.result.text
    assert "private note" not in json.dumps(second.run_results)


def test_build_stops_only_downstream(second: Built) -> None:
    assert second.result.code == 1
    results = _results(second)
    assert results["model.fx.stg"]["status"] == "success"
    assert results["seed.fx.kinds"]["status"] == "success"
