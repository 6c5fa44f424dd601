"""Text primitives of the catalogue (ENGINE §1.1), the normative Python definitions.

Every UDF that needs tokens, sentences or segments imports them from here, so that there
is exactly one definition. Python's Unicode `\\w` is the catalogue's WORDCHAR
`[\\p{L}\\p{N}_]`.
"""

from __future__ import annotations

import re
import unicodedata

_WORD = re.compile(r"\w+")
_WORD_OR_CUT = re.compile(r"\w+|[.!?]+")
_CUT = re.compile(r"[.!?]+")
_HAS_WORD = re.compile(r"\w")


def nfc(text: str | None) -> str:
    """NFC normal form; NULL text is the empty string (ENGINE §0)."""
    return unicodedata.normalize("NFC", text or "")


def norm(text: str | None) -> str:
    """lower(nfc(text)) with U+0130 replaced by 'I' first (ENGINE §1.1)."""
    return unicodedata.normalize("NFC", (text or "").replace("\u0130", "I")).lower()


def tokens(text: str | None) -> list[str]:
    """Maximal runs of WORDCHAR in norm(text), in text order."""
    return _WORD.findall(norm(text))


def tokens_cased(text: str | None) -> list[str]:
    """The same runs taken from nfc(text) without lowercasing."""
    return _WORD.findall(nfc(text))


def sentences(text: str | None) -> list[str]:
    """Pieces of nfc(text) cut at runs of [.!?] that contain at least one WORDCHAR."""
    return [piece for piece in _CUT.split(nfc(text)) if _HAS_WORD.search(piece)]


def tokens_with_segments(text: str | None) -> tuple[list[str], list[int]]:
    """tokens(text) and, for each, the index of its segment of norm(text) cut at [.!?] runs.

    A multi-token lexicon phrase matches only inside one segment (ENGINE §2.4 rule 1).
    """
    found: list[str] = []
    segments: list[int] = []
    segment = 0
    for match in _WORD_OR_CUT.finditer(norm(text)):
        piece = match.group(0)
        if piece[0] in ".!?":
            segment += 1
        else:
            found.append(piece)
            segments.append(segment)
    return found, segments


def chargrams(token_list: list[str]) -> list[str]:
    """For each token t (with repetition) the substrings of length 3, 4, 5 of '<' + t + '>'."""
    grams: list[str] = []
    for token in token_list:
        padded = f"<{token}>"
        length = len(padded)
        for n in (3, 4, 5):
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams
