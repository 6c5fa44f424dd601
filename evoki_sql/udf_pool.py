"""Worker processes for a project's Python UDFs (the target's `udf_processes`).

DuckDB calls a Python UDF from each of its threads, but the GIL lets only one of them run
Python at a time, so a pure-Python UDF uses one core however many DuckDB has. With
`udf_processes: N` in the target, every UDF without side effects is computed in a pool of
N worker processes instead: the calling DuckDB thread sends its batch (pyarrow arrays)
to a worker and waits with the GIL released, so N batches are computed at once.

A UDF is a pure function of its batch, so the result does not depend on where it ran.
Workers are started with `spawn` (DuckDB's threads make `fork` unsafe), on the first call,
and import the UDF files themselves; an error raised by the UDF reaches DuckDB unchanged, and
so does an error that kept a worker from loading the UDF files (named as such).
A worker whose build process is gone (killed, or ended without closing the pool) exits
within a second instead of staying behind with its memory.
"""

from __future__ import annotations

import inspect
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

# UDF name -> function, filled in each worker process by _start_worker (process-local).
_WORKER_FUNCS: dict[str, Callable[..., Any]] = {}
# Why _start_worker could not load the UDF files, if it could not (process-local): every call
# then raises it, instead of the worker dying with an anonymous broken pool.
_WORKER_START_ERROR: list[str] = []


# How often a worker checks that the process that started it is still there.
PARENT_CHECK_SECONDS = 0.5


def _start_worker(folders: list[str], root: str) -> None:
    from evoki_sql import udf_registry

    parent = os.getppid()
    threading.Thread(
        target=_exit_with_parent, args=(parent,), name="evoki-udf-parent", daemon=True
    ).start()
    try:
        for loaded in udf_registry.discover([Path(f) for f in folders], Path(root)):
            _WORKER_FUNCS[loaded.spec.name] = udf_registry.arrow_callable(loaded)
    except Exception as exc:  # noqa: BLE001 - every call (_call) reports it, DuckDB shows it
        _WORKER_START_ERROR.append(f"{type(exc).__name__}: {exc}")


def _exit_with_parent(parent: int) -> None:
    """End this worker once its parent is gone (the worker is re-parented then)."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _call(name: str, arrays: tuple[Any, ...]) -> Any:
    if _WORKER_START_ERROR:
        raise RuntimeError(
            f"a worker process of the UDF pool could not load the UDF files: "
            f"{_WORKER_START_ERROR[0]}"
        )
    return _WORKER_FUNCS[name](*arrays)


class UdfPool:
    """A lazily started pool of worker processes that run the project's UDFs."""

    def __init__(self, processes: int, folders: list[Path], root: Path) -> None:
        self.processes = processes
        self._folders = [str(f) for f in folders]
        self._root = str(root)
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    max_workers=self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self._folders, self._root),
                )
            return self._executor

    def wrap(self, name: str, arity: int) -> Callable[..., Any]:
        """A function for DuckDB that computes UDF `name` (of `arity` arguments) on a worker."""

        def run_in_worker(*arrays: Any) -> Any:
            try:
                return self._pool().submit(_call, name, arrays).result()
            except BrokenProcessPool:
                raise RuntimeError(
                    f"UDF '{name}': a worker process of the UDF pool died (out of memory, killed, "
                    "or it failed to start: each worker runs the script that started the build "
                    "again, so that script needs a __main__ guard); set udf_processes: 0 in the "
                    "target to run UDFs in-process"
                ) from None

        run_in_worker.__name__ = name
        # DuckDB checks the number of parameters against the declared argument types
        run_in_worker.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(arity)]
        )
        return run_in_worker

    def close(self) -> None:
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=True, cancel_futures=True)
                self._executor = None
