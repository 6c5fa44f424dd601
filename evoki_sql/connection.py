"""Opens the DuckDB database of a target: settings, the packaged sqlite extension, attachments."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from evoki_sql.config import Attachment, Target
from evoki_sql.errors import DatabaseError
from evoki_sql.relation import quote_ident, quote_literal

SQLITE_MAGIC = b"SQLite format 3\x00"


def sqlite_extension_path() -> Path:
    """The sqlite_scanner binary shipped in the duckdb-extension-sqlite-scanner package."""
    import duckdb

    try:
        import duckdb_extension_sqlite_scanner as package
    except ImportError:
        raise DatabaseError(
            "the sqlite_scanner extension package is not installed: "
            f"pip install duckdb-extension-sqlite-scanner=={duckdb.__version__}"
        ) from None
    base = Path(package.__file__).parent / "extensions"
    path = base / f"v{duckdb.__version__}" / "sqlite_scanner.duckdb_extension"
    if not path.is_file():
        found = sorted(p.parent.name for p in base.glob("*/sqlite_scanner.duckdb_extension"))
        raise DatabaseError(
            f"no sqlite_scanner extension for duckdb {duckdb.__version__} in "
            f"{base} (found: {', '.join(found) or 'none'}); install matching "
            "versions of duckdb and duckdb-extension-sqlite-scanner"
        )
    return path


# DuckDB settings of every build connection; the target's own `settings` override them.
# max_vacuum_tasks 0: a checkpoint does not vacuum the row groups that lost rows. Incremental
# builds delete the rows they replace, and vacuuming made every checkpoint rewrite the tail row
# groups of each table the build touched: 2.6 s of the 5 s of checkpoints of a +1% build at 1M
# turns. The incremental materializations compact a table themselves once its dead rows pass a
# share of its rows (evoki_sql/materializations/compaction.py).
DEFAULT_SETTINGS = {"TimeZone": "UTC", "max_vacuum_tasks": "0"}


def ensure_attachment_file(att: Attachment, announce: Any) -> None:
    """The attached file must exist (or be built by its bootstrap) and be a readable SQLite file."""
    if not att.path.exists() and att.bootstrap is not None:
        announce(f"{att.path} does not exist: building it with {att.bootstrap.name}")
        result = subprocess.run(
            [sys.executable, str(att.bootstrap), str(att.path)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not att.path.exists():
            last = (result.stderr.strip().splitlines() or ["no output"])[-1]
            raise DatabaseError(f"bootstrap {att.bootstrap} failed for {att.path}: {last}")
    if not att.path.exists():
        raise DatabaseError(
            f"attached database '{att.alias}' not found: {att.path} (nothing was created)"
        )
    if att.path.is_dir():
        raise DatabaseError(f"attached database '{att.alias}' is a folder: {att.path}")
    if att.type != "sqlite":
        return
    with att.path.open("rb") as handle:
        head = handle.read(16)
    if head and head != SQLITE_MAGIC:
        raise DatabaseError(f"attached database '{att.alias}' is not a SQLite file: {att.path}")
    probe = None
    try:
        # read-write when the target may write: a journal left by a killed writer is then
        # rolled back here (a read-only connection cannot, and would refuse the file)
        mode = "ro" if att.read_only else "rw"
        probe = sqlite3.connect(
            f"{att.path.as_uri()}?mode={mode}", uri=True, timeout=att.busy_timeout_ms / 1000
        )
        probe.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise DatabaseError(
                f"attached database '{att.alias}' is locked by another process "
                f"(waited {att.busy_timeout_ms} ms): {att.path}"
            ) from None
        raise DatabaseError(
            f"attached database '{att.alias}' cannot be read: {exc}: {att.path}"
        ) from None
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(
            f"attached database '{att.alias}' is not a valid SQLite file ({exc}): {att.path}"
        ) from None
    finally:
        if probe is not None:
            probe.close()


def connect(target: Target, announce: Any) -> Any:
    """A DuckDB connection for the target with its settings and attachments."""
    import duckdb

    for att in target.attach:
        ensure_attachment_file(att, announce)
    if target.path != ":memory:":
        Path(target.path).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target.path)
    except duckdb.IOException as exc:
        raise DatabaseError(
            f"cannot open DuckDB database {target.path}: {_first_line(exc)}"
        ) from None
    try:
        for key, value in {**DEFAULT_SETTINGS, **target.settings}.items():
            con.execute(f"set {quote_ident(str(key))} = {quote_literal(str(value))}")
        if any(a.type == "sqlite" for a in target.attach):
            con.execute(f"load {quote_literal(str(sqlite_extension_path()))}")
        for att in target.attach:
            attach(con, att)
    except duckdb.Error as exc:
        con.close()
        raise DatabaseError(f"cannot prepare the connection: {_first_line(exc)}") from None
    return con


def attach(con: Any, att: Attachment) -> None:
    """ATTACH one database of the target (also used to re-attach after a detach)."""
    options = [f"type {att.type}"]
    if att.read_only:
        options.append("read_only")
    if att.type == "sqlite":
        options.append(f"busy_timeout {int(att.busy_timeout_ms)}")
    con.execute(
        f"attach {quote_literal(str(att.path))} as {quote_ident(att.alias)} ({', '.join(options)})"
    )


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
