"""Docs section of the Evoki report: the metric catalogue.

Every metric of seeds/metric_contract.csv with its key, family, phase, type, range and
description (the owning family model's YAML column description), its distribution over the
history (a histogram of history_metrics_readback, i.e. the values as written back) and its
lineage, linked both ways: the metrics it reads (the contract's depends_on) and the metrics
that read it, the family model that computes it and that model's parents (the manifest),
and the columns of those parents it reads directly (one-level sqlglot column lineage of the
owning model, under a time budget: var `docs_lineage_seconds`, default 30; cached in target/).
"""

from __future__ import annotations

import csv
import re
from typing import Any

from evoki_sql.docs import DocsContext, docs_section, esc
from evoki_sql.docs.charts import bar_chart
from evoki_sql.docs.markup import anchor, number

CONTRACT_SEED = "metric_contract"
READBACK = "history_metrics_readback"
WRITEBACK_MATERIALIZATION = "history_writeback"
BINS = 20
MAX_INT_BINS = 25
LINEAGE_VAR = "docs_lineage_seconds"
LINEAGE_SECONDS = 30.0


@docs_section("Metric catalogue", key="metrics", order=30)
def catalogue(ctx: DocsContext) -> str:
    contract = _contract(ctx)
    if not contract:
        return '<p class="error">No metric_contract seed found.</p>'
    keys = [row["key"] for row in contract]
    owners = _owners(ctx, keys)
    read_by: dict[str, list[str]] = {k: [] for k in keys}
    for row in contract:
        for upstream in _split(row["depends_on"]):
            if upstream in read_by:
                read_by[upstream].append(row["key"])
    charts = _distributions(ctx, contract)
    families = sorted({o.name for o in owners.values()}, key=lambda n: _topo_rank(ctx, n))
    budget = float(ctx.variables.get(LINEAGE_VAR, LINEAGE_SECONDS))
    inputs = ctx.column_inputs(families, budget)
    by_family = {
        f: [k for k in keys if owners.get(k) is not None and owners[k].name == f] for f in families
    }
    for family, members in by_family.items():
        ctx.note_model(
            family,
            f'<a href="#{esc(anchor("family-", family))}">{len(members)} metrics in the catalogue</a>',
        )
    cards = [
        _card(
            ctx,
            row,
            owners.get(row["key"]),
            read_by[row["key"]],
            charts.get(row["key"]),
            inputs,
            set(keys),
        )
        for row in contract
    ]
    return (
        _intro(len(contract), inputs, budget)
        + _family_index(by_family)
        + '<div class="filter-bar"><input type="search" class="filter" '
        'placeholder="Filter metrics by key, family or description" '
        'data-filter="#metric-cards .metric" aria-label="Filter metrics">'
        f'<span class="muted">{len(contract)} metrics</span></div>'
        '<div id="metric-cards">' + "".join(cards) + "</div>"
    )


# -- inputs ------------------------------------------------------------------------------------


def _contract(ctx: DocsContext) -> list[dict[str, str]]:
    node = ctx.node(CONTRACT_SEED)
    if node is None or node.path is None:
        return []
    with open(node.path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _owners(ctx: DocsContext, keys: list[str]) -> dict[str, Any]:
    """Per key, the family model that computes it: of the models the write-back model takes
    its metrics from (_metric_parents) that declare the column, the one none of whose
    ancestors also declares it (a guardian model passing m19_z_prox on is not its owner)."""
    nodes = ctx.manifest.nodes
    writeback = next(
        (
            n
            for n in nodes.values()
            if n.resource_type == "model"
            and n.config.get("materialized") == WRITEBACK_MATERIALIZATION
        ),
        None,
    )
    if writeback is None:
        return {}
    parents = _metric_parents(ctx, writeback, keys)
    ancestors = {p.unique_id: ctx.graph.ancestors(p.unique_id) for p in parents}
    owners: dict[str, Any] = {}
    for key in keys:
        candidates = [p for p in parents if key in p.columns]
        top = [
            c
            for c in candidates
            if not any(o.unique_id in ancestors[c.unique_id] for o in candidates)
        ]
        if top:
            owners[key] = top[0]
    return owners


def _metric_parents(ctx: DocsContext, writeback: Any, keys: list[str]) -> list[Any]:
    """The write-back model's parents that declare contract key columns, looking through a
    parent that declares none (metrics_wide gathers the family models without declaring
    their 168 columns again), in breadth-first order."""
    nodes = ctx.manifest.nodes
    wanted = set(keys)
    found: list[Any] = []
    seen: set[str] = set()
    queue = list(writeback.depends_on)
    while queue:
        uid = queue.pop(0)
        if uid in seen or nodes[uid].resource_type != "model":
            continue
        seen.add(uid)
        if wanted & set(nodes[uid].columns):
            found.append(nodes[uid])
        else:
            queue.extend(nodes[uid].depends_on)
    return found


def _topo_rank(ctx: DocsContext, name: str) -> tuple[int, str]:
    node = ctx.node(name)
    return (len(ctx.graph.ancestors(node.unique_id)) if node else 0, name)


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]


