"""Compaction of incremental tables: a table whose dead row slots pass a share is rewritten.

Build connections do not vacuum at checkpoints (evoki_sql/connection.py, DEFAULT_SETTINGS), so
the rows an incremental build deletes (replaced partitions, merged keys) keep their slots in
the table's storage. After each incremental merge or partition replacement that deleted rows,
once its transaction has committed, a table whose dead slots exceed `compact_dead_share`
(model config, default 0.5) times its live rows is rewritten in place, in a transaction of its
own: `create or replace table t as select * from t`, the same rows in the same order with the
same types. The dead slots are counted as max(rowid) + 1 - count(*): DuckDB numbers a table's
rows by storage slot and renumbers them only when it rewrites the table's row groups.

With the default, a table holds at most 1.5 row slots per live row, and a history that grows
by 1% a build (each build replacing about 0.5% of the rows) rewrites its tables about once
every 90 builds (78 s at 1M turns), instead of vacuuming at every checkpoint.
"""

from __future__ import annotations

from evoki_sql.errors import NodeFailure
from evoki_sql.materializations.registry import MaterializationContext

DEFAULT_DEAD_SHARE = 0.5


def dead_share_limit(ctx: MaterializationContext) -> float:
    """The model's `compact_dead_share`: a number >= 0 (0 rewrites after every delete)."""
    value = ctx.node.config.get("compact_dead_share", DEFAULT_DEAD_SHARE)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise NodeFailure(
            f"compact_dead_share of {ctx.node.name} must be a number >= 0, not {value!r}"
        )
    return float(value)


def compact_if_dead(ctx: MaterializationContext) -> int:
    """Rewrite the model's table when its dead slots pass the limit; the slots removed (0 when
    it was not rewritten). Runs after the caller's commit, as a transaction of its own: rows
    a transaction inserts carry provisional row ids until it commits."""
    limit = dead_share_limit(ctx)
    slots, live = ctx.execute(
        f"select coalesce(max(rowid) + 1, 0), count(*) from {ctx.relation}"
    ).fetchone()
    dead = int(slots) - int(live)
    if dead <= 0 or dead <= limit * live:
        return 0
    ctx.execute("begin transaction")
    try:
        ctx.execute(f"create or replace table {ctx.relation} as select * from {ctx.relation}")
        ctx.execute("commit")
    except Exception:
        ctx.con.execute("rollback")
        raise
    return dead
