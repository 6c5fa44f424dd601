"""Safe HTML pieces: escaped text and attributes, JSON data blocks, anchors and numbers."""

from __future__ import annotations

import html
import json
import math
import re
from typing import Any

_ANCHOR_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")
_JSON_UNSAFE = {
    "&": "\\u0026",
    "<": "\\u003c",
    ">": "\\u003e",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def esc(value: Any) -> str:
    """Text (or an attribute value) with &, <, >, " and ' escaped."""
    return html.escape("" if value is None else str(value), quote=True)


def anchor(prefix: str, name: str) -> str:
    """A stable element id for a name: unsafe characters become `_` plus their code point."""
    return prefix + _ANCHOR_UNSAFE.sub(lambda m: f"_{ord(m.group(0)):x}", name)


def json_text(data: Any) -> str:
    """Compact JSON that can sit inside a <script> element (no `</script>`, no NaN)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escaped in _JSON_UNSAFE.items():
        text = text.replace(char, escaped)
    return text


def json_script(element_id: str, data: Any) -> str:
    """A `<script type="application/json">` data block, read in the page with JSON.parse."""
    return f'<script type="application/json" id="{esc(element_id)}">{json_text(data)}</script>'


def number(value: Any, digits: int = 4) -> str:
    """A number for display: integers with thousands separators, floats rounded."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        text = f"{value:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)