# -- distributions -----------------------------------------------------------------------------


def _distributions(ctx: DocsContext, contract: list[dict[str, str]]) -> dict[str, str]:
    """Per key, the histogram SVG and caption of its values in history_metrics_readback."""
    relation = ctx.relation(READBACK)
    if relation is None:
        return {}
    present = {c.lower() for c in ctx.columns(READBACK)}
    rows = [r for r in contract if r["key"].lower() in present]
    numeric = [r for r in rows if r["type"] != "enum"]
    enums = [r for r in rows if r["type"] == "enum"]
    stats = _stats(ctx, relation, numeric)
    specs = {r["key"]: _bins(r, stats[r["key"]]) for r in numeric}
    parts = [f"histogram({spec[0]})" if spec else "null" for spec in specs.values()] + [
        f'histogram("{r["key"]}")' for r in enums
    ]
    found = ctx.query(f"select {', '.join(parts)} from {relation}")[0] if parts else ()
    out: dict[str, str] = {}
    for (key, spec), counts in zip(specs.items(), found[: len(specs)]):
        out[key] = _numeric_chart(key, stats[key], spec, dict(counts or {}))
    for row, counts in zip(enums, found[len(specs) :]):
        out[row["key"]] = _enum_chart(row, dict(counts or {}))
    return out


def _stats(
    ctx: DocsContext, relation: str, rows: list[dict[str, str]]
) -> dict[str, dict[str, Any]]:
    """Per key: finite values, min, max, mean, NULL/NaN/Inf and out-of-range counts.

    NaN and Inf become NULL in a subquery first: plain aggregates over it are some twenty
    times faster in DuckDB than one FILTER clause per metric and statistic."""
    if not rows:
        return {}
    inner, outer = [], []
    for i, row in enumerate(rows):
        k = f'"{row["key"]}"::double'
        inner.append(f"case when isfinite({k}) then {k} end as v{i}")
        bounds = []
        if row["range_lo"] != "":
            bounds.append(f"v{i} < {float(row['range_lo'])!r}")
        if row["range_hi"] != "":
            bounds.append(f"v{i} > {float(row['range_hi'])!r}")
        outside = " or ".join(bounds) or "false"
        outer.append(
            f"count(v{i}), min(v{i}), max(v{i}), avg(v{i}), count(*) - count(v{i}), "
            f"coalesce(sum(({outside})::integer), 0)"
        )
    values = ctx.query(
        f"select {', '.join(outer)} from (select {', '.join(inner)} from {relation})"
    )[0]
    names = ("n", "min", "max", "mean", "bad", "out")
    return {row["key"]: dict(zip(names, values[i * 6 : i * 6 + 6])) for i, row in enumerate(rows)}


