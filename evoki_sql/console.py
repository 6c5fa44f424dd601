"""Terminal output: dbt-like node lines, a closing summary and a progress bar on long work."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

PLAIN_PROGRESS_MIN = 50_000
_COLORS = {"green": "32", "red": "31", "yellow": "33", "grey": "90", "bold": "1"}


class Console:
    """Writes to stdout; colours and the progress bar only on a terminal."""

    def __init__(self, stream: TextIO | None = None, color: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.color = tty and not os.environ.get("NO_COLOR") if color is None else color
        self.tty = tty
        self._last_progress = 0.0
        self._last_step = -1

    def paint(self, text: str, color: str) -> str:
        if not self.color:
            return text
        return f"\033[{_COLORS[color]}m{text}\033[0m"

    def line(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def info(self, text: str) -> None:
        self.line(f"{time.strftime('%H:%M:%S')}  {text}")

    def node_line(self, index: int, total: int, status: str, description: str, timing: str) -> None:
        color = {
            "OK": "green",
            "PASS": "green",
            "SUCCESS": "green",
            "WARN": "yellow",
            "SKIP": "yellow",
            "FAIL": "red",
            "ERROR": "red",
        }.get(status.split()[0], "grey")
        head = f"{index} of {total} {self.paint(status, color)} {description} "
        width = 80
        visible = len(f"{index} of {total} {status} {description} ")
        dots = "." * max(3, width - visible)
        self.info(f"{head}{dots} [{timing}]")

    def progress(self, done: int, total: int, label: str) -> None:
        """A one-line progress bar, redrawn at most 10 times a second, on a terminal; in a log
        (no terminal) a plain line at every tenth of a large job (PLAIN_PROGRESS_MIN items)."""
        if total <= 0:
            return
        if not self.tty:
            if total >= PLAIN_PROGRESS_MIN:
                step = 10 * done // total
                if step > self._last_step:
                    self._last_step = step
                    self.info(f"  {label}: {done}/{total} ({10 * step}%)")
                if done >= total:
                    self._last_step = -1
            return
        now = time.monotonic()
        if done < total and now - self._last_progress < 0.1:
            return
        self._last_progress = now
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        end = "\n" if done >= total else ""
        self.stream.write(f"\r  {label} [{bar}] {done}/{total}{end}")
        self.stream.flush()

    def error(self, text: str) -> None:
        sys.stderr.write(self.paint("Error: ", "red") + text + "\n")
        sys.stderr.flush()
