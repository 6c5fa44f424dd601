"""One invocation's state: the project, its manifest and graph, and (when needed) the database.

The commands that touch the database open it here; `ls` never does.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evoki_sql import artifacts, hooks
from evoki_sql.config import ProjectConfig, Target, find_project_root, load_project, load_target
from evoki_sql.console import Console
from evoki_sql.docs import registry as docs_registry
from evoki_sql.errors import CompilationError, ConfigError, EvokiError
from evoki_sql.graph import Graph
from evoki_sql.jinja_env import RenderState, env_var
from evoki_sql.materializations import registry
from evoki_sql.project import Manifest, ProjectLoader


class Session:
    """Loaded project plus lazily opened target connection."""

    def __init__(
        self,
        config: ProjectConfig,
        manifest: Manifest,
        graph: Graph,
        args: argparse.Namespace,
        console: Console,
    ) -> None:
        self.config = config
        self.manifest = manifest
        self.graph = graph
        self.args = args
        self.console = console
        self._target: Target | None = None
        self._con: Any = None
        self._udf_pool: Any = None  # evoki_sql.udf_pool.UdfPool when the target sets udf_processes

    @classmethod
    def open(cls, args: argparse.Namespace, cli_vars: dict[str, Any], console: Console) -> Session:
        root = find_project_root(args.project_dir or Path.cwd())
        config = load_project(root)
        variables = {**config.vars, **cli_vars}
        _load_materializations(config)
        targets: list[Target] = []

        def target() -> Target:
            # `target` in Jinja (dbt's target.name, ...): the profile is read on first use only
            if not targets:
                targets.append(_read_target(config, args))
            return targets[0]

        manifest = ProjectLoader(config, variables, target).load()
        graph = Graph(manifest)
        graph.topological()
        session = cls(config, manifest, graph, args, console)
        session._target = targets[0] if targets else None
        return session

    # -- database ------------------------------------------------------------
    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = _read_target(self.config, self.args)
        return self._target

    def connection(self, with_udfs: bool = True) -> Any:
        if self._con is None:
            from evoki_sql import connection, udf_registry

            self._con = connection.connect(self.target, self.console.info)
            if with_udfs:
                folders = self.config.dirs("udf-paths")
                if self.target.udf_processes > 0:
                    from evoki_sql.udf_pool import UdfPool

                    self._udf_pool = UdfPool(self.target.udf_processes, folders, self.config.root)
                udf_registry.register(
                    self._con,
                    udf_registry.discover(folders, self.config.root),
                    self._udf_pool,
                )
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._udf_pool is not None:
            self._udf_pool.close()
            self._udf_pool = None

    # -- commands ------------------------------------------------------------
    def write_manifest(self) -> None:
        artifacts.write_manifest(
            self.manifest, self._target.name if self._target else "", self.config.target_path
        )
        self.manifest.env.write_template_cache()

    def _compile_all(
        self,
        order: list[str],
        full_refresh: bool,
        running: set[str] | None = None,
        defer_generic_tests: bool = False,
        selected: list[str] | None = None,
    ) -> Any:
        from evoki_sql.compiler import Compiler

        con = self.connection()
        compiler = Compiler(
            self.manifest,
            con,
            full_refresh,
            self.config.target_path,
            running=running,
            defer_generic_tests=defer_generic_tests,
            selected=selected,
        )
        errors: list[EvokiError] = []
        for uid in order:
            node = self.manifest.nodes[uid]
            if node.resource_type in ("model", "test"):
                try:
                    compiler.compile(node)
                except EvokiError as exc:
                    errors.append(exc)
        if errors:
            for exc in errors[:-1]:
                self.console.error(str(exc))
            if len(errors) > 1:
                last = errors[-1]
                summary = f"({len(errors)} nodes failed to compile; nothing was run)"
                last.detail = f"{last.detail}\n{summary}" if last.detail else summary
            raise errors[-1]
        return compiler

    def compile_command(self, select: list[str] | None, exclude: list[str] | None) -> int:
        order = self.graph.select(select, exclude, {"model", "test"})
        self._compile_all(order, getattr(self.args, "full_refresh", False), selected=order)
        self.write_manifest()
        models = sum(1 for u in order if self.manifest.nodes[u].resource_type == "model")
        self.console.info(
            f"Compiled {models} models and {len(order) - models} tests to "
            f"{self.config.target_path / 'compiled'}"
        )
        return 0

    def execute(
        self,
        command: str,
        kinds: set[str],
        select: list[str] | None,
        exclude: list[str] | None,
        full_refresh: bool,
        started: float,
    ) -> int:
        from evoki_sql.runner import Runner

        order = self.graph.select(select, exclude, kinds)
        started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        target = self.target
        self.console.info(
            f"Running with evoki_sql, target '{target.name}' "
            f"({Path(target.path).name if target.path != ':memory:' else target.path})"
        )
        if target.threads > 1:
            self.console.info(
                f"threads: {target.threads} in target '{target.name}' has no effect: nodes run "
                "one at a time, and DuckDB runs each query on all cores (settings: threads "
                "sets how many)"
            )
        self.connection()
        compile_started = time.perf_counter()
        running = {u for u in order if self.manifest.nodes[u].resource_type == "model"}
        compiler = self._compile_all(
            order, full_refresh, running, defer_generic_tests=True, selected=order
        )
        compile_seconds = time.perf_counter() - compile_started
        counts = _count(self.manifest, order)
        self.console.info(f"Found {counts}")
        self.console.line()
        runner = Runner(
            self.manifest,
            self.graph,
            self.connection(),
            target,
            self.console,
            full_refresh,
            debug=self.args.debug,
            compiler=compiler,
        )
        try:
            results = runner.run(order)
        finally:
            self.write_manifest()
        elapsed = time.perf_counter() - started
        artifacts.write_run_results(results, command, elapsed, self.config.target_path)
        code = _summary(self.console, results, elapsed)
        context = hooks.RunEndContext(
            command=command,
            con=self.connection(),
            results=results,
            manifest=self.manifest,
            target=target,
            target_path=self.config.target_path,
            full_refresh=full_refresh,
            started_at=started_at,
            seconds_total=elapsed,
            seconds_compile=compile_seconds,
        )
        code = max(code, self._run_end_hooks(context))
        self.close()
        return code

    def _run_end_hooks(self, context: hooks.RunEndContext) -> int:
        code = 0
        for hook in hooks.registered():
            try:
                lines = hook(context) or []
            except Exception as exc:
                where = getattr(hook, "__code__", None)
                origin = f"{_project_path(self.config, where.co_filename)}: " if where else ""
                self.console.error(
                    f"run-end hook {hook.__name__} failed: {origin}{type(exc).__name__}: {exc}"
                )
                if self.args.debug:
                    raise
                code = 1
                continue
            if lines:
                self.console.line()
            for line in lines:
                self.console.info(line)
        return code

    def show(self, inline: str | None, select: list[str] | None, limit: int, output: str) -> int:
        import duckdb

        from evoki_sql.compiler import Compiler
        from evoki_sql.privacy import redact

        con = self.connection()
        if inline:
            state = RenderState(
                ref=lambda *a, **k: str(self._ref_node(a[-1]).relation),
                source=lambda s, t: str(self._source_node(s, t).relation),
                config=lambda *a, **k: "",
                this=None,
                is_incremental=lambda: False,
            )
            sql = self.manifest.env.render(inline, "--inline", state)
        else:
            if not select:
                raise ConfigError("show needs --inline 'select ...' or -s MODEL")
            order = self.graph.select(select, None, {"model", "seed"})
            if len(order) != 1:
                raise ConfigError(f"show -s must name exactly one model (got {len(order)})")
            node = self.manifest.nodes[order[0]]
            if node.resource_type == "seed":
                sql = f"select * from {node.relation}"
            else:
                sql = Compiler(self.manifest, con, False, self.config.target_path).compile(node)
        try:
            cursor = con.execute(
                f"select * from (\n{sql.strip().rstrip(';')}\n) limit {int(limit)}"
            )
        except duckdb.Error as exc:
            raise EvokiError(redact(str(exc).splitlines()[0], sql)) from None
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
        if output == "json":
            print(json.dumps([dict(zip(names, r)) for r in rows], default=str, indent=1))
        else:
            print(_table(names, rows))
        return 0

    def _ref_node(self, name: str) -> Any:
        uid = self.manifest.by_name.get(name)
        if uid is None:
            import difflib

            names = [n.name for n in self.manifest.model_like()]
            close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
            raise CompilationError(f"ref('{name}') names no model or seed.{hint}")
        return self.manifest.nodes[uid]

    def _source_node(self, source: str, table: str) -> Any:
        for node in self.manifest.nodes.values():
            if node.resource_type == "source" and node.name == f"{source}.{table}":
                return node
        raise CompilationError(f"source('{source}', '{table}') is not declared")

    def lineage(self, spec: str) -> int:
        from evoki_sql.compiler import Compiler
        from evoki_sql.lineage import column_lineage

        if "." not in spec:
            raise ConfigError("lineage takes MODEL.COLUMN")
        model_name, column = spec.split(".", 1)
        node = self._ref_node(model_name)
        if node.resource_type != "model":
            raise ConfigError(f"{model_name} is a {node.resource_type}, not a model")
        con = self.connection(with_udfs=False)
        compiler = Compiler(self.manifest, con, False, self.config.target_path)
        for uid in self.graph.topological(self.graph.ancestors(node.unique_id) | {node.unique_id}):
            upstream = self.manifest.nodes[uid]
            if upstream.resource_type == "model":
                compiler.compile(upstream)
        refs = column_lineage(self.manifest, node, column, con)
        print(f"{node.name}.{column}")
        if not refs:
            print("  (reads no column of a project model, seed or source)")
        for ref in refs:
            print(f"  {'  ' * (ref.depth - 1)}<- {ref.resource_type} {ref.node_name}.{ref.column}")
        return 0


def _project_path(config: ProjectConfig, filename: str) -> str:
    """`filename` relative to the project root when it lies inside it."""
    path = Path(filename)
    try:
        return path.resolve().relative_to(config.root.resolve()).as_posix()
    except ValueError:
        return path.name


def _read_target(config: ProjectConfig, args: argparse.Namespace) -> Target:
    """The selected output of profiles.yml, rendered (env_var) and checked."""
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.globals["env_var"] = env_var

    def render(text: str) -> str:
        try:
            return env.from_string(text).render()
        except jinja2.TemplateError as exc:
            raise ConfigError(f"profiles.yml: {exc}") from None

    try:
        return load_target(config, args.profiles_dir, args.target, render)
    except ConfigError as exc:
        if exc.path is None:
            exc.path = str((args.profiles_dir or config.root) / "profiles.yml")
        raise


def _load_materializations(config: ProjectConfig) -> None:
    """Import the project's custom materialization and run-end hook files (they register
    themselves with @materialization / @on_run_end)."""
    hooks.reset()
    registry.reset_project()
    docs_registry.reset()
    for key, prefix in (("materialization-paths", "materialization"), ("hook-paths", "hook")):
        for folder in config.dirs(key):
            if folder.is_dir():
                for path in sorted(folder.glob("*.py")):
                    if not path.name.startswith("_"):
                        _import_project_file(config, path, f"_evoki_{prefix}_{path.stem}", prefix)


def _import_project_file(config: ProjectConfig, path: Path, name: str, kind: str) -> None:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's file failed to import
        sys.modules.pop(name, None)
        rel = path.relative_to(config.root).as_posix()
        line = getattr(exc, "lineno", None)
        raise ConfigError(
            f"importing the {kind} file failed: {type(exc).__name__}: {exc}",
            path=rel,
            line=line,
        ) from None


def _count(manifest: Manifest, order: list[str]) -> str:
    kinds: dict[str, int] = {}
    for uid in order:
        kind = manifest.nodes[uid].resource_type
        kinds[kind] = kinds.get(kind, 0) + 1
    parts = [
        f"{kinds[k]} {k}{'s' if kinds[k] != 1 else ''}"
        for k in ("seed", "model", "test")
        if k in kinds
    ]
    return ", ".join(parts) or "nothing to do"


def _summary(console: Console, results: list[Any], elapsed: float) -> int:
    counts = {"PASS": 0, "WARN": 0, "ERROR": 0, "SKIP": 0}
    for r in results:
        key = {"success": "PASS", "pass": "PASS", "warn": "WARN", "skipped": "SKIP"}.get(
            r.status, "ERROR"
        )
        counts[key] += 1
    console.line()
    console.info(f"Finished running {len(results)} nodes in {elapsed:.2f}s.")
    state = (
        "Completed successfully"
        if counts["ERROR"] == 0 and counts["SKIP"] == 0
        else ("Completed with errors")
    )
    console.info(state)
    console.info(
        "Done. " + " ".join(f"{k}={v}" for k, v in counts.items()) + f" TOTAL={len(results)}"
    )
    return 1 if counts["ERROR"] or counts["SKIP"] else 0


def _table(names: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    line = "+".join("-" * (w + 2) for w in widths)
    out = [" | ".join(n.ljust(w) for n, w in zip(names, widths)), line]
    out += [" | ".join(c.ljust(w) for c, w in zip(r, widths)) for r in cells]
    out.append(f"({len(rows)} rows)")
    return "\n".join(out)


def _cell(value: Any) -> str:
    text = "NULL" if value is None else str(value)
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 60 else text[:57] + "..."