def _bins(row: dict[str, str], stats: dict[str, Any]) -> tuple[str, float, float, int, bool] | None:
    """(SQL bin expression, low, high, number of bins, one bin per integer) or None."""
    if not stats["n"]:
        return None
    lo = float(row["range_lo"]) if row["range_lo"] != "" else float(stats["min"])
    hi = float(row["range_hi"]) if row["range_hi"] != "" else float(stats["max"])
    lo, hi = min(lo, float(stats["min"])), max(hi, float(stats["max"]))
    k = f'"{row["key"]}"::double'
    where = f"case when isfinite({k}) then"
    if row["type"] in ("int", "binary") and hi - lo + 1 <= MAX_INT_BINS and lo == int(lo):
        n = int(hi - lo) + 1
        return f"{where} cast(round({k} - {lo!r}) as integer) end", lo, hi, n, True
    if hi <= lo:
        return f"{where} 0 end", lo, hi, 1, False
    scale = BINS / (hi - lo)
    expr = f"{where} least({BINS - 1}, greatest(0, floor(({k} - {lo!r}) * {scale!r})))::integer end"
    return expr, lo, hi, BINS, False


def _numeric_chart(
    key: str,
    stats: dict[str, Any],
    spec: tuple[str, float, float, int, bool] | None,
    counts: dict[Any, int],
) -> str:
    if spec is None:
        return '<p class="muted">no finite values</p>'
    _, lo, hi, n, integers = spec
    bars = [int(counts.get(i, 0)) for i in range(n)]
    if integers:
        tips = [number(lo + i, 0) for i in range(n)]
        labels = tips if n <= 12 else None
    else:
        width = (hi - lo) / n
        tips = [f"[{number(lo + i * width)}, {number(lo + (i + 1) * width)})" for i in range(n)]
        labels = None
    chart = bar_chart(
        bars, tips, labels=labels, axis=(number(lo), number(hi)), title=f"distribution of {key}"
    )
    caption = (
        f"n {number(stats['n'])} · min {number(stats['min'])} · mean {number(stats['mean'])} "
        f"· max {number(stats['max'])}"
    )
    problems = []
    if stats["bad"]:
        problems.append(f"{number(stats['bad'])} NULL/NaN/Inf")
    if stats["out"]:
        problems.append(f"{number(stats['out'])} out of range")
    if problems:
        caption += f' <span class="bad">{esc(", ".join(problems))}</span>'
    return f"{chart}<figcaption>{caption}</figcaption>"


def _enum_chart(row: dict[str, str], counts: dict[Any, int]) -> str:
    values = _split(row["enum_values"].replace("|", ";"))
    extra = sorted(str(v) for v in counts if v not in values)
    labels = values + extra
    bars = [int(counts.get(v, 0)) for v in labels]
    chart = bar_chart(bars, labels, labels=labels, title=f"distribution of {row['key']}")
    caption = " · ".join(f"{v} {number(c)}" for v, c in zip(labels, bars))
    return f"{chart}<figcaption>{esc(caption)}</figcaption>"


# -- rendering ---------------------------------------------------------------------------------


def _intro(n: int, inputs: Any, budget: float) -> str:
    note = (
        f"Direct inputs: one-level sqlglot column lineage of each family model "
        f"({len(inputs.by_model)} models, {inputs.cached} from the cache in target/, "
        f"{inputs.seconds:.1f} s, budget {budget:.0f} s)."
    )
    if inputs.skipped:
        note += f" Left out when the budget ran out: {', '.join(inputs.skipped)}."
    if inputs.failed:
        note += f" No lineage for: {', '.join(sorted(inputs.failed))}."
    return (
        f'<p class="muted">The {n} metrics of the contract in contract order. Histograms show '
        "the values as written into the history (history_metrics_readback) over the contract "
        f"range. {esc(note)}</p>"
    )


def _family_index(by_family: dict[str, list[str]]) -> str:
    items = []
    for family, members in by_family.items():
        links = " ".join(f'<a href="#{esc(anchor("metric-", k))}">{esc(k)}</a>' for k in members)
        items.append(
            f'<div class="family" id="{esc(anchor("family-", family))}">'
            f'<a href="#{esc(anchor("model-", family))}"><code>{esc(family)}</code></a> '
            f'<span class="muted">({len(members)})</span>: {links}</div>'
        )
    return (
        '<details class="families"><summary>Metrics by family model</summary>'
        + "".join(items)
        + "</details>"
    )


