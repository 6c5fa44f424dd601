"""Executes selected nodes in DAG order: seeds, models (via materializations) and tests.

A failed node (or a test failing with severity error) skips everything downstream of
it; each node gets one output line and one entry in run_results.json.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from evoki_sql import seeds
from evoki_sql.compiler import Compiler
from evoki_sql.config import Target
from evoki_sql.console import Console
from evoki_sql.errors import EvokiError, NodeFailure
from evoki_sql.graph import Graph
from evoki_sql.materializations import registry
from evoki_sql.materializations.builtin import relation_type
from evoki_sql.materializations.registry import MaterializationContext
from evoki_sql.privacy import redact
from evoki_sql.project import Manifest, Node
from evoki_sql.test_batch import TestBatcher

MAX_SHOWN_ROWS = 5


@dataclass
class NodeResult:
    """The outcome of one node, as written to run_results.json."""

    unique_id: str
    status: str
    message: str
    execution_time: float
    rows_affected: int | None = None
    failures: int | None = None
    failing_keys: list[dict[str, Any]] = field(default_factory=list)
    adapter_response: dict[str, Any] = field(default_factory=dict)
    # as dbt's run_results: [{"name": "execute", "started_at": ..., "completed_at": ...}]
    timing: list[dict[str, str]] = field(default_factory=list)


def _utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Runner:
    """Runs nodes in order, reporting each; downstream of a failure is skipped."""

    def __init__(
        self,
        manifest: Manifest,
        graph: Graph,
        con: Any,
        target: Target,
        console: Console,
        full_refresh: bool,
        debug: bool = False,
        compiler: Compiler | None = None,
    ) -> None:
        self.manifest = manifest
        self.graph = graph
        self.con = con
        self.target = target
        self.console = console
        self.full_refresh = full_refresh
        self.debug = debug
        self.compiler = compiler or Compiler(
            manifest, con, full_refresh, manifest.config.target_path
        )

    def run(self, order: list[str]) -> list[NodeResult]:
        self._views: dict[str, str] = {}
        self.batcher = TestBatcher(self.con, self.manifest, order, self.compiler.test_relation)
        results: list[NodeResult] = []
        blocked: set[str] = set()
        executable = [u for u in order if self.manifest.nodes[u].resource_type != "source"]
        total = len(executable)
        failed_tests: dict[str, str] = {}
        for index, uid in enumerate(executable, 1):
            node = self.manifest.nodes[uid]
            causes = [self.manifest.nodes[p].name for p in node.depends_on if p in blocked]
            if node.resource_type != "test":
                causes += [failed_tests[p] for p in node.depends_on if p in failed_tests]
            if causes:
                cause = causes[0]
                result = NodeResult(uid, "skipped", f"upstream {cause} failed", 0.0)
                self.console.node_line(index, total, "SKIP", f"{_kind(node)} {node.name}", "SKIP")
                blocked.add(uid)
                results.append(result)
                continue
            start, started_at = time.perf_counter(), _utc_now()
            result = self._execute(node, index, total)
            result.execution_time = time.perf_counter() - start
            result.timing = [
                {"name": "execute", "started_at": started_at, "completed_at": _utc_now()}
            ]
            self._report(node, result, index, total)
            if result.status in ("error", "fail"):
                blocked.add(uid)
                if node.resource_type == "test":
                    for parent in node.depends_on:
                        failed_tests.setdefault(parent, node.name)
            results.append(result)
        return results

    # -- one node ------------------------------------------------------------
    def _execute(self, node: Node, index: int, total: int) -> NodeResult:
        import duckdb

        sql = ""
        try:
            if node.resource_type == "seed":
                return self._seed(node)
            sql = self.compiler.compile(node)
            for rows, view_sql in self.compiler.views_for(node):
                # once per run: a view binds its tables by name when queried; a partitioned
                # model that ran in this run left its new rows as a temp table of that name
                # (exactly the view's rows), which is kept
                if str(rows) not in self._views:
                    if relation_type(self.con, rows) != "table":
                        self.con.execute(f"create or replace temp view {rows} as {view_sql}")
                    self._views[str(rows)] = view_sql
            if node.resource_type == "model":
                return self._model(node, sql)
            return self._test(node, sql)
        except NodeFailure as exc:
            # messages the runner and materializations write themselves; they carry no data
            return NodeResult(node.unique_id, "error", str(exc), 0.0)
        except EvokiError as exc:
            return NodeResult(node.unique_id, "error", str(exc), 0.0)
        except duckdb.Error as exc:
            if self.debug:
                raise
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            if isinstance(exc, duckdb.OutOfMemoryException):
                text += self._memory_hint()
            return NodeResult(node.unique_id, "error", redact(text, sql), 0.0)
        except Exception as exc:
            if self.debug:
                raise
            return NodeResult(
                node.unique_id, "error", redact(f"{type(exc).__name__}: {exc}", sql), 0.0
            )

    def _memory_hint(self) -> str:
        """What to change when DuckDB ran out of its memory cap (not the machine's memory)."""
        try:
            limit = self.con.execute("select current_setting('memory_limit')").fetchone()[0]
        except Exception:  # noqa: BLE001 - the hint must never hide the error itself
            return ""
        return (
            f" (DuckDB's memory_limit is {limit}: raise settings.memory_limit of the target "
            "in profiles.yml)"
        )

    def _seed(self, node: Node) -> NodeResult:
        types = dict(node.config.get("column_types") or {})
        assert node.path is not None and node.relation is not None
        rows, statements = seeds.load_seed(
            self.con, node.path, node.rel_path, str(node.relation), types
        )
        self.compiler.write_run(node, statements)
        return NodeResult(
            node.unique_id, "success", f"loaded seed file {node.relation}", 0.0, rows_affected=rows
        )

    def _model(self, node: Node, sql: str) -> NodeResult:
        func = registry.get(node.materialized)
        if func is None:
            raise NodeFailure(f"unknown materialization '{node.materialized}'")
        assert node.relation is not None
        ctx = MaterializationContext(
            con=self.con,
            node=node,
            relation=node.relation,
            sql=sql,
            full_refresh=self.full_refresh,
            manifest=self.manifest,
            target=self.target,
            project_root=self.manifest.config.root,
            announce=self.console.info,
            progress=lambda done, total: self.console.progress(done, total, node.name),
            incremental=self.compiler.is_incremental(node),
            batches=self.compiler.batch_plan(node),
        )
        try:
            outcome = func(ctx)
        finally:
            self.compiler.write_run(node, ctx.executed)
        status = "success" if outcome.status == "success" else outcome.status
        return NodeResult(
            node.unique_id,
            status,
            outcome.message,
            0.0,
            rows_affected=outcome.rows_affected,
            adapter_response=outcome.adapter_response,
        )

    def _test(self, node: Node, sql: str) -> NodeResult:
        if self.batcher.passes(node):
            # proven by the model's batched check (evoki_sql/test_batch.py): no failing row
            return NodeResult(node.unique_id, "pass", "PASS", 0.0, failures=0)
        self.compiler.write_compiled(node)
        limit = node.config.get("limit")
        body = f"select * from (\n{sql}\n) as test_rows"
        if limit is not None:
            body += f" limit {int(limit)}"
        count = self.con.execute(f"select count(*) from ({body})").fetchone()[0]
        self.compiler.write_run(node, [body])
        if count == 0:
            return NodeResult(node.unique_id, "pass", "PASS", 0.0, failures=0)
        cursor = self.con.execute(f"select * from ({body}) limit {MAX_SHOWN_ROWS}")
        names = [d[0] for d in cursor.description]
        types = [str(d[1]) for d in cursor.description]
        key_columns = self._key_columns(node)
        if node.column_name and _is_id_like(node.column_name.lower(), key_columns):
            key_columns |= {"unique_field", "value_field", "from_field"}
        keys = [_safe_row(names, types, row, key_columns) for row in cursor.fetchall()]
        severity = node.config.get("severity", "error")
        status = "warn" if severity == "warn" else "fail"
        return NodeResult(
            node.unique_id,
            status,
            f"Got {count} failing rows",
            0.0,
            failures=int(count),
            failing_keys=keys,
        )

    def _key_columns(self, node: Node) -> set[str]:
        keys: set[str] = set()
        attached = self.manifest.nodes.get(node.attached_node or "")
        if attached is not None:
            unique_key = attached.config.get("unique_key")
            if isinstance(unique_key, str):
                keys.add(unique_key.lower())
            elif isinstance(unique_key, list):
                keys |= {str(k).lower() for k in unique_key}
        return keys

    # -- output --------------------------------------------------------------
    def _report(self, node: Node, result: NodeResult, index: int, total: int) -> None:
        timing = f"{result.execution_time:.2f}s"
        name = node.name
        if result.status == "success":
            rows = f" ({result.rows_affected} rows)" if result.rows_affected is not None else ""
            self.console.node_line(index, total, "OK", f"{result.message}{rows}", timing)
        elif result.status == "pass":
            self.console.node_line(index, total, "PASS", name, timing)
        elif result.status in ("fail", "warn"):
            label = "FAIL" if result.status == "fail" else "WARN"
            self.console.node_line(index, total, f"{label} {result.failures}", name, timing)
            for row in result.failing_keys:
                shown = ", ".join(f"{k}={v}" for k, v in row.items()) or "(no key columns)"
                self.console.line(f"      {shown}")
        else:
            self.console.node_line(index, total, "ERROR", f"{_kind(node)} {name}", "ERROR")
            for text in result.message.splitlines():
                self.console.line(f"      {text}")


def _kind(node: Node) -> str:
    return {"model": "model", "seed": "seed", "test": "test"}.get(node.resource_type, "node")


_SAFE_TYPES = (
    "INTEGER",
    "BIGINT",
    "SMALLINT",
    "TINYINT",
    "HUGEINT",
    "DOUBLE",
    "FLOAT",
    "DECIMAL",
    "BOOLEAN",
    "DATE",
    "TIMESTAMP",
    "UBIGINT",
    "UINTEGER",
    "REAL",
)


def _is_id_like(name: str, keys: set[str]) -> bool:
    return name in keys or name == "id" or name.endswith("_id")


def _safe_row(
    names: list[str], types: list[str], row: tuple[Any, ...], keys: set[str]
) -> dict[str, Any]:
    """The failing row's key-like columns: ids and numbers, never free text.

    The value columns of the built-in tests (unique_field, value_field, from_field) count
    as keys only when the tested column itself is an id (the caller adds them to `keys`).
    """
    shown: dict[str, Any] = {}
    for name, type_name, value in zip(names, types, row):
        lower = name.lower()
        numeric = type_name.upper().startswith(_SAFE_TYPES)
        if isinstance(value, str) and len(value) > 64:
            value = f"<hidden, {len(value)} chars>"
        if _is_id_like(lower, keys) or numeric:
            shown[name] = value
    if len(shown) > 8:
        shown = dict(list(shown.items())[:8])
    return shown
