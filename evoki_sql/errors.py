"""Error types of the runner: user errors carry a location and never a stack trace."""

from __future__ import annotations

from dataclasses import dataclass


class EvokiError(Exception):
    """Base class of errors caused by the project, profile or input, not by a bug."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        col: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.col = col
        self.detail = detail

    def location(self) -> str:
        if not self.path:
            return ""
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.col is not None:
                loc += f":{self.col}"
        return loc

    def __str__(self) -> str:
        loc = self.location()
        text = f"{loc}: {self.message}" if loc else self.message
        if self.detail:
            text += "\n" + self.detail
        return text


class ConfigError(EvokiError):
    """Project configuration or profile is invalid (exit 2)."""


class CompilationError(EvokiError):
    """A model, test or macro cannot be rendered or parsed (exit 2 at compile time)."""


class SelectionError(EvokiError):
    """A selector does not parse or names nothing known."""


class DatabaseError(EvokiError):
    """A database file is missing, locked or not what it claims to be."""


@dataclass
class NodeFailure(Exception):
    """A node failed while executing; downstream nodes get skipped."""

    message: str

    def __str__(self) -> str:
        return self.message
