"""The Jinja environment: macros from every macro file, `{% test %}` blocks, and the
per-render context (`ref`, `source`, `config`, `var`, `env_var`, `this`, `is_incremental`,
`selected_resources`).

Macros are registered as lazy proxies in the environment's globals, so that a macro can
call any other macro and every model, test or macro can call them, whatever file they
live in. The per-render functions are globals too; they delegate to the render state of
the node being rendered, which the renderer sets around each render.
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension

from evoki_sql.errors import CompilationError, ConfigError
from evoki_sql.jinja_cache import TemplateCache
from evoki_sql.relation import quote_literal

_MISSING = object()


class TestBlockExtension(Extension):
    """`{% test name(model, column_name, ...) %}...{% endtest %}` defines macro `test_name`."""

    tags: ClassVar[set[str]] = {"test"}

    def parse(self, parser: Any) -> nodes.Node:
        node = nodes.Macro(lineno=next(parser.stream).lineno)
        node.name = "test_" + parser.parse_assign_target(name_only=True).name
        parser.parse_signature(node)
        node.body = parser.parse_statements(("name:endtest",), drop_needle=True)
        return node


def env_var(name: str, default: Any = _MISSING) -> str:
    """dbt's env_var(): the variable's value, the default, or a configuration error."""
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is not _MISSING:
        return str(default)
    raise ConfigError(
        f"environment variable '{name}' is required but not set (env_var without a default)"
    )


@dataclass
class MacroSource:
    """One macro file and the names of the macros it defines."""

    path: Path
    rel_path: str
    names: list[str]


@dataclass
class RenderState:
    """What the context functions of one render answer to."""

    ref: Callable[..., str]
    source: Callable[[str, str], str]
    config: Callable[..., str]
    this: Any
    is_incremental: Callable[[], bool]
    extra: dict[str, Any] = field(default_factory=dict)
    # (schema, identifier) -> the quoted relation when it exists in the target database;
    # None while parsing (no database yet)
    lookup: Callable[[str, str], str | None] | None = None
    # `selected_resources`: unique ids of the models, seeds and tests this invocation runs
    # (as dbt's); empty while parsing and in commands that run nothing
    selected_resources: list[str] = field(default_factory=list)


class MacroProxy:
    """Calls a macro from its file's template module, loaded on first use."""

    def __init__(self, env: ProjectEnvironment, template_name: str, macro_name: str) -> None:
        self._env = env
        self._template_name = template_name
        self.name = macro_name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = self._env.module(self._template_name)
        return getattr(module, self.name)(*args, **kwargs)


