"""Reads a project from disk: models, seeds, macros, YAML properties, sources and tests.

The result is a `Manifest` of nodes with their configs and dependencies. Models are
rendered once here (the parse pass) to find their `ref`/`source` calls and in-file
`config()`; they are rendered again at compile time with the real relations.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from evoki_sql import batches
from evoki_sql.config import ProjectConfig
from evoki_sql.errors import CompilationError, ConfigError
from evoki_sql.jinja_cache import cache_directory
from evoki_sql.jinja_env import ProjectEnvironment, RenderState
from evoki_sql.relation import Relation

BUILTIN_MACROS = Path(__file__).parent / "builtin_macros"
MATERIALIZATIONS = ("view", "table", "incremental")


@dataclass
class Column:
    name: str
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Node:
    """A model, seed, test or source table of the project."""

    unique_id: str
    resource_type: str
    name: str
    rel_path: str
    path: Path | None
    raw_sql: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    relation: Relation | None = None
    compiled_sql: str | None = None
    test_metadata: dict[str, Any] | None = None
    attached_node: str | None = None
    column_name: str | None = None
    yaml_path: str | None = None

    @property
    def tags(self) -> list[str]:
        return list(self.config.get("tags", []))

    @property
    def materialized(self) -> str:
        return str(self.config.get("materialized", "view"))

    @property
    def fqn_path(self) -> str:
        return self.rel_path


@dataclass
class Manifest:
    """Every node of the project, by unique id, plus the Jinja environment that renders them."""

    config: ProjectConfig
    nodes: dict[str, Node]
    env: ProjectEnvironment
    by_name: dict[str, str]

    def get(self, unique_id: str) -> Node:
        return self.nodes[unique_id]

    def model_like(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.resource_type in ("model", "seed")]


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _files(folders: list[Path], pattern: str) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        if folder.is_dir():
            found.extend(p for p in folder.rglob(pattern) if p.is_file())
    return sorted(found)


def load_yaml(path: Path, rel_path: str) -> Any:
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
            path=rel_path,
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8", path=rel_path) from None


class ProjectLoader:
    """Builds the manifest: discovery, YAML, the parse pass and the generic tests."""

    def __init__(
        self,
        config: ProjectConfig,
        variables: dict[str, Any],
        target: Callable[[], Any] | None = None,
    ) -> None:
        self.config = config
        self.root = config.root
        self.env = ProjectEnvironment(variables, cache_directory(config.target_path))
        self.env.env.globals["target"] = TargetProxy(target)
        self.env.env.globals["project_fingerprint"] = _lazy_fingerprint(config, variables)
        self.nodes: dict[str, Node] = {}
        self.by_name: dict[str, str] = {}
        self.sources: dict[tuple[str, str], Node] = {}
        self.properties: dict[str, tuple[dict[str, Any], str]] = {}
        self.test_specs: list[tuple[str, Any, str | None, str]] = []

    # -- discovery -----------------------------------------------------------
    def load(self) -> Manifest:
        self._load_macros()
        self._load_yaml_files()
        self._discover_seeds()
        self._discover_models()
        self._parse_models()
        self._link_partitions()
        self._check_batches()
        self._build_generic_tests()
        self._discover_singular_tests()
        return Manifest(self.config, self.nodes, self.env, self.by_name)

    def _link_partitions(self) -> None:
        """A partitioned incremental model (incremental_strategy='replace_partitions') needs
        `partition_by` (a column) and `partitions` (the model listing this run's partitions);
        it runs after that model."""
        for node in self.nodes.values():
            strategy = node.config.get("incremental_strategy")
            if node.resource_type != "model" or strategy is None:
                continue
            if node.materialized in ("table", "view"):
                raise ConfigError(
                    f"incremental_strategy is set but materialized='{node.materialized}'",
                    path=node.rel_path,
                )
            if strategy in ("merge", "delete+insert"):
                continue
            if strategy != "replace_partitions":
                raise ConfigError(
                    f"unknown incremental_strategy '{strategy}' (known: merge, delete+insert, "
                    "replace_partitions)",
                    path=node.rel_path,
                )
            missing = [k for k in ("partition_by", "partitions") if not node.config.get(k)]
            if missing:
                raise ConfigError(
                    f"incremental_strategy='replace_partitions' needs {' and '.join(missing)} "
                    "in config()",
                    path=node.rel_path,
                )
            name = str(node.config["partitions"])
            uid = self.by_name.get(name)
            partitions = self.nodes.get(uid) if uid else None
            if partitions is None or partitions.resource_type != "model":
                raise ConfigError(f"config partitions='{name}' names no model", path=node.rel_path)
            if partitions.unique_id == node.unique_id:
                raise ConfigError("a model cannot list its own partitions", path=node.rel_path)
            if partitions.unique_id not in node.depends_on:
                node.depends_on.append(partitions.unique_id)

    def _check_batches(self) -> None:
        """A batched model (evoki_sql/batches.py) is a table-like model with `batch_source`,
        a model or seed it ref()s, a whole `batch_rows` of at least 1, and, when partitioned,
        batches by its partition column (a batch must never split what a row depends on)."""
        for node in self.nodes.values():
            key = node.config.get("batch_by")
            if node.resource_type != "model" or key is None:
                continue
            if not isinstance(key, str) or not key:
                raise ConfigError("batch_by must name a column", path=node.rel_path)
            if node.materialized in ("view", "ephemeral"):
                raise ConfigError(
                    f"batch_by needs a model built as a table (materialized='{node.materialized}')",
                    path=node.rel_path,
                )
            source = node.config.get("batch_source")
            uid = self.by_name.get(str(source)) if source else None
            if uid is None or uid not in node.depends_on:
                raise ConfigError(
                    "batch_by needs batch_source: the name of a model or seed this model "
                    f"ref()s, whose rows are counted per {key} (got {source!r})",
                    path=node.rel_path,
                )
            rows = node.config.get("batch_rows", batches.DEFAULT_ROWS)
            if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
                raise ConfigError(
                    f"batch_rows must be a whole number of at least 1 (got {rows!r})",
                    path=node.rel_path,
                )
            partition_by = node.config.get("partition_by")
            if node.config.get("incremental_strategy") == "replace_partitions" and (
                partition_by != key
            ):
                raise ConfigError(
                    f"batch_by='{key}' must be the partition column '{partition_by}' of a "
                    "partitioned model",
                    path=node.rel_path,
                )

    def _load_macros(self) -> None:
        for path in _files([BUILTIN_MACROS], "*.sql"):
            self.env.add_macro_file(path, f"<evoki_sql>/{path.name}", path.read_text("utf-8"))
        for path in _files(self.config.dirs("macro-paths"), "*.sql"):
            rel = _rel(self.root, path)
            self.env.add_macro_file(path, rel, path.read_text(encoding="utf-8"))

    def _load_yaml_files(self) -> None:
        folders = (
            self.config.dirs("model-paths")
            + self.config.dirs("seed-paths")
            + self.config.dirs("macro-paths")
        )
        paths = sorted({p for ext in ("*.yml", "*.yaml") for p in _files(folders, ext)})
        for path in paths:
            rel = _rel(self.root, path)
            data = load_yaml(path, rel)
            if data is None:
                continue
            if not isinstance(data, dict):
                raise ConfigError(
                    "a properties file must be a mapping (version:, models:, ...)", path=rel
                )
            for kind in ("models", "seeds"):
                for entry in data.get(kind) or []:
                    if not isinstance(entry, dict) or "name" not in entry:
                        raise ConfigError(f"every entry under {kind}: needs a name", path=rel)
                    key = f"{kind[:-1]}:{entry['name']}"
                    if key in self.properties:
                        other = self.properties[key][1]
                        raise ConfigError(
                            f"{kind[:-1]} '{entry['name']}' is described twice (also in {other})",
                            path=rel,
                        )
                    self.properties[key] = (entry, rel)
            for source in data.get("sources") or []:
                self._add_source(source, rel)

    def _add_source(self, source: dict[str, Any], rel: str) -> None:
        if not isinstance(source, dict) or "name" not in source:
            raise ConfigError("every source needs a name", path=rel)
        name = str(source["name"])
        database = str(source.get("database", name))
        schema = str(source.get("schema", "main"))
        for table in source.get("tables") or []:
            if not isinstance(table, dict) or "name" not in table:
                raise ConfigError(f"every table of source '{name}' needs a name", path=rel)
            tname = str(table["name"])
            uid = f"source.{self.config.name}.{name}.{tname}"
            node = Node(
                unique_id=uid,
                resource_type="source",
                name=f"{name}.{tname}",
                rel_path=rel,
                path=self.root / rel,
                description=str(table.get("description", "")),
                relation=Relation(database, schema, str(table.get("identifier", tname))),
                config={"tags": list(source.get("tags", [])) + list(table.get("tags", []))},
                yaml_path=rel,
            )
            node.columns = self._columns(table, rel, uid)
            self._collect_tests(table, uid, rel)
            self.nodes[uid] = node
            self.sources[(name, tname)] = node

    def _columns(self, entry: dict[str, Any], rel: str, uid: str) -> dict[str, Column]:
        columns: dict[str, Column] = {}
        for col in entry.get("columns") or []:
            if not isinstance(col, dict) or "name" not in col:
                raise ConfigError("every column entry needs a name", path=rel)
            cname = str(col["name"])
            columns[cname] = Column(cname, str(col.get("description", "")), col.get("meta", {}))
            for test in (col.get("data_tests") or []) + (col.get("tests") or []):
                self.test_specs.append((uid, test, cname, rel))
        return columns

    def _collect_tests(self, entry: dict[str, Any], uid: str, rel: str) -> None:
        for test in (entry.get("data_tests") or []) + (entry.get("tests") or []):
            self.test_specs.append((uid, test, None, rel))

    def _register(self, node: Node) -> None:
        if node.name in self.by_name:
            other = self.nodes[self.by_name[node.name]]
            raise ConfigError(
                f"two nodes are named '{node.name}': {other.rel_path} and {node.rel_path}",
                path=node.rel_path,
            )
        self.nodes[node.unique_id] = node
        self.by_name[node.name] = node.unique_id

    def _discover_seeds(self) -> None:
        for path in _files(self.config.dirs("seed-paths"), "*.csv"):
            rel = _rel(self.root, path)
            name = path.stem
            props, yrel = self.properties.get(f"seed:{name}", ({}, None))
            config = {"materialized": "seed", "tags": []}
            config.update(self._folder_config("seeds", path, self.config.dirs("seed-paths")))
            config.update(props.get("config") or {})
            uid = f"seed.{self.config.name}.{name}"
            node = Node(
                uid,
                "seed",
                name,
                rel,
                path,
                config=config,
                description=str(props.get("description", "")),
                yaml_path=yrel,
            )
            node.relation = Relation(
                None, str(config.get("schema", "main")), str(config.get("alias", name))
            )
            if props:
                node.columns = self._columns(props, yrel or rel, uid)
                self._collect_tests(props, uid, yrel or rel)
            self._register(node)
            self.env.seed_paths[name] = path
        for key, (_, yrel) in self.properties.items():
            kind, name = key.split(":", 1)
            if kind == "seed" and f"seed.{self.config.name}.{name}" not in self.nodes:
                raise ConfigError(f"seed '{name}' is described but no {name}.csv exists", path=yrel)

    def _folder_config(self, kind: str, path: Path, roots: list[Path]) -> dict[str, Any]:
        """Config from [tool.evoki_sql.<kind>] and its nested per-folder tables."""
        section = self.config.raw.get(kind, {})
        result: dict[str, Any] = {}
        if not isinstance(section, dict):
            return result
        result.update({k: v for k, v in section.items() if not isinstance(v, dict)})
        root = next((r for r in roots if r in path.parents), None)
        if root is None:
            return result
        current = section
        for part in path.relative_to(root).parts[:-1]:
            current = current.get(part) if isinstance(current, dict) else None
            if not isinstance(current, dict):
                break
            result.update({k: v for k, v in current.items() if not isinstance(v, dict)})
        return result

    def _discover_models(self) -> None:
        for path in _files(self.config.dirs("model-paths"), "*.sql"):
            rel = _rel(self.root, path)
            name = path.stem
            props, yrel = self.properties.get(f"model:{name}", ({}, None))
            config: dict[str, Any] = {"materialized": "view", "tags": []}
            config.update(self._folder_config("models", path, self.config.dirs("model-paths")))
            config.update(props.get("config") or {})
            try:
                raw = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise ConfigError("model file is not UTF-8", path=rel) from None
            uid = f"model.{self.config.name}.{name}"
            node = Node(
                uid,
                "model",
                name,
                rel,
                path,
                raw_sql=raw,
                config=config,
                description=str(props.get("description", "")),
                yaml_path=yrel,
            )
            if props:
                node.columns = self._columns(props, yrel or rel, uid)
                self._collect_tests(props, uid, yrel or rel)
            self._register(node)
        for key, (_, yrel) in self.properties.items():
            kind, name = key.split(":", 1)
            if kind == "model" and f"model.{self.config.name}.{name}" not in self.nodes:
                raise ConfigError(
                    f"model '{name}' is described but no {name}.sql exists", path=yrel
                )

    # -- parse pass ----------------------------------------------------------
    def suggest(self, name: str, kinds: tuple[str, ...] = ("model", "seed")) -> str:
        names = [n.name for n in self.nodes.values() if n.resource_type in kinds]
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
        return f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""

    def resolve_ref(self, name: str, rel_path: str) -> Node:
        uid = self.by_name.get(name)
        node = self.nodes.get(uid) if uid else None
        if node is None or node.resource_type not in ("model", "seed"):
            raise CompilationError(
                f"ref('{name}') names no model or seed.{self.suggest(name)}", path=rel_path
            )
        return node

    def resolve_source(self, source: str, table: str, rel_path: str) -> Node:
        node = self.sources.get((source, table))
        if node is None:
            known = [f"{s}.{t}" for (s, t) in self.sources]
            close = difflib.get_close_matches(f"{source}.{table}", known, n=3, cutoff=0.5)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise CompilationError(
                f"source('{source}', '{table}') is not declared in any sources: block.{hint}",
                path=rel_path,
            )
        return node

    def parse_state(self, node: Node) -> RenderState:
        deps: list[str] = []
        config_calls: dict[str, Any] = {}

        def ref(*args: str, **_: Any) -> str:
            name = args[-1]
            target = self.resolve_ref(name, node.rel_path)
            if target.unique_id not in deps:
                deps.append(target.unique_id)
            return f"__ref_{name}__"

        def source(source_name: str, table: str) -> str:
            target = self.resolve_source(source_name, table, node.rel_path)
            if target.unique_id not in deps:
                deps.append(target.unique_id)
            return str(target.relation)

        def config(*args: Any, **kwargs: Any) -> str:
            if args:
                if len(args) == 1 and isinstance(args[0], dict):
                    kwargs = {**args[0], **kwargs}
                else:
                    raise CompilationError("config() takes keyword arguments", path=node.rel_path)
            config_calls.update(kwargs)
            return ""

        state = RenderState(
            ref=ref, source=source, config=config, this=None, is_incremental=lambda: False
        )
        state.extra = {"deps": deps, "config": config_calls}
        return state

    def _parse_models(self) -> None:
        for node in [n for n in self.nodes.values() if n.resource_type == "model"]:
            state = self.parse_state(node)
            self.env.render(node.raw_sql, node.rel_path, state)
            node.config.update(state.extra["config"])
            node.depends_on = list(state.extra["deps"])
            if not node.description and node.config.get("description"):
                node.description = str(node.config["description"])
            materialized = node.materialized
            if materialized not in MATERIALIZATIONS and not _is_custom(materialized):
                raise ConfigError(f"unknown materialization '{materialized}'", path=node.rel_path)
            node.relation = Relation(
                None,
                str(node.config.get("schema", "main")),
                str(node.config.get("alias", node.name)),
            )

    # -- tests ---------------------------------------------------------------
    def _build_generic_tests(self) -> None:
        for attached, spec, column, rel in self.test_specs:
            if isinstance(spec, str):
                test_name, kwargs = spec, {}
            elif isinstance(spec, dict) and len(spec) == 1:
                test_name, kwargs = next(iter(spec.items()))
                kwargs = dict(kwargs or {})
            else:
                raise ConfigError(
                    f"cannot read test declaration {spec!r}: write `- name` or "
                    "`- name: {{args}}`",
                    path=rel,
                )
            test_config = dict(kwargs.pop("config", {}) or {})
            for key in ("severity", "where", "limit", "tags", "name", "store_failures"):
                if key in kwargs:
                    test_config[key] = kwargs.pop(key)
            macro_name = f"test_{test_name}"
            if self.env.macro(macro_name) is None:
                known = sorted(n[5:] for n in self.env.env.globals if n.startswith("test_"))
                close = difflib.get_close_matches(test_name, known, n=3, cutoff=0.5)
                hint = f" Did you mean {', '.join(close)}?" if close else ""
                raise ConfigError(f"unknown generic test '{test_name}'.{hint}", path=rel)
            target = self.nodes[attached]
            severity = str(test_config.get("severity", "error")).lower()
            if severity not in ("warn", "error"):
                raise ConfigError(
                    f"test severity must be warn or error, not '{severity}'", path=rel
                )
            test_config["severity"] = severity
            test_config.setdefault("tags", [])
            name = test_config.pop("name", None) or _test_name(test_name, target, column)
            uid = f"test.{self.config.name}.{name}"
            if uid in self.nodes:
                name = f"{name}_{_short_hash(repr((attached, spec, column)))}"
                uid = f"test.{self.config.name}.{name}"
            node = Node(
                uid,
                "test",
                name,
                rel,
                self.root / rel,
                config=test_config,
                test_metadata={"name": test_name, "kwargs": kwargs},
                attached_node=attached,
                column_name=column,
                yaml_path=rel,
            )
            node.depends_on = [attached] + self._kwarg_refs(kwargs, rel)
            self.nodes[uid] = node

    def _kwarg_refs(self, kwargs: dict[str, Any], rel: str) -> list[str]:
        """Nodes named by `ref('x')`/`source('a','b')` strings in test arguments."""
        deps = []
        for value in kwargs.values():
            if not isinstance(value, str):
                continue
            for name in re.findall(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)", value):
                deps.append(self.resolve_ref(name, rel).unique_id)
            for src, table in re.findall(
                r"source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)", value
            ):
                deps.append(self.resolve_source(src, table, rel).unique_id)
        return deps

    def _discover_singular_tests(self) -> None:
        for path in _files(self.config.dirs("test-paths"), "*.sql"):
            rel = _rel(self.root, path)
            name = path.stem
            uid = f"test.{self.config.name}.{name}"
            node = Node(
                uid,
                "test",
                name,
                rel,
                path,
                raw_sql=path.read_text(encoding="utf-8"),
                config={"severity": "error", "tags": []},
            )
            state = self.parse_state(node)
            self.env.render(node.raw_sql, rel, state)
            node.config.update(state.extra["config"])
            node.depends_on = list(state.extra["deps"])
            if not _enabled(node.config, rel):
                continue
            if uid in self.nodes:
                raise ConfigError(f"two tests are named '{name}'", path=rel)
            self.nodes[uid] = node


def _lazy_fingerprint(config: ProjectConfig, variables: dict[str, Any]) -> Callable[[], str]:
    """`project_fingerprint()` in Jinja (evoki_sql.fingerprint), hashed once per invocation."""
    cache: list[str] = []

    def project_fingerprint() -> str:
        if not cache:
            from evoki_sql.fingerprint import project_fingerprint as compute

            cache.append(compute(config, variables))
        return cache[0]

    return project_fingerprint


class TargetProxy:
    """`target` in Jinja, as in dbt: target.name, target.type, target.path, target.profile_name,
    target.threads. The profile is read on first attribute access only, so a project that
    never mentions `target` parses without one."""

    _FIELDS: ClassVar[dict[str, str]] = {
        "name": "name",
        "type": "type",
        "path": "path",
        "threads": "threads",
        "profile_name": "profile",
    }

    def __init__(self, load: Callable[[], Any] | None) -> None:
        self._load = load

    def __getattr__(self, item: str) -> Any:
        field = self._FIELDS.get(item)
        if field is None:
            if item.startswith("__"):
                raise AttributeError(item)
            known = ", ".join(sorted(self._FIELDS))
            raise CompilationError(f"target has no attribute '{item}' (it has {known})")
        if self._load is None:
            raise CompilationError("`target` is not available here (no profile was loaded)")
        return getattr(self._load(), field)


def _enabled(config: dict[str, Any], rel: str) -> bool:
    """config(enabled=...) of a test: True unless it is false (a bool, not a truthy string)."""
    value = config.get("enabled", True)
    if not isinstance(value, bool):
        raise ConfigError(f"enabled must be true or false, not {value!r}", path=rel)
    return value


def _is_custom(name: str) -> bool:
    from evoki_sql.materializations.registry import registered

    return name in registered()


def _test_name(test: str, target: Node, column: str | None) -> str:
    base = target.name.replace(".", "_")
    parts = [test, base] + ([column] if column else [])
    return re.sub(r"[^A-Za-z0-9_]+", "_", "_".join(parts))


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
