"""Split a parsed document into passages a reader would call whole.

Sections (heading spans) are split first; a section longer than the maximum is cut into
pieces of even size at paragraph breaks, then line breaks, then spaces, and only as a
last resort inside a word. Then:

- a heading followed directly by a subheading makes no passage: its text lives in the
  heading path of what follows;
- a passage under the minimum size merges with its neighbour — the next passage of its
  section, or the previous one at the end of a section, or a neighbouring section's —
  as long as the two fit the maximum; never across documents.

Every passage is an exact slice of the clean text (``text[start:end] == passage.text``).
Sizes count characters, or tokens (``PassageRules.unit``): a user's counter, or an
estimate that counts words in pieces of up to six letters and each punctuation mark.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Callable, Sized
from dataclasses import dataclass
from typing import Any

from docbatch.errors import ConfigError
from docbatch.formats.base import ParsedDocument
from docbatch.frames import HEADING_SEPARATOR

_BREAKS = ("\n\n", "\n", " ")
_ESTIMATE = re.compile(r"\w{1,6}|[^\w\s]")
_IMPORT_PATH = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
UNITS = ("chars", "tokens")


@dataclass(frozen=True, slots=True)
class Passage:
    """One searchable piece of a document.

    ``anchor`` is the anchor of the section the passage starts in (what a link to it
    uses; empty when the section has none); ``line_start``/``line_end`` are the first and
    last source lines of the blocks it overlaps (1-based, inclusive), None when unknown.
    """

    seq: int
    passage_id: str
    heading_path: str
    start: int
    end: int
    text: str
    anchor: str = ""
    line_start: int | None = None
    line_end: int | None = None


def estimate_tokens(text: str) -> int:
    """About as many tokens as a word-piece tokenizer makes of ``text``: each run of up to
    six letters or digits, and each punctuation mark, counts one.

    >>> estimate_tokens("Install the package: pip install docbatch")
    11
    """
    return sum(1 for _ in _ESTIMATE.finditer(text))


@dataclass(frozen=True, slots=True)
class PassageRules:
    """How documents are cut into passages.

    Args:
        max_size: no passage is longer (split further).
        min_size: a shorter passage merges with a neighbour when the two fit ``max_size``
            (0: never).
        overlap: each piece cut from a long section after the first starts with about this
            much of the previous piece's end (0: none).
        unit: what the sizes count: ``"chars"`` or ``"tokens"``.
        tokenizer: with ``unit="tokens"``, a function's import path ``"module:function"``
            that takes a text and returns its token count (or its tokens); empty: the
            built-in estimate (``estimate_tokens``).
    """

    max_size: int = 1500
    min_size: int = 200
    overlap: int = 0
    unit: str = "chars"
    tokenizer: str = ""

    def __post_init__(self) -> None:
        if self.max_size < 1:
            raise ConfigError.invalid("max_passage_chars", self.max_size, "a whole number >= 1")
        if not 0 <= self.min_size <= self.max_size // 2:
            raise ConfigError.invalid(
                "min_passage_chars",
                self.min_size,
                f"a whole number from 0 to max_passage_chars/2 ({self.max_size // 2})",
            )
        if not 0 <= self.overlap <= self.max_size // 2:
            raise ConfigError.invalid(
                "passage_overlap_chars",
                self.overlap,
                f"a whole number from 0 to max_passage_chars/2 ({self.max_size // 2})",
            )
        if self.unit not in UNITS:
            raise ConfigError.invalid("passage_unit", self.unit, "one of 'chars', 'tokens'")
        if self.tokenizer and not _IMPORT_PATH.fullmatch(self.tokenizer):
            raise ConfigError.invalid("passage_tokenizer", self.tokenizer, "an import path 'module:function'")

    @classmethod
    def from_config(cls, config: Any) -> PassageRules:
        """The rules a ``BatchConfig`` sets (checked: a tokenizer that cannot be imported,
        or sizes that do not fit together, raise ``ConfigError`` naming the setting)."""
        rules = cls(
            max_size=config.max_passage_chars,
            min_size=config.min_passage_chars,
            overlap=config.passage_overlap_chars,
            unit=config.passage_unit,
            tokenizer=config.passage_tokenizer,
        )
        rules.measure()  # imports the tokenizer now, in the caller's process
        return rules

    def measure(self) -> Callable[[str], int]:
        """The function giving a text's size in this unit."""
        if self.unit == "chars":
            return len
        if not self.tokenizer:
            return estimate_tokens
        return _counter(self.tokenizer)


