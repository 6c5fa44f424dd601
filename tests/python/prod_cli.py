"""Runs the real CLI in a child process on the `prod` target of the project (or a copy of it),
with the given history and DuckDB file: the shared launcher of the metric-family tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_prod_cli(
    args: list[str], history: Path, out: Path, project: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m evoki_sql <args>` on the prod target with the given history and DuckDB file."""
    env = {
        **os.environ,
        "EVOKI_TARGET": "prod",
        "EVOKI_HISTORY_DB": str(history),
        "EVOKI_DUCKDB": str(out),
    }
    extra = ["--project-dir", str(project)] if project is not None else []
    return subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args, *extra],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
