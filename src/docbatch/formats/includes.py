"""The files a reStructuredText document includes (the ``include`` directive), read for the
built-in parsers.

A path is relative to the file holding the directive (the document, or an included file),
as docutils reads it; an absolute path is taken from the source's root. Only files inside
the root are read (after symlinks): a path leading out of it, a missing or unreadable file,
a file larger than the size limit, a file including itself (through others), an include
nested more than ``MAX_DEPTH`` deep or past ``MAX_READS`` files gives nothing and a warning
in the document's outcome. docutils' standard includes (``<isonum.txt>``) are not read.

``Includes.read`` records each file read and the SHA-256 of its bytes: the document's
fingerprint names them, so that a change in an included file parses its includers again.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from typing import BinaryIO

_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
"""A FIFO opens without waiting for a writer (and is then refused)."""

MAX_DEPTH = 8
"""Includes nested deeper are refused."""

MAX_READS = 256
"""Files read for one document at most (a file included twice counts twice)."""

OPTIONS = ("start-line", "end-line", "start-after", "end-before", "literal", "code", "encoding", "tab-width")
"""The options of the ``include`` directive docutils knows (``parser`` is not read)."""


@dataclass
class Includes:
    """Reads the files included by the document at ``path`` in the source at ``root``."""

    root: str
    path: str
    max_size: int = 50 * 1024 * 1024
    read: dict[str, str] = field(default_factory=dict)
    """Each file read: its path relative to the root (``/`` separated) -> SHA-256."""
    warnings: list[str] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    """Each file read (its real path) -> the document line (1-based) of the ``include`` that
    first brought it in (kept by the docutils engine)."""
    _parent: dict[str, str | None] = field(default_factory=dict)
    _reads: int = 0

    _real: tuple[str, str] | None = None

    def _reals(self) -> tuple[str, str]:
        """The real paths of the root and the document (found on the first include)."""
        if self._real is None:
            self._real = (os.path.realpath(self.root), os.path.realpath(self.path))
            self._parent[self._real[1]] = None
        return self._real

    def _chain(self, path: str) -> list[str]:
        """``path`` and the files that included it, up to the document."""
        chain: list[str] = []
        at: str | None = path
        while at is not None and at not in chain:
            chain.append(at)
            at = self._parent.get(at)
        return chain

    def text(
        self, name: str, including: str | None = None, encoding: str | None = None
    ) -> tuple[str, str] | None:
        """The text of the file ``name`` names in ``including`` (a path this object
        returned, or None: the document), and the file's real path; None (with a warning)
        when it is not read (see the module)."""
        name = name.strip()
        if name.startswith("<") and name.endswith(">"):
            self.warnings.append(f"include {name}: docutils' standard includes are not read")
            return None
        root, document = self._reals()
        parent = document if including is None or including not in self._parent else including
        chain = self._chain(parent)
        if len(chain) > MAX_DEPTH or self._reads >= MAX_READS:
            self.warnings.append(f"include {name}: nested more than {MAX_DEPTH} deep or too many includes")
            return None
        if os.path.isabs(name):
            full = os.path.join(root, name.lstrip("/\\"))
        else:
            full = os.path.join(os.path.dirname(parent), name)
        real = os.path.realpath(full)
        if not real.startswith(root.rstrip(os.sep) + os.sep):
            self.warnings.append(f"include {name}: outside the source, not read")
            return None
        if real in chain:
            self.warnings.append(f"include {name}: includes itself, not read again")
            return None
        try:
            with os.fdopen(os.open(real, _READ), "rb") as handle:
                st = os.fstat(handle.fileno())
                if not stat.S_ISREG(st.st_mode):
                    self.warnings.append(f"include {name}: not a regular file, not read")
                    return None
                if st.st_size > self.max_size:
                    self.warnings.append(f"include {name}: larger than the size limit, not read")
                    return None
                key = (real, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, encoding)
                found = _CACHE.get(key) or _read(handle, key, self.max_size, encoding)
        except OSError as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else exc.strerror or type(exc).__name__
            self.warnings.append(f"include {name}: {reason}")
            return None
        if found is None:
            self.warnings.append(f"include {name}: larger than the size limit, not read")
            return None
        digest, text = found
        self.read[os.path.relpath(real, root).replace(os.sep, "/")] = digest
        self._parent.setdefault(real, parent)
        self._reads += 1
        return text, real


_CACHE: dict[tuple[object, ...], tuple[str, str]] = {}
"""The files read lately (by path and stat): a file included by many documents is read,
hashed and decoded once per process while it does not change."""
_CACHE_SIZE = 256


def _read(
    handle: BinaryIO, key: tuple[object, ...], max_size: int, encoding: str | None
) -> tuple[str, str] | None:
    """The SHA-256 and text of the open file (None when it is over ``max_size``), kept in
    ``_CACHE`` under ``key``."""
    data = handle.read(max_size + 1)
    if len(data) > max_size:
        return None
    try:
        text = data.decode(encoding or "utf-8-sig", errors="replace")
    except LookupError:
        text = data.decode("utf-8-sig", errors="replace")
    value = hashlib.sha256(data).hexdigest(), text.replace("\r\n", "\n")
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.clear()
    _CACHE[key] = value
    return value


def select(text: str, options: dict[str, str]) -> str:
    """The part of an included ``text`` the ``include`` options keep (``start-line``,
    ``end-line``: Python slice indices over its lines; ``start-after``, ``end-before``: the
    text after the first occurrence of one, before the first of the other after it).

    >>> select("a\\nb\\nc\\n", {"start-line": "1"})
    'b\\nc'
    >>> select("x START y END z", {"start-after": "START", "end-before": "END"})
    ' y '
    """
    if "start-line" in options or "end-line" in options:
        lines = text.splitlines()
        text = "\n".join(lines[_int(options.get("start-line")) : _int(options.get("end-line"))])
    after = options.get("start-after")
    if after:
        index = text.find(after)
        text = text[index + len(after) :] if index >= 0 else ""
    before = options.get("end-before")
    if before:
        index = text.find(before)
        text = text[:index] if index >= 0 else ""
    return text


def tab_width(options: dict[str, str]) -> int:
    """The ``tab-width`` option of an ``include`` (8 when absent or not a number)."""
    width = _int(options.get("tab-width"))
    return 8 if width is None else width


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


__all__ = ["MAX_DEPTH", "MAX_READS", "OPTIONS", "Includes", "select", "tab_width"]
