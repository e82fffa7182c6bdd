"""Turn what a user types into a safe FTS5 MATCH expression."""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from docbatch.errors import QueryError
from docbatch.store.search_filters import SearchFilterArgs
from docbatch.store.tokens import parts, token_code

_OPERATORS = {"OR", "AND", "NOT"}
MAX_QUERY_CHARS = 2000
MAX_DISTINCT_TERMS = 64
MAX_TERMS = 128
"""A query's cost grows with its terms (quadratically in FTS5): past these bounds a query
is refused with a clear error instead of running for minutes."""
MAX_HITS = 10_000
MIN_PREFIX_CHARS = 3
MAX_PREFIXES = 4
"""A prefix search (``conf*``) needs this many characters, and a query holds at most this
many: ``a*`` stands for thousands of words, each to be read from the index."""
MARKERS = ("«", "»")
"""What a snippet puts around a matching word by default: characters documentation text
hardly holds, unlike brackets."""


def check_limit(limit: object) -> int:
    """``limit`` when it is a whole number from 1 to ``MAX_HITS``, else ``QueryError``.

    >>> check_limit(10)
    10
    """
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_HITS:
        raise QueryError(f"limit={limit!r} is not allowed: expected a whole number from 1 to {MAX_HITS}")
    return limit


class SearchOptions(SearchFilterArgs, total=False):
    """The keyword arguments of a search besides ``limit`` and ``source``: the filters
    (``docbatch.store.search_filters.SearchFilters``) and these."""

    group_by_document: bool
    """Each document once, with its best passage."""
    markers: tuple[str, str]
    """What the snippet puts around a match (default ``MARKERS``)."""


def check_markers(markers: object) -> tuple[str, str]:
    """``markers`` when they are two non-empty strings without a double quote, else ``QueryError``.

    >>> check_markers(("<b>", "</b>"))
    ('<b>', '</b>')
    """
    if (
        not isinstance(markers, tuple | list)
        or len(markers) != 2
        or not all(isinstance(m, str) and m and '"' not in m for m in markers)
    ):
        raise QueryError(
            f"markers={markers!r} is not allowed: expected two non-empty strings (no double quote)"
        )
    return (markers[0], markers[1])


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
            phrases, ``MAX_TERMS`` words, phrases and operators in all), or a prefix is
            shorter than ``MIN_PREFIX_CHARS`` or there are more than ``MAX_PREFIXES``.
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
            stem = word.rstrip("*")
            if len(stem) < MIN_PREFIX_CHARS:
                raise QueryError(
                    f"invalid search query {query!r}: a prefix search needs {MIN_PREFIX_CHARS} characters "
                    f"or more before the * ({word!r} would match most words)"
                )
            terms.append(_quote(stem) + "*")
        else:
            terms.append(_quote(word))
    terms = _without_repeats(terms)
    prefixes = sum(t.endswith("*") for t in terms)
    if prefixes > MAX_PREFIXES:
        raise QueryError(
            f"invalid search query {query!r}: {prefixes} prefix searches (at most {MAX_PREFIXES}: "
            "each reads every word it stands for from the index)"
        )
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


STOPWORDS = frozenset(
    """a an the of to for in on at by with from into onto about as and or is are was were be been
    being do does did doing how what why when where which who whom whose can could should would
    will shall may might must i me my we our us you your it its this that these those there here
    have has had so some any get got""".split()
)
"""Words that carry no meaning in a question or a long query: they are not required."""
_INTERROGATIVES = frozenset(
    "how what why when where which who whom whose can could should does do is are".split()
)
_QUESTION_SECOND = frozenset(
    "do does did to is are was were can could should would i we you my the a an it".split()
)


