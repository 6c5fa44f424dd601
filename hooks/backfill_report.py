"""Run-end hook: target/METRICS_BACKFILL_REPORT.json and the closing summary of a backfill.

Written after every build / run that includes the write-back model (a model materialized
as history_writeback), whether it succeeded or not: full or incremental build (sessions
rebuilt; the counts then cover those sessions' turns), turns seen, rows inserted / updated /
unchanged, orphan rows, metric values, NaN/Inf and out-of-range counts of the written-back
table, alerts by guardian_action, time per phase and total, and the DuckDB and history paths.
Only counts, keys of the contract and paths: never any turn text.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from evoki_sql import on_run_end
from evoki_sql.hooks import RunEndContext
from evoki_sql.materializations.builtin import (
    in_partitions,
    partition_rows_relation,
    relation_type,
)

REPORT_NAME = "METRICS_BACKFILL_REPORT.json"
READBACK_MODEL = "history_metrics_readback"
# Phases of the build, by the folder of the node (first match wins).
PHASES = [
    ("seeds", "seeds/"),
    ("staging", "models/staging/"),
    ("features", "models/features/"),
    ("metrics", "models/metrics/"),
    ("write_back", "models/output/fullspectrum168"),
    ("readback", "models/output/"),
]


@on_run_end
def backfill_report(ctx: RunEndContext) -> list[str] | None:
    """Write the report when this run included the write-back model; return the summary."""
    writeback = _writeback_result(ctx)
    if writeback is None:
        return None
    node, result = writeback
    report = _report(ctx, node, result)
    path = Path(ctx.target_path) / REPORT_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    lines = [_summary(report, path)]
    if report["status"] == "written":
        docs = Path(ctx.target_path) / "docs" / "index.html"
        lines.append(f"HTML report: python -m evoki_sql docs -t {ctx.target.name} (writes {docs})")
    return lines


def _writeback_result(ctx: RunEndContext) -> tuple[Any, Any] | None:
    for result in ctx.results:
        node = ctx.manifest.nodes.get(result.unique_id)
        if (
            node is not None
            and node.resource_type == "model"
            and node.config.get("materialized") == "history_writeback"
        ):
            return node, result
    return None


def _report(ctx: RunEndContext, node: Any, result: Any) -> dict[str, Any]:
    stats = dict(result.adapter_response or {})
    written = result.status == "success"
    contract = _contract(ctx)
    values = _value_checks(ctx, contract) if written else None
    alerts = _alerts(ctx, node) if written else {}
    return {
        "generated_at": ctx.started_at,
        "command": ctx.command,
        "full_refresh": ctx.full_refresh,
        "status": "written" if written else f"not written ({result.status})",
        "message": result.message if not written else None,
        "paths": {
            "duckdb": str(Path(ctx.target.path).resolve()),
            "history": stats.get("history_path") or _history_path(ctx, node),
            "report": str((Path(ctx.target_path) / REPORT_NAME).resolve()),
        },
        "build": "full" if stats.get("sessions_rebuilt") is None else "incremental",
        "sessions_rebuilt": stats.get("sessions_rebuilt"),
        "turns_total": stats.get("turns_total"),
        "turns_seen": stats.get("turns_seen"),
        "rows": {
            "inserted": stats.get("inserted"),
            "updated": stats.get("updated"),
            "unchanged": stats.get("unchanged"),
            "orphans_left_alone": stats.get("orphans"),
            "duplicate_rows_of_a_turn": stats.get("duplicate_rows"),
            "table_created": stats.get("created_table"),
            "columns_added": stats.get("added_columns"),
            "calculated_at": stats.get("calculated_at"),
        },
        "metrics": values,
        "alerts_by_guardian_action": alerts,
        "alerts_total": sum(v for k, v in alerts.items() if k.startswith("veto_")),
        "tests": _test_counts(ctx),
        "seconds": _phase_seconds(ctx, stats),
    }


def _contract(ctx: RunEndContext) -> list[dict[str, str]]:
    for folder in ctx.manifest.config.dirs("seed-paths"):
        path = folder / "metric_contract.csv"
        if path.is_file():
            with path.open(newline="", encoding="utf-8") as handle:
                return list(csv.DictReader(handle))
    return []


def _relation(ctx: RunEndContext, name: str) -> str | None:
    for node in ctx.manifest.nodes.values():
        if node.resource_type == "model" and node.name == name:
            return str(node.relation)
    return None


def _value_checks(ctx: RunEndContext, contract: list[dict[str, str]]) -> dict[str, Any] | None:
    """Counts over the written-back table as read back (history_metrics_readback)."""
    relation = _relation(ctx, READBACK_MODEL)
    built = {r.unique_id for r in ctx.results if r.status == "success"}
    readback = next((n for n in ctx.manifest.nodes.values() if n.name == READBACK_MODEL), None)
    if relation is None or readback is None or readback.unique_id not in built or not contract:
        return None
    nonfinite, out_of_range, missing = [], [], []
    for row in contract:
        key = f'"{row["key"]}"'
        if row["type"] == "enum":
            allowed = ", ".join("'" + v + "'" for v in row["enum_values"].split("|"))
            missing.append(f"count(*) filter ({key} is null)")
            out_of_range.append(f"count(*) filter ({key} not in ({allowed}))")
            continue
        missing.append(f"count(*) filter ({key} is null)")
        nonfinite.append(f"count(*) filter (not isfinite({key}))")
        bounds = []
        if row["range_lo"] != "":
            bounds.append(f"{key} < {row['range_lo']}")
        if row["range_hi"] != "":
            bounds.append(f"{key} > {row['range_hi']}")
        if bounds:
            out_of_range.append(f"count(*) filter (isfinite({key}) and ({' or '.join(bounds)}))")

    def total(parts: list[str]) -> str:
        return " + ".join(parts) if parts else "0"

    result = next(r for r in ctx.results if r.unique_id == readback.unique_id)
    if "partitions" in (result.adapter_response or {}):
        # an incremental build read back the sessions it rebuilt: count those, from the temp
        # table of this run's rows when the model kept one (a semi-join on the whole table
        # reads every row of all 168 columns: a second at 1M turns)
        assert readback.relation is not None
        new_rows = partition_rows_relation(readback.relation)
        if relation_type(ctx.con, new_rows) == "table":
            relation = str(new_rows)
        else:
            listed = in_partitions("session_id", str(_relation(ctx, "stg_changed_sessions")), "r")
            relation = f"(select * from {relation} as r where {listed})"
    # one predicate first (cheap to plan); the per-key counts only when some value is off
    conditions = [
        part.removeprefix("count(*) filter ") for part in nonfinite + out_of_range + missing
    ]
    rows, flagged = ctx.con.execute(
        f"select count(*), count(*) filter ({' or '.join(conditions) or 'false'}) from {relation}"
    ).fetchone()
    n_nonfinite = n_out = n_missing = 0
    if flagged:
        _, n_nonfinite, n_out, n_missing = ctx.con.execute(
            f"select count(*), {total(nonfinite)}, {total(out_of_range)}, {total(missing)} "
            f"from {relation}"
        ).fetchone()
    values = int(rows) * len(contract)
    return {
        "source": f"{READBACK_MODEL} (the history's metrics table read back)",
        "rows": int(rows),
        "keys_per_row": len(contract),
        "values": values,
        "nan_inf_count": int(n_nonfinite),
        "nan_inf_rate": (int(n_nonfinite) / values) if values else 0.0,
        "missing_count": int(n_missing),
        "out_of_range_count": int(n_out),
    }


def _alerts(ctx: RunEndContext, node: Any) -> dict[str, int]:
    rows = ctx.con.execute(
        f"select guardian_action, count(*) from {node.relation} group by 1 order by 1"
    ).fetchall()
    return {str(action): int(n) for action, n in rows}


def _history_path(ctx: RunEndContext, node: Any) -> str | None:
    alias = str(node.config.get("history", "history"))
    for attachment in ctx.target.attach:
        if attachment.alias == alias:
            return str(Path(attachment.path).resolve())
    return None


def _test_counts(ctx: RunEndContext) -> dict[str, int]:
    counts = {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skipped": 0}
    for result in ctx.results:
        node = ctx.manifest.nodes.get(result.unique_id)
        if node is not None and node.resource_type == "test":
            key = result.status if result.status in counts else "error"
            counts[key] += 1
    return counts


def _phase_seconds(ctx: RunEndContext, stats: dict[str, Any]) -> dict[str, float]:
    seconds = {name: 0.0 for name, _ in PHASES}
    seconds["tests"] = 0.0
    seconds["other_models"] = 0.0
    for result in ctx.results:
        node = ctx.manifest.nodes.get(result.unique_id)
        if node is None:
            continue
        if node.resource_type == "test":
            seconds["tests"] += result.execution_time
            continue
        phase = next((name for name, prefix in PHASES if node.rel_path.startswith(prefix)), None)
        seconds[phase or "other_models"] += result.execution_time
    seconds["write_back_sqlite"] = float(stats.get("seconds") or 0.0)
    seconds["compile"] = ctx.seconds_compile
    seconds["total"] = ctx.seconds_total
    return {k: round(v, 3) for k, v in seconds.items()}


def _summary(report: dict[str, Any], path: Path) -> str:
    rows = report["rows"]
    if report["status"] != "written":
        return f"Backfill: {report['status']}; the history is unchanged. Report: {path}"
    metrics = report["metrics"]
    checked = (
        f"{metrics['values']:,} metric values read back, {metrics['nan_inf_count']} NaN/Inf "
        f"({metrics['nan_inf_rate']:.4%}), {metrics['out_of_range_count']} out of range, "
        f"{metrics['missing_count']} missing"
        if metrics
        else "values not read back (history_metrics_readback was not built in this run)"
    )
    alerts = report["alerts_by_guardian_action"]
    vetoes = ", ".join(f"{n} {a}" for a, n in alerts.items() if a.startswith("veto_")) or "none"
    scope = (
        f"{report['turns_seen']:,} turns seen"
        if report.get("sessions_rebuilt") is None
        else f"incremental, {report['sessions_rebuilt']:,} sessions rebuilt, "
        f"{report['turns_seen']:,} of {report['turns_total']:,} turns seen"
    )
    return (
        f"Backfill: {scope}; {rows['inserted']:,} rows inserted, "
        f"{rows['updated']:,} updated, {rows['unchanged']:,} unchanged; "
        f"{rows['orphans_left_alone']} orphan rows left alone; {checked}; "
        f"{report['alerts_total']} alerts ({vetoes}), {alerts.get('warn', 0)} warn; "
        f"{report['seconds']['total']:.1f} s in total, "
        f"{report['seconds']['write_back_sqlite']:.1f} s writing the history. Report: {path}"
    )
