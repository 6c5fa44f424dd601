"""The registry of project docs sections (`@docs_section`), like hooks.py's `@on_run_end`.

Sections are keyed by their anchor: importing the same project file again (a second project
load in one process) replaces a section instead of adding it twice, and `reset()` forgets
every section of a previously loaded project.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from evoki_sql.docs.context import DocsContext

SectionRender = Callable[["DocsContext"], str]
F = TypeVar("F", bound=SectionRender)

_SECTIONS: dict[str, DocsSection] = {}


@dataclass(frozen=True)
class DocsSection:
    """One section of the report: its anchor, heading, place and renderer."""

    key: str
    title: str
    order: int
    render: SectionRender


def docs_section(title: str, *, key: str | None = None, order: int = 50) -> Callable[[F], F]:
    """Register a function returning the HTML of a report section (decorator).

    `key` is the section's anchor (default: the function name); sections appear by `order`,
    then key. The generic model DAG and model list always come last.
    """

    def register(fn: F) -> F:
        anchor = key or fn.__name__
        _SECTIONS[anchor] = DocsSection(anchor, title, order, fn)
        return fn

    return register


def registered(folders: list[Path] | None = None) -> list[DocsSection]:
    """The sections in page order; with `folders`, only those defined in a file under one of
    them (the project's hook-paths: another project loaded earlier in the process, without
    a reset in between, cannot add its sections)."""
    sections = sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
    if folders is None:
        return sections
    roots = [f.resolve() for f in folders]
    return [s for s in sections if _defined_under(s.render, roots)]


def _defined_under(fn: SectionRender, roots: list[Path]) -> bool:
    code = getattr(inspect.unwrap(fn), "__code__", None)
    if code is None:
        return False
    path = Path(code.co_filename).resolve()
    return any(root == path.parent or root in path.parents for root in roots)


def reset() -> None:
    """Forget the sections of a previously loaded project (one process, several projects)."""
    _SECTIONS.clear()
