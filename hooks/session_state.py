"""Run-end hook: record which session inputs the partitioned models now hold.

`evoki_session_state` (session_id, digest, code_version) is what stg_changed_sessions compares
the next build with. It advances only after a build (or run) in which stg_session_digests,
stg_changed_sessions and every partitioned model (incremental_strategy='replace_partitions',
partitions='stg_changed_sessions', the write-back included) succeeded, so a failed, partial
or subset build leaves the state where it was and the next build recomputes the same sessions
again. The state is replaced in one DuckDB transaction.
"""

from __future__ import annotations

from typing import Any

from evoki_sql import on_run_end
from evoki_sql.compiler import partition_spec
from evoki_sql.hooks import RunEndContext

STATE = "evoki_session_state"
DIGESTS = "stg_session_digests"
PARTITIONS = "stg_changed_sessions"


@on_run_end
def session_state(ctx: RunEndContext) -> list[str] | None:
    """Replace evoki_session_state when every partitioned model of the project succeeded."""
    if ctx.command not in ("run", "build"):
        return None
    nodes = ctx.manifest.nodes
    required = [ctx.manifest.by_name.get(DIGESTS), ctx.manifest.by_name.get(PARTITIONS)]
    partitioned = [
        uid
        for uid, node in nodes.items()
        if (spec := partition_spec(node)) is not None and spec[1] == PARTITIONS
    ]
    if None in required or not partitioned:
        return None
    status = {r.unique_id: r.status for r in ctx.results}
    if not any(uid in status for uid in partitioned):
        return None
    missing = [uid for uid in [*required, *partitioned] if status.get(uid) != "success"]
    if missing:
        message = (
            f"Session state not advanced: {len(missing)} of {len(partitioned) + 2} partitioned "
            "models did not run successfully in this invocation; the next build recomputes "
            "the same sessions."
        )
        return [message]
    _replace_state(ctx.con, str(nodes[str(required[0])].relation), _fingerprint(ctx))
    return None


def _fingerprint(ctx: RunEndContext) -> str:
    return str(ctx.manifest.env.env.globals["project_fingerprint"]())


def _replace_state(con: Any, digests: str, fingerprint: str) -> None:
    con.execute("begin transaction")
    try:
        con.execute(
            f"create or replace table main.{STATE} as "
            f"select session_id, digest, ? as code_version from {digests}",
            [fingerprint],
        )
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