@dataclass(frozen=True)
class Term:
    """One word or phrase of a query as the stores match it."""

    words: tuple[str, ...]
    """The plain words (case and accents folded); more than one for a phrase."""
    prefix: bool = False
    code: str | None = None
    """The encoded form (``docbatch.store.tokens``) of a word with punctuation: matched
    instead of its plain words, so ``c++`` is not ``c``."""
    parts: tuple[str, ...] = ()
    """The plain words inside a code-like word (what the fallback looks for)."""

    def fts5(self) -> str:
        """The term in FTS5 syntax; a code-like word must match its code, and its plain words
        (a phrase) count in the ranking, weighted by the column they are in."""
        star = "*" if self.prefix else ""
        if self.code is None:
            return _quote(" ".join(self.words)) + star
        if not self.parts:
            return _quote(self.code) + star
        return f"({_quote(self.code)}{star} AND {_quote(' '.join(self.parts))}{star})"

    def counted_fts5(self) -> str:
        """The term as the passages holding it are counted: a code-like word by its code
        alone. Its plain words stand wherever it does (the tokenizer cuts the same text into
        them), and a phrase of common words costs a look at their places in every passage
        (8 ms of 8.6 to find the 3,510 passages holding ``CMAKE_CXX_STANDARD`` among 2.8
        million, against 0.6 for its code).

        >>> Term(("foo", "bar"), prefix=True, code="foo0mbar", parts=("foo", "bar")).counted_fts5()
        '"foo0mbar"*'
        """
        if self.code is None:
            return self.fts5()
        return _quote(self.code) + ("*" if self.prefix else "")

    def phrases(self) -> list[Phrase]:
        """The phrases of ``fts5()`` in its order, as their document frequencies are found:
        the plain words of a code-like word, when more than one, as the code itself (they
        mostly stand where it does: the phrase ``"http 2"`` is in 16,740 passages of a store
        of a million files, ``http/2`` in 16,470).

        >>> Term(("a", "b"), code="a0mb", parts=("a", "b")).phrases()
        [Phrase(words=('a0mb',), prefix=False), Phrase(words=('a0mb',), prefix=False)]
        >>> Term(("build",), code="0m0mbuild", parts=("build",)).phrases()[1]
        Phrase(words=('build',), prefix=False)
        """
        if self.code is None:
            return [Phrase(self.words, self.prefix)]
        code = Phrase((self.code,), self.prefix)
        if not self.parts:
            return [code]
        return [code, code if len(self.parts) > 1 else Phrase(self.parts, self.prefix)]


@dataclass(frozen=True)
class Phrase:
    """A phrase of an FTS5 expression: its plain words, the last perhaps a prefix."""

    words: tuple[str, ...]
    prefix: bool = False

    def fts5(self) -> str:
        return _quote(" ".join(self.words)) + ("*" if self.prefix else "")

    def words_fts5(self) -> list[str]:
        """Each word as an expression of its own.

        >>> Phrase(("set", "prop"), prefix=True).words_fts5()
        ['"set"', '"prop"*']
        """
        last = len(self.words) - 1
        return [Phrase((w,), self.prefix and n == last).fts5() for n, w in enumerate(self.words)]


@dataclass(frozen=True)
class SearchPlan:
    """How a store runs a query: ``strict`` must all match (operators as typed); while the
    hits are fewer than asked for, passages matching each of ``fallbacks`` in turn follow,
    ranked: those holding all words but one, ... (``AND`` within ``OR``), then any word."""

    strict: list[Term | str]
    fallback: list[Term]
    """The words any of which the last fallback looks for (a code-like word's parts too)."""

    @property
    def fallbacks(self) -> list[tuple[list[Term | str], bool]]:
        """The fallback stages in turn, each with whether it runs only when nothing was found
        before it: all words but one, but two (``MAX_DROPPED_WORDS``), then any one word
        (costly over common words, and weak next to better hits), and the parts of a
        code-like word (``foo-bar`` does not find ``foo.bar`` next to its own hits)."""
        terms = [t for t in self.strict if isinstance(t, Term)]
        if not self.fallback:
            return []
        stages: list[tuple[list[Term | str], bool]] = []
        for size in range(len(terms) - 1, max(1, len(terms) - 1 - MAX_DROPPED_WORDS), -1):
            groups = itertools.islice(itertools.combinations(terms, size), MAX_FALLBACK_GROUPS)
            stages.append(([x for group in groups for x in ("OR", *_and(group))][1:], False))
        if len(terms) > 1:
            stages.append(([x for term in terms for x in ("OR", term)][1:], True))
        if self.fallback != terms:
            stages.append(([x for term in self.fallback for x in ("OR", term)][1:], True))
        return stages

    def strict_fts5(self) -> str:
        """``strict`` in FTS5 syntax, ``AND`` written out between adjacent terms (FTS5 wants
        it after a parenthesis)."""
        return items_fts5(self.strict)

    def fallback_fts5(self) -> str | None:
        """The last fallback in FTS5 syntax."""
        return " OR ".join(t.fts5() for t in self.fallback) or None


MAX_FALLBACK_GROUPS = 10
"""At most this many combinations of words in one fallback stage."""
MAX_DROPPED_WORDS = 2
"""The fallback stages leave out one word, then two, and no more before any word will do:
a long query would otherwise make dozens of stages (and a 40-word one, billions of
combinations of words)."""


def _and(terms: tuple[Term, ...]) -> list[Term | str]:
    return [x for term in terms for x in ("AND", term)][1:]


def items_fts5(items: list[Term | str], *, counted: bool = False) -> str:
    """Terms and operators in FTS5 syntax, ``AND`` written out between adjacent terms; or
    as they are ``counted`` (``Term.counted_fts5``).

    >>> items_fts5([Term(("a",)), Term(("b",)), "OR", Term(("c",))])
    '"a" AND "b" OR "c"'
    """
    out: list[str] = []
    for item in items:
        if isinstance(item, Term):
            if out and out[-1] not in _OPERATORS:
                out.append("AND")
            out.append(item.counted_fts5() if counted else item.fts5())
        else:
            out.append(item)
    return " ".join(out)