def _counter(path: str) -> Callable[[str], int]:
    module_name, _, name = path.partition(":")
    try:
        found: Any = importlib.import_module(module_name)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError.invalid(
            "passage_tokenizer", path, f"a function that can be imported ({type(exc).__name__}: {exc})"
        ) from exc
    if not callable(found):
        raise ConfigError.invalid("passage_tokenizer", path, "a function (this is not callable)")
    tokenizer: Callable[[str], Any] = found

    def count(text: str) -> int:
        tokens = tokenizer(text)
        return len(tokens) if isinstance(tokens, Sized) else int(tokens)

    return count


@dataclass(slots=True)
class _Span:
    path: tuple[str, ...]
    section: int
    start: int
    end: int


def chunk(doc_id: str, doc: ParsedDocument, rules: PassageRules | int) -> list[Passage]:
    """The passages of ``doc``, in order, each at most ``rules.max_size`` long.

    Passage ids are derived from the doc id, the heading path and the passage text, so an
    unchanged section keeps its id when other sections change. ``rules`` may be a plain
    maximum in characters (no merging of short passages).

    >>> from docbatch.formats.base import DocumentBuilder
    >>> b = DocumentBuilder(); b.heading(1, "Guide"); b.heading(2, "Intro"); b.block("Hello world.")
    >>> [(p.heading_path, p.text) for p in chunk("a.md", b.build(None), PassageRules(100, 20))]
    [('Guide > Intro', 'Intro\\n\\nHello world.')]
    """
    if isinstance(rules, int):
        rules = PassageRules(max_size=rules, min_size=0)
    size = rules.measure()
    text = doc.text
    spans: list[_Span] = []
    sections = doc.sections
    for n, section in enumerate(sections):
        if _opens_a_subsection(text, sections, n):
            continue
        for start, end in _split(text, section.start, section.end, rules, size):
            spans.append(_Span(section.heading_path, n, start, end))
    if not sections and text.strip():
        spans.extend(_Span((), 0, s, e) for s, e in _split(text, 0, len(text), rules, size))
    if rules.min_size > 0:
        spans = _merge_small(text, spans, rules, size)

    passages: list[Passage] = []
    seen: dict[str, int] = {}
    for seq, span in enumerate(spans):
        heading = HEADING_SEPARATOR.join(span.path)
        body = text[span.start : span.end]
        digest = hashlib.blake2b(f"{doc_id}\0{heading}\0{body}".encode(), digest_size=8).hexdigest()
        n = seen.get(digest, 0)
        seen[digest] = n + 1
        pid = digest if n == 0 else f"{digest}-{n}"
        anchor = sections[span.section].anchor if sections else ""
        lines = doc.line_range(span.start, span.end) or (None, None)
        passages.append(Passage(seq, pid, heading, span.start, span.end, body, anchor, *lines))
    return passages


def _opens_a_subsection(text: str, sections: tuple[Any, ...], n: int) -> bool:
    """Section ``n`` holds only its heading and the next section lies under it."""
    section = sections[n]
    path = section.heading_path
    if not path or n + 1 >= len(sections):
        return False
    if text[section.start : section.end].strip() != path[-1]:
        return False
    following = sections[n + 1].heading_path
    return len(following) > len(path) and following[: len(path)] == path


def _merge_small(
    text: str, spans: list[_Span], rules: PassageRules, size: Callable[[str], int]
) -> list[_Span]:
    """Merge each passage under ``rules.min_size`` with a neighbour it fits with."""
    spans = list(spans)
    i = 0
    while i < len(spans):
        span = spans[i]
        if size(text[span.start : span.end]) >= rules.min_size:
            i += 1
            continue
        partner = _partner(text, spans, i, rules, size)
        if partner is None:
            i += 1
            continue
        first, second = sorted((i, partner))
        a, b = spans[first], spans[second]
        spans[first : second + 1] = [_Span(_common(a.path, b.path), a.section, a.start, b.end)]
        i = first  # the merged passage may still be short
    return spans


