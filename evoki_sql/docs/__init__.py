"""The `docs` command's public face: the section registry and what a section can read.

A project file in hook-paths registers an HTML section of target/docs/index.html with
`@docs_section("Title", key="anchor", order=20)`; the function gets a DocsContext and returns
an HTML fragment. Kept light on purpose: hook files import this on every command, so the
heavy parts (duckdb, sqlglot) load only inside the docs command.
"""

from evoki_sql.docs.context import DocsContext
from evoki_sql.docs.markup import esc, json_script
from evoki_sql.docs.registry import DocsSection, docs_section

__all__ = ["DocsContext", "DocsSection", "docs_section", "esc", "json_script"]
