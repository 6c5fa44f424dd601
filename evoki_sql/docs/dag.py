"""The generic part of the report: the DAG of models, seeds and sources as an SVG picture,
laid out in columns by layer (sources, seeds, then each model folder in dependency order),
and the model list with descriptions, row counts and links both ways."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from evoki_sql.docs.markup import anchor, esc, number

NODE_W = 160
NODE_H = 22
ROW_H = 30
COL_GAP = 72
HEAD_H = 30
PAD = 12
KIND_RANK = {"source": 0, "seed": 1, "model": 2}


@dataclass
class Placed:
    """A node of the picture: its layer (column), row and position."""

    uid: str
    name: str
    kind: str
    layer: str
    column: int = 0
    row: int = 0

    @property
    def x(self) -> float:
        return PAD + self.column * (NODE_W + COL_GAP)

    @property
    def y(self) -> float:
        return HEAD_H + PAD + self.row * ROW_H


def layer_of(node: Any, model_roots: list[str]) -> str:
    """sources, seeds, or the model's first folder below its model path (`models` if none)."""
    if node.resource_type != "model":
        return f"{node.resource_type}s"
    path = PurePosixPath(node.rel_path)
    for root in model_roots:
        try:
            parts = path.relative_to(root).parts
        except ValueError:
            continue
        return parts[0] if len(parts) > 1 else root
    return path.parts[0] if len(path.parts) > 1 else "models"


def layout(manifest: Any, graph: Any) -> tuple[list[Placed], list[str]]:
    """Every model, seed and source placed in its layer's column; the layers in order."""
    roots = [
        p.relative_to(manifest.config.root).as_posix() for p in manifest.config.dirs("model-paths")
    ]
    nodes = {
        u: n for u, n in manifest.nodes.items() if n.resource_type in ("model", "seed", "source")
    }
    depth: dict[str, int] = {}
    for uid in graph.topological(set(nodes)):
        parents = [p for p in nodes[uid].depends_on if p in nodes]
        depth[uid] = 1 + max((depth[p] for p in parents), default=-1)
    placed = {u: Placed(u, n.name, n.resource_type, layer_of(n, roots)) for u, n in nodes.items()}
    layers: dict[str, list[Placed]] = {}
    for item in placed.values():
        layers.setdefault(item.layer, []).append(item)
    inner: dict[str, int] = {}
    for uid in graph.topological(set(nodes)):
        same = [
            p for p in nodes[uid].depends_on if p in nodes and placed[p].layer == placed[uid].layer
        ]
        inner[uid] = 1 + max((inner[p] for p in same), default=-1)
    order = sorted(
        layers,
        key=lambda name: (
            min(depth[i.uid] for i in layers[name]),
            min(KIND_RANK[i.kind] for i in layers[name]),
            name,
        ),
    )
    for column, name in enumerate(order):
        items = sorted(layers[name], key=lambda i: (inner[i.uid], depth[i.uid], i.name))
        for row, item in enumerate(items):
            item.column, item.row = column, row
    return list(placed.values()), order


def dag_svg(manifest: Any, graph: Any) -> str:
    """The picture: one column per layer, edges as curves, nodes linking to the model list."""
    placed, layers = layout(manifest, graph)
    index = {p.uid: i for i, p in enumerate(sorted(placed, key=lambda p: (p.column, p.row)))}
    by_uid = {p.uid: p for p in placed}
    rows = max((p.row for p in placed), default=0) + 1
    width = int(2 * PAD + len(layers) * NODE_W + max(0, len(layers) - 1) * COL_GAP + 24)
    height = int(HEAD_H + 2 * PAD + rows * ROW_H)
    out = [
        (
            f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="model DAG">'
        )
    ]
    for column, name in enumerate(layers):
        x = PAD + column * (NODE_W + COL_GAP)
        out.append(f'<text class="dag-layer" x="{x}" y="{HEAD_H - 10}">{esc(name)}</text>')
    edges = []
    for item in placed:
        for parent_uid in manifest.nodes[item.uid].depends_on:
            parent = by_uid.get(parent_uid)
            if parent is not None:
                edges.append(
                    f'<path class="dag-edge" data-from="{index[parent.uid]}" '
                    f'data-to="{index[item.uid]}" d="{_edge(parent, item)}"/>'
                )
    out.append('<g class="dag-edges">' + "".join(edges) + "</g>")
    for item in sorted(placed, key=lambda p: index[p.uid]):
        node = manifest.nodes[item.uid]
        label = item.name if len(item.name) <= 22 else item.name[:21] + "…"
        tip = f"{item.kind} {item.name} · {node.rel_path}"
        out.append(
            f'<a href="#{esc(anchor("model-", item.name))}" class="dag-node" '
            f'data-i="{index[item.uid]}" data-layer="{layers.index(item.layer) % 8}">'
            f"<title>{esc(tip)}</title>"
            f'<rect x="{item.x}" y="{item.y}" width="{NODE_W}" height="{NODE_H}" rx="4"/>'
            f'<text x="{item.x + 8}" y="{item.y + 15}">{esc(label)}</text></a>'
        )
    out.append("</svg>")
    return "".join(out)


