"""Inline markup for the fast reStructuredText reader (``rst_fast``).

``Inline.text(raw)`` returns what docutils with the Sphinx fallbacks of
``sphinx_compat`` shows for a run of inline text: ``**x**`` shows ``x``, a role
its display text, a reference its text, a substitution its replacement and a
footnote reference nothing. Link references are recorded in document order and
resolved against the document's targets by ``Inline.links()`` once the whole
document has been read. Every scan moves forward and the searches for
end-strings remember where they failed, so the cost stays linear in the input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from docbatch.formats.rst_fast.ids import Ids
from docbatch.formats.rst_fast.text import (
    EMAIL_ONLY,
    ENDS,
    HINT,
    INITIAL,
    INITIAL_HERE,
    INTERPRETED_END,
    PEP_URL,
    PLAIN_ROLES,
    RFC_URL,
    SCHEMES,
    SUBSTITUTION_BUDGET,
    SUBSTITUTION_DEPTH,
    URI,
    URI_BUDGET,
    URI_WINDOW,
    Link,
    Substitution,
    display_text,
    embedded,
    escape,
    find_ref,
    has_title,
    match_chars,
    normalize_name,
    unescape,
)


class _Scan:
    """The state of one pass over a run of escaped inline source."""

    __slots__ = ("failed", "out", "pending", "s", "seg")

    def __init__(self, s: str) -> None:
        self.s = s
        self.out: list[str] = []
        self.pending: list[str] = []
        self.failed: dict[str, int] = {}
        self.seg = 0

    def search(self, key: str, pattern: re.Pattern[str], pos: int) -> re.Match[str] | None:
        """``pattern.search`` from ``pos``, remembering a failure for later positions."""
        if self.failed.get(key, len(self.s) + 1) <= pos:
            return None
        found = pattern.search(self.s, pos)
        if found is None:
            self.failed[key] = pos
        return found

    def quoted(self, begin: int, end: int) -> bool:
        """Whether the start-string at ``begin:end`` sits between matching quotes."""
        if begin == self.seg:
            return False
        if end >= len(self.s):
            return True
        return match_chars(self.s[begin - 1], self.s[end])


class Inline:
    """Inline markup of one document: clean text out, link references collected.

    ``targets`` maps normalised names to ``("uri", url)``, ``("name", other)`` or
    ``("internal", "")``; ``substitutions`` maps names to their definitions in
    order: (text, whether the text is inline source, link or None). Substitutions
    may add at most ``max(1 MiB, 4 * size)`` characters in all, so nested ones cannot
    blow up. ``ids`` are the document's ids: inline targets and named references with an
    embedded target take theirs as they are read. ``shown`` collects the (text, name) of
    each substitution made in the runs given to ``text`` (the caller empties it).
    ``titles`` maps section labels to their titles: a ``:ref:`` to a label without a title
    of its own shows the title, as in Sphinx; a label not there is one of ``unresolved``, and
    shows its title in ``table`` (other documents' labels) when it has one there.
    """

    def __init__(
        self, targets: dict[str, Link], substitutions: dict[str, list[Substitution]], size: int = 0
    ) -> None:
        self.targets = targets
        self.substitutions = substitutions
        self._folded = {name.lower(): value for name, value in substitutions.items()}
        self.refs: list[Link] = []
        self.ids = Ids()
        self.shown: list[tuple[str, str]] = []
        self.titles: dict[str, str] = {}
        self.table: Mapping[str, str] = {}
        self.unresolved: dict[str, None] = {}
        self._uri_budget = URI_BUDGET
        self._depth = 0
        self._illegal = 0
        self._active: list[str] = []
        self._expanded: dict[str, tuple[str, list[Link]]] = {}
        self._budget = max(SUBSTITUTION_BUDGET, 4 * size)

    def text(self, raw: str) -> str:
        """The clean text of ``raw`` inline source (line breaks kept)."""
        if HINT.search(raw) is None:
            return raw
        if self._depth >= SUBSTITUTION_DEPTH:
            return unescape(escape(raw))
        self._depth += 1
        try:
            return self._parse(_Scan(escape(raw)))
        finally:
            self._depth -= 1

    def _parse(self, scan: _Scan) -> str:
        s, out, pending = scan.s, scan.out, scan.pending
        pos, size = 0, len(s)
        ref: tuple[int, int, int] | None = None
        ref_failed = size + 1
        ahead: re.Match[str] | None = None
        ahead_failed = size + 1
        while pos < size:
            match = INITIAL_HERE.match(s, pos) if pos == scan.seg and pos else None
            if match is None:
                if ahead is None or ahead.start() < pos:
                    ahead = INITIAL.search(s, pos) if pos < ahead_failed else None
                    if ahead is None:
                        ahead_failed = min(ahead_failed, pos)
                match = ahead
            if (ref is None or ref[0] < pos) and pos < ref_failed:
                ref = find_ref(s, pos, scan.seg)
                if ref is None:
                    ref_failed = pos
            if ref is not None and ref[0] >= pos and (match is None or ref[0] < match.start()):
                start, end, stop = ref
                pending.append(s[pos:start])
                self._flush(scan)
                name = s[start:end]
                out.append(unescape(name))
                anonymous = stop - end == 2
                self._illegal += anonymous
                self.refs.append(("anon", "") if anonymous else ("name", normalize_name(unescape(name))))
                pos = scan.seg = stop
                continue
            if match is None:
                break
            pos = scan.seg = self._dispatch(scan, pos, match)
        pending.append(s[pos:])
        self._flush(scan)
        return "".join(out)

    def _flush(self, scan: _Scan) -> None:
        if not scan.pending:
            return
        text = "".join(scan.pending)
        scan.pending.clear()
        if text:
            if self._uri_budget > 0 and (":" in text or "@" in text):
                self._uris(text)
            scan.out.append(unescape(text))

    def _dispatch(self, scan: _Scan, pos: int, match: re.Match[str]) -> int:
        """Handle one start-string match; returns the position to go on from."""
        s, start = scan.s, match.group("start")
        if start is None and match.group("fn") is not None:
            label = match.group("fn")[1:-2]
            self._illegal += label[0] in "#*"
            scan.pending.append(s[pos : match.start("fn")])
            self._flush(scan)
            if not (label[0] in "#*" or label.isdigit()):
                scan.out.append(unescape(label))
            return match.end()
        if start is None:
            return self._backquote(scan, pos, match)
        begin, end = match.start("start"), match.end("start")
        if scan.quoted(begin, end):
            scan.pending.append(s[pos:end])
            return end
        found = scan.search(start, ENDS[start], end)
        scan.pending.append(s[pos:begin])
        self._flush(scan)
        if found is None or found.start(1) == end:
            self._illegal += 1
            scan.out.append(unescape(s[begin:end]))
            return end
        scan.out.append(self._simple(start, s[end : found.start(1)], found.group(1)))
        return found.end(1)

    def _simple(self, start: str, inner: str, closing: str) -> str:
        if start == "``":
            return inner.replace("\x00", "\\")
        text = unescape(inner)
        if start == "_`":
            self._illegal += 1
            self.targets.setdefault(normalize_name(text), ("internal", ""))
            self.ids.add(text, "target")
        elif start == "|":
            if closing.endswith("__"):
                self._illegal += 1
                self.refs.append(("anon", ""))
            elif closing.endswith("_"):
                self.refs.append(("name", normalize_name(text)))
            return self._substitute(text)
        return text

    def _substitute(self, name: str) -> str:
        """The text of substitution ``name`` (each name is expanded once per document)."""
        key = " ".join(name.split())
        if key in self._active:
            return key
        cached = self._expanded.get(key)
        if cached is None:
            start = len(self.refs)
            cached = self._expanded[key] = (self._expand(key), self.refs[start:])
            del self.refs[start:]
        shown, refs = cached
        if len(shown) > self._budget:
            return key
        self._budget -= len(shown)
        self.refs.extend(refs)
        if self._depth == 1:
            self.shown.append((shown, key))
        return shown

    def _expand(self, key: str) -> str:
        """The last definition of ``key`` docutils accepts, expanded; ``key`` when none."""
        for text, parse, link in reversed(self.substitutions.get(key) or self._folded.get(key.lower()) or ()):
            refs, illegal = len(self.refs), self._illegal
            if link is not None:
                self.refs.append(link)
            self._active.append(key)
            try:
                shown = self.text(text) if parse else text
            finally:
                self._active.pop()
            if self._illegal == illegal:
                return shown
            del self.refs[refs:]
            self._illegal = illegal
        return key

    def _backquote(self, scan: _Scan, pos: int, match: re.Match[str]) -> int:
        s, role = scan.s, match.group("role") or ""
        begin, end = match.start("bq"), match.end("bq")
        if not role and scan.quoted(begin, end):
            scan.pending.append(s[pos:end])
            return end
        found = scan.search("`", INTERPRETED_END, end)
        if found is None or found.start(1) == end:
            scan.pending.append(s[pos:begin])
            self._flush(scan)
            self._illegal += 1
            scan.out.append("`")
            return end
        scan.pending.append(s[pos : match.start()])
        self._flush(scan)
        escaped = s[end : found.start(1)]
        role = role or found.group("role") or ""
        if found.group("refend") and not role:
            scan.out.append(self._phrase(escaped, anonymous=len(found.group("refend")) == 2))
        elif found.group("refend"):
            self._illegal += 1
            scan.out.append(unescape(s[match.start() : found.end(1)]))
        else:
            scan.out.append(self._interpreted(role[1:-1].lower(), escaped))
        return found.end(1)

    def _interpreted(self, role: str, escaped: str) -> str:
        if not role or role in PLAIN_ROLES:
            return unescape(escaped)
        if role in ("code", "math"):
            return escaped.replace("\x00", "\\")
        if role in ("pep", "pep-reference", "rfc", "rfc-reference"):
            shown = self._numbered(role, unescape(escaped))
            if shown is not None:
                return shown
        if role in ("ref", "std:ref") and not has_title(escaped):
            label = normalize_name(unescape(escaped))
            title = self.titles.get(label)
            if title is None:
                self.unresolved[label] = None
                title = self.table.get(label)
            if title is not None:
                return title
        return display_text(escaped)

    def _numbered(self, role: str, text: str) -> str | None:
        number, _, section = text.partition("#")
        try:
            value = int(number if role.startswith("rfc") else text)
        except ValueError:
            return None
        if role.startswith("pep"):
            if not 0 <= value <= 9999:
                return None
            self.refs.append(("uri", PEP_URL % value))
            return "PEP " + text
        if value < 1:
            return None
        self.refs.append(("uri", RFC_URL % value + ("#" + section if section else "")))
        return f"RFC {value}"

    def _phrase(self, escaped: str, *, anonymous: bool) -> str:
        parts = embedded(escaped)
        if parts is None:
            text = unescape(escaped)
            self._illegal += anonymous
            self.refs.append(("anon", "") if anonymous else ("name", normalize_name(text)))
            return text
        before, alias = parts
        if alias.endswith("_") and not (alias.endswith("\x00_") or URI.match(alias)):
            link: Link = ("name", normalize_name(unescape(alias[:-1])))
        else:
            pieces = alias.replace("\x00\n", "\x00 ").split("\x00 ")
            uri = unescape(" ".join("".join(piece.split()) for piece in pieces))
            if EMAIL_ONLY.match(uri):
                uri = "mailto:" + uri
            link = ("uri", uri)
        text = unescape(before) if before else link[1]
        self.refs.append(link)
        if not anonymous:
            self._illegal += 1
            if before:
                self.targets.setdefault(normalize_name(text), link)
                self.ids.add(text, "target")
        return text

    def _uris(self, text: str) -> None:
        """Record the standalone URIs and e-mail addresses of plain text."""
        pos, size = 0, len(text)
        while pos < size and self._uri_budget > 0:
            colon, at = text.find(":", pos), text.find("@", pos)
            anchor = min(colon if colon >= 0 else size, at if at >= 0 else size)
            if anchor >= size:
                return
            self._uri_budget -= 1
            low, high = max(pos, anchor - URI_WINDOW), min(size, anchor + URI_WINDOW)
            found = URI.search(text, low, high)
            if found is None:
                pos = anchor + 1
                continue
            scheme = found.group("scheme")
            if scheme is not None and scheme.lower() not in SCHEMES:
                return
            uri = unescape(found.group(0))
            self.refs.append(("uri", "mailto:" + uri if found.group("email") else uri))
            pos = max(found.end(), anchor + 1)

    def links(self, anonymous: list[Link]) -> list[str]:
        """The resolved external link targets, in document order."""
        usable = sum(1 for kind, _ in self.refs if kind == "anon") == len(anonymous)
        result: list[str] = []
        next_anonymous = 0
        for kind, value in self.refs:
            link: Link | None = (kind, value)
            if kind == "anon":
                link = anonymous[next_anonymous] if usable else None
                next_anonymous += 1
            uri = self._resolve(link)
            if uri:
                result.append(uri)
        return result

    def _resolve(self, link: Link | None) -> str | None:
        for _ in range(32):
            if link is None or link[0] != "name":
                break
            link = self.targets.get(link[1])
        return link[1] if link is not None and link[0] == "uri" else None


__all__ = ["Inline"]
