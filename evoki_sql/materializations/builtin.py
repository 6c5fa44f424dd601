"""The built-in materializations: view, table and incremental (merge on unique_key)."""

from __future__ import annotations

from typing import Any

import duckdb

from evoki_sql import batches
from evoki_sql.errors import NodeFailure
from evoki_sql.materializations.compaction import compact_if_dead, dead_share_limit
from evoki_sql.materializations.registry import (
    MaterializationContext,
    MaterializationResult,
    materialization,
)
from evoki_sql.relation import Relation, quote_ident


def relation_type(con: Any, relation: Relation) -> str | None:
    """'table', 'view' or None for a relation of the DuckDB database."""
    # A view is looked up in duckdb_views() (~0.5 ms); a table by binding a query on it
    # (~0.3 ms): duckdb_tables() renders every table's DDL and took 4-7 ms a call, 0.7 s of a
    # build that changed nothing. A name that binds to nothing raises a catalog error, which
    # does not abort an open transaction.
    database = relation.database if relation.database == "temp" else None
    view = con.execute(
        "select 1 from duckdb_views() where database_name = coalesce(?, current_database()) "
        "and schema_name = ? and view_name = ?",
        [database, relation.schema, relation.identifier],
    ).fetchone()
    if view is not None:
        return "view"
    try:
        con.execute(f"select 1 from {relation} limit 0")
    except duckdb.CatalogException:
        return None
    return "table"


def _prepare(ctx: MaterializationContext, wanted: str) -> None:
    """Create the schema and drop an existing relation of the other kind."""
    if ctx.relation.schema != "main":
        ctx.execute(f"create schema if not exists {quote_ident(ctx.relation.schema)}")
    existing = relation_type(ctx.con, ctx.relation)
    if existing is not None and existing != wanted:
        ctx.execute(f"drop {existing} {ctx.relation}")


BUILTIN = ("view", "table", "incremental")


def create_table_as(ctx: MaterializationContext, relation: str, temporary: bool = False) -> int:
    """`create or replace [temp] table relation as (the model's SQL)`; the number of rows.
    A batched model (evoki_sql/batches.py) runs once per batch range: the first creates the
    table, the others insert into it, in range order."""
    kind = "temp table" if temporary else "table"
    plan = ctx.batches
    if plan is None:
        row = ctx.execute(f"create or replace {kind} {relation} as (\n{ctx.sql}\n)").fetchone()
        return int(row[0]) if row else 0
    total = 0
    for index, (low, high) in enumerate(batches.ranges(ctx.con, plan)):
        batches.set_range(ctx.con, low, high)
        if index == 0:
            statement = f"create or replace {kind} {relation} as (\n{ctx.sql}\n)"
        else:
            statement = f"insert into {relation} (\n{ctx.sql}\n)"
        row = ctx.execute(statement).fetchone()
        total += int(row[0]) if row else 0
        ctx.batches_run += 1
    # after a failed batch the caller's rollback() clears them (the transaction is aborted)
    batches.clear(ctx.con)
    return total


def rollback(ctx: MaterializationContext) -> None:
    """Roll the model's transaction back, and forget a batch range it may have left set."""
    ctx.con.execute("rollback")
    batches.clear(ctx.con)


@materialization("view")
def view(ctx: MaterializationContext) -> MaterializationResult:
    ctx.execute("begin transaction")
    try:
        _prepare(ctx, "view")
        ctx.execute(f"create or replace view {ctx.relation} as (\n{ctx.sql}\n)")
        ctx.execute("commit")
    except Exception:
        rollback(ctx)
        raise
    return MaterializationResult(f"created view model {ctx.relation}")


@materialization("table")
def table(ctx: MaterializationContext) -> MaterializationResult:
    ctx.execute("begin transaction")
    try:
        _prepare(ctx, "table")
        count = create_table_as(ctx, str(ctx.relation))
        ctx.execute("commit")
    except Exception:
        rollback(ctx)
        raise
    return MaterializationResult(f"created table model {ctx.relation}", count, batch_response(ctx))


def batch_response(ctx: MaterializationContext) -> dict[str, Any]:
    """The adapter_response entry of a batched model: how many batches ran."""
    return {"batches": ctx.batches_run} if ctx.batches is not None else {}


def _columns(con: Any, relation: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"describe {relation}").fetchall()]


@materialization("incremental")
def incremental(ctx: MaterializationContext) -> MaterializationResult:
    dead_share_limit(ctx)  # a bad compact_dead_share fails every build, not only a merge
    existing = relation_type(ctx.con, ctx.relation)
    if ctx.full_refresh or existing != "table" or not ctx.incremental:
        result = table(ctx)
        result.message = result.message.replace("created table", "created incremental")
        return result
    if ctx.node.config.get("incremental_strategy") == "replace_partitions":
        return replace_partitions(ctx)
    unique_key = ctx.node.config.get("unique_key")
    keys = [unique_key] if isinstance(unique_key, str) else list(unique_key or [])
    staging = Relation(None, ctx.relation.schema, ctx.relation.identifier + "__evoki_new")
    ctx.execute("begin transaction")
    try:
        create_table_as(ctx, quote_ident(staging.identifier), temporary=True)
        new_cols = _columns(ctx.con, quote_ident(staging.identifier))
        old_cols = _columns(ctx.con, str(ctx.relation))
        if [c.lower() for c, _ in new_cols] != [c.lower() for c, _ in old_cols]:
            raise NodeFailure(
                f"the columns of {ctx.relation} changed ({', '.join(c for c, _ in old_cols)} -> "
                f"{', '.join(c for c, _ in new_cols)}): run with --full-refresh"
            )
        deleted = 0
        if keys:
            match = " and ".join(
                f"t.{quote_ident(k)} is not distinct from n.{quote_ident(k)}" for k in keys
            )
            row = ctx.execute(
                f"delete from {ctx.relation} as t using "
                f"{quote_ident(staging.identifier)} as n where {match}"
            ).fetchone()
            deleted = int(row[0]) if row else 0
        row = ctx.execute(
            f"insert into {ctx.relation} by name select * from {quote_ident(staging.identifier)}"
        ).fetchone()
        ctx.execute(f"drop table {quote_ident(staging.identifier)}")
        ctx.execute("commit")
    except Exception:
        rollback(ctx)
        raise
    compacted = compact_if_dead(ctx) if deleted else 0
    inserted = int(row[0]) if row else 0
    return MaterializationResult(
        f"merged incremental model {ctx.relation}: {inserted - deleted} new, {deleted} updated"
        + compacted_note(compacted),
        inserted,
        {
            "inserted": inserted - deleted,
            "updated": deleted,
            "compacted_dead_rows": compacted,
            **batch_response(ctx),
        },
    )


