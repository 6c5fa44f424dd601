"""Keeps data values out of messages: database errors may quote row values (turn text)."""

from __future__ import annotations

import re

_QUOTED = re.compile(r"'((?:[^']|'')*)'|\"((?:[^\"]|\"\")*)\"")
MAX_MESSAGE = 400


def redact(message: str, sql: str = "") -> str:
    """Hide quoted values that do not appear in the SQL that ran, and cap the length.

    Identifiers, literals and keywords of the statement stay readable; a value quoted from
    the data (a turn's text in a conversion error, say) becomes '<value hidden>'.
    """

    lowered = sql.lower()

    def hide(match: re.Match[str]) -> str:
        value = match.group(1) if match.group(1) is not None else match.group(2)
        quote = match.group(0)[0]
        if value == "" or value.lower() in lowered or len(value) <= 2:
            return match.group(0)
        return f"{quote}<value hidden>{quote}"

    text = _QUOTED.sub(hide, message)
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 3] + "..."
    return text
