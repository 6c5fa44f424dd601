"""Docs sections of the Evoki report: the backfill overview and the per-session timelines.

Overview: turns, sessions, date range, alerts by guardian_action, NaN/Inf and out-of-range
counts and build time, from target/METRICS_BACKFILL_REPORT.json, target/run_results.json and
the fullspectrum168 table. Sessions: a searchable, paged list of every session and, when one
is opened, its timeline of seven metrics drawn by the page's script from the session's own
embedded JSON block (values rounded to 4 decimals, for display only). Turn text is embedded
only with `docs --include-text`, and then only for the chart tooltips.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from evoki_sql.docs import DocsContext, docs_section, esc, json_script
from evoki_sql.docs.markup import number

REPORT = "METRICS_BACKFILL_REPORT.json"
RUN_RESULTS = "run_results.json"
OUTPUT = "fullspectrum168"
#: (series key, model holding it, colour) of the session timeline, in legend order.
SERIES = (
    ("m1_A", OUTPUT, "#1f77b4"),
    ("m15_affekt_a", "metrics_core", "#9467bd"),
    ("m19_z_prox", OUTPUT, "#ff7f0e"),
    ("m101_t_panic", OUTPUT, "#d62728"),
    ("m110_black_hole", OUTPUT, "#333333"),
    ("m151_hazard", OUTPUT, "#8c564b"),
    ("F_risk", OUTPUT, "#2ca02c"),
)
F_RISK = [key for key, _, _ in SERIES].index("F_risk")  # the list shows each session's max
SCALE = 10_000  # series values are stored as round(value * SCALE)
ROLE_CODES = {"user": "u", "ai": "a"}
KINDS = {
    "u": {"label": "user", "filled": True},
    "a": {"label": "ai", "filled": False},
    "o": {"label": "other", "filled": False},
}
ALERT_ROWS = 200  # alert turns listed in the overview (all of them are marked in the charts)
PAGE_SIZE = 20


# -- overview ----------------------------------------------------------------------------------


@docs_section("Overview", key="overview", order=10)
def overview(ctx: DocsContext) -> str:
    """Cards of the backfill's numbers, alerts by action, time per phase, alert turns."""
    report, note = _report(ctx)
    runs = (ctx.artifact(RUN_RESULTS) or {}) if report else {}
    output = ctx.relation(OUTPUT)
    if output is None:
        return '<p class="error">fullspectrum168 is not built: run `python -m evoki_sql build`.</p>'
    turns, sessions = ctx.query(f"select count(*), count(distinct session_id) from {output}")[0]
    first, last = _date_range(ctx)
    metrics = report.get("metrics") or {}
    alerts = report.get("alerts_by_guardian_action") or _alerts_by_action(ctx, output)
    seconds = report.get("seconds") or {}
    tests = report.get("tests") or {}
    cards = [
        ("Turns", number(int(turns)), f"{number(report.get('turns_seen'))} seen by the backfill"),
        ("Sessions", number(int(sessions)), ""),
        (
            "Date range",
            f"{(first or '–')[:10]} … {(last or '–')[:10]}",
            f"turn timestamps {first} … {last}" if first else "no turn has a timestamp",
        ),
        (
            "Alerts",
            number(sum(v for k, v in alerts.items() if k.startswith("veto_"))),
            ", ".join(f"{n} {a}" for a, n in alerts.items() if a.startswith("veto_")) or "none",
        ),
        ("NaN / Inf", number(metrics.get("nan_inf_count")), _of_values(metrics)),
        ("Out of range", number(metrics.get("out_of_range_count")), _of_values(metrics)),
        ("Missing", number(metrics.get("missing_count")), _of_values(metrics)),
        (
            "Build time",
            f"{_seconds(seconds.get('total') or runs.get('elapsed_time'))}",
            (
                f"{runs.get('metadata', {}).get('command', '')} at "
                f"{runs.get('metadata', {}).get('generated_at', '–')}"
            ),
        ),
        (
            "Tests",
            number(tests.get("pass")) + " pass" if tests else "–",
            ", ".join(f"{v} {k}" for k, v in tests.items() if k != "pass" and v) or "no failures",
        ),
    ]
    parts = [_status(report, note), '<div class="cards">']
    for title, value, note in cards:
        parts.append(
            f'<div class="card"><div class="card-title">{esc(title)}</div>'
            f'<div class="card-value">{esc(value)}</div>'
            f'<div class="card-note muted">{esc(note)}</div></div>'
        )
    parts.append("</div>")
    parts.append('<div class="columns">')
    parts.append(_table("Turns by guardian_action", ["guardian_action", "turns"], alerts))
    parts.append(_table("Seconds per phase", ["phase", "seconds"], seconds))
    parts.append(_table("Rows written", ["rows", "count"], _row_counts(report)))
    parts.append("</div>")
    parts.append(_alert_turns(ctx, output))
    return "".join(parts)


