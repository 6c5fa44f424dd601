"""The project's code fingerprint: a hash of everything that defines a model's values.

Model and macro SQL, seeds (with their YAML column types), UDF modules, the project vars and
the DuckDB version. Model YAML (descriptions, data tests) is left out: editing a test does
not change a value. Partitioned incremental models compare it with the fingerprint their
partitions were built with; a change rebuilds every partition.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import duckdb

SUFFIXES = {
    "model-paths": (".sql",),
    "macro-paths": (".sql",),
    "seed-paths": (".csv", ".yml", ".yaml"),
    "udf-paths": (".py",),
}


def project_fingerprint(config: Any, variables: dict[str, Any]) -> str:
    """sha256 hex of the project's value-defining files, its vars and the DuckDB version."""
    root = Path(config.root)
    digest = hashlib.sha256()
    files = sorted(
        {
            p
            for key, kinds in SUFFIXES.items()
            for folder in config.dirs(key)
            if folder.is_dir()
            for p in folder.rglob("*")
            if p.is_file() and p.suffix in kinds and "__pycache__" not in p.parts
        }
    )
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(repr(sorted(variables.items())).encode("utf-8"))
    # the engine formats the numbers (double -> text) and runs the functions
    digest.update(f"duckdb {duckdb.__version__}".encode())
    return digest.hexdigest()
