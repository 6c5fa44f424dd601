"""Compiles nodes: renders models and tests with the real relations, then checks the SQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evoki_sql import sqlcheck
from evoki_sql.errors import CompilationError
from evoki_sql.jinja_env import RenderState
from evoki_sql.materializations.builtin import relation_type
from evoki_sql.project import Manifest, Node

_TEMPLATED = re.compile(r"\b(ref|source)\s*\(")


class Compiler:
    """Renders nodes for execution; `is_incremental()` looks at the database when given one."""

    def __init__(
        self, manifest: Manifest, con: Any | None, full_refresh: bool, target_path: Path
    ) -> None:
        self.manifest = manifest
        self.con = con
        self.full_refresh = full_refresh
        self.target_path = target_path
        self.loader_lookup = {
            n.name: n for n in manifest.nodes.values() if n.resource_type in ("model", "seed")
        }
        self.sources = {n.name: n for n in manifest.nodes.values() if n.resource_type == "source"}
        self._compiled: dict[str, str] = {}

    # -- state ---------------------------------------------------------------
    def _state(self, node: Node) -> RenderState:
        def ref(*args: str, **_: Any) -> str:
            name = args[-1]
            target = self.loader_lookup.get(name)
            if target is None:
                raise CompilationError(f"ref('{name}') names no model or seed", path=node.rel_path)
            if target.unique_id not in node.depends_on and node.resource_type != "test":
                raise CompilationError(
                    f"ref('{name}') is only reached at compile time (inside is_incremental()?): "
                    f"declare it with a comment '-- depends_on: {{{{ ref('{name}') }}}}'",
                    path=node.rel_path,
                )
            return str(target.relation)

        def source(source_name: str, table: str) -> str:
            found = self.sources.get(f"{source_name}.{table}")
            if found is None:
                raise CompilationError(
                    f"source('{source_name}', '{table}') is not declared", path=node.rel_path
                )
            return str(found.relation)

        return RenderState(
            ref=ref,
            source=source,
            config=lambda *a, **k: "",
            this=node.relation,
            is_incremental=lambda: self.is_incremental(node),
        )

    def is_incremental(self, node: Node) -> bool:
        if node.materialized != "incremental" or self.full_refresh or self.con is None:
            return False
        return relation_type(self.con, node.relation) == "table"

    # -- compile -------------------------------------------------------------
    def compile(self, node: Node) -> str:
        """The node's SQL, rendered and syntax-checked once per invocation (the runner reuses
        what the up-front compile of all selected nodes produced)."""
        cached = self._compiled.get(node.unique_id)
        if cached is not None:
            return cached
        sql = self._compile(node)
        self._compiled[node.unique_id] = sql
        return sql

    def _compile(self, node: Node) -> str:
        env = self.manifest.env
        if node.resource_type in ("model",) or (
            node.resource_type == "test" and node.test_metadata is None
        ):
            sql = env.render(node.raw_sql, node.rel_path, self._state(node))
        elif node.resource_type == "test":
            sql = self._compile_generic_test(node)
        else:
            return ""
        sql = sql.strip().rstrip(";").strip()
        compiled_rel = self.compiled_rel(node)
        self._write("compiled", compiled_rel, sql)
        raw = node.raw_sql if node.test_metadata is None else ""
        sqlcheck.check(sql, raw, node.rel_path, f"target/compiled/{compiled_rel}", self.con)
        node.compiled_sql = sql
        return sql

    def compiled_rel(self, node: Node) -> str:
        if node.resource_type == "test" and node.test_metadata is not None:
            return f"{node.rel_path}/{node.name}.sql"
        return node.rel_path

    def _write(self, kind: str, rel: str, sql: str) -> None:
        path = self.target_path / kind / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql + "\n", encoding="utf-8")

    def write_run(self, node: Node, statements: list[str]) -> None:
        self._write("run", self.compiled_rel(node), ";\n\n".join(statements) + ";")

    def _compile_generic_test(self, node: Node) -> str:
        meta = node.test_metadata or {}
        attached = self.manifest.nodes[node.attached_node or ""]
        state = self._state(node)
        model = str(attached.relation)
        where = node.config.get("where")
        if where:
            model = f"(select * from {model} where {where}) as dbt_subquery"
        kwargs: dict[str, Any] = {}
        for key, value in (meta.get("kwargs") or {}).items():
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                # a Jinja string argument (dbt renders these): `expression: "x = {{ m() }}"`
                value = self.manifest.env.render(value, node.rel_path, state)
            elif isinstance(value, str) and _TEMPLATED.search(value):
                value = self.manifest.env.render("{{ " + value + " }}", node.rel_path, state)
            kwargs[key] = value
        if node.column_name is not None:
            kwargs["column_name"] = node.column_name
        return self.manifest.env.call_macro(
            f"test_{meta['name']}", state, node.rel_path, model=model, **kwargs
        )