def _edge(a: Placed, b: Placed) -> str:
    """A curve from parent `a` to child `b`, whatever their columns."""
    ay, by = a.y + NODE_H / 2, b.y + NODE_H / 2
    if b.column > a.column:
        x1, x2 = a.x + NODE_W, b.x
        mid = (x2 - x1) / 2
        return (
            f"M{x1:.1f},{ay:.1f} C{x1 + mid:.1f},{ay:.1f} {x2 - mid:.1f},{by:.1f} {x2:.1f},{by:.1f}"
        )
    if b.column == a.column:
        x = a.x + NODE_W
        bulge = 14 + 6 * abs(b.row - a.row) ** 0.5
        return (
            f"M{x:.1f},{ay:.1f} C{x + bulge:.1f},{ay:.1f} {x + bulge:.1f},{by:.1f} {x:.1f},{by:.1f}"
        )
    x1, x2 = a.x, b.x + NODE_W
    return (
        f"M{x1:.1f},{ay:.1f} C{x1 - 40:.1f},{ay + 30:.1f} {x2 + 40:.1f},{by + 30:.1f} "
        f"{x2:.1f},{by:.1f}"
    )


def model_list(ctx: Any) -> str:
    """A table of every model, seed and source: kind, layer, materialization, rows, reads,
    read by, description and the notes sections left for it."""
    manifest, graph = ctx.manifest, ctx.graph
    placed, layers = layout(manifest, graph)
    layer = {p.uid: p.layer for p in placed}
    children: dict[str, list[str]] = {u: [] for u in layer}
    for uid in layer:
        for parent in manifest.nodes[uid].depends_on:
            if parent in children:
                children[parent].append(uid)
    rows = []
    order = sorted(placed, key=lambda p: (p.column, p.row))
    for item in order:
        node = manifest.nodes[item.uid]
        reads = [manifest.nodes[p] for p in node.depends_on if p in layer]
        read_by = [manifest.nodes[c] for c in sorted(children[item.uid])]
        materialized = node.materialized if node.resource_type == "model" else node.resource_type
        notes = "".join(f"<div>{note}</div>" for note in ctx.model_notes.get(item.name, []))
        rows.append(
            f'<tr id="{esc(anchor("model-", item.name))}" '
            f'data-search="{esc(item.name)} {esc(item.layer)} {esc(node.rel_path)}">'
            f'<td><code>{esc(item.name)}</code><div class="muted">{esc(node.rel_path)}</div></td>'
            f"<td>{esc(item.layer)}</td><td>{esc(materialized)}</td>"
            f'<td class="num">{_rows(ctx, node)}</td>'
            f"<td>{_links(reads)}</td><td>{_links(read_by)}</td>"
            f"<td>{_description(node.description)}{notes}</td></tr>"
        )
    return (
        '<div class="filter-bar"><input type="search" class="filter" placeholder="Filter models" '
        'data-filter="#model-table tbody tr" aria-label="Filter models">'
        f'<span class="muted">{len(order)} nodes in {len(layers)} layers</span></div>'
        '<div class="table-wrap"><table id="model-table" class="models"><thead><tr>'
        "<th>Name</th><th>Layer</th><th>Materialized</th><th>Rows</th><th>Reads</th>"
        "<th>Read by</th><th>Description</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></div>"
    )


def _links(nodes: list[Any]) -> str:
    return (
        ", ".join(f'<a href="#{esc(anchor("model-", n.name))}">{esc(n.name)}</a>' for n in nodes)
        or '<span class="muted">–</span>'
    )


def _rows(ctx: Any, node: Any) -> str:
    if node.resource_type == "source" or node.materialized == "view":
        return '<span class="muted">–</span>'
    relation = ctx.relation(node.name)
    if relation is None:
        return '<span class="muted">not built</span>'
    try:
        (count,) = ctx.con.execute(f"select count(*) from {relation}").fetchone()
    except Exception:  # noqa: BLE001 - a relation the database cannot read shows no count
        return '<span class="muted">?</span>'
    return number(int(count))


def _description(text: str) -> str:
    text = (text or "").strip()
    if not text:
        return ""
    first, _, rest = text.partition("\n")
    if not rest.strip() and len(first) <= 240:
        return f"<p>{esc(first)}</p>"
    return f"<details><summary>{esc(first[:240])}</summary><p>{esc(text)}</p></details>"
