"""Error paths: SQL syntax errors with file, line, column, the line and what was expected;
nothing runs when a model fails to compile; cycles; unknown refs, sources, tests and vars
with suggestions; Jinja errors; env_var without a default; UDF import errors; malformed
seeds; runtime failures that skip downstream. Exit 2 for user errors, 1 for node failures,
and never a Python stack trace."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import duckdb
import pytest
from runner_support import (
    SOURCES_YML,
    STG_EVENTS,
    profiles_without_history,
    query,
    results_by_id,
    run_cli,
    write_project,
)

BASE = {"models/sources.yml": SOURCES_YML, "models/stg.sql": STG_EVENTS}


def project(tmp_path: Path, files: dict[str, str], **kwargs) -> Path:
    return write_project(tmp_path / "p", {**BASE, **files}, **kwargs)


def user_error(result, code: int = 2) -> list[str]:
    """The stderr lines of a user error, after checking the exit code and the absence of a
    stack trace."""
    assert result.code == code, result.text
    assert "Traceback" not in result.text
    assert result.err.startswith("Error: "), result.err
    return result.err.rstrip("\n").splitlines()


# -- SQL syntax errors ------------------------------------------------------------------------

SYNTAX = """\
{{ config(materialized='table') }}
{% if var('factor') > 1 %}
-- scaled
{% endif %}
select id,
       cast(v2 as) as x
