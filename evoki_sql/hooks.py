"""Run-end hooks: project Python functions called after `build`, `run`, `test` or `seed`.

A file in the project's hook-paths (default `hooks/`) registers a function with
`@on_run_end`; the runner calls it once the nodes have run, with a RunEndContext (the
open DuckDB connection, the node results, the manifest, the target and the timings).
A hook returns the lines it wants printed at the end of the output (a summary), or
nothing. A hook that raises makes the command fail (exit 1) with its file named, as a
failing on-run-end hook does in dbt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Hook = Callable[["RunEndContext"], "list[str] | None"]

_HOOKS: list[Hook] = []


@dataclass
class RunEndContext:
    """What a run-end hook can read."""

    command: str
    con: Any
    results: list[Any]
    manifest: Any
    target: Any
    target_path: Path
    full_refresh: bool
    started_at: str
    seconds_total: float
    seconds_compile: float
    extra: dict[str, Any] = field(default_factory=dict)


def on_run_end(fn: Hook) -> Hook:
    """Register `fn` to run after build / run / test / seed (decorator)."""
    _HOOKS.append(fn)
    return fn


def registered() -> list[Hook]:
    return list(_HOOKS)


def reset() -> None:
    """Forget the hooks of a previously loaded project (one process, several projects)."""
    _HOOKS.clear()
