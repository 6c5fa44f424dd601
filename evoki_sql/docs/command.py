"""The `docs` command: open the target's DuckDB file read-only, render the project's docs
sections and the generic model DAG and list, and write target/docs/index.html."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evoki_sql.docs import registry
from evoki_sql.docs.context import DocsContext
from evoki_sql.docs.dag import dag_svg, model_list
from evoki_sql.docs.markup import esc
from evoki_sql.docs.page import RenderedSection, render_page
from evoki_sql.errors import DatabaseError

OUTPUT = Path("docs") / "index.html"


def docs_command(session: Any, include_text: bool) -> int:
    """Write the report; exit 1 when a project section failed (the page is still written)."""
    started = time.perf_counter()
    target = session.target
    con = open_read_only(target)
    code = 0
    try:
        ctx = DocsContext(
            manifest=session.manifest,
            graph=session.graph,
            target=target,
            target_path=session.config.target_path,
            con=con,
            include_text=include_text,
            variables=dict(session.manifest.env.variables),
        )
        sections: list[RenderedSection] = []
        for section in registry.registered(session.config.dirs("hook-paths")):
            body, ok = _render(section, ctx, session.console, session.args.debug)
            code = code if ok else 1
            sections.append(RenderedSection(section.key, section.title, body))
        sections.append(RenderedSection("models", "Models", _models(ctx)))
    finally:
        con.close()
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [
        ("target", target.name),
        ("database", Path(target.path).name),
        ("generated", generated),
    ]
    if include_text:
        facts.append(("turn text", "included in tooltips (--include-text)"))
    page = render_page(f"{session.config.name} report", facts, sections)
    path = session.config.target_path / OUTPUT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(path)
    size = path.stat().st_size
    session.console.info(
        f"Wrote {path} ({size / 1_000_000:.2f} MB, {len(sections)} sections) "
        f"in {time.perf_counter() - started:.1f}s"
    )
    return code


def open_read_only(target: Any) -> Any:
    """A read-only DuckDB connection to the target's file with its settings."""
    import duckdb

    from evoki_sql.relation import quote_ident, quote_literal

    if target.path == ":memory:":
        raise DatabaseError(
            f"target '{target.name}' keeps its database in memory: nothing to document"
        )
    path = Path(target.path)
    if not path.is_file():
        raise DatabaseError(
            f"no database at {path}: run `python -m evoki_sql build` for target "
            f"'{target.name}' first"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DatabaseError(
            f"cannot open {path} read-only (is a build writing to it?): {first}"
        ) from None
    settings = {"TimeZone": "UTC", **target.settings, "enable_progress_bar": "false"}
    for key, value in settings.items():
        con.execute(f"set {quote_ident(str(key))} = {quote_literal(str(value))}")
    return con


def _render(section: Any, ctx: DocsContext, console: Any, debug: bool) -> tuple[str, bool]:
    from evoki_sql.privacy import redact

    try:
        return section.render(ctx) or "", True
    except Exception as exc:
        if debug:
            raise
        where = getattr(section.render, "__code__", None)
        origin = f"{Path(where.co_filename).name}: " if where else ""
        console.error(
            f"docs section {section.key} failed: {origin}{type(exc).__name__}: "
            f"{redact(str(exc).splitlines()[0] if str(exc) else '')}"
        )
        return (
            (
                f'<p class="error">This section failed ({esc(type(exc).__name__)}); '
                "the command output names the cause.</p>"
            ),
            False,
        )


def _models(ctx: DocsContext) -> str:
    return (
        '<p class="muted">Models, seeds and sources in columns by layer; hover a node to '
        "highlight its edges, click it to jump to its row.</p>"
        f'<div class="dag-wrap">{dag_svg(ctx.manifest, ctx.graph)}</div>'
        f"{model_list(ctx)}"
    )