def _date_range(ctx: DocsContext) -> tuple[str | None, str | None]:
    turns = ctx.relation("stg_turns")
    if turns is None or "ts" not in {c.lower() for c in ctx.columns("stg_turns")}:
        return None, None
    first, last = ctx.query(f"select min(ts)::varchar, max(ts)::varchar from {turns}")[0]
    return first, last


def _alerts_by_action(ctx: DocsContext, output: str) -> dict[str, int]:
    rows = ctx.query(f"select guardian_action, count(*) from {output} group by 1 order by 1")
    return {str(a): int(n) for a, n in rows}


def _of_values(metrics: dict[str, Any]) -> str:
    values = metrics.get("values")
    return f"of {number(values)} values read back" if values else "no values read back"


def _seconds(value: Any) -> str:
    return f"{float(value):.1f} s" if isinstance(value, (int, float)) else "–"


def _report(ctx: DocsContext) -> tuple[dict[str, Any], str]:
    """The backfill report when it describes this target's database, else {} and why not
    (every target of the project writes the same target/ files)."""
    report = ctx.artifact(REPORT)
    if report is None:
        return {}, f"No {REPORT} in target/"
    written_for = str((report.get("paths") or {}).get("duckdb") or "")
    if written_for and Path(written_for).resolve() != Path(ctx.target.path).resolve():
        return {}, f"target/{REPORT} describes another database ({Path(written_for).name})"
    return report, ""


def _status(report: dict[str, Any], note: str) -> str:
    if not report:
        return (
            f'<p class="warning">{esc(note)}: the numbers below come from the database only; '
            "build this target to get the backfill report.</p>"
        )
    status = str(report.get("status", "?"))
    css = "ok" if status == "written" else "warning"
    history = (report.get("paths") or {}).get("history", "")
    return (
        f'<p class="{css}">Backfill {esc(status)} ({esc(report.get("command", ""))}, '
        f"{esc(report.get('generated_at', ''))}); history {esc(history)}</p>"
    )


def _row_counts(report: dict[str, Any]) -> dict[str, Any]:
    rows = report.get("rows") or {}
    keys = ("inserted", "updated", "unchanged", "orphans_left_alone", "duplicate_rows_of_a_turn")
    return {k: rows.get(k) for k in keys if k in rows}


def _table(title: str, head: list[str], data: dict[str, Any]) -> str:
    body = "".join(
        f'<tr class="{"alert" if str(k).startswith("veto_") else ""}"><td>{esc(k)}</td>'
        f'<td class="num">{esc(number(v, 3))}</td></tr>'
        for k, v in data.items()
    )
    return (
        f'<div class="column"><h3>{esc(title)}</h3><table><thead><tr><th>{esc(head[0])}</th>'
        f"<th>{esc(head[1])}</th></tr></thead><tbody>{body or '<tr><td colspan=2>–</td></tr>'}"
        "</tbody></table></div>"
    )


def _alert_turns(ctx: DocsContext, output: str) -> str:
    (total,) = ctx.query(f"select count(*) from {output} where is_alert = 1")[0]
    rows = ctx.query(
        f"select session_id, turn_idx, role, guardian_action, turn_id from {output} "
        f"where is_alert = 1 order by session_id, turn_idx limit {ALERT_ROWS}"
    )
    shown = f"the first {len(rows)} of {total}" if total > len(rows) else f"all {total}"
    body = "".join(
        f'<tr><td><a href="#session={esc(quote(s, safe=""))}">{esc(s)}</a></td>'
        f'<td class="num">{t}</td><td>{esc(r)}</td><td>{esc(a)}</td>'
        f"<td><code>{esc(i)}</code></td></tr>"
        for s, t, r, a, i in rows
    )
    return (
        f'<h3>Alert turns</h3><p class="muted">{esc(shown)} turns with is_alert = 1 '
        "(a guardian veto); every one is marked in its session's timeline.</p>"
        '<div class="table-wrap scroll-box"><table class="alerts"><thead><tr>'
        "<th>session</th><th>turn</th><th>role</th><th>guardian_action</th><th>turn_id</th>"
        "</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
    )


# -- sessions ----------------------------------------------------------------------------------


