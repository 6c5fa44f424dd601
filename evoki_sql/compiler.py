"""Compiles nodes: renders models and tests with the real relations, then checks the SQL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from evoki_sql import batches, sqlcheck
from evoki_sql.errors import CompilationError
from evoki_sql.jinja_env import RenderState
from evoki_sql.materializations.builtin import (
    in_partitions,
    partition_rows_relation,
)
from evoki_sql.project import Manifest, Node
from evoki_sql.relation import Relation, quote_ident

_TEMPLATED = re.compile(r"\b(ref|source)\s*\(")


PARTITIONED = "replace_partitions"


def batch_spec(node: Node) -> tuple[str, str, int] | None:
    """(batch_by, batch_source, batch_rows) of a model built in batches, else None
    (evoki_sql/batches.py; the project loader checked the config)."""
    if node.resource_type != "model" or not node.config.get("batch_by"):
        return None
    rows = node.config.get("batch_rows", batches.DEFAULT_ROWS)
    return str(node.config["batch_by"]), str(node.config["batch_source"]), int(rows)


def partition_spec(node: Node) -> tuple[str, str] | None:
    """(partition_by, partitions) of a partitioned incremental model, else None."""
    if node.resource_type != "model" or node.materialized in ("table", "view"):
        return None
    if node.config.get("incremental_strategy") != PARTITIONED:
        return None
    return str(node.config["partition_by"]), str(node.config["partitions"])


class Compiler:
    """Renders nodes for execution; `is_incremental()` looks at the database when given one.

    Partitioned incremental models (incremental_strategy='replace_partitions') read their
    partitioned parents through a temp view holding only the partitions of this run; the
    generic data tests of such a model, when it runs in this invocation, check those
    partitions (so do singular tests that set config(partitions_only=true)).
    `running` names the models this invocation executes (empty for `test`);
    `defer_generic_tests` (run, build, test) writes a generic test's compiled SQL only when
    the test runs its own SQL.
    """

    def __init__(
        self,
        manifest: Manifest,
        con: Any | None,
        full_refresh: bool,
        target_path: Path,
        running: set[str] | None = None,
        defer_generic_tests: bool = False,
        selected: list[str] | None = None,
    ) -> None:
        self.manifest = manifest
        self.con = con
        self.full_refresh = full_refresh
        self.target_path = target_path
        self.running = running or set()
        # Jinja's `selected_resources`: the models, seeds and tests this invocation runs
        self.selected_resources = sorted(
            u
            for u in (selected or [])
            if manifest.nodes[u].resource_type in ("model", "seed", "test")
        )
        # run/build/test: a generic test's compiled SQL is written only when the test runs its
        # own SQL (not when the batched check of its model proved it); creating ~1,800 files
        # costs about 1 ms each on this disk. `compile` writes every file.
        self.defer_generic_tests = defer_generic_tests
        self._incremental: dict[str, bool] = {}
        self._catalog: dict[tuple[str, str], str] | None = None
        self._views: dict[str, dict[str, tuple[Relation, str]]] = {}
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
            return self._ref_relation(node, target)

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
            lookup=self._lookup,
            selected_resources=list(self.selected_resources),
        )

    def _lookup(self, schema: str, identifier: str) -> str | None:
        if self.con is None:
            return None
        relation = Relation(None, schema, identifier)
        return str(relation) if self._kind(relation) is not None else None

    def is_incremental(self, node: Node) -> bool:
        """Decided once per node: the table exists and no --full-refresh; for a partitioned
        model also its `partitions` model's table (else the model is built whole)."""
        known = self._incremental.get(node.unique_id)
        if known is None:
            known = self._decide_incremental(node)
            self._incremental[node.unique_id] = known
        return known

    def _decide_incremental(self, node: Node) -> bool:
        if self.full_refresh or self.con is None:
            return False
        spec = partition_spec(node)
        if node.materialized != "incremental" and spec is None:
            return False
        if self._kind(node.relation) != "table":
            return False
        if spec is None:
            return True
        return self._kind(self.loader_lookup[spec[1]].relation) == "table"

    def _kind(self, relation: Any) -> str | None:
        """'table' / 'view' / None from one snapshot of the catalog per invocation (the
        compile-time decisions are taken before anything runs)."""
        if self._catalog is None:
            self._catalog = {
                (schema, name): kind
                for schema, name, kind in self.con.execute(
                    "select schema_name, table_name, 'table' from duckdb_tables() "
                    "where database_name = current_database() "
                    "union all select schema_name, view_name, 'view' from duckdb_views() "
                    "where database_name = current_database()"
                ).fetchall()
            }
        return self._catalog.get((relation.schema, relation.identifier))

    # -- partitions ----------------------------------------------------------
    def partition_mode(self, node: Node) -> bool:
        """True when a partitioned model runs in this invocation and rebuilds only the
        partitions its `partitions` model lists."""
        return (
            node.unique_id in self.running
            and partition_spec(node) is not None
            and self.is_incremental(node)
        )

    def _ref_relation(self, node: Node, target: Node) -> str:
        """What ref() renders: the relation, or the view of this run's partitions of it; in a
        batched model, narrowed to the current batch when the target is the batch source or
        is partitioned or batched by the batch column."""
        relation = self._partitioned_relation(node, target)
        spec = batch_spec(node)
        if spec is None:
            return relation
        key = spec[0]
        target_keys = {
            (partition_spec(target) or ("",))[0],
            str(target.config.get("batch_by") or ""),
        }
        if target.name == spec[1] or key in target_keys:
            return batches.filtered(relation, quote_ident(key))
        return relation

    def batch_plan(self, node: Node) -> batches.BatchPlan | None:
        """How a batched model runs: its key and the rows it is batched by, as it reads them."""
        spec = batch_spec(node)
        if spec is None:
            return None
        key, source, rows = spec
        relation = self._partitioned_relation(node, self.loader_lookup[source])
        return batches.BatchPlan(quote_ident(key), relation, rows)

    def _partitioned_relation(self, node: Node, target: Node) -> str:
        """The relation, or the view of this run's partitions of it."""
        spec = partition_spec(target)
        if spec is None:
            return str(target.relation)
        if node.resource_type == "model":
            filtered = self.partition_mode(node) and partition_spec(node) == spec
        elif node.test_metadata is None and not node.config.get("partitions_only"):
            # a singular test may ask for rows anywhere in the table: it reads it whole
            # unless it declares config(partitions_only=true)
            filtered = False
        else:
            filtered = target.unique_id in self.running and self.partition_mode(target)
        return self._partition_view(node, target) if filtered else str(target.relation)

    def _partition_view(self, node: Node, target: Node) -> str:
        rows, sql = self._view(target)
        self._views.setdefault(node.unique_id, {})[str(rows)] = (rows, sql)
        return str(rows)

    def _view(self, target: Node) -> tuple[Relation, str]:
        spec = partition_spec(target)
        assert spec is not None and target.relation is not None
        key, partitions_name = spec
        partitions = str(self.loader_lookup[partitions_name].relation)
        sql = (
            f"select * from {target.relation} as r "
            f"where {in_partitions(quote_ident(key), partitions, 'r')}"
        )
        return partition_rows_relation(target.relation), sql

    def views_for(self, node: Node) -> list[tuple[Relation, str]]:
        """The partition views a node's SQL reads (created by the runner before it runs)."""
        return list(self._views.get(node.unique_id, {}).values())

    def test_relation(self, model: Node) -> str:
        """The relation the data tests of `model` check in this invocation: this run's
        partitions when the model rebuilds only those, else the whole relation."""
        if model.unique_id in self.running and self.partition_mode(model):
            return str(self._view(model)[0])
        return str(model.relation)

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
        deferred = self.defer_generic_tests and node.test_metadata is not None
        if not deferred:
            self._write("compiled", compiled_rel, sql)
        raw = node.raw_sql if node.test_metadata is None else ""
        try:
            sqlcheck.check(sql, raw, node.rel_path, f"target/compiled/{compiled_rel}", self.con)
        except CompilationError:
            if deferred:
                self._write("compiled", compiled_rel, sql)
            raise
        node.compiled_sql = sql
        return sql

    def write_compiled(self, node: Node) -> None:
        """Write a generic test's compiled SQL that compile() deferred (it is about to run)."""
        if self.defer_generic_tests and node.test_metadata is not None:
            self._write("compiled", self.compiled_rel(node), self.compile(node))

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
        model = (
            self._ref_relation(node, attached)
            if attached.resource_type == "model"
            else str(attached.relation)
        )
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
