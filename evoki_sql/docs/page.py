"""Assembles target/docs/index.html: one self-contained page with inline CSS and JS (no
network at view time: a Content-Security-Policy forbids every fetch), a header, a contents
bar and the sections in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evoki_sql.docs.markup import esc

ASSETS = Path(__file__).parent / "assets"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)


@dataclass(frozen=True)
class RenderedSection:
    """A section's anchor, heading and HTML body."""

    key: str
    title: str
    body: str


def render_page(title: str, facts: list[tuple[str, str]], sections: list[RenderedSection]) -> str:
    """The whole page; `facts` are (label, value) pairs shown under the title (escaped here)."""
    css = (ASSETS / "docs.css").read_text(encoding="utf-8")
    js = (ASSETS / "docs.js").read_text(encoding="utf-8")
    facts_html = "".join(
        f'<span class="fact"><span class="muted">{esc(k)}</span> {esc(v)}</span>' for k, v in facts
    )
    nav = "".join(f'<a href="#{esc(s.key)}">{esc(s.title)}</a>' for s in sections)
    body = "".join(
        f'<section id="{esc(s.key)}" class="report-section"><h2>{esc(s.title)}</h2>'
        f"{s.body}</section>"
        for s in sections
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head>"
        f'<body><header class="top"><h1>{esc(title)}</h1><div class="facts">{facts_html}</div>'
        f'<nav class="contents">{nav}</nav></header><main>{body}</main>'
        f"<script>{js}</script></body></html>\n"
    )
