"""Pieces of the docs runner without a database: escaping, data blocks, the registry and the
error when nothing is built."""

from __future__ import annotations

import json
import re
from pathlib import Path

from docs_support import cli

from evoki_sql.docs import registry
from evoki_sql.docs.markup import anchor, esc, json_script, json_text

from project_copy import copy_project


def test_json_blocks_cannot_close_their_script() -> None:
    hostile = {"id": "</script><script>alert(1)</script>", "t": "a & b <!-- \u2028"}
    block = json_script("x", hostile)
    body = block[len('<script type="application/json" id="x">') : -len("</script>")]
    assert "<" not in body and ">" not in body and "&" not in body
    assert json.loads(body) == hostile
    assert json_text("a\x07b") == '"a\\u0007b"'


def test_escape_and_anchor() -> None:
    assert esc('<b a="1">\'&') == "&lt;b a=&quot;1&quot;&gt;&#x27;&amp;"
    assert anchor("metric-", "m1_A") == "metric-m1_A"
    assert re.fullmatch(r"model-[A-Za-z0-9_.-]+", anchor("model-", 'x"><y z'))


def test_registry_orders_and_replaces_sections() -> None:
    saved = registry.registered()
    registry.reset()
    try:

        @registry.docs_section("B", key="b", order=20)
        def second(ctx: object) -> str:
            return "b"

        @registry.docs_section("A", order=10)
        def first(ctx: object) -> str:
            return "a"

        @registry.docs_section("B again", key="b", order=20)
        def second_again(ctx: object) -> str:
            return "b2"

        assert [(s.key, s.title) for s in registry.registered()] == [
            ("first", "A"),
            ("b", "B again"),
        ]
        registry.reset()
        assert registry.registered() == []
    finally:
        registry.reset()
        for section in saved:
            registry.docs_section(section.title, key=section.key, order=section.order)(
                section.render
            )


def test_docs_before_any_build_names_the_fix(tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    code, output = cli(project, "docs")
    assert code == 2
    assert "no database at" in output and "python -m evoki_sql build" in output
    assert not (project / "target" / "docs").exists()


def test_help_lists_docs() -> None:
    from evoki_sql.cli import _parser

    text = _parser().format_help()
    assert "docs" in text
    sub = _parser().parse_args(["docs", "--include-text"])
    assert sub.include_text is True
