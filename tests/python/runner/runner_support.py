"""Helpers of the runner suite: small projects written into temporary folders, driven
through the real CLI entry point (`evoki_sql.cli.main`) in-process or as a subprocess.

A project is a dict of files (relative path -> text) plus a SQLite history made with
sqlite3; `write_project` adds pyproject.toml and profiles.yml unless the dict has them.
"""

from __future__ import annotations

import gc
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterable
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from evoki_sql.cli import main

# -- the SQLite history every project attaches as `hist` ------------------------------------

EVENTS_DDL = "create table events(id integer primary key, kind text, v real, note text)"
EVENTS = [
    (1, "a", 1.0, "first private note"),
    (2, "a", 2.0, "second private note"),
    (3, "b", 3.0, None),
    (4, "b", 4.0, "fourth private note"),
    (5, "a", 5.0, "fifth private note"),
]


def make_sqlite(path: Path, rows: Iterable[tuple[Any, ...]] = EVENTS) -> Path:
    """A SQLite file with the `events` table (id, kind, v, note)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    try:
        con.execute(EVENTS_DDL)
        con.executemany("insert into events values (?, ?, ?, ?)", list(rows))
        con.commit()
    finally:
        con.close()
    return path


def add_events(path: Path, rows: Iterable[tuple[Any, ...]]) -> None:
    con = sqlite3.connect(path)
    try:
        con.executemany("insert or replace into events values (?, ?, ?, ?)", list(rows))
        con.commit()
    finally:
        con.close()


# -- project files ----------------------------------------------------------------------------

PYPROJECT = """\
[tool.evoki_sql]
name = "fx"
profile = "fx"

[tool.evoki_sql.vars]
factor = 2
"""

PROFILES = """\
fx:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "target/fx.duckdb"
      threads: 1
      attach:
        - path: "{{ env_var('FX_HIST', 'hist.db') }}"
          alias: hist
          type: sqlite
          read_only: true
"""


def profiles_without_history(**dev: str) -> str:
    """profiles.yml of the fx profile with a dev target that attaches nothing, plus the
    given top-level target keys (YAML text each, e.g. udf_processes='2')."""
    extra = "".join(f"      {key}: {value}\n" for key, value in dev.items())
    return (
        "fx:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        '      path: "target/fx.duckdb"\n      threads: 1\n' + extra
    )


SOURCES_YML = """\
version: 2
sources:
  - name: hist
    tables:
      - name: events
"""

STG_EVENTS = """\
select id, kind, v * {{ var('factor') }} as v2, note
from {{ source('hist', 'events') }}
"""


def write_project(
    root: Path,
    files: dict[str, str] | None = None,
    *,
    history: Iterable[tuple[Any, ...]] | None = EVENTS,
    history_name: str = "hist.db",
) -> Path:
    """Write a project into `root`: the given files over pyproject.toml and profiles.yml."""
    root.mkdir(parents=True, exist_ok=True)
    everything = {"pyproject.toml": PYPROJECT, "profiles.yml": PROFILES, **(files or {})}
    for rel, text in everything.items():
        if text is None:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    if history is not None:
        make_sqlite(root / history_name, history)
    return root


# -- running the CLI --------------------------------------------------------------------------


NODE_LINE = re.compile(r"^\d\d:\d\d:\d\d  (\d+ of \d+ .*?) \.{3,} \[[^\]]*\]$")


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def lines(self) -> list[str]:
        return self.out.splitlines()

    def node_lines(self) -> list[str]:
        """The `i of n STATUS description` lines, without time stamp, dots and timing."""
        return [m.group(1) for m in map(NODE_LINE.match, self.out.splitlines()) if m]


def run_cli(project: Path | None, *args: str) -> CliResult:
    """`python -m evoki_sql ARGS --project-dir PROJECT` in-process; exit code, stdout, stderr."""
    argv = [*args] + (["--project-dir", str(project)] if project is not None else [])
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: --help and usage errors
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return CliResult(int(code), out.getvalue(), err.getvalue())


def run_subprocess(project: Path | None, *args: str, **env: str) -> subprocess.CompletedProcess:
    argv = [sys.executable, "-m", "evoki_sql", *args]
    if project is not None:
        argv += ["--project-dir", str(project)]
    environ = {k: v for k, v in os.environ.items() if k != "EVOKI_SQL_PROFILES_DIR"}
    environ.update(env)
    environ["NO_COLOR"] = "1"
    return subprocess.run(
        argv, capture_output=True, text=True, check=False, env=environ, timeout=120
    )


def query(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` on the DuckDB file (read-only; the runner's connection must be gone)."""
    gc.collect()  # an in-process run may leave its connection to the garbage collector
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def results_by_id(project: Path) -> dict[str, dict[str, Any]]:
    data = read_json(project / "target" / "run_results.json")
    return {r["unique_id"]: r for r in data["results"]}


