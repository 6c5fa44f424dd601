"""Project docs sections through the CLI: a section that raises makes `docs` exit 1 naming
the section and its file while the page is still written with the other sections and an
error box in its place; sections of one project never appear in another project's report
written later in the same process."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from docs_support import DemoDocs, cli, parse

BROKEN = """\
from evoki_sql.docs import docs_section


@docs_section("Broken", key="broken", order=15)
def broken(ctx):
    raise ValueError("the broken section failed on purpose")
"""


def _sections(path: Path) -> list[str]:
    return [e.attrs["id"] for e in parse(path).find("section", class_="report-section")]


def test_failing_section(demo_docs: DemoDocs, tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(
        demo_docs.project, project, ignore=shutil.ignore_patterns("docs", "__pycache__")
    )
    (project / "hooks" / "zz_broken_docs.py").write_text(BROKEN, encoding="utf-8")
    code, output = cli(project, "docs")
    assert code == 1, output
    assert re.search(
        r"docs section broken failed: zz_broken_docs\.py: ValueError: the broken section", output
    )
    page = project / "target" / "docs" / "index.html"
    assert _sections(page) == ["overview", "broken", "sessions", "metrics", "models"]
    raw = page.read_text(encoding="utf-8")
    broken = raw[raw.index('<section id="broken"') : raw.index('<section id="sessions"')]
    assert 'class="error"' in broken and "ValueError" in broken

    # the demo project, documented next in this process, has no such section
    code, output = cli(demo_docs.project, "docs")
    assert code == 0, output
    assert _sections(demo_docs.project / "target" / "docs" / "index.html") == [
        "overview",
        "sessions",
        "metrics",
        "models",
    ]
