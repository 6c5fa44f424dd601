"""Materializations: incremental (first run whole, later runs merge on unique_key, only new
rows added after new source rows, same result as --full-refresh), a view that becomes a
table, and a custom materialization from `materializations/*.py`."""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import (
    SOURCES_YML,
    STG_EVENTS,
    add_events,
    query,
    results_by_id,
    run_cli,
    write_project,
)

INCREMENTAL = {
    "models/sources.yml": SOURCES_YML,
    "models/stg.sql": STG_EVENTS,
    # `batch` tells which run wrote a row: old rows must keep the batch of their first run
    "models/inc.sql": """\
        {{ config(materialized='incremental', unique_key='id') }}
        select id, kind, v2, {{ var('batch', 1) }} as batch
        from {{ ref('stg') }}
        {% if is_incremental() %}
        where id > (select max(id) from {{ this }})
        {% endif %}
        """,
    # re-reads its newest row on every run: the unique_key merge must not duplicate it
    "models/overlap.sql": """\
        {{ config(materialized='incremental', unique_key='id') }}
        select id, v2, {{ var('batch', 1) }} as batch
        from {{ ref('stg') }}
        {% if is_incremental() %}
        where id >= (select max(id) from {{ this }})
        {% endif %}
        """,
}


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """First run, two new source rows, second run (batch 2), then a full refresh (batch 3)."""
    project = write_project(tmp_path_factory.mktemp("inc"), INCREMENTAL)
    db = project / "target" / "fx.duckdb"
    state: dict = {"project": project}
    state["first"] = run_cli(project, "run")
    state["first_rows"] = query(db, "select * from inc order by id")
    add_events(project / "hist.db", [(6, "c", 6.0, "sixth"), (7, "c", 7.0, None)])
    state["second"] = run_cli(project, "run", "--vars", "{batch: 2}")
    state["second_results"] = results_by_id(project)
    state["second_run_sql"] = (project / "target" / "run" / "models" / "inc.sql").read_text()
    state["second_rows"] = query(db, "select * from inc order by id")
    state["overlap_rows"] = query(db, "select * from overlap order by id")
    state["refresh"] = run_cli(project, "run", "--full-refresh", "--vars", "{batch: 3}")
    state["refresh_rows"] = query(db, "select * from inc order by id")
    state["refresh_overlap"] = query(db, "select * from overlap order by id")
    return state


def test_first_run_builds_whole(incremental: dict) -> None:
    assert incremental["first"].code == 0, incremental["first"].text
    assert "OK created incremental model main.inc (5 rows)" in incremental["first"].out
    assert incremental["first_rows"] == [
        (1, "a", 2.0, 1),
        (2, "a", 4.0, 1),
        (3, "b", 6.0, 1),
        (4, "b", 8.0, 1),
        (5, "a", 10.0, 1),
    ]


def test_later_run_adds_only_the_new_rows(incremental: dict) -> None:
    second = incremental["second"]
    assert second.code == 0, second.text
    assert "OK merged incremental model main.inc: 2 new, 0 updated" in second.out
    assert incremental["second_rows"] == incremental["first_rows"] + [
        (6, "c", 12.0, 2),
        (7, "c", 14.0, 2),
    ]
    result = incremental["second_results"]["model.fx.inc"]
    assert result["adapter_response"] == {"inserted": 2, "updated": 0, "compacted_dead_rows": 0}
    # the executed statements: the new rows only, merged on the unique key
    sql = incremental["second_run_sql"]
    assert "where id > (select max(id) from main.inc)" in sql
    assert "delete from main.inc as t using" in sql
    assert "t.id is not distinct from n.id" in sql


def test_incremental_merge_reports_rows_affected(incremental: dict) -> None:
    """run_results.json has rows_affected per node: a merge wrote rows, so it is a number."""
    result = incremental["second_results"]["model.fx.inc"]
    assert result["rows_affected"] == 2


def test_unique_key_merge_replaces_instead_of_duplicating(incremental: dict) -> None:
    assert "merged incremental model main.overlap: 2 new, 1 updated" in incremental["second"].out
    rows = incremental["overlap_rows"]
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert [r[2] for r in rows] == [1, 1, 1, 1, 2, 2, 2]  # row 5 was re-read and replaced


def test_incremental_equals_full_refresh(incremental: dict) -> None:
    refresh = incremental["refresh"]
    assert refresh.code == 0, refresh.text
    assert "OK created incremental model main.inc (7 rows)" in refresh.out
    assert [r[:3] for r in incremental["refresh_rows"]] == [
        r[:3] for r in incremental["second_rows"]
    ]
    assert {r[3] for r in incremental["refresh_rows"]} == {3}  # rebuilt whole
    assert [r[:2] for r in incremental["refresh_overlap"]] == [
        r[:2] for r in incremental["overlap_rows"]
    ]