@docs_section("Sessions", key="sessions", order=20)
def sessions(ctx: DocsContext) -> str:
    """The session list (search, sort, pages) and one JSON block of series per session."""
    output = ctx.relation(OUTPUT)
    if output is None:
        return '<p class="error">fullspectrum168 is not built.</p>'
    rows, blocks = _session_data(ctx, output)
    config = {
        "param": "session",
        "prefix": "tl-",
        "page_size": PAGE_SIZE,
        "columns": [
            {"label": "session", "type": "id"},
            {"label": "date", "type": "text"},
            {"label": "turns", "type": "num"},
            {"label": "user", "type": "num"},
            {"label": "ai", "type": "num"},
            {"label": "alerts", "type": "num"},
            {"label": "max F_risk", "type": "num"},
        ],
        "rows": rows,
        "series": [{"key": k, "color": c} for k, _, c in SERIES],
        "scale": SCALE,
        "y": [0, 1],
        "kinds": KINDS,
        "x_label": "turn",
        "marker_label": "guardian_action",
    }
    legend = (
        "Filled points are user turns, hollow points and shaded columns ai turns; a red line "
        "marks an alert turn with its guardian_action. Hover the chart for a turn's values."
    )
    return (
        f'<p class="muted">{esc(legend)} Open a session from the list, or link to '
        "<code>index.html#session=&lt;id&gt;</code>.</p>"
        '<div class="timeline" data-config="timeline-config">'
        '<noscript><p class="warning">The session list and charts need JavaScript.</p></noscript>'
        "</div>" + json_script("timeline-config", config) + "".join(blocks)
    )


def _session_data(ctx: DocsContext, output: str) -> tuple[list[list[Any]], list[str]]:
    """The list rows and the JSON blocks, one per session, in session date order."""
    core = ctx.relation("metrics_core")
    sessions_rel = ctx.relation("stg_sessions")
    turns_rel = ctx.relation("stg_turns")
    if core is None:
        raise RuntimeError("metrics_core is not built")
    aliases = {OUTPUT: "f", "metrics_core": "c"}
    values = ", ".join(
        f"case when isfinite({aliases[model]}.{key}) "
        f"then cast(round({aliases[model]}.{key} * {SCALE}) as integer) end"
        for key, model, _ in SERIES
    )
    date = "coalesce(s.date_ymd, left(s.first_ts::varchar, 10), '')" if sessions_rel else "''"
    text = "t.text" if ctx.include_text and turns_rel else "null"
    joins = f"left join {sessions_rel} as s on s.session_id = f.session_id " if sessions_rel else ""
    if ctx.include_text and turns_rel:
        joins += f"left join {turns_rel} as t on t.turn_id = f.turn_id "
    order = "s.first_ts" if sessions_rel else "null"
    cursor = ctx.con.execute(
        f"select f.session_id, {date}, f.turn_idx, f.role, f.is_alert, f.guardian_action, "
        f"f.turn_id, {text}, {values} "
        f"from {output} as f left join {core} as c on c.turn_id = f.turn_id {joins}"
        f"order by {order} nulls last, f.session_id, f.turn_idx"
    )
    rows: list[list[Any]] = []
    blocks: list[str] = []
    current: dict[str, Any] | None = None
    while batch := cursor.fetchmany(20_000):
        for record in batch:
            session_id, day, turn_idx, role, is_alert, action, turn_id, turn_text = record[:8]
            if current is None or current["id"] != session_id:
                if current is not None:
                    _flush(current, rows, blocks)
                current = _new_session(session_id, day)
            _add_turn(current, turn_idx, role, is_alert, action, turn_id, turn_text, record[8:])
    if current is not None:
        _flush(current, rows, blocks)
    return rows, blocks


def _new_session(session_id: str, day: str) -> dict[str, Any]:
    return {
        "id": session_id,
        "date": day,
        "x": [],
        "kind": [],
        "v": [[] for _ in SERIES],
        "m": [],
        "t": [],
    }


def _add_turn(
    session: dict[str, Any],
    turn_idx: int,
    role: str,
    is_alert: int,
    action: str,
    turn_id: str,
    text: str | None,
    values: tuple[Any, ...],
) -> None:
    session["x"].append(int(turn_idx))
    session["kind"].append(ROLE_CODES.get(str(role), "o"))
    for series, value in zip(session["v"], values):
        series.append(value)
    if is_alert == 1:
        session["m"].append([int(turn_idx), str(action), str(turn_id)])
    session["t"].append(text or "")


def _flush(session: dict[str, Any], rows: list[list[Any]], blocks: list[str]) -> None:
    """Close a session: its list row and its data block (x only when not 1, 2, 3, ...)."""
    n = len(session["x"])
    kinds = "".join(session["kind"])
    f_risk = [v for v in session["v"][F_RISK] if v is not None]
    rows.append(
        [
            session["id"],
            session["date"],
            n,
            kinds.count("u"),
            kinds.count("a"),
            len(session["m"]),
            round(max(f_risk) / SCALE, 4) if f_risk else None,
        ]
    )
    data: dict[str, Any] = {"n": n, "kind": kinds, "v": session["v"], "m": session["m"]}
    if session["x"] != list(range(1, n + 1)):
        data["x"] = session["x"]
    if any(session["t"]):
        data["t"] = session["t"]
    blocks.append(json_script(f"tl-{len(rows) - 1}", data))
