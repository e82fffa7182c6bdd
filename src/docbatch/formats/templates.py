"""Site templates: the navigation rows, headers, footers and licence lines a generator
repeats on every page of a site, found from the pages themselves.

A page is seen as regions: the block elements of its content node down to
``REGION_DEPTH`` levels, each at a place (the tags, classes and ids that lead to it).
Across a sample of a source's pages, two kinds of region are template:

- the same text at the same place on at least ``TEMPLATE_SHARE`` of the pages (a footer,
  a licence line, a fixed menu);
- the same layout at the same place on that many pages, mostly link text (a row of
  "Prev | Up | Home | Next" around the page's own chapter title).

Nothing is template in a source of fewer than ``MIN_PAGES`` pages. A ``Template`` is a
set of hashes: small, stored per source, and part of the HTML parser's fingerprint, so a
changed template re-parses the source's pages.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field

from selectolax.lexbor import LexborNode

REGION_DEPTH = 4
"""Regions are block elements at most this many levels below the content node."""
TEMPLATE_SHARE = 0.5
"""A region repeated on at least this share of the sampled pages is template."""
MIN_PAGES = 4
"""Fewer sampled pages than this: nothing is template."""
LINK_SHARE = 0.1
"""A repeated layout is template only when at least this share of its text is link text."""
LINK_LIST_SHARE = 0.6
"""A region with at least this share of link text is a list of links (a menu, a language
bar, a table of contents): template when such a list stands at the same place on
``TEMPLATE_SHARE`` of the pages, whatever its links."""
MIN_LAYOUT_ELEMENTS = 3
"""A repeated layout counts only when it holds at least this many elements (a bare
paragraph has the same layout on every page)."""
SAMPLE_PAGES = 64
"""Pages of a source read to find its template."""

_REGION_TAGS = frozenset(
    "address article aside blockquote center dd details div dl dt fieldset figure footer "
    "header hgroup li main menu nav ol p section summary table tbody thead tfoot tr td th ul".split()
)


def _hash(*parts: str) -> str:
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=8).hexdigest()


def _label(node: LexborNode) -> str:
    """The node's tag, classes and id (an id with digits in it names one page's item)."""
    attributes = node.attributes
    label = node.tag or ""
    classes = attributes.get("class")
    if classes:
        label += "." + ".".join(sorted(classes.split()))
    ident = attributes.get("id")
    if ident and not any(c.isdigit() for c in ident):
        label += "#" + ident
    return label


def regions(main: LexborNode) -> Generator[tuple[LexborNode, str], bool | None, None]:
    """The block elements under ``main`` to ``REGION_DEPTH`` levels, in document order,
    with the hash of their place. A caller that removes a region skips what it holds by
    sending True (``generator.send``)."""
    stack: list[tuple[LexborNode, int, str]] = [
        (child, 1, "") for child in reversed(list(main.iter(include_text=False)))
    ]
    while stack:
        node, depth, parent = stack.pop()
        if node.tag not in _REGION_TAGS:
            continue
        path = f"{parent}/{_label(node)}"
        removed = yield node, _hash(path)
        if removed:
            yield node, ""  # the value of send(); not a region
            continue
        if depth < REGION_DEPTH:
            stack.extend((child, depth + 1, path) for child in reversed(list(node.iter(include_text=False))))


def _text(node: LexborNode) -> str:
    return " ".join(node.text(deep=True).split())


LINK_LIST = "links"
"""The layout value of every list of links (see ``LINK_LIST_SHARE``)."""


def _layout(node: LexborNode, text: str) -> str | None:
    """The hash of the region's element layout, when it has links and holds enough
    elements to be told apart from a bare paragraph (``LINK_LIST`` for a list of links);
    else None."""
    links = node.css("a")
    if len(links) < 2 or not text:
        return None
    linked = sum(len(" ".join(a.text(deep=True).split())) for a in links)
    if linked < LINK_SHARE * len(text):
        return None
    if linked >= LINK_LIST_SHARE * len(text):
        return LINK_LIST
    tags = [child.tag or "" for child in node.css("*")]
    if len(tags) < MIN_LAYOUT_ELEMENTS:
        return None
    return _hash(*tags)


def page_keys(main: LexborNode) -> set[tuple[str, str, str]]:
    """What a page contributes to finding its source's template: (kind, place, value)
    for each region with text: its text, and its layout when mostly links."""
    keys: set[tuple[str, str, str]] = set()
    for node, place in regions(main):
        text = _text(node)
        if not text:
            continue
        keys.add(("text", place, _hash(text)))
        layout = _layout(node, text)
        if layout is not None:
            keys.add(("layout", place, layout))
    return keys


@dataclass(frozen=True)
class Template:
    """The template regions of one source: places, and per place the texts and layouts
    that are template there."""

    texts: frozenset[str] = frozenset()
    """``place:text`` hashes."""
    layouts: frozenset[str] = frozenset()
    """``place:layout`` hashes."""
    places: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        places = {key.split(":", 1)[0] for key in (*self.texts, *self.layouts)}
        object.__setattr__(self, "places", frozenset(places))

    def __bool__(self) -> bool:
        return bool(self.texts or self.layouts)

    @property
    def digest(self) -> str:
        """A short hash of the whole template ("" for an empty one)."""
        if not self:
            return ""
        return _hash(*sorted(self.texts), "|", *sorted(self.layouts))

    def to_json(self) -> str:
        return json.dumps({"texts": sorted(self.texts), "layouts": sorted(self.layouts)})

    @classmethod
    def from_json(cls, text: str) -> Template:
        data = json.loads(text)
        return cls(frozenset(map(str, data["texts"])), frozenset(map(str, data["layouts"])))

    def strip(self, main: LexborNode) -> int:
        """Remove the template regions under ``main``; returns how many."""
        if not self:
            return 0
        removed = 0
        walk = regions(main)
        for node, place in walk:
            if place not in self.places:
                continue
            text = _text(node)
            hit = f"{place}:{_hash(text)}" in self.texts
            if not hit and self.layouts:
                layout = _layout(node, text)
                hit = layout is not None and f"{place}:{layout}" in self.layouts
            if hit:
                walk.send(True)
                node.decompose()
                removed += 1
        return removed


def decide(pages: Iterable[set[tuple[str, str, str]]]) -> Template:
    """The template of a source from the ``page_keys`` of a sample of its pages."""
    counts: Counter[tuple[str, str, str]] = Counter()
    n = 0
    for keys in pages:
        counts.update(keys)
        n += 1
    if n < MIN_PAGES:
        return Template()
    least = max(3, TEMPLATE_SHARE * n)
    common = [(kind, f"{place}:{value}") for (kind, place, value), c in counts.items() if c >= least]
    return Template(
        frozenset(key for kind, key in common if kind == "text"),
        frozenset(key for kind, key in common if kind == "layout"),
    )
