"""profiles.yml in dbt's conventions: profile -> target -> outputs, `--target`, settings,
attach (alias, type sqlite, read_only), `{{ env_var() }}`, `--profiles-dir`, paths with
spaces, quotes, non-ASCII and URI-special characters, and configuration errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from runner_support import (
    SOURCES_YML,
    STG_EVENTS,
    make_sqlite,
    query,
    run_cli,
    write_project,
)

BASE = {
    "models/sources.yml": SOURCES_YML,
    "models/stg.sql": STG_EVENTS,
    "models/total.sql": "{{ config(materialized='table') }}\nselect sum(v2) as s from {{ ref('stg') }}\n",
}

TWO_TARGETS = """\
fx:
  target: "{{ env_var('FX_TARGET', 'dev') }}"
  outputs:
    dev:
      type: duckdb
      path: target/dev.duckdb
      attach:
        - {path: hist.db, alias: hist, type: sqlite, read_only: true}
    prod:
      type: duckdb
      path: "{{ env_var('FX_OUT', 'target/prod.duckdb') }}"
      threads: 4
      settings:
        TimeZone: Asia/Tokyo
      attach:
        - path: hist.db
          alias: hist
          read_only: false
"""

SETTINGS_QUERY = (
    "select current_setting('TimeZone') as tz, readonly as ro "
    "from duckdb_databases() where database_name = 'hist'"
)


@pytest.fixture
def two_targets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("FX_TARGET", "FX_OUT"):
        monkeypatch.delenv(name, raising=False)
    return write_project(tmp_path / "p", {**BASE, "profiles.yml": TWO_TARGETS})


def show_json(project: Path, *args: str) -> list[dict]:
    result = run_cli(project, "show", *args, "--output", "json")
    assert result.code == 0, result.text
    return json.loads(result.out)


def test_default_target_and_target_flag(two_targets: Path) -> None:
    dev = run_cli(two_targets, "run")
    assert dev.code == 0, dev.text
    assert "Running with evoki_sql, target 'dev' (dev.duckdb)" in dev.out
    prod = run_cli(two_targets, "run", "--target", "prod")
    assert prod.code == 0, prod.text
    assert "target 'prod' (prod.duckdb)" in prod.out
    # prod sets threads: 4, which the runner does not use: it says so; dev sets none
    assert "threads: 4 in target 'prod' has no effect" in prod.out
    assert "threads:" not in dev.out
    for name in ("dev", "prod"):
        assert query(two_targets / "target" / f"{name}.duckdb", "select s from total") == [(30.0,)]
    short = run_cli(two_targets, "run", "-t", "prod", "-s", "stg")
    assert short.code == 0 and "target 'prod'" in short.out


def test_settings_and_read_only_attach_per_target(two_targets: Path) -> None:
    assert show_json(two_targets, "--inline", SETTINGS_QUERY) == [{"tz": "UTC", "ro": True}]
    assert show_json(two_targets, "--target", "prod", "--inline", SETTINGS_QUERY) == [
        {"tz": "Asia/Tokyo", "ro": False}
    ]


def test_read_only_attach_refuses_writes(two_targets: Path) -> None:
    (two_targets / "materializations").mkdir()
    (two_targets / "materializations" / "into_hist.py").write_text(
        "from evoki_sql import materialization\n"
        "from evoki_sql.materializations.registry import MaterializationResult\n\n\n"
        "@materialization('into_hist')\n"
        "def into_hist(ctx):\n"
        "    ctx.execute(f'create or replace table hist.{ctx.relation.identifier} as {ctx.sql}')\n"
        "    return MaterializationResult('wrote into hist')\n"
    )
    (two_targets / "models" / "w.sql").write_text(
        "{{ config(materialized='into_hist') }}\nselect 1 as x\n"
    )
    dev = run_cli(two_targets, "run", "-s", "w")
    assert dev.code == 1
    assert "read-only" in dev.out.lower() or "read only" in dev.out.lower()
    prod = run_cli(two_targets, "run", "-s", "w", "--target", "prod")
    assert prod.code == 0, prod.text
    assert "wrote into hist" in prod.out


def test_env_var_picks_target_and_path(
    two_targets: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    out = tmp_path / "elsewhere" / "out.duckdb"
    monkeypatch.setenv("FX_TARGET", "prod")
    monkeypatch.setenv("FX_OUT", str(out))
    result = run_cli(two_targets, "run", "-s", "+total")
    assert result.code == 0, result.text
    assert "target 'prod' (out.duckdb)" in result.out
    assert query(out, "select s from total") == [(30.0,)]
    assert not (two_targets / "target" / "prod.duckdb").exists()


def test_unknown_target_lists_the_targets(two_targets: Path) -> None:
    result = run_cli(two_targets, "run", "--target", "staging")
    assert result.code == 2
    assert result.err.strip() == (
        f"Error: {two_targets / 'profiles.yml'}: target 'staging' not in profile 'fx' "
        "(targets: dev, prod)"
    )


def test_profiles_dir_flag(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", BASE)
    elsewhere = tmp_path / "profiles"
    elsewhere.mkdir()
    (project / "profiles.yml").rename(elsewhere / "profiles.yml")
    missing = run_cli(project, "run")
    assert missing.code == 2
    assert "profiles.yml not found" in missing.err
    # the attach path is relative to the project, wherever profiles.yml lives
    found = run_cli(project, "run", "--profiles-dir", str(elsewhere))
    assert found.code == 0, found.text


def test_profile_configuration_errors(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", BASE)
    cases = {
        "other:\n  target: dev\n  outputs: {dev: {type: duckdb}}\n": (
            "profile 'fx' not found (profiles: other)"
        ),
        "fx:\n  target: dev\n  outputs: {dev: {type: postgres}}\n": (
            "target 'dev': type 'postgres' is not supported (only duckdb)"
        ),
        "fx:\n  target: dev\n  outputs: {dev: {type: duckdb, threads: many}}\n": (
            "target 'dev': threads must be an integer"
        ),
        "fx:\n  target: dev\n  outputs: {dev: {type: duckdb, attach: [{path: h.db}]}}\n": (
            "target 'dev': attach[0] needs a path and an alias"
        ),
        "fx:\n  target: dev\n  outputs:\n    dev: {type: duckdb\n": "invalid YAML",
    }
    for text, message in cases.items():
        (project / "profiles.yml").write_text(text)
        result = run_cli(project, "run")
        assert result.code == 2, text
        assert message in result.err, result.err
        assert "Traceback" not in result.err


def test_non_numeric_busy_timeout_is_a_configuration_error(tmp_path: Path) -> None:
    profiles = (
        "fx:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: target/fx.duckdb\n      attach:\n"
        "        - {path: hist.db, alias: hist, busy_timeout_ms: soon}\n"
    )
    project = write_project(tmp_path / "p", {**BASE, "profiles.yml": profiles})
    result = run_cli(project, "run")  # a ValueError escaping main() fails this test
    assert result.code == 2
    assert "busy_timeout_ms" in result.err


@pytest.fixture(scope="module")
def odd_paths(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project in a folder with spaces, quotes and non-ASCII characters."""
    root = tmp_path_factory.mktemp("paths") / "my proj ü 'q' \"dq\""
    files = {
        **BASE,
        "seeds/sëed.csv": "a,b\n1,x\n",
        "models/uses_seed.sql": "select * from {{ ref('sëed') }}\n",
        "profiles.yml": (
            "fx:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
            "      path: 'tärget dir/o''db.duckdb'\n"
            "      attach:\n"
            "        - path: 'data dir/hïst ''q\" ü.db'\n"
            "          alias: hist\n"
            "          read_only: true\n"
        ),
    }
    return write_project(root, files, history_name="data dir/hïst 'q\" ü.db")


def test_paths_with_spaces_quotes_and_non_ascii(odd_paths: Path) -> None:
    result = run_cli(odd_paths, "build")
    assert result.code == 0, result.text
    db = odd_paths / "tärget dir" / "o'db.duckdb"
    assert query(db, "select s from total") == [(30.0,)]
    assert query(db, 'select * from "sëed"') == [(1, "x")]


@pytest.mark.parametrize("name", ["h#1.db", "what?.db", "100%41.db"])
def test_attach_path_from_env_var_with_uri_special_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """'#', '?' and '%' are ordinary file-name characters: the file is attached as is,
    nothing else is created, and there is no stack trace."""
    project = write_project(tmp_path / "p", BASE, history=None)
    folder = tmp_path / "data"
    history = make_sqlite(folder / name)
    monkeypatch.setenv("FX_HIST", str(history))
    result = run_cli(project, "show", "--inline", "select count(*) as n from hist.events")
    assert result.code == 0, result.text
    assert result.out.splitlines()[2].strip() == "5"
    assert sorted(os.listdir(folder)) == [name]
