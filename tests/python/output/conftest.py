"""Fixtures of the output suite: one copy of the Evoki project and one backfill of the base
history (output_support.BASE_TURNS), built once per test session and only read afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from output_support import BASE_TURNS, Backfill, backfill

from project_copy import copy_project


@pytest.fixture(scope="session")
def evoki_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the Evoki project (models, macros, udfs, seeds, hooks, ...)."""
    return copy_project(tmp_path_factory.mktemp("evoki_project") / "project")


@pytest.fixture(scope="session")
def base_backfill(evoki_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Backfill:
    """BASE_TURNS backfilled once; tests only read it."""
    return backfill(evoki_project, tmp_path_factory.mktemp("base_backfill"), BASE_TURNS)
