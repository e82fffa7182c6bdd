"""The in-memory store's search (``MemoryStore.search``): the docbatch query language
(``docbatch.store.query``, its ``SearchPlan``) matched word by word over a passage's title,
headings, text and codes (``docbatch.store.tokens``), scored by occurrences, with a snippet
around the first match. Unlike the other stores, words are not stemmed."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from docbatch.errors import QueryError
from docbatch.store.query import MARKERS, Term

_SNIPPET_WORDS = 16

_WORD = re.compile(r"\w+")
_TERM = re.compile(r'"((?:[^"]|"")*)"(\*?)|(\S+)')


def words(text: str) -> list[str]:
    """The words of ``text`` as the search compares them: case and accents folded."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _WORD.findall(plain.casefold())


@dataclass
class _Phrase:
    words: list[str]
    prefix: bool

    def count(self, fields: list[list[str]]) -> int:
        """How often the phrase occurs in the fields."""
        if not self.words:
            return 0
        n = len(self.words)
        head, last = self.words[:-1], self.words[-1]
        return sum(
            1
            for words in fields
            for i in range(len(words) - n + 1)
            if words[i : i + n - 1] == head
            and (words[i + n - 1].startswith(last) if self.prefix else words[i + n - 1] == last)
        )


@dataclass
class _Match:
    """A query as alternatives (OR) of all-of groups (AND), each term maybe negated (NOT)."""

    groups: list[list[tuple[bool, _Phrase]]]

    @property
    def positives(self) -> list[_Phrase]:
        return [phrase for group in self.groups for negated, phrase in group if not negated]

    def __call__(self, fields: list[list[str]]) -> int:
        """The score of the fields (occurrences of the query's words), 0 if they do not match."""
        best = 0
        for group in self.groups:
            counts = [(negated, phrase.count(fields)) for negated, phrase in group]
            if all(bool(n) != negated for negated, n in counts):
                best = max(best, sum(n for negated, n in counts if not negated))
        return best


def parse_query(query: str, expression: str) -> _Match:
    """``expression`` (from ``to_fts5``): ``NOT`` binds tightest, then ``AND`` (or nothing
    between terms), then ``OR``."""
    groups: list[list[tuple[bool, _Phrase]]] = [[]]
    pending: str | None = "start"  # None right after a term, else what came last
    for match in _TERM.finditer(expression):
        quoted, star, operator = match.groups()
        if operator is not None:
            if pending is not None:
                raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
            if operator == "OR":
                groups.append([])
            pending = operator
            continue
        groups[-1].append((pending == "NOT", _Phrase(words(quoted.replace('""', '"')), bool(star))))
        pending = None
    if pending is not None:
        raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
    return _Match(groups)


def snippet(text: str, phrases: list[_Phrase], markers: tuple[str, str] = MARKERS) -> str:
    """A few words of ``text`` around its first match, the matching words within ``markers``."""
    spans = [(m.start(), m.end(), words(m.group())) for m in _WORD.finditer(text)]
    wanted = {w for phrase in phrases for w in phrase.words}
    prefixes = [phrase.words[-1] for phrase in phrases if phrase.prefix and phrase.words]
    hit = [
        bool(words) and (words[0] in wanted or words[0].startswith(tuple(prefixes))) for _, _, words in spans
    ]
    first = hit.index(True) if any(hit) else 0
    start = max(0, min(first - 2, len(spans) - _SNIPPET_WORDS))
    shown = range(start, min(len(spans), start + _SNIPPET_WORDS))
    parts = []
    for i in shown:
        begin, end, _ = spans[i]
        word = text[begin:end]
        parts.append(f"{markers[0]}{word}{markers[1]}" if hit[i] else word)
    return ("… " if start else "") + " ".join(parts) + (" …" if shown and shown[-1] < len(spans) - 1 else "")


def plan_match(query: str, items: list[Term | str]) -> _Match:
    """The matcher of a ``SearchPlan``'s terms (``strict``, or ``fallback`` joined by
    ``OR``): a code-like word matches its code (``docbatch.store.tokens``), so the fields
    searched must include ``codes`` of the passage. Words are not stemmed here."""
    parts = [
        item
        if isinstance(item, str)
        else '"' + (item.code or " ".join(item.words)).replace('"', '""') + '"' + ("*" if item.prefix else "")
        for item in items
    ]
    return parse_query(query, " ".join(parts))
