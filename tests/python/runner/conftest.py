"""Fixtures of the runner suite (the helpers live in runner_support.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from runner_support import FULL_FILES, Built, CliResult, read_json, run_cli, write_project

# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _clean_environment() -> Iterator[None]:
    """No profiles folder or history path leaks in from the caller's environment."""
    names = ("EVOKI_SQL_PROFILES_DIR", "FX_HIST", "FX_MISSING_VAR", "FX_TARGET", "FX_OUT")
    saved = {name: os.environ.pop(name) for name in names if name in os.environ}
    yield
    os.environ.update(saved)


@pytest.fixture(scope="session")
def cli() -> Callable[..., CliResult]:
    return run_cli


@pytest.fixture(scope="session")
def project_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Path]:
    """`project_factory(files, name=..., history=...)` writes a fresh project folder."""

    def make(files: dict[str, str] | None = None, name: str = "proj", **kwargs: Any) -> Path:
        return write_project(tmp_path_factory.mktemp(name), files, **kwargs)

    return make


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The full example project after one `build`; share it only with read-only commands."""
    project = write_project(tmp_path_factory.mktemp("full"), FULL_FILES)
    result = run_cli(project, "build")
    target = project / "target"
    return Built(
        project, result, read_json(target / "manifest.json"), read_json(target / "run_results.json")
    )


@pytest.fixture(scope="session")
def full_project(full_build: Built) -> Path:
    return full_build.project
