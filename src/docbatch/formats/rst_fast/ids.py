"""Element ids the way docutils makes them, for the fast reStructuredText reader (``rst_fast``).

A section's anchor is its id in the rendered page: docutils' ``make_id`` of its name (its
title, or the label of the target right before it), made unique in document order among
all the ids of the document (sections, named targets, inline targets, references with an
embedded URI) as ``document.set_id`` does: a taken id gets ``-1``, ``-2``, ... .
"""

from __future__ import annotations

import re
import unicodedata

_NON_ID_CHARS = re.compile("[^a-z0-9]+")
_NON_ID_TRANSLATE = {
    0x00F8: "o", 0x0111: "d", 0x0127: "h", 0x0131: "i", 0x0142: "l", 0x0167: "t",
    0x0180: "b", 0x0183: "b", 0x0188: "c", 0x018C: "d", 0x0192: "f", 0x0199: "k",
    0x019A: "l", 0x019E: "n", 0x01A5: "p", 0x01AB: "t", 0x01AD: "t", 0x01B4: "y",
    0x01B6: "z", 0x01E5: "g", 0x0225: "z", 0x0234: "l", 0x0235: "n", 0x0236: "t",
    0x0237: "j", 0x023C: "c", 0x023F: "s", 0x0240: "z", 0x0247: "e", 0x0249: "j",
    0x024B: "q", 0x024D: "r", 0x024F: "y",
}  # fmt: skip
_NON_ID_TRANSLATE_DIGRAPHS = {0x00DF: "sz", 0x00E6: "ae", 0x0153: "oe", 0x0238: "db", 0x0239: "qp"}


def make_id(name: str) -> str:
    """docutils' ``nodes.make_id``: lower case ASCII letters, digits and single hyphens,
    starting with a letter ('' when nothing is left).

    >>> make_id("Étude über Straße"), make_id("2024 Release"), make_id("my_label"), make_id("12")
    ('etude-uber-strasze', 'release', 'my-label', '')
    """
    text = name.lower()
    if not text.isascii():
        text = text.translate(_NON_ID_TRANSLATE_DIGRAPHS).translate(_NON_ID_TRANSLATE)
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NON_ID_CHARS.sub("-", text).lstrip("-0123456789").rstrip("-")


class Ids:
    """The ids given so far in one document, in document order."""

    __slots__ = ("_counters", "_used")

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._counters: dict[str, int] = {}

    def add(self, name: str, tag: str) -> str:
        """The id of a new element named ``name`` (``tag``: its element type, the prefix of
        an id for a name that gives none).

        >>> ids = Ids()
        >>> ids.add("Install", "section"), ids.add("install", "section"), ids.add("1", "section")
        ('install', 'install-1', 'section-1')
        """
        base = make_id(name)
        used = self._used
        if base and base not in used:
            used.add(base)
            return base
        prefix = f"{base or tag}-"
        while True:
            count = self._counters.get(prefix, 0) + 1
            self._counters[prefix] = count
            made = f"{prefix}{count}"
            if made not in used:
                used.add(made)
                return made


__all__ = ["Ids", "make_id"]
