"""Helpers of the docs tests: the CLI in-process, an HTML parser for the report, the demo
database's facts and a headless Chromium."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from evoki_sql.cli import main

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def cli_process(project: Path, *args: str) -> tuple[int, str]:
    """The same in a child process: a build imports the project's UDF modules, which must not
    replace the modules the other test files imported (udfs.lexicon, say)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVOKI_")}
    done = subprocess.run(
        [sys.executable, "-m", "evoki_sql", *args, "--project-dir", str(project)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def cli(project: Path, *args: str) -> tuple[int, str]:
    """`python -m evoki_sql ARGS --project-dir PROJECT` in-process without EVOKI_* variables."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("EVOKI_"):
                patch.delenv(name)
        with redirect_stdout(out), redirect_stderr(err):
            code = main([*args, "--project-dir", str(project)])
    return code, out.getvalue() + err.getvalue()


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]


@dataclass
class Page:
    """The parsed report: every element with its attributes and the JSON data blocks."""

    raw: str
    elements: list[Element] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def ids(self) -> set[str]:
        return {e.attrs["id"] for e in self.elements if "id" in e.attrs}

    def find(self, tag: str, **attrs: str) -> list[Element]:
        """Elements of `tag` whose attributes hold the given values (class: one of its words)."""
        found = []
        for element in self.elements:
            if element.tag != tag:
                continue
            ok = True
            for key, value in attrs.items():
                name = key.rstrip("_").replace("_", "-")
                have = element.attrs.get(name)
                if name == "class":
                    ok = ok and have is not None and value in have.split()
                else:
                    ok = ok and have == value
            if ok:
                found.append(element)
        return found


class _Collector(HTMLParser):
    def __init__(self, page: Page) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._json_id: str | None = None
        self._json_parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.page.elements.append(Element(tag, values))
        if tag == "script" and values.get("type") == "application/json":
            self._json_id = values.get("id", "")
            self._json_parts = []

    def handle_data(self, data: str) -> None:
        if self._json_id is not None:
            self._json_parts.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._json_id is not None:
            self.page.data[self._json_id] = json.loads("".join(self._json_parts))
            self._json_id = None


def parse(path: Path) -> Page:
    raw = path.read_text(encoding="utf-8")
    page = Page(raw)
    collector = _Collector(page)
    collector.feed(raw)
    collector.close()
    return page


def chromium(*args: str, user_data: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium; it must be installed (Debian package `chromium`)."""
    binary = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    assert binary, "headless Chromium is needed: apt-get install -y chromium (see .ci/run)"
    return subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={user_data}", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def console_errors(stderr: str) -> list[str]:
    """Lines of Chromium's log that report page console output or an uncaught error."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


@dataclass(frozen=True)
class DemoDocs:
    project: Path
    plain: Path  # target/docs/index.html of `docs`, kept aside
    with_text: Path  # the same of `docs --include-text`
    outputs: tuple[str, str]
    turns: list[dict[str, Any]]  # every turn of fullspectrum168 with its text

    def page(self, include_text: bool = False) -> Page:
        return parse(self.with_text if include_text else self.plain)


class _TextOf(HTMLParser):
    """The text inside the first element of a tag and class (nested elements included)."""

    def __init__(self, tag: str, cls: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag, self.cls = tag, cls
        self.depth = 0
        self.done = False
        self.parts: list[str] = []
        self.attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if self.depth:
            self.depth += tag == self.tag
        elif not self.done and tag == self.tag and self.cls in values.get("class", "").split():
            self.depth, self.attrs = 1, values

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == self.tag:
            self.depth -= 1
            self.done = self.depth == 0

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(raw: str, tag: str, cls: str) -> tuple[dict[str, str], str] | None:
    """(attributes, text) of the first `<tag class="... cls ...">` in `raw`, or None."""
    finder = _TextOf(tag, cls)
    finder.feed(raw)
    return (finder.attrs, "\n".join(finder.parts)) if finder.attrs else None
