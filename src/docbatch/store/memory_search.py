"""The in-memory store's search (``MemoryStore.search``): the docbatch query language
(``docbatch.store.query``, its ``SearchPlan``) matched word by word over a passage's title,
headings, text and codes (``docbatch.store.tokens``), scored by occurrences, with a snippet
around the first match. Unlike the other stores, words are not stemmed.

A passage matches when it holds every word of the query (in its text, its document's title
or its headings; case and accents ignored), with the phrases, prefixes and
``OR``/``AND``/``NOT`` of ``docbatch.store.query``; the score of a hit is how often the
query's words occur in it. Queries are checked as for the other stores, so a bad one raises
the same ``QueryError``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Unpack

import polars as pl

from docbatch.errors import QueryError
from docbatch.frames import SEARCH_HITS
from docbatch.store.memory_records import Documents, Passages
from docbatch.store.query import MARKERS, Term, check_limit, check_markers, plan_search
from docbatch.store.search_filters import SearchFilterArgs, SearchFilters
from docbatch.store.tokens import codes

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


def search(
    documents: Documents,
    passages: Passages,
    query: str,
    *,
    limit: int,
    source: str | None,
    group_by_document: bool,
    markers: tuple[str, str],
    **filters: Unpack[SearchFilterArgs],
) -> pl.DataFrame:
    """``MemoryStore.search`` over a store's documents and passages: the plan's strict
    stage, then its fallbacks while too few passages (or documents) are found."""
    limit = check_limit(limit)
    markers = check_markers(markers)
    where = SearchFilters.of(**filters)
    plan = plan_search(query)
    hits = _matches(documents, passages, plan_match(query, plan.strict), source, markers, where)
    for stage, if_empty in plan.fallbacks:
        if len({hit[:2] if group_by_document else hit for hit in hits}) >= limit or (if_empty and hits):
            break
        seen = {(hit[0], hit[1], hit[6]) for hit in hits}
        more = _matches(documents, passages, plan_match(query, stage), source, markers, where)
        hits += [hit for hit in more if (hit[0], hit[1], hit[6]) not in seen]
    if group_by_document:
        best: dict[tuple[str, str], tuple[Any, ...]] = {}
        for hit in hits:
            best.setdefault(hit[:2], hit)
        hits = list(best.values())
    return pl.DataFrame(hits[:limit], schema=SEARCH_HITS, orient="row")


def _matches(
    documents: Documents,
    passages: Passages,
    match: _Match,
    source: str | None,
    markers: tuple[str, str],
    where: SearchFilters,
) -> list[tuple[Any, ...]]:
    """The passages ``match`` finds, best first (equal scores in store order)."""
    hits = []
    for (s, d), seqs in sorted(passages.items()):
        if source and s != source:
            continue
        doc = documents.get((s, d), {})
        for seq in sorted(seqs):
            doc_id, _, pid, heading, _, _, text, anchor, line_start, line_end, title = seqs[seq]
            if not where.admits(doc_id, heading, doc):
                continue
            fields = [
                words(title or ""),
                words(heading),
                words(text),
                codes(title, heading, text).split(),
            ]
            found = match(fields)
            if found:
                hits.append(
                    (
                        s,
                        doc_id,
                        title,
                        heading,
                        snippet(text, match.positives, markers),
                        float(found),
                        pid,
                        anchor,
                        line_start,
                        line_end,
                        doc.get("format"),
                        text,
                        doc.get("git_commit"),
                        doc.get("git_date"),
                    )
                )
    hits.sort(key=lambda hit: -hit[5])  # stable: equal scores stay in store order
    return hits
