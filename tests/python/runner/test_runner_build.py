"""`build` on the full example project: DAG order, tables, seeds, macros, UDFs, artifacts.

The project (conftest.FULL_FILES) has a source with tests, a view, a table using a macro
and two UDFs, an incremental model, two seeds (one with declared column types), generic
tests in YAML under `tests:` and `data_tests:`, a custom generic test and a singular test.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from runner_support import Built, query, run_cli

EXPECTED_LINES = [
    "1 of 14 PASS not_null_hist_events_id",
    "2 of 14 PASS unique_hist_events_id",
    "3 of 14 OK loaded seed file main.kinds (2 rows)",
    "4 of 14 PASS not_null_kinds_kind",
    "5 of 14 OK loaded seed file main.numbers (2 rows)",
    "6 of 14 OK created view model main.stg_events",
    "7 of 14 PASS is_positive_stg_events_v2",
    "8 of 14 PASS relationships_stg_events_kind",
    "9 of 14 OK created table model main.agg (2 rows)",
    "10 of 14 PASS accepted_range_agg_total",
    "11 of 14 PASS accepted_values_agg_kind",
    "12 of 14 PASS no_negative",
    "13 of 14 PASS unique_agg_kind",
    "14 of 14 OK created incremental model main.inc (5 rows)",
]


def test_build_succeeds_with_one_line_per_node_in_dag_order(
    full_build: Built,
) -> None:
    result = full_build.result
    assert result.code == 0, result.text
    assert result.err == ""
    assert result.node_lines() == EXPECTED_LINES
    assert "Found 2 seeds, 3 models, 9 tests" in result.out
    assert "Completed successfully" in result.out
    assert result.out.rstrip().endswith("Done. PASS=14 WARN=0 ERROR=0 SKIP=0 TOTAL=14")


def test_tests_of_a_model_run_before_its_children(full_build: Built) -> None:
    lines = full_build.result.node_lines()

    def at(name: str) -> int:
        return next(i for i, line in enumerate(lines) if re.search(rf"\b{name}\b", line))

    stg, agg, inc = at("main.stg_events"), at("main.agg"), at("main.inc")
    for test in ("is_positive_stg_events_v2", "relationships_stg_events_kind"):
        assert stg < at(test) < agg
        assert at(test) < inc
    # the source's tests run before anything reads the source, the seed's before its readers
    assert at("unique_hist_events_id") < stg
    assert at("not_null_kinds_kind") < agg
    # the tests of agg come after agg
    for test in ("unique_agg_kind", "accepted_values_agg_kind", "no_negative"):
        assert at(test) > agg


def test_table_model_uses_macros_udfs_vars_and_seed(full_project: Path) -> None:
    rows = query(full_project / "target" / "fx.duckdb", "select * from agg order by kind")
    # events v: a = 1, 2, 5; b = 3, 4; var factor = 2
    assert rows == [
        ("a", 16.0, "Alpha", 6, 256.0, 4),
        ("b", 14.0, "Beta", 4, 196.0, 3),
    ]


def test_incremental_first_run_builds_whole(full_project: Path) -> None:
    rows = query(full_project / "target" / "fx.duckdb", "select id, v2 from inc order by id")
    assert rows == [(1, 2.0), (2, 4.0), (3, 6.0), (4, 8.0), (5, 10.0)]


def test_view_model_is_a_view(full_project: Path) -> None:
    rows = query(
        full_project / "target" / "fx.duckdb",
        "select table_name, table_type from information_schema.tables order by 1",
    )
    assert rows == [
        ("agg", "BASE TABLE"),
        ("inc", "BASE TABLE"),
        ("kinds", "BASE TABLE"),
        ("numbers", "BASE TABLE"),
        ("stg_events", "VIEW"),
    ]


def test_seed_column_types_declared_and_inferred(full_project: Path) -> None:
    db = full_project / "target" / "fx.duckdb"
    types = {
        (t, c): d
        for t, c, d in query(
            db,
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_name in ('kinds', 'numbers')",
        )
    }
    # declared in seeds/props.yml
    assert types[("kinds", "weight")] == "DOUBLE"
    assert types[("kinds", "code")] == "VARCHAR"
    # inferred
    assert types[("kinds", "kind")] == "VARCHAR"
    assert types[("numbers", "n")] == "BIGINT"
    assert types[("numbers", "ratio")] == "DOUBLE"
    assert types[("numbers", "day")] == "DATE"
    assert types[("numbers", "flag")] == "BOOLEAN"
    # a declared varchar keeps leading zeros
    assert query(db, "select code from kinds order by kind") == [("007",), ("010",)]


def test_compiled_artifacts_hold_rendered_sql(full_project: Path) -> None:
    # `compile` writes every node's SQL (a build skips the generic tests its batch proved)
    assert run_cli(full_project, "compile").code == 0
    compiled = full_project / "target" / "compiled"
    agg = (compiled / "models" / "marts" / "agg.sql").read_text()
    assert "{{" not in agg and "{%" not in agg
    assert "2 * (count(*)) as n2" in agg
    assert "from main.stg_events as e" in agg
    assert "left join main.kinds as k" in agg
    stg = (compiled / "models" / "staging" / "stg_events.sql").read_text()
    assert "v * 2 as v2" in stg
    assert "from hist.main.events" in stg
    accepted = (compiled / "models" / "schema.yml" / "accepted_values_agg_kind.sql").read_text()
    assert "not in ('a', 'b')" in accepted
    assert "from main.agg" in accepted
    singular = (compiled / "tests" / "no_negative.sql").read_text()
    assert singular.strip() == "select * from main.agg where total < 1 * (0)"
    expected = {
        "models/marts/agg.sql",
        "models/marts/inc.sql",
        "models/staging/stg_events.sql",
        "models/schema.yml/accepted_range_agg_total.sql",
        "models/schema.yml/accepted_values_agg_kind.sql",
        "models/schema.yml/is_positive_stg_events_v2.sql",
        "models/schema.yml/relationships_stg_events_kind.sql",
        "models/schema.yml/unique_agg_kind.sql",
        "models/sources.yml/not_null_hist_events_id.sql",
        "models/sources.yml/unique_hist_events_id.sql",
        "seeds/props.yml/not_null_kinds_kind.sql",
        "tests/no_negative.sql",
    }
    found = {p.relative_to(compiled).as_posix() for p in compiled.rglob("*.sql")}
    assert found == expected


def test_run_artifacts_hold_executed_statements(full_project: Path) -> None:
    run = full_project / "target" / "run"
    agg = (run / "models" / "marts" / "agg.sql").read_text()
    assert "create or replace table main.agg as (" in agg
    stg = (run / "models" / "staging" / "stg_events.sql").read_text()
    assert "create or replace view main.stg_events as (" in stg
    inc = (run / "models" / "marts" / "inc.sql").read_text()
    assert "create or replace table main.inc as (" in inc
    assert "where id >" not in inc  # first run: is_incremental() was false
    seed = (run / "seeds" / "kinds.csv").read_text()
    assert "cast(weight as double) as weight" in seed
    assert "create or replace table main.kinds" in seed
    test = (run / "tests" / "no_negative.sql").read_text()
    assert "select * from main.agg where total < 1 * (0)" in test


def test_run_results_json(full_build: Built) -> None:
    data = full_build.run_results
    assert data["metadata"]["command"] == "build"
    assert data["elapsed_time"] > 0
    results = {r["unique_id"]: r for r in data["results"]}
    assert len(data["results"]) == 14
    assert {r["status"] for r in data["results"]} == {"success", "pass"}
    assert results["seed.fx.kinds"]["rows_affected"] == 2
    assert results["model.fx.agg"]["rows_affected"] == 2
    assert results["model.fx.agg"]["message"] == "created table model main.agg"
    assert results["model.fx.inc"]["rows_affected"] == 5
    previous_end = ""
    for uid, result in results.items():
        assert isinstance(result["execution_time"], float) and result["execution_time"] >= 0
        # dbt's timing entry: when the node ran, in UTC, in execution order
        (timing,) = result["timing"]
        assert timing["name"] == "execute"
        started = datetime.fromisoformat(timing["started_at"].replace("Z", "+00:00"))
        completed = datetime.fromisoformat(timing["completed_at"].replace("Z", "+00:00"))
        assert started <= completed and timing["started_at"] >= previous_end, uid
        previous_end = timing["completed_at"]
        assert abs((completed - started).total_seconds() - result["execution_time"]) < 0.05
        if uid.startswith("test."):
            assert result["status"] == "pass"
            assert result["failures"] == 0
            assert result["failing_keys"] == []


def test_manifest_json(full_build: Built) -> None:
    manifest = full_build.manifest
    assert manifest["metadata"]["project_name"] == "fx"
    assert manifest["metadata"]["target"] == "dev"
    nodes = manifest["nodes"]
    assert set(nodes) == {
        "model.fx.agg",
        "model.fx.inc",
        "model.fx.stg_events",
        "seed.fx.kinds",
        "seed.fx.numbers",
        "test.fx.accepted_range_agg_total",
        "test.fx.accepted_values_agg_kind",
        "test.fx.is_positive_stg_events_v2",
        "test.fx.no_negative",
        "test.fx.not_null_hist_events_id",
        "test.fx.not_null_kinds_kind",
        "test.fx.relationships_stg_events_kind",
        "test.fx.unique_agg_kind",
        "test.fx.unique_hist_events_id",
    }
    assert set(manifest["sources"]) == {"source.fx.hist.events"}
    agg = nodes["model.fx.agg"]
    assert agg["original_file_path"] == "models/marts/agg.sql"
    assert agg["patch_path"] == "models/schema.yml"
    assert agg["relation_name"] == "main.agg"
    assert agg["description"] == "totals per kind"
    assert agg["columns"]["kind"]["description"] == "the event kind"
    assert agg["config"]["materialized"] == "table"
    assert agg["tags"] == ["daily"]
    assert sorted(agg["depends_on"]["nodes"]) == ["model.fx.stg_events", "seed.fx.kinds"]
    assert nodes["model.fx.inc"]["config"]["unique_key"] == "id"
    assert nodes["model.fx.stg_events"]["depends_on"]["nodes"] == ["source.fx.hist.events"]
    rel = nodes["test.fx.relationships_stg_events_kind"]
    assert sorted(rel["depends_on"]["nodes"]) == ["model.fx.stg_events", "seed.fx.kinds"]
    assert rel["test_metadata"]["name"] == "relationships"
    assert rel["attached_node"] == "model.fx.stg_events"
    assert rel["column_name"] == "kind"
    assert nodes["test.fx.accepted_range_agg_total"]["config"]["severity"] == "warn"
    assert manifest["macros"]["double_it"]["path"] == "macros/m.sql"
    assert "test_is_positive" in manifest["macros"]
    assert "test_not_null" in manifest["macros"]
    assert sorted(manifest["child_map"]["model.fx.stg_events"]) == [
        "model.fx.agg",
        "model.fx.inc",
        "test.fx.is_positive_stg_events_v2",
        "test.fx.relationships_stg_events_kind",
    ]
    assert manifest["parent_map"]["test.fx.no_negative"] == ["model.fx.agg"]
