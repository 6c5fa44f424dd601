"""Relations (database.schema.identifier) and safe quoting of identifiers and literals."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIMPLE = re.compile(r"^[a-z_][a-z0-9_]*$")
_RESERVED = {
    "select",
    "from",
    "where",
    "group",
    "order",
    "table",
    "view",
    "join",
    "on",
    "as",
    "and",
    "or",
    "not",
    "null",
    "case",
    "when",
    "then",
    "else",
    "end",
    "union",
    "limit",
    "with",
}


def quote_ident(name: str) -> str:
    """An identifier as DuckDB reads it: bare when plainly lower-case, else double-quoted."""
    if _SIMPLE.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """A SQL string literal (single quotes doubled). Only for statements that take no parameters."""
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class Relation:
    """Where a node's result lives: an optional database (catalog), a schema and a name."""

    database: str | None
    schema: str
    identifier: str

    def render(self) -> str:
        parts = [p for p in (self.database, self.schema, self.identifier) if p]
        return ".".join(quote_ident(p) for p in parts)

    def __str__(self) -> str:
        return self.render()