# -- the full example project, built once per session ----------------------------------------

FULL_FILES = {
    "models/sources.yml": """\
        version: 2
        sources:
          - name: hist
            tables:
              - name: events
                columns:
                  - name: id
                    data_tests: [unique, not_null]
        """,
    "models/staging/stg_events.sql": """\
        {{ config(tags=['staging']) }}
        select id, kind, v * {{ var('factor') }} as v2, note
        from {{ source('hist', 'events') }}
        """,
    "models/marts/agg.sql": """\
        {{ config(materialized='table', tags=['daily']) }}
        select e.kind, sum(e.v2) as total, max(k.label) as label,
               {{ double_it('count(*)') }} as n2, sq(sum(e.v2)) as sq_total,
               plus_one(count(*)) as n_plus_one
        from {{ ref('stg_events') }} as e
        left join {{ ref('kinds') }} as k on k.kind = e.kind
        group by e.kind
        """,
    "models/marts/inc.sql": """\
        {{ config(materialized='incremental', unique_key='id', tags=['daily', 'inc']) }}
        select id, v2 from {{ ref('stg_events') }}
        {% if is_incremental() %}
        where id > (select coalesce(max(id), 0) from {{ this }})
        {% endif %}
        """,
    "models/schema.yml": """\
        version: 2
        models:
          - name: stg_events
            columns:
              - name: kind
                tests:
                  - relationships: {to: "ref('kinds')", field: kind}
              - name: v2
                data_tests:
                  - is_positive
          - name: agg
            description: totals per kind
            columns:
              - name: kind
                description: the event kind
                data_tests:
                  - unique
                  - accepted_values: {values: ['a', 'b']}
              - name: total
                data_tests:
                  - accepted_range: {min_value: 0, max_value: 50, config: {severity: warn}}
        """,
    "macros/m.sql": """\
        {% macro double_it(x) %}{{ times(x, 2) }}{% endmacro %}
        {% macro times(x, n) %}{{ n }} * ({{ x }}){% endmacro %}
        {% test is_positive(model, column_name) %}
        select * from {{ model }} where {{ column_name }} <= {{ times(0, 1) }}
        {% endtest %}
        """,
    "seeds/kinds.csv": "kind,label,weight,code\na,Alpha,1,007\nb,Beta,2,010\n",
    "seeds/numbers.csv": "n,ratio,day,flag\n1,0.5,2026-01-02,true\n2,1.25,2026-02-03,false\n",
    "seeds/props.yml": """\
        version: 2
        seeds:
          - name: kinds
            config:
              column_types: {weight: double, code: varchar}
            columns:
              - name: kind
                data_tests: [not_null]
        """,
    "tests/no_negative.sql": "select * from {{ ref('agg') }} where total < {{ times(0, 1) }}\n",
    "udfs/math.py": """\
        import pyarrow.compute as pc
        from evoki_sql import udf


        @udf(args=["DOUBLE"], returns="DOUBLE")
        def sq(x):
            return pc.multiply(x, x)


        @udf(args=["BIGINT"], returns="BIGINT", vectorized="numpy")
        def plus_one(x):
            return x + 1
        """,
}


@dataclass
class Built:
    """A project after one command, with its artifacts as they were right after it."""

    project: Path
    result: CliResult
    manifest: dict[str, Any]
    run_results: dict[str, Any]

    @property
    def db(self) -> Path:
        return self.project / "target" / "fx.duckdb"
