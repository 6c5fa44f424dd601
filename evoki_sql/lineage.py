"""Column-level lineage of a model column with sqlglot, through upstream models to sources."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from evoki_sql.errors import CompilationError
from evoki_sql.project import Manifest, Node


@dataclass(frozen=True)
class ColumnRef:
    """One input column: the node it belongs to and the column name."""

    node_name: str
    resource_type: str
    column: str
    depth: int


def _schema(con: Any) -> dict[str, Any]:
    """{catalog: {schema: {table: {column: type}}}} of every relation the connection sees."""
    schema: dict[str, Any] = {}
    if con is None:
        return schema
    rows = con.execute(
        "select table_catalog, table_schema, table_name, column_name, data_type "
        "from information_schema.columns order by all"
    ).fetchall()
    for catalog, sch, table, column, dtype in rows:
        schema.setdefault(catalog, {}).setdefault(sch, {}).setdefault(table, {})[column] = dtype
    return schema


def column_lineage(manifest: Manifest, model: Node, column: str, con: Any) -> list[ColumnRef]:
    """Every upstream column the given model column reads, nearest first."""
    from sqlglot import exp
    from sqlglot.lineage import lineage

    if model.compiled_sql is None:
        raise CompilationError(f"{model.name} is not compiled", path=model.rel_path)
    by_relation: dict[str, Node] = {}
    sources: dict[str, str] = {}
    for node in manifest.nodes.values():
        if node.relation is None:
            continue
        key = _key(node.relation.database, node.relation.schema, node.relation.identifier)
        by_relation[key] = node
        if node.resource_type == "model" and node.compiled_sql and node is not model:
            sources[str(node.relation)] = node.compiled_sql
    try:
        root = lineage(column, model.compiled_sql, _schema(con), sources=sources, dialect="duckdb")
    except Exception as exc:  # noqa: BLE001 - sqlglot raises plain errors for unknown columns
        raise CompilationError(
            f"no lineage for {model.name}.{column}: {exc}", path=model.rel_path
        ) from None
    found: list[ColumnRef] = []
    seen: set[tuple[str, str]] = set()

    def visit(node: Any, depth: int) -> None:
        for child in node.downstream:
            ref = _resolve(child, by_relation, exp, depth)
            if ref is not None and (ref.node_name, ref.column) not in seen:
                seen.add((ref.node_name, ref.column))
                found.append(ref)
            visit(child, depth + (1 if ref is not None else 0))

    visit(root, 1)
    return found


def _key(database: str | None, schema: str | None, name: str) -> str:
    parts = [p.lower() for p in (database, schema, name) if p]
    if len(parts) == 3 and parts[1] == "main":
        parts = [parts[0], parts[2]]
    if len(parts) == 2 and parts[0] == "main":
        parts = parts[1:]
    return ".".join(parts)


def _resolve(node: Any, by_relation: dict[str, Node], exp: Any, depth: int) -> ColumnRef | None:
    """The project node and column a lineage node stands for, if it is a relation's column."""
    name: str = node.name
    if "." not in name:
        return None
    prefix, column = name.rsplit(".", 1)
    if isinstance(node.source, exp.Table):
        table = node.source
        key = _key(table.catalog or None, table.db or None, table.name)
        target = by_relation.get(key)
        if target is not None:
            return ColumnRef(target.name, target.resource_type, column, depth)
        return None
    source_name = getattr(node, "source_name", "") or prefix
    target = by_relation.get(_key(*_split(source_name)))
    if target is not None and target.resource_type == "model":
        return ColumnRef(target.name, target.resource_type, column, depth)
    return None


def _split(prefix: str) -> tuple[str | None, str | None, str]:
    parts = [p.strip('"') for p in prefix.split(".")]
    while len(parts) < 3:
        parts.insert(0, None)  # type: ignore[arg-type]
    return parts[-3], parts[-2], parts[-1]