class ProjectEnvironment:
    """A Jinja environment holding the project's macros and the render-time context."""

    def __init__(self, variables: dict[str, Any], bytecode_dir: Path | None = None) -> None:
        self.variables = variables
        self.env = jinja2.Environment(
            extensions=[TestBlockExtension, "jinja2.ext.do"],
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            # compiled templates kept under target/ (evoki_sql/jinja_cache.py)
            bytecode_cache=TemplateCache(bytecode_dir) if bytecode_dir is not None else None,
        )
        self._sources: dict[str, str] = {}
        self._modules: dict[str, Any] = {}
        self._templates: dict[str, jinja2.Template] = {}
        self.seed_paths: dict[str, Path] = {}
        self._seed_cache: dict[Path, list[dict[str, str]]] = {}
        self.macros: dict[str, MacroSource] = {}
        self.state: RenderState | None = None
        self.env.loader = jinja2.FunctionLoader(self._load)
        self.env.globals.update(
            ref=self._ref,
            source=self._source,
            config=self._config,
            var=self._var,
            env_var=env_var,
            is_incremental=self._is_incremental,
            seed_rows=self._seed_rows,
            return_=lambda v: v,
            exceptions=_Exceptions(),
            log=lambda *a, **k: "",
            literal=sql_literal,
            adapter=_Adapter(self),
        )

    def write_template_cache(self) -> None:
        """Write the templates compiled so far to the bytecode cache (if there is one)."""
        cache = self.env.bytecode_cache
        if isinstance(cache, TemplateCache):
            cache.write()

    # -- macro files ---------------------------------------------------------
    def _load(self, name: str) -> str | None:
        return self._sources.get(name)

    def add_macro_file(self, path: Path, rel_path: str, text: str) -> MacroSource:
        name = f"macro:{rel_path}"
        try:
            tree = self.env.parse(text, name=rel_path, filename=str(path))
        except jinja2.TemplateSyntaxError as exc:
            raise CompilationError(
                f"Jinja syntax error: {exc.message}", path=rel_path, line=exc.lineno
            ) from None
        self._sources[name] = text
        found = [m.name for m in tree.find_all(nodes.Macro)]
        for macro_name in found:
            self.env.globals[macro_name] = MacroProxy(self, name, macro_name)
        self._modules.pop(name, None)
        source = MacroSource(path, rel_path, found)
        for macro_name in found:
            self.macros[macro_name] = source
        return source

    def module(self, template_name: str) -> Any:
        module = self._modules.get(template_name)
        if module is None:
            template = self.env.get_template(template_name)
            module = template.make_module()
            self._modules[template_name] = module
        return module

    def macro(self, name: str) -> MacroProxy | None:
        value = self.env.globals.get(name)
        return value if isinstance(value, MacroProxy) else None

    # -- rendering -----------------------------------------------------------
    def render(
        self, text: str, rel_path: str, state: RenderState, extra: dict[str, Any] | None = None
    ) -> str:
        """Render a model, test or any templated string; errors name the file and line."""
        previous = self.state
        self.state = state
        try:
            template = self._templates.get(text)
            if template is None:
                # through the loader (by a hash of the text), so the bytecode cache applies
                name = "text:" + hashlib.sha256(text.encode()).hexdigest()
                self._sources[name] = text
                template = self._templates[text] = self.env.get_template(name)
            context = {"this": state.this, "selected_resources": state.selected_resources}
            if extra:
                context.update(extra)
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise CompilationError(
                f"Jinja syntax error: {exc.message}", path=rel_path, line=exc.lineno
            ) from None
        except jinja2.UndefinedError as exc:
            raise CompilationError(
                f"undefined name in template: {exc.message}",
                path=rel_path,
                line=_template_line(exc),
            ) from None
        except (CompilationError, ConfigError) as exc:
            if exc.path is None:
                exc.path = rel_path
            if exc.path == rel_path and exc.line is None:
                exc.line = _template_line(exc)
            raise
        finally:
            self.state = previous

    def call_macro(self, name: str, state: RenderState, rel_path: str, **kwargs: Any) -> str:
        """Call a macro from Python (generic tests), with the node's render state."""
        macro = self.macro(name)
        if macro is None:
            raise CompilationError(f"macro '{name}' is not defined", path=rel_path)
        previous = self.state
        self.state = state
        try:
            return str(macro(**kwargs))
        except jinja2.UndefinedError as exc:
            raise CompilationError(
                f"undefined name in macro {name}: {exc.message}", path=rel_path
            ) from None
        except TypeError as exc:
            raise CompilationError(
                f"bad arguments for {name.removeprefix('test_')}: {exc}",
                path=rel_path,
            ) from None
        except (CompilationError, ConfigError) as exc:
            if exc.path is None:
                exc.path = rel_path
            raise
        finally:
            self.state = previous

    def _require_state(self) -> RenderState:
        if self.state is None:
            raise CompilationError("ref/source/config can only be used while rendering a node")
        return self.state

    def _ref(self, *args: str, **kwargs: Any) -> str:
        return self._require_state().ref(*args, **kwargs)

    def _source(self, source_name: str, table_name: str) -> str:
        return self._require_state().source(source_name, table_name)

    def _config(self, *args: Any, **kwargs: Any) -> str:
        return self._require_state().config(*args, **kwargs)

    def _seed_rows(self, name: str) -> list[dict[str, str]]:
        """The rows of a seed CSV at compile time (values as strings), e.g. to generate SQL
        from a contract. Records a dependency on the seed like `ref` does."""
        self._require_state().ref(name)
        path = self.seed_paths.get(name)
        if path is None:
            raise CompilationError(f"seed_rows('{name}'): no seed of that name")
        rows = self._seed_cache.get(path)
        if rows is None:
            with path.open(newline="", encoding="utf-8") as handle:
                rows = [dict(r) for r in csv.DictReader(handle)]
            self._seed_cache[path] = rows
        return [dict(r) for r in rows]

    def _is_incremental(self) -> bool:
        return self._require_state().is_incremental()

    def _var(self, name: str, default: Any = _MISSING) -> Any:
        if name in self.variables:
            return self.variables[name]
        if default is not _MISSING:
            return default
        raise CompilationError(
            f"var('{name}') is not defined: set it in [tool.evoki_sql.vars] or pass --vars"
        )


class _Adapter:
    """`adapter` in Jinja, the part of dbt's that a DuckDB project needs:
    `adapter.get_relation(database=None, schema='main', identifier=...)` is the relation when
    it exists in the target database, else None (always None in the parse pass)."""

    def __init__(self, env: ProjectEnvironment) -> None:
        self._env = env

    def get_relation(
        self, database: str | None = None, schema: str | None = None, identifier: str = ""
    ) -> str | None:
        state = self._env.state
        if state is None or state.lookup is None:
            return None
        return state.lookup(schema or "main", identifier)


def sql_literal(value: Any) -> str:
    """A Python value as a SQL literal: numbers bare, strings quoted, None as null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return quote_literal(str(value))


class _Exceptions:
    """`exceptions.raise_compiler_error(msg)` as in dbt."""

    @staticmethod
    def raise_compiler_error(message: str) -> None:
        raise CompilationError(str(message))

    @staticmethod
    def warn(message: str) -> str:
        return ""


def _template_line(exc: BaseException) -> int | None:
    """The template line from a Jinja traceback, if there is one."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__jinja_template__") is not None or frame.f_code.co_filename in (
            "<template>",
        ):
            template = frame.f_globals.get("__jinja_template__")
            if template is not None:
                line = template.get_corresponding_lineno(tb.tb_lineno)
            else:
                line = tb.tb_lineno
        tb = tb.tb_next
    return line
