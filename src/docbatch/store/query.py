"""Turn what a user types into a safe FTS5 MATCH expression."""

from __future__ import annotations

import re

from docbatch.errors import QueryError

_OPERATORS = {"OR", "AND", "NOT"}
_TOKEN = re.compile(r'"([^"]*)"(\*?)|(\S+)')


def to_fts5(query: str) -> str:
    """An FTS5 expression that matches every word of ``query`` (AND).

    Double-quoted text is a phrase, ``OR``/``AND``/``NOT`` in capitals are
    operators, a trailing ``*`` is a prefix search; everything else is quoted, so
    ``c++``, ``foo-bar`` or ``what's new?`` are just words.

    >>> to_fts5('install c++ "quick start" OR setup*')
    '"install" "c++" "quick start" OR "setup"*'

    Raises:
        QueryError: the query is empty or has an unbalanced double quote.
    """
    if not query or not query.strip():
        raise QueryError("empty search query: give one or more words")
    if query.count('"') % 2:
        raise QueryError(f"invalid search query {query!r}: unbalanced double quote")
    terms: list[str] = []
    for match in _TOKEN.finditer(query):
        phrase, phrase_star, word = match.groups()
        if word is None:
            if phrase.strip():
                terms.append(_quote(phrase) + phrase_star)
        elif word in _OPERATORS:
            terms.append(word)
        elif word.endswith("*") and len(word) > 1:
            terms.append(_quote(word.rstrip("*")) + "*")
        else:
            terms.append(_quote(word))
    if not terms or all(t in _OPERATORS for t in terms):
        raise QueryError(f"invalid search query {query!r}: no words to search for")
    if terms[0] in _OPERATORS - {"NOT"} or terms[-1] in _OPERATORS:
        raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
    return " ".join(terms)


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