def test_incremental_column_change_asks_for_full_refresh(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", INCREMENTAL)
    assert run_cli(project, "run").code == 0
    (project / "models" / "inc.sql").write_text(
        "{{ config(materialized='incremental', unique_key='id') }}\n"
        "select id, kind from {{ ref('stg') }}\n"
    )
    changed = run_cli(project, "run", "-s", "inc")
    assert changed.code == 1
    assert "the columns of main.inc changed" in changed.out
    assert "run with --full-refresh" in changed.out
    # nothing half-done: the old table is intact
    assert query(project / "target" / "fx.duckdb", "select count(*), max(batch) from inc") == [
        (5, 1)
    ]
    refreshed = run_cli(project, "run", "-s", "inc", "--full-refresh")
    assert refreshed.code == 0, refreshed.text


def test_changing_materialization_replaces_the_relation(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p", {"models/m.sql": "{{ config(materialized='view') }}\nselect 1 as x\n"}
    )
    db = project / "target" / "fx.duckdb"
    assert run_cli(project, "run").code == 0
    assert query(db, "select table_type from information_schema.tables") == [("VIEW",)]
    (project / "models" / "m.sql").write_text("{{ config(materialized='table') }}\nselect 2 as x\n")
    again = run_cli(project, "run")
    assert again.code == 0, again.text
    assert query(db, "select table_type from information_schema.tables") == [("BASE TABLE",)]
    assert query(db, "select x from m") == [(2,)]


CUSTOM = {
    "models/sources.yml": SOURCES_YML,
    "models/stg.sql": STG_EVENTS,
    "materializations/append.py": """\
        from evoki_sql import materialization
        from evoki_sql.materializations.registry import (
            MaterializationContext,
            MaterializationResult,
        )


        @materialization("append_only")
        def append_only(ctx: MaterializationContext) -> MaterializationResult:
            exists = ctx.con.execute(
                "select count(*) from information_schema.tables where table_name = ?",
                [ctx.relation.identifier],
            ).fetchone()[0]
            if ctx.full_refresh or not exists:
                ctx.execute(f"create or replace table {ctx.relation} as {ctx.sql}")
                verb = "rebuilt"
            else:
                ctx.execute(f"insert into {ctx.relation} {ctx.sql}")
                verb = "appended to"
            n = ctx.con.execute(f"select count(*) from {ctx.relation}").fetchone()[0]
            ctx.announce(f"custom materialization of {ctx.node.name}")
            return MaterializationResult(
                f"{verb} {ctx.relation}", n, {"full_refresh": ctx.full_refresh}
            )
        """,
    "models/log.sql": (
        "{{ config(materialized='append_only') }}\nselect id from {{ ref('stg') }} where id <= 2\n"
    ),
}


def test_custom_materialization(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", CUSTOM)
    db = project / "target" / "fx.duckdb"
    first = run_cli(project, "run")
    assert first.code == 0, first.text
    assert "2 of 2 OK rebuilt main.log (2 rows)" in first.node_lines()
    assert "custom materialization of log" in first.out
    second = run_cli(project, "run", "-s", "log")
    assert second.code == 0, second.text
    assert second.node_lines() == ["1 of 1 OK appended to main.log (4 rows)"]
    assert query(db, "select id, count(*) from log group by id order by id") == [(1, 2), (2, 2)]
    refresh = run_cli(project, "run", "-s", "log", "--full-refresh")
    assert refresh.node_lines() == ["1 of 1 OK rebuilt main.log (2 rows)"]
    result = results_by_id(project)["model.fx.log"]
    assert result["rows_affected"] == 2
    assert result["adapter_response"] == {"full_refresh": True}
    run_sql = (project / "target" / "run" / "models" / "log.sql").read_text()
    assert run_sql.startswith("create or replace table main.log as select id from main.stg")


def test_unknown_materialization_is_a_configuration_error(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p", {"models/m.sql": "{{ config(materialized='tabel') }}\nselect 1 as x\n"}
    )
    result = run_cli(project, "run")
    assert result.code == 2
    assert result.err.strip() == "Error: models/m.sql: unknown materialization 'tabel'"


def test_materialization_file_import_error_names_file_and_line(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        {
            "models/m.sql": "select 1 as x\n",
            "materializations/broken.py": (
                "from evoki_sql import materialization\n\nraise RuntimeError('boom')\n"
            ),
        },
    )
    result = run_cli(project, "ls")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert result.err.startswith("Error: materializations/broken.py")
    assert "importing the materialization file failed: RuntimeError: boom" in result.err


def test_custom_materializations_do_not_leak_into_the_next_project(tmp_path: Path) -> None:
    # one process, two projects (as in tests or an embedding tool): the second project has no
    # materializations/ folder, so 'append_only' must be unknown there
    first = write_project(tmp_path / "with", CUSTOM)
    assert run_cli(first, "run").code == 0
    second = write_project(
        tmp_path / "without",
        {
            "models/sources.yml": SOURCES_YML,
            "models/log.sql": "{{ config(materialized='append_only') }}\nselect 1 as id\n",
        },
    )
    result = run_cli(second, "run")
    assert result.code == 2
    assert "unknown materialization 'append_only'" in result.err


def test_relation_type_tells_tables_views_and_missing_relations_apart() -> None:
    """relation_type answers 'table', 'view' or None, for temp relations too, for a view whose
    table is gone, and inside an open transaction, which a missing name must not abort."""
    import duckdb

    from evoki_sql.materializations.builtin import relation_type
    from evoki_sql.relation import Relation

    con = duckdb.connect()
    con.execute("create schema s")
    con.execute('create table s."Wide" (x int)')
    con.execute("create table s.gone (x int)")
    con.execute("create view s.v as select * from s.gone")
    con.execute("create temp table t (x int)")
    con.execute("drop table s.gone")
    assert relation_type(con, Relation(None, "s", "Wide")) == "table"
    assert relation_type(con, Relation(None, "s", "v")) == "view"
    assert relation_type(con, Relation("temp", "main", "t")) == "table"
    assert relation_type(con, Relation(None, "s", "gone")) is None
    assert relation_type(con, Relation(None, "s", "t")) is None
    con.execute("begin transaction")
    con.execute('insert into s."Wide" values (1)')
    assert relation_type(con, Relation(None, "s", "missing")) is None
    con.execute('insert into s."Wide" values (2)')
    con.execute("commit")
    assert con.execute('select count(*) from s."Wide"').fetchone() == (2,)
