"""The registry of materializations and the context handed to each.

Built-in ones live in `builtin.py`; a project adds its own in Python files under its
`materialization-paths` with the `@materialization("name")` decorator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from evoki_sql.batches import BatchPlan
from evoki_sql.relation import Relation

_REGISTRY: dict[str, Callable[[MaterializationContext], MaterializationResult]] = {}


@dataclass
class MaterializationContext:
    """Everything a materialization may use: connection, node, compiled SQL, flags."""

    con: Any
    node: Any
    relation: Relation
    sql: str
    full_refresh: bool
    manifest: Any
    target: Any
    project_root: Any
    announce: Callable[[str], None]
    progress: Callable[[int, int], None]
    executed: list[str] = field(default_factory=list)
    # the compiler's is_incremental() for this node, decided when its SQL was rendered: the
    # SQL and the materialization must agree on incremental vs whole
    incremental: bool = False
    # a batched model (evoki_sql/batches.py): its plan, and how many batches ran so far
    batches: BatchPlan | None = None
    batches_run: int = 0

    def execute(self, statement: str, params: list[Any] | None = None) -> Any:
        """Run a statement and remember it for target/run/."""
        self.executed.append(statement)
        return (
            self.con.execute(statement, params)
            if params is not None
            else self.con.execute(statement)
        )


@dataclass
class MaterializationResult:
    """What a materialization reports: the message of the node line and rows affected."""

    message: str
    rows_affected: int | None = None
    adapter_response: dict[str, Any] = field(default_factory=dict)
    status: str = "success"


def materialization(name: str) -> Callable[[Any], Any]:
    """Register a function `f(ctx: MaterializationContext) -> MaterializationResult`."""

    def register(func: Any) -> Any:
        _REGISTRY[name] = func
        return func

    return register


def registered() -> dict[str, Callable[[MaterializationContext], MaterializationResult]]:
    from evoki_sql.materializations import builtin  # noqa: F401 - registers the built-ins

    return _REGISTRY


def reset_project() -> None:
    """Forget the custom materializations of a previously loaded project (one process, several
    projects, as in tests); the built-ins stay."""
    from evoki_sql.materializations import builtin

    for name in [n for n in _REGISTRY if n not in builtin.BUILTIN]:
        del _REGISTRY[name]


def get(name: str) -> Callable[[MaterializationContext], MaterializationResult] | None:
    return registered().get(name)
