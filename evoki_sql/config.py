"""Project configuration ([tool.evoki_sql] in pyproject.toml) and profiles.yml targets."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evoki_sql.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

_PATH_KEYS = (
    "model-paths",
    "macro-paths",
    "udf-paths",
    "seed-paths",
    "test-paths",
    "materialization-paths",
    "hook-paths",
)
_DEFAULT_PATHS = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "udf-paths": ["udfs"],
    "seed-paths": ["seeds"],
    "test-paths": ["tests"],
    "materialization-paths": ["materializations"],
    "hook-paths": ["hooks"],
}


@dataclass
class ProjectConfig:
    """The project's settings, read from pyproject.toml."""

    root: Path
    name: str
    profile: str
    paths: dict[str, list[Path]]
    target_path: Path
    vars: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def dirs(self, key: str) -> list[Path]:
        return self.paths[key]


def find_project_root(start: Path) -> Path:
    """The nearest folder at or above `start` whose pyproject.toml has [tool.evoki_sql]."""
    start = start.resolve()
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and "[tool.evoki_sql" in candidate.read_text(encoding="utf-8"):
            return folder
    raise ConfigError(
        f"no project found: no pyproject.toml with a [tool.evoki_sql] table at or above {start}"
    )


def load_project(root: Path) -> ProjectConfig:
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=str(path)) from None
    section = data.get("tool", {}).get("evoki_sql")
    if not isinstance(section, dict):
        raise ConfigError("missing [tool.evoki_sql] table", path=str(path))
    paths: dict[str, list[Path]] = {}
    for key in _PATH_KEYS:
        value = section.get(key, _DEFAULT_PATHS[key])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"[tool.evoki_sql] {key} must be a list of folders", path=str(path))
        paths[key] = [root / v for v in value]
    variables = section.get("vars", {})
    if not isinstance(variables, dict):
        raise ConfigError("[tool.evoki_sql.vars] must be a table", path=str(path))
    name = str(section.get("name", root.name))
    return ProjectConfig(
        root=root,
        name=name,
        profile=str(section.get("profile", name)),
        paths=paths,
        target_path=root / str(section.get("target-path", "target")),
        vars=dict(variables),
        raw=section,
    )


@dataclass
class Attachment:
    """A database attached to the DuckDB connection (for example the SQLite history)."""

    path: Path
    alias: str
    type: str = "sqlite"
    read_only: bool = False
    busy_timeout_ms: int = 5000
    bootstrap: Path | None = None


@dataclass
class Target:
    """One output of a profile: where DuckDB lives and what it attaches."""

    profile: str
    name: str
    type: str
    path: str
    threads: int
    settings: dict[str, Any]
    attach: list[Attachment]
    source_file: Path
    # worker processes for the Python UDFs (0: UDFs run in the build process)
    udf_processes: int = 0


def _render_value(value: Any, render: Any) -> Any:
    if isinstance(value, str):
        return render(value)
    if isinstance(value, list):
        return [_render_value(v, render) for v in value]
    if isinstance(value, dict):
        return {k: _render_value(v, render) for k, v in value.items()}
    return value


def load_target(
    project: ProjectConfig, profiles_dir: Path | None, target_name: str | None, render: Any
) -> Target:
    """Read profiles.yml, pick the target and render its `{{ env_var() }}` strings."""
    folder = profiles_dir or Path(os.environ.get("EVOKI_SQL_PROFILES_DIR", project.root))
    path = folder / "profiles.yml"
    if not path.is_file():
        raise ConfigError(f"profiles.yml not found in {folder}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}",
            path=str(path),
            line=mark.line + 1 if mark else None,
            col=mark.column + 1 if mark else None,
        ) from None
    profile = data.get(project.profile)
    if not isinstance(profile, dict):
        raise ConfigError(
            f"profile '{project.profile}' not found (profiles: "
            f"{', '.join(sorted(map(str, data))) or 'none'})",
            path=str(path),
        )
    outputs = profile.get("outputs")
    if not isinstance(outputs, dict) or not outputs:
        raise ConfigError(f"profile '{project.profile}' has no outputs", path=str(path))
    chosen = target_name or render(str(profile.get("target", "")))
    if not chosen:
        raise ConfigError(
            f"profile '{project.profile}' names no default target; use --target", path=str(path)
        )
    if chosen not in outputs:
        raise ConfigError(
            f"target '{chosen}' not in profile '{project.profile}' (targets: {', '.join(outputs)})",
            path=str(path),
        )
    raw = outputs[chosen]
    if not isinstance(raw, dict):
        raise ConfigError(f"target '{chosen}' must be a mapping", path=str(path))
    out = _render_value(raw, render)
    kind = out.get("type", "duckdb")
    if kind != "duckdb":
        raise ConfigError(
            f"target '{chosen}': type '{kind}' is not supported (only duckdb)", path=str(path)
        )
    db_path = str(out.get("path", ":memory:"))
    if db_path != ":memory:":
        db_path = str((project.root / db_path).resolve())
    try:
        threads = int(out.get("threads", 1))
    except (TypeError, ValueError):
        raise ConfigError(
            f"target '{chosen}': threads must be an integer", path=str(path)
        ) from None
    # 0 runs the UDFs in the build process
    udf_processes = _as_int(
        out.get("udf_processes", 0), f"target '{chosen}': udf_processes", path, unit=""
    )
    settings = out.get("settings") or {}
    if not isinstance(settings, dict):
        raise ConfigError(f"target '{chosen}': settings must be a mapping", path=str(path))
    attachments = []
    for i, item in enumerate(out.get("attach") or []):
        if not isinstance(item, dict) or "path" not in item or "alias" not in item:
            raise ConfigError(
                f"target '{chosen}': attach[{i}] needs a path and an alias", path=str(path)
            )
        if not str(item["path"]).strip():
            raise ConfigError(
                f"target '{chosen}': attach[{i}] has an empty path "
                "(is an environment variable empty?)",
                path=str(path),
            )
        boot = item.get("bootstrap")
        attachments.append(
            Attachment(
                path=(project.root / str(item["path"])).resolve(),
                alias=str(item["alias"]),
                type=str(item.get("type", "sqlite")),
                read_only=_as_bool(item.get("read_only", False)),
                busy_timeout_ms=_as_int(
                    item.get("busy_timeout_ms", 5000), f"attach[{i}].busy_timeout_ms", path
                ),
                bootstrap=(project.root / str(boot)).resolve() if boot else None,
            )
        )
    return Target(
        project.profile,
        chosen,
        kind,
        db_path,
        max(1, threads),
        dict(settings),
        attachments,
        path,
        udf_processes,
    )


def _as_int(value: Any, what: str, path: Path, unit: str = " of milliseconds") -> int:
    """A whole number >= 0: an integer, or the text of one (an env_var() renders to text);
    a fraction or a boolean is refused, not truncated."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{what} must be a whole number{unit}, not {value!r}", path=str(path))
    if value < 0:
        raise ConfigError(f"{what} must not be negative", path=str(path))
    return value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)
