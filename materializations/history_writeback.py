"""Materialization `history_writeback`: the model's rows upserted into the history's metrics table.

The model is first built as a DuckDB table (so data tests and ad-hoc queries can read it),
then written into the attached SQLite history in one transaction:

- the `metrics` table is created, or brought from an older shape to the hybrid shape by
  adding the missing columns (never dropping or rewriting a column);
- a turn that already has a row keeps its `metric_id` (the row is updated in place), a new
  turn gets a deterministic one; rows of turns that no longer exist are left alone and counted;
- a row whose stored fingerprint (the project's code version, the model's input
  fingerprint of the turn and its earlier turns, and a hash of the written values) is
  unchanged is not rewritten, unless --full-refresh;
- any error rolls the whole write back: the database is unchanged.

Partitioned (incremental_strategy='replace_partitions', see evoki_sql/compiler.py): an
incremental build replaces the DuckDB rows of this build's partitions (sessions) and plans
only those rows plus the model rows of turns that have no metrics row at all; after the
commit, the rows of those partitions are read back through a fresh read-only SQLite
connection into the temp table `<model>__readback` for the readback model. A full build (no
table yet, or --full-refresh) plans every row, as above.

Config on the model: `history` (attach alias, default 'history'), `history_table`
(default 'metrics'), `turns_table` (default 'turns'), `fingerprint` (the model column with
the input fingerprint, default 'fingerprint').
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evoki_sql import materialization
from evoki_sql.connection import attach
from evoki_sql.errors import NodeFailure
from evoki_sql.fingerprint import project_fingerprint
from evoki_sql.materializations.builtin import (
    in_partitions,
    partitions_relation,
    relation_type,
    replace_partitions,
    table,
)
from evoki_sql.materializations.registry import MaterializationContext, MaterializationResult

# The hybrid shape of the history's metrics table, as the Evoki app defines it, plus the
# input fingerprint column the backfill owns.
HYBRID_COLUMNS: list[tuple[str, str]] = [
    ("metric_id", "TEXT"),
    ("turn_id", "TEXT"),
    ("session_id", "TEXT"),
    ("m1_A", "REAL"),
    ("m2_PCI", "REAL"),
    ("m19_z_prox", "REAL"),
    ("m101_t_panic", "REAL"),
    ("m110_black_hole", "REAL"),
    ("m151_hazard", "REAL"),
    ("F_risk", "REAL"),
    ("metrics_json", "TEXT"),
    ("calculated_at", "TEXT"),
    ("is_alert", "BOOLEAN DEFAULT 0"),
    ("guardian_action", "TEXT"),
    ("input_fingerprint", "TEXT"),
]
CREATE_HYBRID = """
create table {table} (
    metric_id TEXT PRIMARY KEY,
    turn_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    m1_A REAL,
    m2_PCI REAL,
    m19_z_prox REAL,
    m101_t_panic REAL,
    m110_black_hole REAL,
    m151_hazard REAL,
    F_risk REAL,
    metrics_json TEXT NOT NULL,
    calculated_at TEXT,
    is_alert BOOLEAN DEFAULT 0,
    guardian_action TEXT,
    input_fingerprint TEXT
)
"""
# Model columns written into the row (everything of the hybrid shape the model provides).
WRITTEN = [
    c for c, _ in HYBRID_COLUMNS if c not in ("metric_id", "calculated_at", "input_fingerprint")
]
BATCH = 5000


@dataclass
class WritebackStats:
    """What the write-back did; goes into the node result and the backfill report."""

    turns_seen: int = 0  # the rows planned: every turn, or the turns of the rebuilt sessions
    turns_total: int = 0  # rows of the model table after this build
    sessions_rebuilt: int | None = None  # None: a full build
    batches: int | None = None  # a batched model (config batch_by): how many batches ran
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    orphans: int = 0
    duplicate_rows: int = 0
    created_table: bool = False
    added_columns: list[str] = field(default_factory=list)
    history_path: str = ""
    calculated_at: str = ""
    seconds: float = 0.0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def code_version(ctx: MaterializationContext) -> str:
    """A hash of everything that defines the numbers: models, macros, seeds, UDFs, vars and
    the DuckDB version (evoki_sql.fingerprint)."""
    return project_fingerprint(ctx.manifest.config, ctx.manifest.env.variables)


def metric_id_for(turn_id: str) -> str:
    """The deterministic metric_id of a new row."""
    return "fs168-" + hashlib.sha256(turn_id.encode("utf-8")).hexdigest()[:24]


class HistoryWriter:
    """One write transaction on the history database (sqlite3, BEGIN IMMEDIATE)."""

    def __init__(self, path: Path, table_name: str, busy_timeout_ms: int) -> None:
        self.path = path
        self.table = table_name
        self.busy_timeout_ms = busy_timeout_ms
        self.con = sqlite3.connect(str(path), timeout=busy_timeout_ms / 1000, isolation_level=None)

    def begin(self) -> None:
        try:
            self.con.execute("begin immediate")
        except sqlite3.OperationalError as exc:
            self.con.close()
            if "locked" in str(exc) or "busy" in str(exc):
                raise NodeFailure(
                    f"the history database is locked by another writer (waited "
                    f"{self.busy_timeout_ms} ms): {self.path}; nothing was changed"
                ) from None
            raise

    def columns(self) -> dict[str, dict[str, Any]]:
        rows = self.con.execute(f"pragma table_info({_quote(self.table)})").fetchall()
        return {
            r[1]: {"type": r[2], "notnull": bool(r[3]), "default": r[4], "pk": r[5]} for r in rows
        }

    def ensure_shape(self, stats: WritebackStats) -> dict[str, dict[str, Any]]:
        existing = self.columns()
        if not existing:
            self.con.execute(CREATE_HYBRID.format(table=_quote(self.table)))
            stats.created_table = True
        else:
            for name, decl in HYBRID_COLUMNS:
                if name not in existing:
                    self.con.execute(
                        f"alter table {_quote(self.table)} add column {_quote(name)} {decl}"
                    )
                    stats.added_columns.append(name)
        self.con.execute(
            f"create index if not exists {_quote(self.table + '_turn_id')} "
            f"on {_quote(self.table)} (turn_id)"
        )
        return self.columns()

    def snapshot(self, turn_ids: list[str] | None = None) -> sqlite3.Cursor:
        """Keys of the stored rows (row_id, turn_id, metric_id, input_fingerprint), as a cursor:
        all, or those of `turn_ids` (by the turn index)."""
        select = f"select rowid, turn_id, metric_id, input_fingerprint from {_quote(self.table)}"
        if turn_ids is None:
            return self.con.execute(select)
        return self.con.execute(
            f"{select} where turn_id in (select value from json_each(?))", [json.dumps(turn_ids)]
        )

    def commit(self) -> None:
        try:
            self.con.execute("commit")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise NodeFailure(
                    f"the history database is held by a reader that did not let go within "
                    f"{self.busy_timeout_ms} ms (rollback journal: the commit waits for readers; "
                    f"WAL mode avoids this): {self.path}; nothing was changed"
                ) from None
            raise

    def rollback(self) -> None:
        if self.con.in_transaction:
            self.con.execute("rollback")

    def close(self) -> None:
        self.con.close()


class HistoryProbe:
    """What the write-back needs to know of the stored rows, read on a read-only SQLite
    connection in a thread while DuckDB builds the model's table (SQLite releases the GIL
    while it runs a query), so that neither read costs the build time (0.3-0.5 s each at 1M
    turns):

    - the number of stored rows whose turn is gone (the report's orphan rows);
    - for a partitioned build, the turns that have no stored row at all (someone deleted it,
      or a new turn), which the write-back plans besides the rebuilt sessions' turns.

    Both describe the history when the write-back started. The write adds no row of a missing
    turn, so only another process deleting turns or rows meanwhile could change them: a count
    for the report, which decides nothing, and a stored row deleted after the read, which the
    next build writes again (the plan itself reads the stored keys of its turns inside the
    write transaction, so a row that appeared meanwhile is updated, never doubled). The
    connection is closed by join() or the results, after the model's build: closing a file
    drops every POSIX lock the process holds on it, and DuckDB's own SQLite may hold one
    while a model reads the history."""

    def __init__(
        self,
        path: Path,
        table_name: str,
        turns_table: str,
        busy_timeout_ms: int,
        turns_without_row: bool,
    ) -> None:
        self._path = path
        self._table = table_name
        self._turns = turns_table
        self._timeout = busy_timeout_ms / 1000
        self._want_turns = turns_without_row
        self._reader: sqlite3.Connection | None = None
        self._count: list[int] = []
        self._without_row: list[list[str]] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="evoki-history-probe", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._reader = sqlite3.connect(
                f"{self._path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=self._timeout,
                check_same_thread=False,
            )
            exists = self._reader.execute(
                "select 1 from sqlite_master where type = 'table' and name = ?", [self._table]
            ).fetchone()
            count = 0
            if exists is not None:
                count = self._reader.execute(
                    f"select count(*) from {_quote(self._table)} as e where not exists ("
                    f"select 1 from {_quote(self._turns)} as t where t.turn_id = e.turn_id)"
                ).fetchone()[0]
            self._count.append(int(count))
            if self._want_turns:
                self._without_row.append(
                    _turns_without_row(self._reader, self._table, self._turns, exists is not None)
                )
        except BaseException as exc:  # noqa: BLE001 - the results raise it in the build's thread
            self._error.append(exc)

    def join(self) -> None:
        """Wait for the thread, then close its connection."""
        self._thread.join()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def _finished(self) -> None:
        """Wait for the thread; raise the error that stopped it, if one did."""
        self.join()
        if self._error:
            raise self._error[0]

    def orphans(self) -> int:
        """The orphan count, once the thread is done."""
        self._finished()
        return self._count[0]

    def turns_without_row(self) -> list[str]:
        """The turns without a stored row (asked for at the start), once the thread is done."""
        self._finished()
        return self._without_row[0]


def _turns_without_row(
    con: sqlite3.Connection, table_name: str, turns_table: str, table_exists: bool
) -> list[str]:
    """Turns that have no stored row at all (every turn when the table does not exist yet)."""
    if not table_exists:
        return [r[0] for r in con.execute(f"select turn_id from {_quote(turns_table)}")]
    return [
        r[0]
        for r in con.execute(
            f"select t.turn_id from {_quote(turns_table)} as t where not exists ("
            f"select 1 from {_quote(table_name)} as m where m.turn_id = t.turn_id)"
        )
    ]


def partitioned_run(ctx: MaterializationContext) -> bool:
    """True when this build replaces only the partitions its `partitions` model lists."""
    return (
        ctx.node.config.get("incremental_strategy") == "replace_partitions"
        and ctx.incremental
        and relation_type(ctx.con, ctx.relation) == "table"
    )


@materialization("history_writeback")
def history_writeback(ctx: MaterializationContext) -> MaterializationResult:
    config = ctx.node.config
    alias = str(config.get("history", "history"))
    attachment = next((a for a in ctx.target.attach if a.alias == alias), None)
    if attachment is None:
        raise NodeFailure(f"the target attaches no database named '{alias}'")
    partitioned = partitioned_run(ctx)
    probe = HistoryProbe(
        attachment.path,
        str(config.get("history_table", "metrics")),
        str(config.get("turns_table", "turns")),
        attachment.busy_timeout_ms,
        turns_without_row=partitioned,
    )
    try:
        built = replace_partitions(ctx) if partitioned else table(ctx)
    except BaseException:
        probe.join()
        raise
    # partitioned: the turns of this build's sessions (planned and then read back), and the
    # turns without a stored row (planned too)
    rebuilt = _rebuilt_turns(ctx) if partitioned else None
    without_row = probe.turns_without_row() if partitioned else None
    stats = WritebackStats(
        history_path=str(attachment.path),
        batches=(built.adapter_response or {}).get("batches"),
        orphans=probe.orphans(),
    )
    started = time.perf_counter()
    stats.calculated_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    version = code_version(ctx)
    writer = HistoryWriter(
        attachment.path, str(config.get("history_table", "metrics")), attachment.busy_timeout_ms
    )
    # DuckDB's sqlite extension opens the same file in this process; SQLite's POSIX locks
    # belong to the process, so DuckDB closing its handle mid-transaction would silently drop
    # the writer's lock and let another process write. Detach first, attach again after.
    ctx.con.execute(f"detach {_quote(alias)}")
    try:
        writer.begin()
        try:
            columns = writer.ensure_shape(stats)
            _write(ctx, writer, columns, version, stats, rebuilt, without_row)
            writer.commit()
        except BaseException:
            writer.rollback()
            raise
        finally:
            writer.close()
    finally:
        attach(ctx.con, attachment)
    if rebuilt is not None:
        _read_back_partitions(ctx, attachment.path, writer.table, rebuilt)
        stats.sessions_rebuilt = int((built.adapter_response or {}).get("partitions", 0))
    stats.turns_total = ctx.con.execute(f"select count(*) from {ctx.relation}").fetchone()[0]
    stats.seconds = time.perf_counter() - started
    return MaterializationResult(
        f"wrote {stats.inserted + stats.updated} of {stats.turns_seen} turns into "
        f"{alias}.{writer.table} "
        f"({stats.inserted} new, {stats.updated} updated, {stats.unchanged} unchanged, "
        f"{stats.orphans} orphan rows left)",
        stats.inserted + stats.updated,
        dict(stats.__dict__),
    )


def _write(
    ctx: MaterializationContext,
    writer: HistoryWriter,
    columns: dict[str, Any],
    version: str,
    stats: WritebackStats,
    rebuilt: list[str] | None = None,
    without_row: list[str] | None = None,
) -> None:
    """Plan on keys only (turn, fingerprint, existing row), then stream the model's rows in
    its table order, BATCH rows at a time, into the open SQLite transaction. Memory stays
    bounded by one batch whatever the size of the history."""
    con = ctx.con
    fp_col = str(ctx.node.config.get("fingerprint", "fingerprint"))
    model_cols = {r[0] for r in con.execute(f"describe {ctx.relation}").fetchall()}
    missing = [c for c in ["turn_id", "metrics_json", fp_col] if c not in model_cols]
    if missing:
        raise NodeFailure(f"model lacks the columns {', '.join(missing)} that the write-back needs")
    written = [c for c in WRITTEN if c in model_cols and c in columns]
    # partitioned: the turns of this build's sessions and every turn without a stored row;
    # only their stored keys are read (by the turn index), not the whole metrics table
    scope = _scope(ctx, rebuilt, without_row or []) if rebuilt is not None else None
    _register_existing(con, writer, scope)
    try:
        _plan(ctx, writer, written, fp_col, version, stats, scope is not None)
        _stream(ctx, writer, columns, written, stats)
    finally:
        con.execute("drop table if exists evoki_existing_metrics")
        if scope is not None:
            con.unregister("evoki_writeback_scope")
        con.execute("drop table if exists evoki_writeback_plan")


def _rebuilt_turns(ctx: MaterializationContext) -> list[str]:
    """Turn ids of the model's rows in this build's partitions."""
    key, partitions = partitions_relation(ctx)
    return [
        r[0]
        for r in ctx.con.execute(
            f"select turn_id from {ctx.relation} as m where {in_partitions(key, partitions, 'm')}"
        ).fetchall()
    ]


def _scope(ctx: MaterializationContext, rebuilt: list[str], without_row: list[str]) -> list[str]:
    """Turn ids a partitioned write-back plans (the rebuilt ones and every turn without a
    stored row), registered as evoki_writeback_scope."""
    import pyarrow as pa

    scope = sorted(set(rebuilt) | set(without_row))
    ctx.con.register("evoki_writeback_scope", pa.table({"turn_id": pa.array(scope, pa.string())}))
    return scope


# The stored keys the plan joins on, typed for DuckDB (names as the plan uses them).
EXISTING_KEYS = [
    ("row_id", "BIGINT"),
    ("turn_id", "VARCHAR"),
    ("metric_id", "VARCHAR"),
    ("fingerprint", "VARCHAR"),
]


def _register_existing(con: Any, writer: HistoryWriter, scope: list[str] | None) -> None:
    """The history's current metrics rows (keys only; of the `scope` turns when given) as the
    DuckDB temp table evoki_existing_metrics, copied BATCH rows at a time."""
    _copy_rows(
        con,
        writer.snapshot(scope),
        EXISTING_KEYS,
        "evoki_existing_metrics",
        writer.table,
        temporary=True,
    )


def _plan(
    ctx: MaterializationContext,
    writer: HistoryWriter,
    written: list[str],
    fp_col: str,
    version: str,
    stats: WritebackStats,
    partitioned: bool = False,
) -> None:
    """evoki_writeback_plan: one row per (model row, existing row of its turn), keys only.
    Partitioned: the rows of the scope turns (evoki_writeback_scope) only."""
    con = ctx.con
    stats.duplicate_rows = con.execute(
        "select coalesce(sum(n - 1), 0) from (select count(*) n from evoki_existing_metrics "
        "group by turn_id having count(*) > 1)"
    ).fetchone()[0]
    # The stored fingerprint covers the code version, the model's input fingerprint and
    # the written values themselves: a row written from stale upstream tables (a subset
    # run) never matches a fresh one, so it cannot be skipped as "unchanged" later. The
    # values (about 5 KB of JSON a row) are digested with MD5, which detects a change as well
    # as SHA-256 does here (nobody crafts collisions against their own history) at 2.5x the
    # speed: 10 s instead of 24 s at 1M rows; the stored fingerprint stays a SHA-256.
    content = " || chr(31) || ".join(
        f"coalesce(cast(m.{_quote(c)} as varchar), chr(0))" for c in written
    )
    changed = (
        "true"
        if ctx.full_refresh
        else "e.fingerprint is distinct from p.evoki_fp or e.metric_id is null"
    )
    scope = "where m.turn_id in (select turn_id from evoki_writeback_scope)" if partitioned else ""
    con.execute(
        f"""
        create or replace temp table evoki_writeback_plan as
        with fingerprints as (
            select
                m.rowid as model_row,
                m.turn_id,
                sha256(? || chr(31) || m.{_quote(fp_col)} || chr(31) || md5({content}))
                    as evoki_fp
            from {ctx.relation} as m
            {scope}
        )
        select
            p.model_row,
            p.turn_id,
            p.evoki_fp,
            e.row_id,
            e.metric_id,
            e.row_id is null or ({changed}) as to_write
        from fingerprints as p
        left join evoki_existing_metrics as e
            on e.turn_id = p.turn_id
        """,
        [version],
    )
    stats.turns_seen, stats.unchanged = con.execute(
        "select count(distinct turn_id), count(*) filter (not to_write) from evoki_writeback_plan"
    ).fetchone()


def _stream(
    ctx: MaterializationContext,
    writer: HistoryWriter,
    columns: dict[str, Any],
    written: list[str],
    stats: WritebackStats,
) -> None:
    con = ctx.con
    total, first_row, last_row = con.execute(
        "select count(*) filter (to_write), coalesce(min(model_row), 0), "
        "coalesce(max(model_row), -1) from evoki_writeback_plan"
    ).fetchone()
    ctx.progress(0, total)
    set_list = ", ".join(f"{_quote(c)} = ?" for c in written)
    update_sql = (
        f"update {_quote(writer.table)} set {set_list}, calculated_at = ?, "
        f"input_fingerprint = ?, metric_id = coalesce(metric_id, ?) where rowid = ?"
    )
    insert_cols = ["metric_id", *written, "calculated_at", "input_fingerprint"]
    if "created_at" in columns:
        insert_cols.append("created_at")
    insert_sql = (
        f"insert into {_quote(writer.table)} ({', '.join(map(_quote, insert_cols))})"
        f" values ({', '.join('?' for _ in insert_cols)})"
    )
    casts = {"REAL": "double", "TEXT": "varchar", "BOOLEAN DEFAULT 0": "boolean"}
    declared = dict(HYBRID_COLUMNS)
    select_cols = ", ".join(f"cast({_quote(c)} as {casts[declared[c]]})" for c in written)
    now = stats.calculated_at
    created = (now,) if "created_at" in columns else ()
    done = 0
    for low in range(first_row - first_row % BATCH, last_row + 1, BATCH):
        high = low + BATCH
        plan = con.execute(
            "select model_row, turn_id, evoki_fp, row_id from evoki_writeback_plan "
            "where to_write and model_row >= ? and model_row < ? order by model_row, row_id",
            [low, high],
        ).fetchall()
        if not plan:
            continue
        values = {
            r[0]: r[1:]
            for r in con.execute(
                f"select rowid, {select_cols} from {ctx.relation} where rowid >= ? and rowid < ?",
                [low, high],
            ).fetchall()
        }
        updates, inserts = [], []
        for model_row, turn_id, fingerprint, row_id in plan:
            row = values[model_row]
            metric_id = metric_id_for(turn_id)
            if row_id is None:
                inserts.append((metric_id, *row, now, fingerprint, *created))
            else:
                updates.append((*row, now, fingerprint, metric_id, row_id))
        if updates:
            writer.con.executemany(update_sql, updates)
            stats.updated += len(updates)
        if inserts:
            writer.con.executemany(insert_sql, inserts)
            stats.inserted += len(inserts)
        done += len(plan)
        ctx.progress(done, total)


def _read_back_partitions(
    ctx: MaterializationContext, path: Path, table_name: str, turn_ids: list[str]
) -> None:
    """`<model>__readback`: the stored rows of this build's partitions, read after the commit
    through a fresh read-only connection (by the turn index, not a scan of the whole table),
    typed as DuckDB's sqlite scanner types the table.

    A temp table: the readback model reads it in the same run (as `<schema>.<model>__readback`,
    which DuckDB resolves to the temp table first; a run without the write-back reads the
    history instead), and nothing else needs it. Stored in the
    database, its rows (about 5 KB of JSON each) went through the WAL and a checkpoint: 0.4 s of
    a +1% build at 1M turns. A table of that name that an older version stored is dropped."""
    alias = str(ctx.node.config.get("history", "history"))
    described = ctx.con.execute(f"describe {_quote(alias)}.main.{_quote(table_name)}").fetchall()
    names = [r[0] for r in described]
    name = ctx.relation.identifier + "__readback"
    database = ctx.con.execute("select current_database()").fetchone()[0]
    ctx.con.execute(
        f"drop table if exists {_quote(database)}.{_quote(ctx.relation.schema)}.{_quote(name)}"
    )
    readback = _quote(name)
    reader = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        cursor = reader.execute(
            f"select {', '.join(map(_quote, names))} from {_quote(table_name)} "
            "where turn_id in (select value from json_each(?))",
            [json.dumps(turn_ids)],
        )
        _copy_rows(
            ctx.con,
            cursor,
            [(r[0], str(r[1])) for r in described],
            readback,
            table_name,
            temporary=True,
        )
    finally:
        reader.close()


def _copy_rows(
    con: Any,
    cursor: sqlite3.Cursor,
    columns: list[tuple[str, str]],
    table: str,
    source: str,
    temporary: bool = False,
) -> None:
    """Create (or replace) the DuckDB `table` from a SQLite cursor's rows, BATCH rows at a time
    (Python holds one batch, whatever the size of the history), each column typed as given
    (name, DuckDB type), as DuckDB's sqlite scanner types it. A column type it cannot copy,
    or a value of another type, stops the build naming the column of `source`."""
    import pyarrow as pa

    arrow = {
        "DOUBLE": pa.float64(),
        "VARCHAR": pa.string(),
        "BIGINT": pa.int64(),
        "BOOLEAN": pa.bool_(),
    }
    typed = []
    for name, duck_type in columns:
        if duck_type not in arrow:
            raise NodeFailure(f"column {name} of {source} has a type that cannot be copied")
        typed.append((name, duck_type, arrow[duck_type]))
    first = True
    while True:
        rows = cursor.fetchmany(BATCH)
        if not rows and not first:
            return
        con.register("evoki_copied_rows", _arrow_batch(rows, typed, source))
        try:
            if first:
                kind = "temp table" if temporary else "table"
                con.execute(f"create or replace {kind} {table} as select * from evoki_copied_rows")
            else:
                con.execute(f"insert into {table} select * from evoki_copied_rows")
        finally:
            con.unregister("evoki_copied_rows")
        first = False


def _arrow_batch(
    rows: list[tuple[Any, ...]], typed: list[tuple[str, str, Any]], source: str
) -> Any:
    """Rows as an Arrow table of the given (name, DuckDB type, Arrow type) columns."""
    import pyarrow as pa

    arrays = {}
    for index, (name, duck_type, arrow_type) in enumerate(typed):
        try:
            arrays[name] = pa.array([r[index] for r in rows], arrow_type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            raise NodeFailure(
                f"column {name} of {source} holds a value that is not {duck_type}"
            ) from None
    return pa.table(arrays)
