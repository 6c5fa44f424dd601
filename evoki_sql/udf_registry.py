"""The `@udf` decorator and the discovery and registration of a project's Python UDFs.

A UDF file is any `udfs/*.py`; every function decorated with `@udf(...)` in it is
registered on the DuckDB connection before models run. Vectorization is `arrow` (the
function takes and returns pyarrow arrays) or `numpy` (numpy arrays in and out, wrapped
into an arrow UDF here). Row-at-a-time Python UDFs are deliberately not offered.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evoki_sql.errors import CompilationError

if TYPE_CHECKING:  # the pool (multiprocessing) is imported only by a target that uses it
    from evoki_sql.udf_pool import UdfPool

_MARK = "__evoki_udf__"


@dataclass(frozen=True)
class UdfSpec:
    """What `@udf` declares about a function."""

    name: str
    args: tuple[str, ...]
    returns: str
    vectorized: str
    null_handling: str
    side_effects: bool


def udf(
    *,
    args: list[str],
    returns: str,
    vectorized: str = "arrow",
    name: str | None = None,
    null_handling: str = "special",
    side_effects: bool = False,
) -> Callable[[Any], Any]:
    """Declare a vectorized DuckDB UDF: argument and return DuckDB types, arrow or numpy.

    `null_handling='special'` (the default) hands NULLs to the function, which must
    handle them; 'default' makes DuckDB return NULL for any NULL argument.
    """
    if vectorized not in ("arrow", "numpy"):
        raise ValueError("vectorized must be 'arrow' or 'numpy'")
    if null_handling not in ("special", "default"):
        raise ValueError("null_handling must be 'special' or 'default'")

    def mark(func: Any) -> Any:
        spec = UdfSpec(
            name or func.__name__, tuple(args), returns, vectorized, null_handling, side_effects
        )
        setattr(func, _MARK, spec)
        return func

    return mark


@dataclass
class LoadedUdf:
    spec: UdfSpec
    func: Callable[..., Any]
    rel_path: str


def discover(folders: list[Path], root: Path) -> list[LoadedUdf]:
    """Import every UDF file and collect the decorated functions (sorted by name)."""
    found: dict[str, LoadedUdf] = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        if str(folder.parent) not in sys.path:
            sys.path.insert(0, str(folder.parent))
        for path in sorted(folder.glob("*.py")):
            if path.name.startswith("_"):
                continue
            rel = path.relative_to(root).as_posix() if root in path.parents else str(path)
            module = _import(path, rel, folder)
            for value in vars(module).values():
                spec = getattr(value, _MARK, None)
                if isinstance(spec, UdfSpec):
                    if spec.name in found and found[spec.name].func is not value:
                        raise CompilationError(
                            f"UDF '{spec.name}' is defined twice (also in "
                            f"{found[spec.name].rel_path})",
                            path=rel,
                        )
                    found[spec.name] = LoadedUdf(spec, value, rel)
    return [found[k] for k in sorted(found)]


def _import(path: Path, rel: str, folder: Path) -> Any:
    module_name = (
        f"{folder.name}.{path.stem}"
        if (folder / "__init__.py").exists()
        else (f"_evoki_udf_{path.stem}")
    )
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CompilationError("cannot import UDF file", path=rel)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(module_name, None)
        raise CompilationError(
            f"syntax error in UDF file: {exc.msg}", path=rel, line=exc.lineno, col=exc.offset
        ) from None
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to see
        sys.modules.pop(module_name, None)
        line = None
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename) == path:
                line = frame.lineno
        raise CompilationError(
            f"importing the UDF file failed: {type(exc).__name__}: {exc}", path=rel, line=line
        ) from None
    return module


def arrow_callable(item: LoadedUdf) -> Callable[..., Any]:
    """The UDF as a function of pyarrow arrays (numpy UDFs wrapped)."""
    return item.func if item.spec.vectorized == "arrow" else _numpy_to_arrow(item.func)


def register(con: Any, udfs: list[LoadedUdf], pool: UdfPool | None = None) -> None:
    """Register every UDF on the connection (replacing an older registration). With a
    `pool`, every UDF without side effects is computed in its worker processes."""
    import duckdb

    for item in udfs:
        spec = item.spec
        try:
            arg_types = [con.sqltype(t) for t in spec.args]
            ret_type = con.sqltype(spec.returns)
        except duckdb.Error as exc:
            raise CompilationError(
                f"UDF '{spec.name}': unknown DuckDB type ({exc})", path=item.rel_path
            ) from None
        if pool is not None and not spec.side_effects:
            func = pool.wrap(spec.name, len(spec.args))
        else:
            func = arrow_callable(item)
        try:
            con.remove_function(spec.name)
        except duckdb.Error:
            pass
        con.create_function(
            spec.name,
            func,
            arg_types,
            ret_type,
            type="arrow",
            null_handling=spec.null_handling,
            exception_handling="default",
            side_effects=spec.side_effects,
        )


def _numpy_to_arrow(func: Callable[..., Any]) -> Callable[..., Any]:
    import numpy as np
    import pyarrow as pa

    def wrapper(*arrays: Any) -> Any:
        inputs = [a.to_numpy(zero_copy_only=False) for a in arrays]
        return pa.array(np.asarray(func(*inputs)))

    wrapper.__name__ = getattr(func, "__name__", "udf")
    return wrapper
