"""Small server-side SVG charts for the report: a histogram / bar chart of counts."""

from __future__ import annotations

from collections.abc import Sequence

from evoki_sql.docs.markup import esc, number


def bar_chart(
    counts: Sequence[int],
    tips: Sequence[str],
    *,
    labels: Sequence[str] | None = None,
    axis: tuple[str, str] | None = None,
    width: int = 260,
    height: int = 72,
    title: str = "",
) -> str:
    """Bars of `counts` (height relative to the largest), each with a hover tip; under the
    bars either one label per bar or the two ends of the axis."""
    n = max(1, len(counts))
    top = max(counts) if counts else 0
    label_h = 14
    plot_h = height - label_h - 2
    step = width / n
    gap = 1 if step > 4 else 0
    parts = [
        (
            f'<svg class="bars" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{esc(title)}">'
        )
    ]
    if title:
        parts.append(f"<title>{esc(title)}</title>")
    parts.append(
        f'<line class="axis" x1="0" y1="{plot_h + 0.5}" x2="{width}" y2="{plot_h + 0.5}"/>'
    )
    for i, count in enumerate(counts):
        h = 0.0 if top == 0 else max(1.0 if count else 0.0, plot_h * count / top)
        x = i * step
        parts.append(
            f'<rect class="bar" x="{x + gap / 2:.2f}" y="{plot_h - h:.2f}" '
            f'width="{max(0.5, step - gap):.2f}" height="{h:.2f}">'
            f"<title>{esc(tips[i] if i < len(tips) else '')}: {number(count)}</title></rect>"
        )
    y_text = height - 3
    if labels:
        for i, label in enumerate(labels):
            parts.append(
                f'<text class="tick" x="{(i + 0.5) * step:.2f}" y="{y_text}" '
                f'text-anchor="middle">{esc(label)}</text>'
            )
    elif axis:
        parts.append(f'<text class="tick" x="0" y="{y_text}">{esc(axis[0])}</text>')
        parts.append(
            f'<text class="tick" x="{width}" y="{y_text}" text-anchor="end">{esc(axis[1])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
