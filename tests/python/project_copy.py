"""Copies the Evoki project (without target/ and tests) into a temporary folder for CLI tests."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PARTS = (
    "pyproject.toml",
    "profiles.yml",
    "models",
    "macros",
    "udfs",
    "seeds",
    "demo",
    "materializations",
    "hooks",
)


def copy_project(dest: Path) -> Path:
    """A copy of the project's configuration and content in `dest` (tests/ data tests too)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in PARTS:
        src = ROOT / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
        elif src.is_file():
            shutil.copy2(src, dest / part)
    tests = ROOT / "tests"
    for sql in tests.rglob("*.sql"):
        if "python" in sql.relative_to(tests).parts:
            continue
        target = dest / "tests" / sql.relative_to(tests)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(sql, target)
    return dest
