"""The demo and prod targets: the demo history is built when absent and reused when present;
prod needs EVOKI_HISTORY_DB naming an existing file and creates nothing otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from project_copy import copy_project


def evoki(project: Path, *args: str, env: dict[str, str] | None = None):
    base = {k: v for k, v in os.environ.items() if not k.startswith("EVOKI_")}
    return subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("evoki") / "project")


def test_demo_history_is_built_when_absent_then_reused(project: Path) -> None:
    demo_db = project / "target" / "demo_history.db"
    assert not demo_db.exists()
    first = evoki(project, "run", "-s", "stg_turns")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "demo_history.db does not exist: building it" in first.stdout
    assert demo_db.is_file()
    stamp = demo_db.stat().st_mtime_ns
    second = evoki(project, "run", "-s", "stg_turns")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "building it" not in second.stdout
    assert demo_db.stat().st_mtime_ns == stamp


def test_prod_without_history_variable_fails_and_creates_nothing(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    result = evoki(project, "run", env={"EVOKI_TARGET": "prod"})
    assert result.returncode == 2
    assert "EVOKI_HISTORY_DB" in result.stderr and "required but not set" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "target").exists()


def test_prod_with_missing_file_fails_naming_it_and_creates_nothing(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "p")
    missing = tmp_path / "nowhere" / "history.db"
    result = evoki(project, "build", "-t", "prod", env={"EVOKI_HISTORY_DB": str(missing)})
    assert result.returncode == 2
    assert str(missing) in result.stderr and "not found" in result.stderr
    assert not missing.exists() and not missing.parent.exists()
    assert not (project / "target").exists()


def test_prod_duckdb_path_comes_from_its_variable(tmp_path: Path, project: Path) -> None:
    history = project / "target" / "demo_history.db"
    if not history.exists():
        evoki(project, "run", "-s", "stg_turns")
    duck = tmp_path / "out dir" / "my evoki.duckdb"
    result = evoki(
        project,
        "run",
        "-s",
        "stg_turns",
        env={"EVOKI_TARGET": "prod", "EVOKI_HISTORY_DB": str(history), "EVOKI_DUCKDB": str(duck)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert duck.is_file()
