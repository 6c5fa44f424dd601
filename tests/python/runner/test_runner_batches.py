"""Models built in batches: config(batch_by=..., batch_source=..., batch_rows=N).

Each batch is an ascending range of the batch column holding about batch_rows rows of the
batch source; inside the model, ref() of the source and of models partitioned or batched by
that column read only the current range. Every row lands exactly once (NULL keys and keys
the source lacks included), the table keeps the model's order, and bad configs name the file.
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

# kinds a (ids 1, 2, 5), b (3, 4), c (6), d (7, 8, 9) and one NULL kind (10)
MORE_EVENTS = [
    (6, "c", 6.0, None),
    (7, "d", 7.0, None),
    (8, "d", 8.0, None),
    (9, "d", 9.0, None),
    (10, None, 10.0, None),
]

BATCHED = "batch_by='kind', batch_source='kinds_seen', batch_rows={rows}"

FILES = {
    "models/sources.yml": SOURCES_YML,
    "models/events_all.sql": """\
        {{ config(materialized='table') }}
        select id, kind, v from {{ source('hist', 'events') }}
        """,
    # the batch source lacks kind 'a' (smaller than all its keys) and kind 'd' (larger)
    "models/kinds_seen.sql": """\
        {{ config(materialized='table') }}
        select id, kind from {{ ref('events_all') }} where kind in ('b', 'c') or kind is null
        """,
    # a parent batched by the same column: narrowed in the child (events_all is not: nothing
    # says it is organized by kind, so the child reads it whole)
    "models/doubled.sql": """\
        {{ config(materialized='table', batch_by='kind', batch_source='events_all',
                  batch_rows=3) }}
        select id, kind, v * 2 as v2 from {{ ref('events_all') }}
        """,
    # `seen` counts the rows of the batch: it proves each batch reads only its own range
    "models/batched.sql": f"""\
        {{{{ config(materialized='table', {BATCHED.format(rows=2)}) }}}}
        -- depends_on: {{{{ ref('kinds_seen') }}}}
        select d.id, d.kind, e.v, d.v2, count(*) over () as seen
        from {{{{ ref('doubled') }}}} as d
        left join {{{{ ref('events_all') }}}} as e
            on e.id = d.id
        order by d.kind, d.id
        """,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = write_project(tmp_path_factory.mktemp("batches"), FILES)
    add_events(project / "hist.db", MORE_EVENTS)
    state: dict = {"project": project, "run": run_cli(project, "run")}
    db = project / "target" / "fx.duckdb"
    state["rows"] = query(db, "select id, kind, v, v2, seen from batched order by rowid")
    state["results"] = results_by_id(project)
    state["run_sql"] = (project / "target" / "run" / "models" / "batched.sql").read_text()
    state["compiled"] = (project / "target" / "compiled" / "models" / "batched.sql").read_text()
    return state


def test_every_row_lands_once_in_the_order_of_the_batches(built: dict) -> None:
    assert built["run"].code == 0, built["run"].text
    rows = built["rows"]
    assert sorted(r[0] for r in rows) == list(range(1, 11))
    # ascending ranges, each ordered: the table reads in the model's order (the NULL key
    # belongs to the last range, and sorts last)
    assert [r[0] for r in rows] == [1, 2, 5, 3, 4, 6, 7, 8, 9, 10]
    assert all(r[3] == 2 * r[2] for r in rows)


def test_each_batch_reads_only_its_range(built: dict) -> None:
    # source counts: b 2, c 1 (NULL is not counted). Ranges of >= 2 source rows each:
    # [start, c) holds a and b; [c, end) holds c, d and the NULL key
    seen = {r[0]: r[4] for r in built["rows"]}
    assert {seen[i] for i in (1, 2, 5, 3, 4)} == {5}
    assert {seen[i] for i in (6, 7, 8, 9, 10)} == {5}
    response = built["results"]["model.fx.batched"]["adapter_response"]
    assert response == {"batches": 2}
    assert built["run_sql"].count("insert into main.batched") == 1


def test_compiled_sql_narrows_the_batched_refs_and_runs_whole_without_a_batch(
    built: dict,
) -> None:
    compiled = built["compiled"]
    # the batch source and the batched parent are narrowed, the unrelated parent is not
    assert compiled.count("where (getvariable('evoki_batch_low') is null") == 2
    assert "left join main.events_all as e" in compiled
    db = built["project"] / "target" / "fx.duckdb"
    whole = query(db, f"select id, seen from ({compiled}) order by id")
    assert whole == [(i, 10) for i in range(1, 11)]


def test_a_source_larger_than_one_batch_splits_and_an_empty_one_makes_one_batch(
    tmp_path: Path,
) -> None:
    files = dict(FILES)
    files["models/kinds_seen.sql"] = """\
        {{ config(materialized='table') }}
        select id, kind from {{ ref('events_all') }} where false
        """
    project = write_project(tmp_path, files)
    add_events(project / "hist.db", MORE_EVENTS)
    result = run_cli(project, "run")
    assert result.code == 0, result.text
    responses = results_by_id(project)
    assert responses["model.fx.batched"]["adapter_response"] == {"batches": 1}
    # doubled: 10 rows in ranges of >= 3 rows: a (3), b+c (3), d+NULL (4)
    assert responses["model.fx.doubled"]["adapter_response"] == {"batches": 3}
    rows = query(project / "target" / "fx.duckdb", "select id, seen from batched order by id")
    assert rows == [(i, 10) for i in range(1, 11)]


def test_a_batched_partitioned_model_counts_only_the_rebuilt_partitions(tmp_path: Path) -> None:
    partitioned = (
        "materialized='incremental', incremental_strategy='replace_partitions', "
        "partition_by='kind', partitions='changed_kinds'"
    )
    files = {
        "models/sources.yml": SOURCES_YML,
        "models/changed_kinds.sql": """\
            {{ config(materialized='table') }}
            select kind from (values {{ var('changed', "('a'), ('b'), ('c'), ('d')") }}) as t(kind)
            """,
        "models/part_rows.sql": f"""\
            {{{{ config({partitioned}) }}}}
            select id, kind, v, {{{{ var('round', 1) }}}} as round
            from {{{{ source('hist', 'events') }}}} as e
            {{% if is_incremental() %}}
            where e.kind in (select kind from {{{{ ref('changed_kinds') }}}})
            {{% endif %}}
            """,
        "models/part_batched.sql": f"""\
            {{{{ config({partitioned}, batch_by='kind', batch_source='part_rows',
                        batch_rows=1) }}}}
            select id, kind, round, count(*) over () as seen from {{{{ ref('part_rows') }}}}
            """,
    }
    project = write_project(tmp_path, files)
    add_events(project / "hist.db", [r for r in MORE_EVENTS if r[1] is not None])
    assert run_cli(project, "run").code == 0
    first = results_by_id(project)["model.fx.part_batched"]["adapter_response"]
    assert first == {"batches": 4}  # one range per kind (batch_rows=1)
    second = run_cli(project, "run", "--vars", "{round: 2, changed: \"('b'), ('d')\"}")
    assert second.code == 0, second.text
    response = results_by_id(project)["model.fx.part_batched"]["adapter_response"]
    assert response["batches"] == 2 and response["inserted"] == 5
    rows = query(
        project / "target" / "fx.duckdb", "select kind, round, seen from part_batched order by id"
    )
    assert rows == [
        ("a", 1, 3),
        ("a", 1, 3),
        ("b", 2, 2),
        ("b", 2, 2),
        ("a", 1, 3),
        ("c", 1, 1),
        ("d", 2, 3),
        ("d", 2, 3),
        ("d", 2, 3),
    ]


def test_an_error_in_a_later_batch_leaves_the_table_as_it_was(tmp_path: Path) -> None:
    files = dict(FILES)
    files["models/batched.sql"] = f"""\
        {{{{ config(materialized='table', {BATCHED.format(rows=2)}) }}}}
        -- depends_on: {{{{ ref('kinds_seen') }}}}
        select id, case when kind = '{{{{ var('bad_kind', 'none') }}}}'
            then error('bad row ' || id) else v2 end as v2
        from {{{{ ref('doubled') }}}}
        """
    project = write_project(tmp_path, files)
    add_events(project / "hist.db", MORE_EVENTS)
    assert run_cli(project, "run").code == 0
    failed = run_cli(project, "run", "-s", "batched", "--vars", "{bad_kind: d}")
    assert failed.code == 1
    assert "bad row 7" in failed.text
    rows = query(project / "target" / "fx.duckdb", "select count(*), sum(v2) from batched")
    assert rows == [(10, 110.0)]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("materialized='table', batch_by='kind'", "batch_by needs batch_source"),
        (
            "materialized='table', batch_by='kind', batch_source='kinds_seen'",
            "batch_by needs batch_source: the name of a model or seed this model ref()s",
        ),
        (
            "materialized='table', batch_by='kind', batch_source='events_all', batch_rows=0",
            "batch_rows must be a whole number of at least 1 (got 0)",
        ),
        (
            "materialized='table', batch_by='kind', batch_source='events_all', batch_rows='9'",
            "batch_rows must be a whole number of at least 1 (got '9')",
        ),
        (
            "materialized='table', batch_by='kind', batch_source='events_all', batch_rows=True",
            "batch_rows must be a whole number of at least 1 (got True)",
        ),
        (
            "materialized='view', batch_by='kind', batch_source='events_all'",
            "batch_by needs a model built as a table (materialized='view')",
        ),
        (
            "materialized='table', batch_by=['kind'], batch_source='events_all'",
            "batch_by must name a column",
        ),
        (
            (
                "materialized='incremental', incremental_strategy='replace_partitions', "
                "partition_by='id', partitions='kinds_seen', batch_by='kind', "
                "batch_source='events_all'"
            ),
            "batch_by='kind' must be the partition column 'id' of a partitioned model",
        ),
    ],
)
def test_bad_batch_configs_name_the_file(tmp_path: Path, config: str, message: str) -> None:
    files = dict(FILES)
    files["models/batched.sql"] = (
        f"{{{{ config({config}) }}}}\nselect id, kind from {{{{ ref('events_all') }}}}\n"
    )
    project = write_project(tmp_path, files)
    result = run_cli(project, "run")
    assert result.code == 2, result.text
    assert message in result.text
    assert "models/batched.sql" in result.text
