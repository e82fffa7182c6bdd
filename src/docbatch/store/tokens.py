"""The words of documentation that a full-text tokenizer would lose, as extra index terms.

A tokenizer splits on punctuation, so ``c++``, ``c#`` and ``c`` become the same word and
``foo-bar`` matches ``foo.bar``. For each code-like token (letters or digits with inner or
meaningful punctuation: ``c++``, ``.net``, ``foo_bar``, ``foo::bar``, ``archive.tar.gz``)
``codes`` gives an encoded form, its punctuation spelled as letter codes behind a ``0``,
that the tokenizer keeps as one word; a word split by a cheat sheet's mnemonic brackets
(``E[x]tract``) is given joined (``extract``). Stores index these terms in a column of
their own, and the query side encodes the words of a query the same way
(``docbatch.store.query``), so ``c++`` finds ``c++`` alone.
"""

from __future__ import annotations

import re
import unicodedata

PUNCTUATION = {
    "+": "p",
    "#": "h",
    ".": "d",
    "-": "m",
    "_": "u",
    ":": "c",
    "/": "s",
    "@": "a",
    "$": "v",
    "<": "l",
    ">": "g",
    "=": "e",
    "~": "t",
    "&": "n",
    "%": "r",
}
"""Punctuation kept inside a code-like token, and the letter that encodes each."""

_TRIGGER = re.compile(r"[+#.\-_:/@$<>=~&%][^\W_]|[^\W_][+#]")
"""Punctuation before a letter or digit, or a ``+`` or ``#`` after one: the whitespace-
separated chunks around these are worth a look (prose has few)."""
_CHUNK = re.compile(r"(?<!\S)\S{0,80}?(?:" + _TRIGGER.pattern + r")\S{0,80}")
"""A whitespace-separated chunk holding a trigger (at most 80 characters either side of it:
longer chunks are no codes)."""
_EDGE = "\"'`,;()[]{}«»“”‘’|"
_TRAILING = ".,;:?!"
_BRACKETED = re.compile(r"(?<![\w\]])([^\W\d_]{0,40})\[([^\W\d_]{1,3})\]([^\W\d_]+)")
_ALNUM = re.compile(r"[^\W_]")
_ENCODE = str.maketrans({c: "0" + letter for c, letter in PUNCTUATION.items()})
_NOT_IN_CODES = re.compile(r"[^\w" + "".join(re.escape(c) for c in PUNCTUATION) + "]")
"""A character that is neither a letter or digit nor encodable punctuation."""
MAX_CODE_CHARS = 60
"""Longer tokens (URLs, hashes, paths) are not worth an exact term."""


def fold(text: str) -> str:
    """``text`` with case and accents folded, as the tokenizers fold them."""
    plain = unicodedata.normalize("NFKD", text)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


def token_code(token: str) -> str | None:
    """The encoded form of one token typed by a reader, or None when the token is a plain
    word (or has nothing a tokenizer would lose).

    >>> token_code("c++"), token_code("C#"), token_code("c"), token_code("foo-bar")
    ('c0p0p', 'c0h', None, 'foo0mbar')
    >>> token_code("archive.tar.gz"), token_code("(foo::bar),"), token_code("end.")
    ('archive0dtar0dgz', 'foo0c0cbar', None)
    """
    token = _trim(token)
    if not token or len(token) > MAX_CODE_CHARS or token.isalnum() or not _ALNUM.search(token):
        return None
    folded = token.casefold() if token.isascii() else fold(token)
    if _NOT_IN_CODES.search(folded):
        return None
    return folded.translate(_ENCODE)


def joined_words(text: str) -> list[str]:
    """The words split by mnemonic brackets, joined: ``E[x]tract`` -> ``extract``.

    >>> joined_words("E[x]tract files, [A]dd one, list[0] stays")
    ['extract', 'add']
    """
    if "[" not in text:
        return []
    return [fold(a + b + c) for a, b, c in _BRACKETED.findall(text)]


def codes(*texts: str | None) -> str:
    """The extra index terms of ``texts`` (title, headings, body): the encoded form of each
    distinct code-like token and each bracket-joined word, separated by spaces.

    >>> codes("Use C++ or c# with foo-bar.", "E[x]tract")
    'c0p0p c0h foo0mbar extract'
    """
    found: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for chunk in _candidates(text):
            code = token_code(chunk)
            if code is not None:
                found[code] = None
        for word in joined_words(text):
            found[word] = None
    return " ".join(found)


def _candidates(text: str) -> list[str]:
    """The chunks of ``text`` (between whitespace) that hold a ``_TRIGGER``, in one pass."""
    return _CHUNK.findall(text)


def parts(token: str) -> list[str]:
    """The plain words inside a token, as a tokenizer splits it.

    >>> parts("archive.tar.gz")
    ['archive', 'tar', 'gz']
    """
    return [fold(w) for w in re.findall(r"[^\W_]+", _unbracket(token))]


def plain_form(token: str) -> str:
    """A token with mnemonic brackets removed, so ``E[x]tract`` reads ``Extract``."""
    return _unbracket(token)


def _unbracket(token: str) -> str:
    if "[" not in token:
        return token
    return _BRACKETED.sub(lambda m: m.group(1) + m.group(2) + m.group(3), token)


def _trim(token: str) -> str:
    """``token`` without the quotes, brackets and sentence punctuation around it; a trailing
    ``()`` (a call) is dropped too."""
    token = _unbracket(token)
    while True:
        before = token
        token = token.strip(_EDGE)
        if token.endswith("()"):
            token = token[:-2]
        token = token.rstrip(_TRAILING)
        if token == before:
            return token
