"""Dead row slots of incremental tables, and their compaction.

A build connection does not vacuum at checkpoints (max_vacuum_tasks 0, evoki_sql/connection.py),
so the rows an incremental build deletes keep their storage slots; once a table's dead slots
pass `compact_dead_share` (default 0.5) times its live rows, the materialization rewrites it,
keeping its rows and their order (evoki_sql/materializations/compaction.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import PROFILES, SOURCES_YML, query, run_cli, write_project

HISTORY = [(i, "a", float(i), None) for i in range(1, 5)] + [
    (i, "c", float(i), None) for i in range(10, 16)
]
CHANGED_A = "{changed: \"('a')\"}"


def files(part_config: str = "", merge_config: str = "compact_dead_share=0") -> dict[str, str]:
    return {
        "models/sources.yml": SOURCES_YML,
        "models/changed_kinds.sql": """\
            {{ config(materialized='table') }}
            select kind from (values {{ var('changed', "('a'), ('c')") }}) as t(kind)
            """,
        # 4 rows in partition a, 6 in c: rebuilding a deletes 4 of 10 rows
        "models/part_rows.sql": f"""\
            {{{{ config(materialized='incremental', incremental_strategy='replace_partitions',
                        partition_by='kind', partitions='changed_kinds'{part_config}) }}}}
            select id, kind, v * 2 as v2
            from {{{{ source('hist', 'events') }}}} as e
            {{% if is_incremental() %}}
            where e.kind in (select kind from {{{{ ref('changed_kinds') }}}})
            {{% endif %}}
            order by id
            """,
        "models/merged.sql": f"""\
            {{{{ config(materialized='incremental', unique_key='id', {merge_config}) }}}}
            -- depends_on: {{{{ ref('changed_kinds') }}}}
            select id, kind, v
            from {{{{ source('hist', 'events') }}}} as e
            {{% if is_incremental() %}}
            where e.kind in (select kind from {{{{ ref('changed_kinds') }}}})
            {{% endif %}}
            """,
    }


def dead_slots(db: Path, table: str) -> int:
    return query(db, f"select max(rowid) + 1 - count(*) from {table}")[0][0]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    project = write_project(tmp_path_factory.mktemp("compaction"), files(), history=HISTORY)
    db = project / "target" / "fx.duckdb"
    state: dict = {}
    state["first"] = run_cli(project, "run")
    state["second"] = run_cli(project, "run", "--vars", CHANGED_A)
    state["second_dead"] = dead_slots(db, "part_rows")
    state["third"] = run_cli(project, "run", "--vars", CHANGED_A)
    state["third_dead"] = dead_slots(db, "part_rows")
    state["third_rows"] = query(db, "select * from part_rows order by rowid")
    state["merged_dead"] = dead_slots(db, "merged")
    state["merged_rows"] = query(db, "select * from merged order by id")
    state["refresh"] = run_cli(project, "run", "--full-refresh")
    state["refresh_rows"] = query(db, "select * from part_rows order by rowid")
    state["refresh_merged"] = query(db, "select * from merged order by id")
    return state


def test_deleted_rows_keep_their_slots_below_the_share(runs: dict) -> None:
    assert runs["second"].code == 0, runs["second"].text
    assert "replaced 1 partitions of main.part_rows: 4 rows in, 4 out" in runs["second"].out
    line = next(x for x in runs["second"].node_lines() if "main.part_rows" in x)
    assert "rewritten" not in line, line
    # 4 dead of 10 live (0.4 <= 0.5): the table was not rewritten, and the checkpoint at the
    # end of the run did not vacuum it either
    assert runs["second_dead"] == 4


def test_a_table_past_the_share_is_rewritten_in_order(runs: dict) -> None:
    third = runs["third"]
    assert third.code == 0, third.text
    assert (
        "replaced 1 partitions of main.part_rows: 4 rows in, 4 out "
        "(rewritten to drop 8 dead row slots)" in third.out
    )
    assert runs["third_dead"] == 0
    # the rows of a full rebuild, kept in their storage order: partition c's untouched rows,
    # then partition a's, which each build appends
    assert runs["refresh"].code == 0, runs["refresh"].text
    assert sorted(runs["third_rows"]) == sorted(runs["refresh_rows"])
    assert [r[0] for r in runs["third_rows"]] == [10, 11, 12, 13, 14, 15, 1, 2, 3, 4]


def test_a_merge_compacts_too(runs: dict) -> None:
    # compact_dead_share=0: every merge that deleted rows rewrites the table
    assert (
        "merged incremental model main.merged: 0 new, 4 updated (rewritten to drop 4 dead "
        "row slots)" in runs["second"].out
    )
    assert runs["merged_dead"] == 0
    assert runs["merged_rows"] == runs["refresh_merged"]


@pytest.mark.parametrize("value", ["'lots'", "-1", "true"])
def test_a_bad_share_fails_the_model_on_any_build(tmp_path: Path, value: str) -> None:
    project = write_project(
        tmp_path / "p", files(part_config=f", compact_dead_share={value}"), history=HISTORY
    )
    first = run_cli(project, "run", "-s", "part_rows")
    assert first.code == 1
    shown = value.strip("'") if value.startswith("'") else value
    assert "compact_dead_share of part_rows must be a number >= 0" in first.text, first.text
    assert shown.lower() in first.text.lower()


def test_the_target_can_turn_vacuuming_back_on(tmp_path: Path) -> None:
    profile = PROFILES.replace(
        "      threads: 1\n", "      threads: 1\n      settings:\n        max_vacuum_tasks: 100\n"
    )
    project = write_project(tmp_path / "p", {**files(), "profiles.yml": profile}, history=HISTORY)
    assert run_cli(project, "run").code == 0
    second = run_cli(project, "run", "--vars", CHANGED_A)
    assert second.code == 0, second.text
    shown = run_cli(project, "show", "--inline", "select current_setting('max_vacuum_tasks') as n")
    assert shown.code == 0 and "100" in shown.out, shown.text
    # DuckDB's own vacuum at the checkpoint renumbered the slots
    assert dead_slots(project / "target" / "fx.duckdb", "part_rows") == 0