def phrases(items: list[Term | str]) -> list[Phrase]:
    """The phrases of ``items_fts5(items)`` in the order FTS5 numbers them (``Term.phrases``)."""
    return [phrase for item in items if isinstance(item, Term) for phrase in item.phrases()]


def plan_search(query: str) -> SearchPlan:
    """The plan of ``query``: words with punctuation encoded, words that carry no meaning in
    a question or a long query left out, and the fallback of a query without operators.

    >>> plan = plan_search("How do I link a library to my executable?")
    >>> plan.strict_fts5(), plan.fallback_fts5()
    ('"link" AND "library" AND "executable"', '"link" OR "library" OR "executable"')
    >>> plan_search("c++ foo-bar* E[x]tract").strict_fts5()
    '("c0p0p" AND "c") AND ("foo0mbar"* AND "foo bar"*) AND "extract"'
    >>> plan_search("archive.tar.gz").fallback_fts5()
    '("archive0dtar0dgz" AND "archive tar gz") OR "archive" OR "tar" OR "gz"'

    Raises:
        QueryError: as ``to_fts5``.
    """
    items = _items(to_fts5(query))
    if any(isinstance(t, str) for t in items):
        return SearchPlan(items, [])
    terms = [t for t in items if isinstance(t, Term)]
    kept = _meaningful(terms, query)
    fallback: list[Term] = []
    for term in kept:
        fallback.append(term)
        if term.code is not None:
            fallback += [Term((p,)) for p in term.parts if len(p) > 1 and p not in STOPWORDS]
    fallback = list(dict.fromkeys(fallback))
    if len(fallback) == 1 and fallback[0] in kept:
        fallback = []
    return SearchPlan(list(kept), fallback)


_ITEM = re.compile(r'"((?:[^"]|"")*)"(\*?)|(AND|OR|NOT)')


def _items(expression: str) -> list[Term | str]:
    """The terms and operators of a ``to_fts5`` expression."""
    items: list[Term | str] = []
    for match in _ITEM.finditer(expression):
        text, star, operator = match.groups()
        if operator is not None:
            items.append(operator)
            continue
        text = text.replace('""', '"')
        chunks = text.split()
        if len(chunks) == 1:
            code = token_code(chunks[0])
            if code is not None:
                items.append(Term(tuple(parts(chunks[0])), bool(star), code, tuple(parts(chunks[0]))))
                continue
        words = tuple(w for chunk in chunks for w in parts(chunk))
        items.append(Term(words or (text,), bool(star)))
    return items


def _meaningful(terms: list[Term], query: str) -> list[Term]:
    """``terms`` without stopwords when the query is a question or long (3 words or more)
    and enough words remain."""
    single = [t for t in terms if len(t.words) == 1 and t.code is None and not t.prefix]
    first = query.split()[0].casefold() if query.split() else ""
    second = query.split()[1].casefold() if len(query.split()) > 1 else ""
    question = first in _INTERROGATIVES and (second in _QUESTION_SECOND or query.rstrip().endswith("?"))
    content = [t for t in terms if t not in single or t.words[0] not in STOPWORDS]
    if not content:
        return terms
    if question or (len(terms) >= 3 and len(content) >= 2):
        return content
    return terms


TITLE_BONUS = 1.0
"""A hit's score is raised by up to this share when its document's title is what was asked for
(``title_match``): a page named for the query answers it better than a passage on the way."""
CANDIDATES = 50
"""Ranked passages fetched before the title bonus reorders them."""


def title_match(plan: SearchPlan, title: str | None) -> float:
    """How well ``title`` names the query, from 0 to 1: the share of the title's words the
    query holds times the share of the query's words the title holds (words compared
    by their first letters, so ``functions`` names ``Function``).

    >>> plan = plan_search("define a function")
    >>> title_match(plan, "function"), round(title_match(plan, "Functions and macros"), 3)
    (0.5, 0.167)
    """
    if not title:
        return 0.0
    wanted = frozenset(w for t in plan.strict if isinstance(t, Term) for w in (t.parts or t.words))
    return _title_match(wanted, title)


@functools.lru_cache(maxsize=4096)
def _title_match(wanted: frozenset[str], title: str) -> float:
    """``title_match`` of the words ``wanted`` (kept: the titles of one result list repeat)."""
    named = set(parts(title))
    if not wanted or not named:
        return 0.0
    hit_title = sum(1 for w in named if any(_same_word(w, q) for q in wanted))
    hit_query = sum(1 for q in wanted if any(_same_word(w, q) for w in named))
    return (hit_title / len(named)) * (hit_query / len(wanted))


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    return (
        len(short) >= 4 and long.startswith(short[: max(4, len(short) - 2)]) and len(long) - len(short) <= 3
    )
