"""Turn what a user types into a safe FTS5 MATCH expression."""

from __future__ import annotations

import re

from docbatch.errors import QueryError

_OPERATORS = {"OR", "AND", "NOT"}
MAX_QUERY_CHARS = 2000
MAX_DISTINCT_TERMS = 64
MAX_TERMS = 128
"""A query's cost grows with its terms (quadratically in FTS5): past these bounds a query
is refused with a clear error instead of running for minutes."""
MAX_HITS = 10_000


def check_limit(limit: object) -> int:
    """``limit`` when it is a whole number from 1 to ``MAX_HITS``, else ``QueryError``.

    >>> check_limit(10)
    10
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HITS:
        raise QueryError(f"limit={limit!r} is not allowed: expected a whole number from 1 to {MAX_HITS}")
    return limit


_TOKEN = re.compile(r'"([^"]*)"(\*?)|(\S+)')


def to_fts5(query: str) -> str:
    """An FTS5 expression that matches every word of ``query`` (AND).

    Double-quoted text is a phrase, ``OR``/``AND``/``NOT`` in capitals are
    operators, a trailing ``*`` is a prefix search; everything else is quoted, so
    ``c++``, ``foo-bar`` or ``what's new?`` are just words.

    >>> to_fts5('install c++ "quick start" OR setup*')
    '"install" "c++" "quick start" OR "setup"*'

    A word or phrase repeated (``the the``, ``a OR b OR a``) counts once.

    Raises:
        QueryError: the query is empty, has an unbalanced double quote, or is too long
            (``MAX_QUERY_CHARS`` characters, ``MAX_DISTINCT_TERMS`` different words and
            phrases, ``MAX_TERMS`` words, phrases and operators in all).
    """
    if not query or not query.strip():
        raise QueryError("empty search query: give one or more words")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"search query too long: {len(query)} characters (at most {MAX_QUERY_CHARS}); "
            "search for the few words that matter"
        )
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
    terms = _without_repeats(terms)
    distinct = {t for t in terms if t not in _OPERATORS}
    if len(distinct) > MAX_DISTINCT_TERMS or len(terms) > MAX_TERMS:
        raise QueryError(
            f"search query too long: {len(distinct)} different words and phrases, {len(terms)} terms "
            f"in all (at most {MAX_DISTINCT_TERMS} and {MAX_TERMS}); search for the few words that matter"
        )
    if not terms or all(t in _OPERATORS for t in terms):
        raise QueryError(f"invalid search query {query!r}: no words to search for")
    if terms[0] in _OPERATORS - {"NOT"} or terms[-1] in _OPERATORS:
        raise QueryError(f"invalid search query {query!r}: an operator needs words on both sides")
    return " ".join(terms)


def _without_repeats(terms: list[str]) -> list[str]:
    """``terms`` without repeats where that keeps the meaning: in a query of words alone
    (``a b a`` is ``a b``) and in a list of alternatives alone (``a OR b OR a`` is
    ``a OR b``). Other queries are left as they are.

    >>> _without_repeats(['"the"', '"the"', '"x"'])
    ['"the"', '"x"']
    >>> _without_repeats(['"a"', "OR", '"b"', "OR", '"a"'])
    ['"a"', 'OR', '"b"']
    """
    words = terms[::2]
    if all(t not in _OPERATORS for t in terms):
        return list(dict.fromkeys(terms))
    if all(t == "OR" for t in terms[1::2]) and all(t not in _OPERATORS for t in words) and len(terms) % 2:
        alternatives = list(dict.fromkeys(words))
        return [part for word in alternatives for part in ("OR", word)][1:]
    return terms


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'