def compacted_note(dead_rows: int) -> str:
    """The result message's note on a compaction (empty when the table was not rewritten)."""
    return f" (rewritten to drop {dead_rows} dead row slots)" if dead_rows else ""


def partitions_relation(ctx: MaterializationContext) -> tuple[str, str]:
    """(quoted partition column, relation of the model listing this run's partitions)."""
    key = quote_ident(str(ctx.node.config["partition_by"]))
    name = str(ctx.node.config["partitions"])
    uid = ctx.manifest.by_name[name]
    return key, str(ctx.manifest.nodes[uid].relation)


# The new rows stay as the temp table the compiler's partition view names when they are at
# most this share of the table: the children and the tests of this run read them directly
# instead of semi-joining the whole table (which reads every row of every column they use).
KEEP_PARTITION_ROWS_SHARE = 0.25


def partition_rows_relation(relation: Relation) -> Relation:
    """The temp relation holding a partitioned model's rows of this run's partitions."""
    return Relation("temp", "main", relation.identifier + "__partitions")


def in_partitions(key: str, partitions: str, alias: str) -> str:
    """The predicate: row `alias` belongs to a partition the `partitions` relation lists
    (`key` quoted; NULL is a partition like any other)."""
    return (
        f"exists (select 1 from {partitions} as p where p.{key} is not distinct from {alias}.{key})"
    )


def keep_partition_rows(ctx: MaterializationContext, staging: str, rows: int, total: int) -> bool:
    """Keep the just-inserted rows as partition_rows_relation() (exactly the rows the partition
    view would return: every older row of those partitions was deleted), or drop them."""
    rows_relation = partition_rows_relation(ctx.relation)
    existing = relation_type(ctx.con, rows_relation)
    if existing is not None:
        ctx.execute(f"drop {existing} {rows_relation}")
    if rows <= KEEP_PARTITION_ROWS_SHARE * max(total, 1):
        ctx.execute(
            f"alter table temp.main.{staging} rename to {quote_ident(rows_relation.identifier)}"
        )
        return True
    ctx.execute(f"drop table temp.main.{staging}")
    return False


def replace_partitions(ctx: MaterializationContext) -> MaterializationResult:
    """Incremental by partition: delete every row of the partitions listed by the
    `partitions` model, insert the model's rows (which must all belong to them). A row
    outside those partitions stops the run: the model read something unpartitioned."""
    key, partitions = partitions_relation(ctx)
    dead_share_limit(ctx)
    staging = quote_ident(ctx.relation.identifier + "__evoki_new")
    ctx.execute("begin transaction")
    try:
        create_table_as(ctx, staging, temporary=True)
        new_cols = _columns(ctx.con, staging)
        old_cols = _columns(ctx.con, str(ctx.relation))
        if [c.lower() for c, _ in new_cols] != [c.lower() for c, _ in old_cols]:
            raise NodeFailure(
                f"the columns of {ctx.relation} changed ({', '.join(c for c, _ in old_cols)} -> "
                f"{', '.join(c for c, _ in new_cols)}): run with --full-refresh"
            )
        outside = ctx.execute(
            f"select count(*) from {staging} as n where not {in_partitions(key, partitions, 'n')}"
        ).fetchone()[0]
        if outside:
            raise NodeFailure(
                f"{outside} rows of {ctx.relation} belong to partitions ({key}) that "
                f"{partitions} does not list: the model must read its partitioned inputs "
                "through ref() of partitioned models"
            )
        row = ctx.execute(
            f"delete from {ctx.relation} as t where {in_partitions(key, partitions, 't')}"
        ).fetchone()
        deleted = int(row[0]) if row else 0
        row = ctx.execute(f"insert into {ctx.relation} by name select * from {staging}").fetchone()
        inserted = int(row[0]) if row else 0
        count = ctx.execute(f"select count(*) from {partitions}").fetchone()[0]
        total = ctx.execute(f"select count(*) from {ctx.relation}").fetchone()[0]
        ctx.execute("commit")
    except Exception:
        rollback(ctx)
        raise
    compacted = compact_if_dead(ctx) if deleted else 0
    kept = keep_partition_rows(ctx, staging, inserted, total)
    return MaterializationResult(
        f"replaced {count} partitions of {ctx.relation}: {inserted} rows in, {deleted} out"
        + compacted_note(compacted),
        inserted,
        {
            "partitions": int(count),
            "inserted": inserted,
            "deleted": deleted,
            "partition_rows_kept": kept,
            "compacted_dead_rows": compacted,
            **batch_response(ctx),
        },
    )