def _partner(
    text: str, spans: list[_Span], i: int, rules: PassageRules, size: Callable[[str], int]
) -> int | None:
    """The neighbour passage ``i`` merges with: the next of its section, the previous of its
    section, the next in a section under the same parent, the previous, the next."""
    span = spans[i]
    parent = span.path[:-1]
    before = i - 1 if i > 0 else None
    after = i + 1 if i + 1 < len(spans) else None
    same = [j for j in (after, before) if j is not None and spans[j].section == span.section]
    near = [j for j in (after,) if j is not None and spans[j].path[: len(parent)] == parent]
    for j in (*same, *near, before, after):
        if j is None:
            continue
        lo, hi = min(i, j), max(i, j)
        if size(text[spans[lo].start : spans[hi].end]) <= rules.max_size:
            return j
    return None


def _common(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    """The heading path both passages lie under."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _split(
    text: str, start: int, end: int, rules: PassageRules, size: Callable[[str], int]
) -> list[tuple[int, int]]:
    """Cut ``text[start:end]`` into trimmed spans of at most ``rules.max_size``, of about
    even size (no short tail), each after the first starting with ``rules.overlap``."""
    start, end = _trim(text, start, end)
    if start >= end:
        return []
    chars = size is len
    left = end - start if chars else size(text[start:end])  # what is left to cut, about
    spans: list[tuple[int, int]] = []
    section_start = start
    overlap, most = rules.overlap, rules.max_size
    while start < end:
        start, stop = _trim(text, start, end)
        if start >= stop:
            break
        if left <= most:
            left = stop - start if chars else size(text[start:stop])
            if left <= most:
                spans.append((start, stop))
                break
        pieces = -(-max(left - overlap, 1) // (most - overlap))  # ceil
        target = -(-(left + (pieces - 1) * overlap) // pieces)  # even pieces, overlaps included
        aim = _position(text, start, stop, target, size)
        limit = _position(text, start, stop, most, size)
        cut = _cut_point(text, start, aim, limit)
        after = left - (cut - start if chars else size(text[start:cut]))
        if pieces > 1 and after + overlap > (pieces - 1) * (most - overlap) + overlap:
            cut = _cut_point(text, start, limit, limit)  # the rest would not fit: cut late
        piece_start, piece_end = _trim(text, start, cut)
        if piece_start < piece_end:
            spans.append((piece_start, piece_end))
        next_start = _overlap_start(text, section_start, cut, overlap, size) if overlap else cut
        if next_start <= piece_start:  # no progress with the overlap
            next_start = cut
        left -= (next_start - start) if chars else size(text[start:next_start])
        start = next_start
    return spans


def _position(text: str, start: int, end: int, budget: int, size: Callable[[str], int]) -> int:
    """The furthest position ``p`` in ``start..end`` with ``size(text[start:p]) <= budget``."""
    if size is len:
        return min(end, start + budget)
    lo, hi = start, min(end, start + 8 * budget)
    while hi < end and size(text[start:hi]) <= budget:  # tokens longer than 8 characters
        lo, hi = hi, min(end, hi + 8 * budget)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(text[start:mid]) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return max(lo, start + 1)


def _overlap_start(text: str, floor: int, cut: int, overlap: int, size: Callable[[str], int]) -> int:
    """Where the piece after ``cut`` starts so that it repeats about ``overlap`` of the
    previous piece's end, at a word boundary."""
    if size is len:
        at = max(floor, cut - overlap)
    else:
        lo, hi = floor, cut
        while lo < hi:
            mid = (lo + hi) // 2
            if size(text[mid:cut]) <= overlap:
                hi = mid
            else:
                lo = mid + 1
        at = lo
    space = text.find(" ", at, cut)
    return space + 1 if at > floor and space != -1 else at


def _cut_point(text: str, start: int, aim: int, limit: int) -> int:
    """The best place to end a piece that starts at ``start``: the strongest break nearest
    to ``aim`` that does not pass ``limit`` nor leave a piece under half of ``aim``."""
    floor = start + (aim - start) // 2
    for brk in _BREAKS:
        before = text.rfind(brk, floor, aim)
        after = text.find(brk, aim, limit)
        found = [at for at in (before, after) if at > start and at + len(brk) <= limit]
        if found:
            at = min(found, key=lambda at: abs(at - aim))
            return at + len(brk)
    return limit


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
