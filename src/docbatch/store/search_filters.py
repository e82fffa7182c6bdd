"""Which passages a search may return (``SearchFilters``): the filters every store applies
while it ranks (so a filter never empties a page of hits that the limit had cut), as SQL
for SQLite and PostgreSQL and as a test for the in-memory store."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from docbatch.errors import QueryError
from docbatch.frames import FORMATS


class SearchFilterArgs(TypedDict, total=False):
    """The filters of a search, as keyword arguments (see ``SearchFilters``)."""

    format: str | Sequence[str] | None
    path: str | None
    heading: str | None
    modified_since: datetime | date | str | None
    git_since: datetime | date | str | None
    git_until: datetime | date | str | None
    git_author: str | None


@dataclass(frozen=True)
class SearchFilters:
    """What a passage and its document must satisfy to be a hit, every given filter at once.

    - ``format``: the document's format, one or several (``html``, ``markdown``, ``rst``, ``text``).
    - ``path``: a glob on the document's ``doc_id`` with ``fnmatch`` rules, case-sensitive:
      ``*`` matches any characters, ``/`` included (``guide/*`` is every document under
      ``guide/``, at any depth), ``?`` one character, ``[abc]`` / ``[!abc]`` one of / none of.
    - ``heading``: text the passage's heading path contains, case-insensitive.
    - ``modified_since``: the file's modification time is at or after this moment.
    - ``git_since`` / ``git_until``: the date of the last commit that touched the file is in
      this range (both ends included; a date alone is the whole day); a document outside git
      has none and is left out.
    - ``git_author``: text that author (name or e-mail) contains, case-insensitive.

    A moment is a ``datetime``, a ``date`` or an ISO 8601 text (``2024-03-01``,
    ``2024-03-01T12:00:00+02:00``); one without a time zone is in UTC.

    >>> SearchFilters.of(format="rst", git_until="2024-03-01").git_before
    datetime.datetime(2024, 3, 2, 0, 0, tzinfo=datetime.timezone.utc)
    """

    formats: tuple[str, ...] = ()
    path: str | None = None
    heading: str | None = None
    modified_since_ns: int | None = None
    git_since: datetime | None = None
    git_before: datetime | None = None
    """The end of ``git_until``, excluded."""
    git_author: str | None = None

    @classmethod
    def of(cls, **filters: Any) -> SearchFilters:
        """The filters of a search's keyword arguments (``SearchFilterArgs``); none given
        or ``None``: no filter.

        Raises:
            QueryError: an unknown filter, format or a value that is not a moment, naming it.
        """
        unknown = set(filters) - set(SearchFilterArgs.__annotations__)
        if unknown:
            raise QueryError(
                f"unknown search filter {sorted(unknown)[0]}=: expected one of format, path, "
                "heading, modified_since, git_since, git_until, git_author"
            )
        given = {name: value for name, value in filters.items() if value is not None}
        formats = given.get("format", ())
        formats = tuple(f.strip() for f in formats.split(",")) if isinstance(formats, str) else tuple(formats)
        for value in formats:
            if value not in FORMATS:
                raise QueryError(f"format={value!r} is not a format: expected one of {', '.join(FORMATS)}")
        since = _moment("modified_since", given.get("modified_since"))
        until = given.get("git_until")
        before = _moment("git_until", until)
        if before is not None:
            whole_day = isinstance(until, date) and not isinstance(until, datetime)
            whole_day = whole_day or (isinstance(until, str) and len(until.strip()) == 10)
            before = (
                before + timedelta(days=1)
                if whole_day
                else before.replace(microsecond=0) + timedelta(seconds=1)
            )
        return cls(
            formats=formats,
            path=_text("path", given.get("path")),
            heading=_text("heading", given.get("heading")),
            modified_since_ns=None if since is None else _nanoseconds(since),
            git_since=_moment("git_since", given.get("git_since")),
            git_before=before,
            git_author=_text("git_author", given.get("git_author")),
        )

    @property
    def on_documents(self) -> bool:
        """Whether a filter reads the documents table."""
        return bool(
            self.formats
            or self.modified_since_ns is not None
            or self.git_since
            or self.git_before
            or self.git_author
        )

    def admits(self, doc_id: str, heading_path: str, document: Mapping[str, Any]) -> bool:
        """Whether a passage (of ``doc_id``, under ``heading_path``) of ``document`` (its
        ``DOCUMENTS`` fields) passes the filters: the in-memory store's test."""
        git_date = document.get("git_date")
        author = (document.get("git_author") or "").casefold()
        return (
            (not self.formats or document.get("format") in self.formats)
            and (self.path is None or fnmatch.fnmatchcase(doc_id, self.path))
            and (self.heading is None or self.heading.casefold() in heading_path.casefold())
            and (self.modified_since_ns is None or document.get("mtime_ns", -1) >= self.modified_since_ns)
            and (self.git_since is None or (git_date is not None and git_date >= self.git_since))
            and (self.git_before is None or (git_date is not None and git_date < self.git_before))
            and (self.git_author is None or self.git_author.casefold() in author)
        )

    def sql(self, style: str) -> tuple[str, dict[str, Any]]:
        """The conditions (``AND ...``) on passages ``p`` and documents ``d`` and their
        parameters, in ``style`` ``"sqlite"`` (``:name``, dates as the SQLite store writes
        them) or ``"postgres"`` (``%(name)s``)."""
        sqlite = style == "sqlite"

        def param(name: str) -> str:
            return f":{name}" if sqlite else f"%({name})s"

        conditions: list[str] = []
        params: dict[str, Any] = {}
        if self.formats:
            names = [f"f_format{i}" for i in range(len(self.formats))]
            conditions.append(f"d.format IN ({', '.join(param(n) for n in names)})")
            params |= dict(zip(names, self.formats, strict=True))
        if self.path is not None:
            if sqlite:
                conditions.append(f"p.doc_id GLOB {param('f_path')}")
                params["f_path"] = re.sub(r"\[!", "[^", self.path)
            else:
                conditions.append(f"p.doc_id ~ {param('f_path')}")
                params["f_path"] = glob_regex(self.path)
        if self.heading is not None:
            conditions.append(
                f"instr(lower(p.heading_path), {param('f_heading')}) > 0"
                if sqlite
                else f"strpos(lower(p.heading_path), {param('f_heading')}) > 0"
            )
            params["f_heading"] = self.heading.lower()
        if self.modified_since_ns is not None:
            conditions.append(f"d.mtime_ns >= {param('f_modified')}")
            params["f_modified"] = self.modified_since_ns
        for name, bound, operator in (
            ("f_git_since", self.git_since, ">="),
            ("f_git_before", self.git_before, "<"),
        ):
            if bound is not None:
                conditions.append(f"d.git_date {operator} {param(name)}")
                params[name] = bound.strftime("%Y-%m-%dT%H:%M:%S+0000") if sqlite else bound
        if self.git_author is not None:
            conditions.append(
                f"instr(lower(d.git_author), {param('f_author')}) > 0"
                if sqlite
                else f"strpos(lower(d.git_author), {param('f_author')}) > 0"
            )
            params["f_author"] = self.git_author.lower()
        return "".join(f" AND {c}" for c in conditions), params


def glob_regex(pattern: str) -> str:
    """A POSIX regular expression matching what the ``fnmatch`` glob ``pattern`` matches.

    >>> glob_regex("guide/*.md"), glob_regex("a[!b]?")
    ('^guide/.*\\\\.md$', '^a[^b].$')
    """
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and (end := pattern.find("]", i + (pattern[i : i + 1] == "!") + 1)) != -1:
            inner = pattern[i:end].replace("\\", "\\\\")
            out.append("[" + ("^" + inner[1:] if inner.startswith("!") else inner) + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
    return "^" + "".join(out) + "$"


def _nanoseconds(moment: datetime) -> int:
    """``moment`` in nanoseconds since 1970, within what a 64-bit ``mtime_ns`` can hold."""
    ns = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1) * 1000
    return max(-(2**63), min(ns, 2**63 - 1))


def _text(name: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise QueryError(f"{name}={value!r} is not allowed: expected a non-empty text")
    return value


def _moment(name: str, value: object) -> datetime | None:
    """``value`` (a datetime, a date or ISO 8601 text) as a UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise QueryError(f"{name}={value!r} is not a date: expected ISO 8601, like 2024-03-01") from None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise QueryError(f"{name}={value!r} is not a date: expected a datetime, a date or ISO 8601 text")
