"""One-level column lineage for the docs: which columns of its parent relations each output
column of a model reads, found by sqlglot in the model's own compiled query.

The runner's full lineage (evoki_sql/lineage.py) follows a column through every upstream
model, which takes seconds per column on deep projects. This form stops at the model's
parents, computes every output column of a model in one sqlglot pass, runs under a time
budget (checked between models; a model already started finishes) and caches its results
under target/ keyed by the compiled SQL and the database schema.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CACHE_NAME = "docs_column_inputs.json"
CACHE_VERSION = 2
CACHE_ENTRIES = 200  # cached models (all targets of the project share target/)


@dataclass(frozen=True)
class ColumnInput:
    """A column a model column reads: the parent node's name, its type and the column."""

    node_name: str
    resource_type: str
    column: str


@dataclass
class ColumnInputs:
    """Per model, per output column, the parent columns it reads; plus what was left out."""

    by_model: dict[str, dict[str, list[ColumnInput]]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    cached: int = 0
    seconds: float = 0.0

    def of(self, model: str, column: str) -> list[ColumnInput] | None:
        """The inputs of model.column; None when the model was skipped or failed."""
        columns = self.by_model.get(model)
        if columns is None:
            return None
        return columns.get(column.lower(), [])


def direct_inputs(
    manifest: Any, con: Any, target_path: Path, models: list[Any], deadline: float
) -> ColumnInputs:
    """One-level lineage of every output column of `models`, until `deadline` (perf_counter)."""
    from evoki_sql.compiler import Compiler

    started = time.perf_counter()
    result = ColumnInputs()
    schema = _schema(con)
    # the target's own catalog is named after its file: leave the name out of the cache key
    (current,) = con.execute("select current_database()").fetchone()
    stable = {("" if catalog == current else catalog): v for catalog, v in schema.items()}
    schema_hash = _digest(json.dumps(stable, sort_keys=True))
    by_relation = _relations(manifest)
    cache_path = target_path / CACHE_NAME
    cache = _read_cache(cache_path)
    compiler = Compiler(manifest, con, False, target_path)
    used: set[str] = set()
    added = False
    for node in models:
        try:
            sql = compiler.compile(node)
        except Exception as exc:  # noqa: BLE001 - a model that does not compile has no lineage
            result.failed[node.name] = f"{type(exc).__name__}: {exc}"
            continue
        key = _digest(f"{schema_hash}\n{sql}")
        used.add(key)
        if key in cache:
            result.by_model[node.name] = _decode(cache[key])
            result.cached += 1
            continue
        if time.perf_counter() > deadline:
            result.skipped.append(node.name)
            continue
        try:
            columns = _model_inputs(sql, schema, by_relation)
        except Exception as exc:  # noqa: BLE001 - sqlglot raises plain errors on odd SQL
            result.failed[node.name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            continue
        result.by_model[node.name] = columns
        cache[key] = _encode(columns)
        added = True
    if added:
        _write_cache(cache_path, cache, used)
    result.seconds = time.perf_counter() - started
    return result


def _model_inputs(
    sql: str, schema: dict[str, Any], by_relation: dict[str, tuple[str, str, dict[str, str]]]
) -> dict[str, list[ColumnInput]]:
    from sqlglot import exp
    from sqlglot.lineage import lineage

    roots = lineage(None, sql, schema, dialect="duckdb")
    out: dict[str, list[ColumnInput]] = {}
    for name, root in roots.items():
        found: dict[tuple[str, str], ColumnInput] = {}
        stack, seen = [root], set()
        while stack:
            item = stack.pop()
            if id(item) in seen:
                continue
            seen.add(id(item))
            stack.extend(item.downstream)
            if item.downstream or not isinstance(item.source, exp.Table):
                continue
            table = item.source
            target = by_relation.get(_key(table.catalog, table.db, table.name)) or by_relation.get(
                table.name.lower()
            )
            if target is None:
                continue
            node_name, kind, columns = target
            column = item.name.rsplit(".", 1)[-1].strip('"')
            column = columns.get(column.lower(), column)
            found[(node_name, column)] = ColumnInput(node_name, kind, column)
        out[name.lower()] = sorted(found.values(), key=lambda c: (c.node_name, c.column))
    return out


def _schema(con: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {}
    rows = con.execute(
        "select table_catalog, table_schema, table_name, column_name, data_type "
        "from information_schema.columns order by all"
    ).fetchall()
    for catalog, sch, table, column, dtype in rows:
        schema.setdefault(catalog, {}).setdefault(sch, {}).setdefault(table, {})[column] = dtype
    return schema


def _relations(manifest: Any) -> dict[str, tuple[str, str, dict[str, str]]]:
    """{relation key: (node name, resource type, {lower column: column})} of every node."""
    found: dict[str, tuple[str, str, dict[str, str]]] = {}
    for node in manifest.nodes.values():
        if node.relation is None or node.resource_type == "test":
            continue
        rel = node.relation
        columns = {c.lower(): c for c in node.columns}
        found[_key(rel.database, rel.schema, rel.identifier)] = (
            node.name,
            node.resource_type,
            columns,
        )
    return found


def _key(catalog: str | None, schema: str | None, name: str) -> str:
    """`catalog.name` for a relation in another catalog's main schema, `name` for main."""
    parts = [p.lower() for p in (catalog, schema, name) if p]
    if len(parts) == 3 and parts[1] == "main":
        parts = [parts[0], parts[2]]
    if len(parts) == 2 and parts[0] == "main":
        parts = parts[1:]
    return ".".join(parts)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _encode(columns: dict[str, list[ColumnInput]]) -> dict[str, list[list[str]]]:
    return {k: [[c.node_name, c.resource_type, c.column] for c in v] for k, v in columns.items()}


def _decode(columns: dict[str, list[list[str]]]) -> dict[str, list[ColumnInput]]:
    return {k: [ColumnInput(*c) for c in v] for k, v in columns.items()}


def _read_cache(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
        return {}
    entries = data.get("entries")
    return entries if isinstance(entries, dict) else {}


def _write_cache(path: Path, entries: dict[str, Any], used: set[str]) -> None:
    """Keep this run's entries and the most recent others, up to CACHE_ENTRIES."""
    room = max(0, CACHE_ENTRIES - len(used))
    others = [k for k in entries if k not in used]
    others = others[len(others) - room :] if room else []
    kept = {k: entries[k] for k in [*others, *sorted(used)] if k in entries}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"version": CACHE_VERSION, "entries": kept}), encoding="utf-8")
    tmp.replace(path)
