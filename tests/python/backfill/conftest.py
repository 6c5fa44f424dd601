"""Shared fixtures of the backfill tests: one project copy and one prepared DuckDB file.

Building the upstream models takes most of a backfill's time. `prepared` seeds a DuckDB file
and builds every model up to fullspectrum168 once, from the standard small history
(`base_turns()`); a test then copies that file and the untouched history and runs only the
write-back (`run -s fullspectrum168 history_metrics_readback`), which reads the same turns.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from backfill_support import BACKFILL_MODELS, base_turns, prod, write_history

from project_copy import copy_project


@dataclass(frozen=True)
class Prepared:
    project: Path
    history: Path  # the standard history, never written to
    duckdb: Path  # seeds and all models up to fullspectrum168 built from that history


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project shared by the tests that run the prod target."""
    return copy_project(tmp_path_factory.mktemp("backfill") / "project")


@pytest.fixture(scope="session")
def prepared(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    folder = tmp_path_factory.mktemp("prepared")
    sessions, turns = base_turns()
    history = write_history(folder / "base.db", sessions, turns)
    scratch = folder / "scratch.db"
    shutil.copyfile(history, scratch)
    duckdb = folder / "prepared.duckdb"
    code, output = prod(project, scratch, duckdb, "seed")
    assert code == 0, output
    code, output = prod(project, scratch, duckdb, "run", "-s", *BACKFILL_MODELS)
    assert code == 0, output
    return Prepared(project, history, duckdb)


@pytest.fixture()
def fresh(prepared: Prepared, tmp_path: Path) -> Callable[[], tuple[Path, Path]]:
    """`fresh()` -> (a copy of the standard history, a copy of the prepared DuckDB file)."""

    def make() -> tuple[Path, Path]:
        history = tmp_path / "history.db"
        duckdb = tmp_path / "evoki.duckdb"
        shutil.copyfile(prepared.history, history)
        shutil.copyfile(prepared.duckdb, duckdb)
        return history, duckdb

    return make
