"""Node selection: name, +name, name+, n+name, name+n, tag:, path:, source:, union (space in
one selector or several values), intersection (comma), --exclude, and selection errors.

Most cases go through `ls` (which never opens the database); a few through `run`/`build` to
show that the same selection decides what executes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from runner_support import SOURCES_YML, query, run_cli, write_project

# seed s -> a -> b -> c -> d ; a -> e (tag x) ; f (in models/sub, tag x, y) reads source
DAG = {
    "models/sources.yml": SOURCES_YML,
    "seeds/s.csv": "k\n1\n",
    "models/a.sql": "select k from {{ ref('s') }}\n",
    "models/b.sql": "select k from {{ ref('a') }}\n",
    "models/c.sql": "{{ config(tags=['y']) }}\nselect k from {{ ref('b') }}\n",
    "models/d.sql": "select k from {{ ref('c') }}\n",
    "models/e.sql": "{{ config(tags=['x']) }}\nselect k from {{ ref('a') }}\n",
    "models/sub/f.sql": (
        "{{ config(tags=['x', 'y'], materialized='table') }}\n"
        "select id as k from {{ source('hist', 'events') }}\n"
    ),
    "models/schema.yml": """\
        version: 2
        models:
          - name: b
            columns:
              - name: k
                data_tests: [not_null]
        """,
}


@pytest.fixture(scope="module")
def dag(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("dag"), DAG)


def names(project: Path, *args: str) -> list[str]:
    result = run_cli(project, "ls", "--output", "name", *args)
    assert result.code == 0, result.text
    return result.out.splitlines()


MODELS = ("--resource-type", "model", "seed")


@pytest.mark.parametrize(
    ("select", "expected"),
    [
        (["c"], ["c"]),
        (["+c"], ["s", "a", "b", "c"]),
        (["c+"], ["c", "d"]),
        (["+c+"], ["s", "a", "b", "c", "d"]),
        (["1+c"], ["b", "c"]),
        (["2+c"], ["a", "b", "c"]),
        (["a+1"], ["a", "b", "e"]),
        (["tag:x"], ["e", "f"]),
        (["tag:y"], ["c", "f"]),
        (["path:models/sub"], ["f"]),
        (["path:models/sub/f.sql"], ["f"]),
        (["path:seeds"], ["s"]),
        (["source:hist+"], ["f"]),
        (["c e"], ["c", "e"]),  # union inside one (quoted) selector
        (["c", "e"], ["c", "e"]),  # union of several values
        (["tag:x,tag:y"], ["f"]),  # intersection
        (["a+,tag:y"], ["c"]),  # intersection with a graph operator
        (["tag:x,path:models/sub", "b"], ["b", "f"]),  # union of an intersection and a name
        (["*"], ["s", "a", "b", "c", "d", "e", "f"]),
    ],
)
def test_select(dag: Path, select: list[str], expected: list[str]) -> None:
    assert sorted(names(dag, *MODELS, "-s", *select)) == sorted(expected)


@pytest.mark.parametrize(
    ("select", "exclude", "expected"),
    [
        ("a+", ["c+"], ["a", "b", "e"]),
        ("a+", ["tag:x"], ["a", "b", "c", "d"]),
        (None, ["path:models/sub", "s"], ["a", "b", "c", "d", "e"]),
        ("+d", ["1+c"], ["s", "a", "d"]),
    ],
)
def test_exclude(dag: Path, select: str | None, exclude: list[str], expected: list[str]) -> None:
    args = [*MODELS, "--exclude", *exclude] + (["-s", select] if select else [])
    assert sorted(names(dag, *args)) == sorted(expected)


def test_selecting_a_model_selects_its_tests(dag: Path) -> None:
    assert names(dag, "-s", "b") == ["b", "not_null_b_k"]
    assert names(dag, "-s", "b", "--resource-type", "test") == ["not_null_b_k"]
    assert names(dag, "-s", "b", "--exclude", "not_null_b_k") == ["b"]


def test_selection_order_is_dag_order(dag: Path) -> None:
    assert names(dag, *MODELS, "-s", "+d") == ["s", "a", "b", "c", "d"]


@pytest.mark.parametrize(
    ("select", "message"),
    [
        ("nosuch", "selector 'nosuch' matches no node"),
        ("dd", "selector 'dd' matches no node. Did you mean 'd'?"),
        ("tag:nosuch", "selector 'tag:nosuch' matches no node"),
        ("colour:red", "unknown selector method 'colour:' in 'colour:red'"),
    ],
)
def test_selection_errors_exit_2(dag: Path, select: str, message: str) -> None:
    result = run_cli(dag, "ls", "-s", select)
    assert result.code == 2
    assert result.out == ""
    assert result.err.strip() == f"Error: {message}" or message in result.err
    assert "Traceback" not in result.err


def test_run_executes_only_the_selection(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", DAG)
    db = project / "target" / "fx.duckdb"
    seeded = run_cli(project, "seed")
    assert seeded.code == 0, seeded.text
    result = run_cli(project, "run", "-s", "2+c", "e")
    assert result.code == 0, result.text
    assert result.node_lines() == [
        "1 of 4 OK created view model main.a",
        "2 of 4 OK created view model main.b",
        "3 of 4 OK created view model main.c",
        "4 of 4 OK created view model main.e",
    ]
    tables = query(db, "select table_name from information_schema.tables order by 1")
    assert tables == [("a",), ("b",), ("c",), ("e",), ("s",)]


def test_build_with_intersection_and_exclude_runs_seeds_models_and_tests(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", DAG)
    result = run_cli(project, "build", "-s", "+b,path:models", "s", "--exclude", "tag:x")
    assert result.code == 0, result.text
    assert result.node_lines() == [
        "1 of 4 OK loaded seed file main.s (1 rows)",
        "2 of 4 OK created view model main.a",
        "3 of 4 OK created view model main.b",
        "4 of 4 PASS not_null_b_k",
    ]
