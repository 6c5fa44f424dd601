"""Partitioned incremental models (incremental_strategy='replace_partitions').

A `partitions` model lists the partitions a run rebuilds; a partitioned model replaces
exactly those partitions' rows, reads its partitioned parents through a view of those
partitions, and its data tests in a build check those partitions, while `test` checks the
whole table. Rows outside the listed partitions and bad configs fail loudly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import (
    SOURCES_YML,
    add_events,
    query,
    results_by_id,
    run_cli,
    write_project,
)

PARTITIONED = (
    "materialized='incremental', incremental_strategy='replace_partitions', "
    "partition_by='kind', partitions='changed_kinds'"
)

FILES = {
    "models/sources.yml": SOURCES_YML,
    # the test decides which partitions a run rebuilds
    "models/changed_kinds.sql": """\
        {{ config(materialized='table') }}
        select kind from (values {{ var('changed', "('a'), ('b')") }}) as t(kind)
        """,
    "models/part_rows.sql": f"""\
        {{{{ config({PARTITIONED}) }}}}
        select id, kind, v * 2 as v2, {{{{ var('batch', 1) }}}} as batch
        from {{{{ source('hist', 'events') }}}} as e
        {{% if is_incremental() %}}
        where e.kind in (select kind from {{{{ ref('changed_kinds') }}}})
        {{% endif %}}
        """,
    # reads its partitioned parent without any filter of its own
    "models/part_sums.sql": f"""\
        {{{{ config({PARTITIONED}) }}}}
        select kind, count(*) as n, sum(v2) as total, max(batch) as batch
        from {{{{ ref('part_rows') }}}}
        group by kind
        """,
    # fail for every row of partition 'b' they see: in a build, the first reads only the
    # rebuilt partitions, the second (a singular test's default) the whole table
    "tests/no_b_rows.sql": """\
        {{ config(partitions_only=true) }}
        select id from {{ ref('part_rows') }} where kind = 'b'
        """,
    "tests/no_b_rows_anywhere.sql": """\
        select id from {{ ref('part_rows') }} where kind = 'b'
        """,
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = write_project(tmp_path_factory.mktemp("partitions"), FILES)
    # a big partition c that no later run rebuilds: partition a is then small enough (3 of
    # 25 rows) for its new rows to stay as the temp table its children and tests read
    add_events(project / "hist.db", [(i, "c", 1.0, None) for i in range(10, 30)])
    db = project / "target" / "fx.duckdb"
    state: dict = {"project": project}
    state["first"] = run_cli(project, "run")
    state["first_rows"] = query(db, "select * from part_rows where kind <> 'c' order by id")
    # partition a changes (id 1) and partition b gets a row (id 6); only a is rebuilt
    add_events(project / "hist.db", [(1, "a", 100.0, None), (6, "b", 6.0, None)])
    state["second"] = run_cli(project, "run", "--vars", "{batch: 2, changed: \"('a')\"}")
    state["second_rows"] = query(db, "select * from part_rows where kind <> 'c' order by id")
    state["second_sums"] = query(db, "select * from part_sums order by kind")
    state["second_results"] = results_by_id(project)
    state["second_sql"] = (project / "target" / "run" / "models" / "part_sums.sql").read_text()
    state["build_a"] = run_cli(project, "build", "--vars", "{batch: 2, changed: \"('a')\"}")
    state["test_all"] = run_cli(project, "test")
    state["refresh"] = run_cli(project, "run", "--full-refresh", "--vars", "{batch: 3}")
    state["refresh_rows"] = query(db, "select * from part_rows where kind <> 'c' order by id")
    state["refresh_sums"] = query(db, "select * from part_sums order by kind")
    return state


def test_first_run_builds_whole_tables(runs: dict) -> None:
    assert runs["first"].code == 0, runs["first"].text
    assert [r[:2] for r in runs["first_rows"]] == [(1, "a"), (2, "a"), (3, "b"), (4, "b"), (5, "a")]


def test_a_run_replaces_only_the_listed_partitions(runs: dict) -> None:
    second = runs["second"]
    assert second.code == 0, second.text
    assert "replaced 1 partitions of main.part_rows: 3 rows in, 3 out" in second.out
    assert runs["second_rows"] == [
        (1, "a", 200.0, 2),  # partition a recomputed from the changed source
        (2, "a", 4.0, 2),
        (3, "b", 6.0, 1),  # partition b untouched: its old rows, its old batch
        (4, "b", 8.0, 1),
        (5, "a", 10.0, 2),
    ]
    # the child read its parent through the view of partition a only
    assert runs["second_sums"] == [("a", 3, 214.0, 2), ("b", 2, 14.0, 1), ("c", 20, 40.0, 1)]
    assert "part_rows__partitions" in runs["second_sql"]
    # ... which was the temp table of part_rows' new rows (3 of 25 rows), not a view
    response = runs["second_results"]["model.fx.part_rows"]["adapter_response"]
    assert response["partition_rows_kept"] is True


def test_build_tests_check_the_rebuilt_partitions_and_test_checks_all(runs: dict) -> None:
    build = runs["build_a"].node_lines()
    assert runs["build_a"].code == 1, runs["build_a"].text
    assert any(line.endswith("PASS no_b_rows") for line in build), build
    assert any(line.endswith("FAIL 2 no_b_rows_anywhere") for line in build), build
    tested = runs["test_all"].node_lines()
    assert runs["test_all"].code == 1
    assert any(line.endswith("FAIL 2 no_b_rows") for line in tested), tested
    assert any(line.endswith("FAIL 2 no_b_rows_anywhere") for line in tested), tested


def test_full_refresh_rebuilds_every_partition(runs: dict) -> None:
    assert runs["refresh"].code == 0, runs["refresh"].text
    assert [(r[0], r[3]) for r in runs["refresh_rows"]] == [(i, 3) for i in range(1, 7)]
    assert runs["refresh_sums"] == [("a", 3, 214.0, 3), ("b", 3, 26.0, 3), ("c", 20, 40.0, 3)]


def test_rows_outside_the_listed_partitions_stop_the_model(tmp_path: Path) -> None:
    files = dict(FILES)
    files["models/plain.sql"] = "select * from {{ source('hist', 'events') }}"
    # reads an unpartitioned model: every partition comes back, not just the listed ones
    files["models/part_sums.sql"] = f"""\
        {{{{ config({PARTITIONED}) }}}}
        select kind, count(*) as n from {{{{ ref('plain') }}}} group by kind
        """
    project = write_project(tmp_path, files)
    assert run_cli(project, "run").code == 0
    second = run_cli(project, "run", "--vars", "{changed: \"('a')\"}")
    assert second.code == 1
    assert "1 rows of main.part_sums belong to partitions (kind) that" in second.text
    assert "main.changed_kinds does not list" in second.text
    # nothing of the failed model changed
    assert query(project / "target" / "fx.duckdb", "select * from part_sums order by 1") == [
        ("a", 3),
        ("b", 2),
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            (
                "materialized='incremental', incremental_strategy='replace_partitions', "
                "partitions='changed_kinds'"
            ),
            "incremental_strategy='replace_partitions' needs partition_by in config()",
        ),
        (
            (
                "materialized='incremental', incremental_strategy='replace_partitions', "
                "partition_by='kind', partitions='nowhere'"
            ),
            "config partitions='nowhere' names no model",
        ),
        (
            "materialized='incremental', incremental_strategy='overwrite_all'",
            "unknown incremental_strategy 'overwrite_all'",
        ),
        (
            "materialized='table', incremental_strategy='replace_partitions'",
            "incremental_strategy is set but materialized='table'",
        ),
    ],
)
def test_bad_partition_configs_name_the_file(tmp_path: Path, config: str, message: str) -> None:
    files = dict(FILES)
    files["models/part_sums.sql"] = f"{{{{ config({config}) }}}}\nselect 1 as kind\n"
    project = write_project(tmp_path, files)
    result = run_cli(project, "run")
    assert result.code == 2, result.text
    assert message in result.text
    assert "models/part_sums.sql" in result.text