def _metric_link(key: str, known: set[str]) -> str:
    if key not in known:
        return f"<code>{esc(key)}</code>"
    return f'<a href="#{esc(anchor("metric-", key))}"><code>{esc(key)}</code></a>'


def _model_link(name: str, column: str | None = None) -> str:
    label = f"{name}.{column}" if column else name
    return f'<a href="#{esc(anchor("model-", name))}"><code>{esc(label)}</code></a>'


def _card(
    ctx: DocsContext,
    row: dict[str, str],
    owner: Any,
    read_by: list[str],
    chart: str | None,
    inputs: Any,
    known: set[str],
) -> str:
    key = row["key"]
    description = owner.columns[key].description if owner is not None else ""
    # the YAML descriptions repeat the contract facts shown as badges: "m1_A (id 1, ...). "
    prefix = re.match(rf"{re.escape(key)} \([^)]*\)\.\s*", description)
    description = description[prefix.end() :] if prefix else description
    value_range = _range(row)
    reads = [_metric_link(k, known) for k in _split(row["depends_on"])]
    users = [_metric_link(k, known) for k in read_by]
    lineage = [
        ("Reads metrics", ", ".join(reads) or '<span class="muted">none</span>'),
        ("Read by", ", ".join(users) or '<span class="muted">no other metric</span>'),
    ]
    if owner is not None:
        parents = [ctx.manifest.nodes[p] for p in owner.depends_on]
        lineage.append(
            (
                "Computed in",
                f"{_model_link(owner.name)}, which reads "
                + ", ".join(_model_link(p.name) for p in parents),
            )
        )
        lineage.append(("Direct inputs", _direct(inputs, owner.name, key, known)))
    lineage.append(
        ("Needs", esc(", ".join(_split(row["needs"]))) or '<span class="muted">–</span>')
    )
    lineage.append(("Implementation", esc(row.get("implementation", ""))))
    badges = [esc(row["family"]), f"phase {esc(row['phase'])}", esc(row["type"]), esc(value_range)]
    if row.get("critical_column") == "1":
        badges.append('<span class="critical">critical column</span>')
    search = f"{key} {row['family']} {row['contract_category']} {description}".lower()
    return (
        f'<article class="metric" id="{esc(anchor("metric-", key))}" data-search="{esc(search)}">'
        f'<header><h3><code>{esc(key)}</code></h3><span class="badges">'
        + "".join(f'<span class="badge">{b}</span>' for b in badges)
        + "</span></header>"
        f'<div class="metric-body"><div class="metric-text"><p>{esc(description)}</p>'
        '<dl class="lineage">'
        + "".join(f"<dt>{esc(t)}</dt><dd>{v}</dd>" for t, v in lineage)
        + "</dl></div>"
        f'<figure class="hist">{chart or "<p class=muted>no values in the history</p>"}</figure>'
        "</div></article>"
    )


def _range(row: dict[str, str]) -> str:
    if row["type"] == "enum":
        return "{" + row["enum_values"].replace("|", ", ") + "}"
    lo = row["range_lo"] if row["range_lo"] != "" else "−∞"
    hi = row["range_hi"] if row["range_hi"] != "" else "∞"
    return f"[{lo}, {hi}]"


def _direct(inputs: Any, model: str, key: str, known: set[str]) -> str:
    found = inputs.of(model, key)
    if found is None:
        return '<span class="muted">not computed (time budget or lineage error)</span>'
    if not found:
        return '<span class="muted">no column of a parent (constants only)</span>'
    links = []
    for item in found:
        if item.column in known and item.resource_type == "model":
            links.append(
                f'<a href="#{esc(anchor("metric-", item.column))}" title="{esc(item.node_name)}">'
                f"<code>{esc(item.node_name)}.{esc(item.column)}</code></a>"
            )
        else:
            links.append(_model_link(item.node_name, item.column))
    return ", ".join(links)