from {{ ref('stg') }}
"""


def test_syntax_error_names_source_line_column_and_expectation(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/bad.sql": SYNTAX, "seeds/s.csv": "a\n1\n"})
    result = run_cli(p, "build")
    assert user_error(result) == [
        "Error: models/bad.sql:6:18: SQL syntax error: Expected TYPE after CAST",
        "         cast(v2 as) as x",
        "  " + " " * 17 + "^",
    ]
    # nothing ran: no seed, no view, no run artifacts
    assert not (p / "target" / "run").exists()
    assert not (p / "target" / "run_results.json").exists()
    assert query(p / "target" / "fx.duckdb", "select count(*) from duckdb_tables()") == [(0,)]
    assert query(
        p / "target" / "fx.duckdb", "select count(*) from duckdb_views() where not internal"
    ) == [(0,)]


def test_syntax_error_on_a_templated_line_points_into_the_compiled_file(tmp_path: Path) -> None:
    bad = "select id,\n  (v2 + from {{ ref('stg') }}\n  {%- if true %} where id > 1{% endif %}\n"
    p = project(tmp_path, {"models/bad.sql": bad})
    result = run_cli(p, "compile")
    lines = user_error(result)
    assert lines[0] == (
        "Error: target/compiled/models/bad.sql:2:9: SQL syntax error: incomplete Add "
        "expression (its expression is missing) (rendered from models/bad.sql)"
    )
    assert lines[1:] == ["    (v2 + from main.stg where id > 1", "          ^"]
    compiled = (p / "target" / "compiled" / "models" / "bad.sql").read_text().splitlines()
    assert compiled[1][8:].startswith("from main.stg")


def test_syntax_error_column_is_mapped_back_on_a_line_with_jinja(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/bad.sql": "select id from {{ ref('stg') }} order by\n"})
    lines = user_error(run_cli(p, "compile"))
    assert lines[0] == (
        "Error: models/bad.sql:1:33: SQL syntax error: incomplete Order expression "
        "(its expressions is missing)"
    )
    assert lines[1] == "  select id from {{ ref('stg') }} order by"
    assert lines[2] == "  " + " " * 32 + "^"


def test_every_compile_error_is_reported_and_nothing_runs(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "models/a.sql": "select sum(v2 from {{ ref('stg') }}\n",
            "models/b.sql": "select 1 as x\nfrom {{ ref('stg') }}\nwhere (id > 3\n",
            "models/ok.sql": "{{ config(materialized='table') }}\nselect 1 as x\n",
        },
    )
    result = run_cli(p, "run")
    assert result.code == 2
    assert "Traceback" not in result.err
    assert "models/a.sql:1:15: SQL syntax error: Expecting )" in result.err
    assert "models/b.sql:3:13: SQL syntax error: Expecting )" in result.err
    assert "(2 nodes failed to compile; nothing was run)" in result.err
    assert query(p / "target" / "fx.duckdb", "select count(*) from duckdb_tables()") == [(0,)]


@pytest.mark.parametrize(
    "line",
    [
        "where v2 > > 3",  # DuckDB: syntax error at or near ">"
        "group by",  # DuckDB: syntax error at end of input
    ],
)
def test_syntax_errors_sqlglot_accepts_are_still_caught_before_running(
    tmp_path: Path, line: str
) -> None:
    """Every syntax error stops the run before anything executes and names file:line.

    sqlglot parses these two lines without complaint; DuckDB rejects them. Today the run
    starts, builds `early` and `stg`, and `bad` fails at run time without a location.
    """
    p = project(
        tmp_path,
        {
            "models/early.sql": "{{ config(materialized='table') }}\nselect 1 as x\n",
            "models/bad.sql": f"select id, v2\nfrom {{{{ ref('stg') }}}}\n{line}\n",
        },
    )
    result = run_cli(p, "run")
    assert result.code == 2, result.text
    assert "models/bad.sql:3" in result.err
    assert query(p / "target" / "fx.duckdb", "select count(*) from duckdb_tables()") == [(0,)]


# -- graph and name errors --------------------------------------------------------------------


def test_cycle_is_reported_with_its_path(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "models/a.sql": "select * from {{ ref('c') }}\n",
            "models/b.sql": "select * from {{ ref('a') }}\n",
            "models/c.sql": "select * from {{ ref('b') }}\n",
            "models/d.sql": "select * from {{ ref('a') }}\n",
        },
    )
    for command in ("ls", "build"):
        assert user_error(run_cli(p, command)) == [
            "Error: models/a.sql: dependency cycle: a -> b -> c -> a"
        ]
    assert not (p / "target").exists()


def test_unknown_ref_names_the_closest_models(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "models/stg_events.sql": "select 1 as x\n",
            "models/x.sql": "select 1 as one\n-- next\nunion all select * from {{ ref('stg_event') }}\n",
        },
    )
    lines = user_error(run_cli(p, "run"))
    assert len(lines) == 1
    assert lines[0].startswith("Error: models/x.sql")
    assert "ref('stg_event') names no model or seed. Did you mean 'stg_events', 'stg'?" in lines[0]
    assert not (p / "target").exists()


def test_unknown_ref_in_show_inline_names_the_closest_models(tmp_path: Path) -> None:
    p = project(tmp_path, {})
    lines = user_error(run_cli(p, "show", "--inline", "select * from {{ ref('stgg') }}"))
    assert "ref('stgg') names no model or seed" in lines[0]
    assert "Did you mean 'stg'?" in lines[0]


def test_unknown_source_names_the_closest_source(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/x.sql": "select * from {{ source('hist', 'event') }}\n"})
    lines = user_error(run_cli(p, "ls"))
    assert lines == [
        (
            "Error: models/x.sql:1: source('hist', 'event') is not declared in any sources: block. "
            "Did you mean hist.events?"
        )
    ]


def test_unknown_generic_test_names_the_closest_test(tmp_path: Path) -> None:
    schema = """\
        version: 2
        models:
          - name: stg
            columns:
              - name: id
                data_tests: [uniqe]
        """
    p = project(tmp_path, {"models/schema.yml": schema})
    assert user_error(run_cli(p, "ls")) == [
        "Error: models/schema.yml: unknown generic test 'uniqe'. Did you mean unique?"
    ]


def test_bad_test_severity_is_a_configuration_error(tmp_path: Path) -> None:
    schema = """\
        version: 2
        models:
          - name: stg
            columns:
              - name: id
                data_tests:
                  - unique: {severity: fatal}
        """
    p = project(tmp_path, {"models/schema.yml": schema})
    assert user_error(run_cli(p, "ls")) == [
        "Error: models/schema.yml: test severity must be warn or error, not 'fatal'"
    ]


def test_undefined_var_and_undefined_jinja_name(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/x.sql": "select 1 as a,\n  {{ var('nope') }} as b\n"})
    lines = user_error(run_cli(p, "ls"))
    assert lines[0].startswith("Error: models/x.sql:2: var('nope') is not defined")
    (p / "models" / "x.sql").write_text("select 1 as a,\n\n  {{ nope }} as b\n")
    lines = user_error(run_cli(p, "ls"))
    assert lines == ["Error: models/x.sql:3: undefined name in template: 'nope' is undefined"]
    (p / "models" / "x.sql").write_text("select 1 as a\n{% if %}\n")
    lines = user_error(run_cli(p, "ls"))
    assert lines[0].startswith("Error: models/x.sql:2: Jinja syntax error")


def test_invalid_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/schema.yml": "version: 2\nmodels:\n  - name: [stg\n"})
    lines = user_error(run_cli(p, "ls"))
    assert lines[0].startswith("Error: models/schema.yml:4:1: invalid YAML")


def test_vars_override_and_bad_vars(tmp_path: Path) -> None:
    p = project(tmp_path, {"models/t.sql": "select {{ var('factor') }} as f\n"})
    shown = run_cli(p, "show", "-s", "t", "--vars", "{factor: 7}", "--output", "json")
    assert shown.code == 0, shown.text
    assert shown.out.split() == ["[", "{", '"f":', "7", "}", "]"]
    assert user_error(run_cli(p, "ls", "--vars", "[1, 2]")) == [
        "Error: --vars must be a YAML mapping, e.g. '{key: value}'"
    ]
    assert user_error(run_cli(p, "ls", "--vars", "{a: ["))[0].startswith(
        "Error: --vars is not valid YAML"
    )


def test_no_project_found(tmp_path: Path) -> None:
    lines = user_error(run_cli(tmp_path, "ls"))
    assert lines[0].startswith("Error: no project found: no pyproject.toml with a [tool.evoki_sql]")


# -- env_var ----------------------------------------------------------------------------------


def test_env_var_without_default_in_profiles_is_an_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    profiles = (
        "fx:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: target/fx.duckdb\n      attach:\n"
        "        - path: \"{{ env_var('FX_MISSING_VAR') }}\"\n          alias: hist\n"
    )
    p = project(tmp_path, {"profiles.yml": profiles})
    lines = user_error(run_cli(p, "build"))
    assert lines == [
        (
            f"Error: {p / 'profiles.yml'}: environment variable 'FX_MISSING_VAR' is required but "
            "not set (env_var without a default)"
        )
    ]
    assert not (p / "target").exists()


def test_env_var_without_default_in_a_model(tmp_path: Path) -> None:
    p = project(
        tmp_path, {"models/y.sql": "select 1 as x,\n  '{{ env_var(\"FX_MISSING_VAR\") }}' as y\n"}
    )
    assert user_error(run_cli(p, "run")) == [
        (
            "Error: models/y.sql:2: environment variable 'FX_MISSING_VAR' is required but not set "
            "(env_var without a default)"
        )
    ]


def test_env_var_with_default_and_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = project(tmp_path, {"models/y.sql": 'select \'{{ env_var("FX_COLOUR", "blue") }}\' as c\n'})
    monkeypatch.delenv("FX_COLOUR", raising=False)
    assert '"c": "blue"' in run_cli(p, "show", "-s", "y", "--output", "json").out
    monkeypatch.setenv("FX_COLOUR", "green")
    assert '"c": "green"' in run_cli(p, "show", "-s", "y", "--output", "json").out


# -- attached database ------------------------------------------------------------------------


def test_missing_attach_file_names_the_path_and_creates_nothing(tmp_path: Path) -> None:
    p = project(tmp_path, {"seeds/s.csv": "a\n1\n"}, history=None)
    for command in ("build", "show"):
        args = [command] + (["--inline", "select 1"] if command == "show" else [])
        lines = user_error(run_cli(p, *args))
        assert lines == [
            f"Error: attached database 'hist' not found: {p / 'hist.db'} (nothing was created)"
        ]
    assert not (p / "target").exists()
    assert not (p / "hist.db").exists()


def test_attach_file_that_is_not_sqlite(tmp_path: Path) -> None:
    p = project(tmp_path, {}, history=None)
    (p / "hist.db").write_text("id,kind\n1,a\n" * 20)
    assert user_error(run_cli(p, "run")) == [
        f"Error: attached database 'hist' is not a SQLite file: {p / 'hist.db'}"
    ]


def test_attach_file_locked_past_busy_timeout(tmp_path: Path) -> None:
    import sqlite3
    import time

    profiles = (
        "fx:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: target/fx.duckdb\n      attach:\n"
        "        - {path: hist.db, alias: hist, type: sqlite, read_only: true, "
        "busy_timeout_ms: 200}\n"
    )
    p = project(tmp_path, {"profiles.yml": profiles})
    lock = sqlite3.connect(p / "hist.db", isolation_level=None)
    try:
        lock.execute("begin exclusive")
        lock.execute("insert into events values (99, 'z', 1, null)")
        started = time.perf_counter()
        result = run_cli(p, "run")
        waited = time.perf_counter() - started
    finally:
        lock.execute("rollback")
        lock.close()
    assert user_error(result) == [
        (
            f"Error: attached database 'hist' is locked by another process (waited 200 ms): "
            f"{p / 'hist.db'}"
        )
    ]
    assert waited < 5


# -- UDF files --------------------------------------------------------------------------------


def test_udf_import_error_names_file_and_line(tmp_path: Path) -> None:
    udf = "from evoki_sql import udf\nimport json\n\nimport not_a_real_module_xyz\n"
    p = project(tmp_path, {"udfs/ok.py": "from evoki_sql import udf\n", "udfs/broken.py": udf})
    assert user_error(run_cli(p, "run")) == [
        (
            "Error: udfs/broken.py:4: importing the UDF file failed: ModuleNotFoundError: "
            "No module named 'not_a_real_module_xyz'"
        )
    ]


def test_udf_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    p = project(tmp_path, {"udfs/broken.py": "from evoki_sql import udf\n\ndef f(:\n    pass\n"})
    lines = user_error(run_cli(p, "compile"))
    assert lines == ["Error: udfs/broken.py:3:7: syntax error in UDF file: invalid syntax"]


def test_udf_with_unknown_type(tmp_path: Path) -> None:
    udf = (
        "from evoki_sql import udf\n\n\n"
        "@udf(args=['NOTATYPE'], returns='DOUBLE')\ndef f(x):\n    return x\n"
    )
    p = project(tmp_path, {"udfs/bad.py": udf})
    lines = user_error(run_cli(p, "run"))
    assert lines[0].startswith("Error: udfs/bad.py: UDF 'f': unknown DuckDB type")


def test_udf_failing_at_run_time_fails_its_model_only(tmp_path: Path) -> None:
    udf = (
        "from evoki_sql import udf\n\n\n"
        "@udf(args=['DOUBLE'], returns='DOUBLE', vectorized='numpy')\n"
        "def boom(x):\n    raise ValueError('no')\n"
    )
    p = project(
        tmp_path,
        {
            "udfs/boom.py": udf,
            "models/uses.sql": "{{ config(materialized='table') }}\nselect boom(v2) as b from {{ ref('stg') }}\n",
            "models/after.sql": "select * from {{ ref('uses') }}\n",
        },
    )
    result = run_cli(p, "run")
    assert result.code == 1
    assert "Traceback" not in result.text
    assert "ERROR model uses" in result.out
    assert "SKIP model after" in result.out
    assert "OK created view model main.stg" in result.out


# -- seeds ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_seeds(tmp_path_factory: pytest.TempPathFactory):
    files = {
        "seeds/good.csv": "id,name\n1,x\n",
        "seeds/ragged.csv": "id,name,score\n1,a,1.5\n2,b\n3,c,2\n",
        "seeds/unterminated.csv": 'id,name\n1,x\n2,"never closed\n3,y\n',
        "seeds/typed.csv": "id,score\n1,1.5\n2,abc\n",
        "seeds/props.yml": (
            "version: 2\nseeds:\n  - name: typed\n    config:\n"
            "      column_types: {score: double}\n"
        ),
        "models/uses_ragged.sql": "select * from {{ ref('ragged') }}\n",
    }
    p = write_project(tmp_path_factory.mktemp("seeds"), files)
    return p, run_cli(p, "build")


def test_malformed_seed_names_file_and_line(bad_seeds) -> None:
    p, result = bad_seeds
    assert result.code == 1
    assert "Traceback" not in result.text
    assert "ERROR seed ragged" in result.out
    assert "      seeds/ragged.csv:3: expected 3 fields, found 2" in result.out.splitlines()
    assert "SKIP model uses_ragged" in result.out
    assert "OK loaded seed file main.good (1 rows)" in result.out
    assert results_by_id(p)["seed.fx.ragged"]["status"] == "error"


def test_unterminated_quote_names_the_line_where_the_field_opens(bad_seeds) -> None:
    _, result = bad_seeds
    assert "ERROR seed unterminated" in result.out
    assert "seeds/unterminated.csv:3: malformed CSV" in result.out


def test_seed_value_of_the_wrong_type_names_line_and_column(bad_seeds) -> None:
    _, result = bad_seeds
    assert "ERROR seed typed" in result.out
    assert "seeds/typed.csv:3:" in result.out
    assert "in column 'score' is not a double" in result.out


def test_seed_column_types_for_unknown_column(tmp_path: Path) -> None:
    files = {
        "seeds/s.csv": "a\n1\n",
        "seeds/props.yml": "version: 2\nseeds:\n  - name: s\n    config:\n      column_types: {b: int}\n",
    }
    p = write_project(tmp_path / "p", files)
    result = run_cli(p, "seed")
    assert result.code == 1
    assert "seeds/s.csv: column_types names columns not in the CSV: b" in result.out


# -- runtime failures -------------------------------------------------------------------------


def test_model_failure_skips_downstream_and_exits_1(tmp_path: Path) -> None:
    p = project(
        tmp_path,
        {
            "models/broken.sql": "select no_such_column from {{ ref('stg') }}\n",
            "models/after.sql": "select * from {{ ref('broken') }}\n",
            "models/after2.sql": "select * from {{ ref('after') }}\n",
            "models/fine.sql": "{{ config(materialized='table') }}\nselect 1 as x\n",
        },
    )
    result = run_cli(p, "build")
    assert result.code == 1
    assert "Traceback" not in result.text
    lines = result.node_lines()
    assert lines == [
        "1 of 5 OK created table model main.fine (1 rows)",
        "2 of 5 OK created view model main.stg",
        "3 of 5 ERROR model broken",
        "4 of 5 SKIP model after",
        "5 of 5 SKIP model after2",
    ]
    assert 'Binder Error: Referenced column "no_such_column" not found' in result.out
    assert result.out.rstrip().endswith("Done. PASS=2 WARN=0 ERROR=1 SKIP=2 TOTAL=5")
    results = results_by_id(p)
    assert results["model.fx.broken"]["status"] == "error"
    assert results["model.fx.after"]["status"] == "skipped"
    assert results["model.fx.after"]["message"] == "upstream broken failed"
    assert results["model.fx.after2"]["message"] == "upstream after failed"
    assert results["model.fx.fine"]["status"] == "success"


def test_connection_is_released_after_a_compile_error(tmp_path: Path) -> None:
    """`main()` in-process: after a compile error the DuckDB file is free again at once."""
    p = project(tmp_path, {"models/bad.sql": "select id from {{ ref('stg') }} order by\n"})
    assert run_cli(p, "build").code == 2
    con = duckdb.connect(str(p / "target" / "fx.duckdb"), read_only=True)
    con.close()
    gc.collect()


def test_running_out_of_duckdbs_memory_limit_says_which_setting_to_raise(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        {
            "profiles.yml": profiles_without_history(settings="{memory_limit: 20MB}"),
            # a list aggregate of 20M integers (160 MB) cannot spill
            "models/big.sql": "{{ config(materialized='table') }}\n"
            "select list(range) as values from range(20000000)",
        },
        history=None,
    )
    result = run_cli(root, "run")
    assert result.code == 1
    assert "Out of Memory Error" in result.text
    # DuckDB reports the cap it applies (20MB is 19.0 MiB)
    assert re.search(r"DuckDB's memory_limit is (19\.0 MiB|20\.0 MB)", result.text), result.text
    assert "raise settings.memory_limit of the target in profiles.yml" in result.text
