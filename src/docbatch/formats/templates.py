"""Site templates: the navigation rows, headers, footers and licence lines a generator
repeats on every page of a site, found from the pages themselves.

A page is seen as regions: the block elements of its parts (the content node's children,
or a lone wrapper's) down to ``REGION_DEPTH`` levels, each at a place (the tags, classes
and ids that lead to it). The first and the last part are the page's edges. Across a
sample of a source's pages, these regions are template:

- the same text at the same place on at least ``TEMPLATE_SHARE`` of the pages (a footer,
  a licence line, a fixed menu), at a place that holds one or two regions (not among a
  page's paragraphs) no deeper than ``OUTER_DEPTH`` in the page's middle parts;
- at the edges, the same mostly-link layout at the same place on that many pages (a row of
  "Prev | Up | Home | Next" around the page's own chapter title);
- anywhere, a table of contents: a list of links into the page (at the edges, any list of
  links: breadcrumbs, menus) at the same place on ``TOC_SHARE`` of the pages;
- a place where the regions above are all a page holds on ``PLACE_SHARE`` of the pages.

What repeats in the middle of the content is kept: generated lists, a shared long note, a
caption repeated above code listings, links to related pages. Nothing is template in a
source of fewer than ``MIN_PAGES`` pages. A ``Template`` is a set of hashes: small, kept
per source, and part of the HTML parser's fingerprint, so a changed template re-parses
the source's pages.
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
"""A region with at least this share of link text, its links pointing inside the page
(``TOC_INSIDE``), is a table of contents (a summary row, a jump list): template when such a list
stands at the same place on ``TOC_SHARE`` of the pages, whatever its links."""
TOC_SHARE = 0.2
"""See ``LINK_LIST_SHARE``."""
TOC_INSIDE = 0.5
"""A list of links is a table of contents when at least this share of its links point
inside the page. Only a list that holds no list of links is judged (a sidebar holding a
table of contents and a list of related pages is judged list by list)."""
PLACE_SHARE = 0.8
"""A place where the template was found on this share of the pages that have it is
template whatever it holds (a navigation row whose links differ on a few pages)."""
CROWDED = 2
"""A place holding more regions than this on most pages (the paragraphs of a flat page) is
content's: a text repeated there ("Filename: src/main.rs" above code listings) is not
template; a template place holds one or two (a header, a navigation row or two)."""
MAX_TEMPLATE_TEXT = 500
"""A repeated text longer than this is template only when it is mostly link text: long
repeated sections (generated "blanket" implementations, shared notes) are content."""
MIN_LAYOUT_ELEMENTS = 3
"""A repeated layout counts only when it holds at least this many elements (a bare
paragraph has the same layout on every page)."""
SAMPLE_PAGES = 64
"""Pages of a source read to find its template."""

_REGION_TAGS = frozenset(
    "address article aside blockquote button center dd details div dl dt fieldset figure footer "
    "header hgroup li main menu nav ol p section summary table tbody thead tfoot tr td th ul".split()
)


_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
"""Headings are regions in the first and last parts of a page only (a "NAME" heading atop
every manual page): elsewhere a repeated heading ("Options") is the content's structure."""


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
    """The block elements under ``main`` to ``REGION_DEPTH`` levels below the page's parts
    (``main``'s children, or a lone wrapper's), in document order, with the hash of their
    place; the place of one inside the first or the last part begins with ``EDGE``, of one
    deeper than ``OUTER_DEPTH`` in another part with ``INNER``. A caller that removes a
    region skips what it holds by sending True (``generator.send``)."""
    children = list(main.iter(include_text=False))
    while len(children) == 1:  # a wrapper: the page's parts are its children
        children = list(children[0].iter(include_text=False))
    edges = {children[0].mem_id, children[-1].mem_id} if len(children) > 2 else set()
    stack: list[tuple[LexborNode, int, str]] = [
        (child, 1, EDGE if child.mem_id in edges else "") for child in reversed(children)
    ]
    while stack:
        node, depth, parent = stack.pop()
        if node.tag not in _REGION_TAGS and not (node.tag in _HEADINGS and parent.startswith(EDGE)):
            continue
        path = f"{parent}/{_label(node)}"
        outer = depth <= OUTER_DEPTH or path.startswith(EDGE)
        removed = yield node, (EDGE if path.startswith(EDGE) else "" if outer else INNER) + _hash(path)
        if removed:
            yield node, ""  # the value of send(); not a region
            continue
        if depth < REGION_DEPTH:
            stack.extend((child, depth + 1, path) for child in reversed(list(node.iter(include_text=False))))


def _text(node: LexborNode) -> str:
    return " ".join(node.text(deep=True).split())


EDGE = "^"
"""Marks the place of a region inside the first or the last part of the page."""
INNER = "~"
"""Marks the place of a region deeper than ``OUTER_DEPTH`` in the page's middle parts:
there only a table of contents can be template (a repeated text or layout in the middle of
the content, such as generated implementation lists or a shared note, is content)."""
OUTER_DEPTH = 1
"""Regions at most this deep below the page's parts (``regions``) are outer."""
LINK_LIST = "links"
"""The layout value of every list of links (see ``LINK_LIST_SHARE``)."""


def _layout(node: LexborNode, text: str, edge: bool = False) -> str | None:
    """The hash of the region's element layout, when it has links and holds enough
    elements to be told apart from a bare paragraph; ``LINK_LIST`` for a list of links
    within the page, or anywhere at the ``edge`` of the page; else None."""
    links = node.css("a[href]")
    if len(links) < (1 if edge else 2) or not text:  # at the edges: a breadcrumb of one link
        return None
    linked = _linked(links)
    if linked < LINK_SHARE * len(text):
        return None
    if linked >= LINK_LIST_SHARE * len(text):
        inside = sum((a.attributes.get("href") or "").startswith("#") for a in links)
        if (
            node.tag in _LIST_TAGS
            and (inside >= TOC_INSIDE * len(links) or edge)
            and not _holds_link_lists(node)
        ):
            return LINK_LIST  # a table of contents, or breadcrumbs, a menu
    tags = [child.tag or "" for child in node.css("*")]
    if len(tags) < MIN_LAYOUT_ELEMENTS:
        return None
    return _hash(*tags)


_LIST_TAGS = frozenset(("ul", "ol", "dl", "div", "p", "nav", "section", "menu"))
"""What a list of links is made of (a table row or a heading full of links is not one)."""


def _holds_link_lists(node: LexborNode) -> bool:
    """Some element under ``node`` is itself a list or block holding two links or more."""
    blocks = node.css("ul, ol, dl, table, div, section, p, nav")  # (node itself among them)
    return any(inner.mem_id != node.mem_id and len(inner.css("a[href]")) >= 2 for inner in blocks)


def _linked(links: list[LexborNode]) -> int:
    return sum(len(" ".join(a.text(deep=True).split())) for a in links)


def _text_key(node: LexborNode, text: str) -> str | None:
    """The hash of the region's text, unless it is long and not mostly links."""
    if len(text) > MAX_TEMPLATE_TEXT and 2 * _linked(node.css("a[href]")) < len(text):
        return None
    return _hash(text)


def page_keys(main: LexborNode) -> set[tuple[str, str, str]]:
    """What a page contributes to finding its source's template: (kind, place, value)
    for each region with text: its text (unless long), its layout when it has links, and
    the region itself (its place, text and layout)."""
    keys: set[tuple[str, str, str]] = set()
    at_place: Counter[str] = Counter()
    for node, place in regions(main):
        text = _text(node)
        if not text:
            continue
        at_place[place] += 1
        inner = place.startswith(INNER)
        text_key = None if inner else _text_key(node, text)
        if text_key is not None:
            keys.add(("text", place, text_key))
        edge = place.startswith(EDGE)
        layout = _layout(node, text, edge)
        if not edge and layout != LINK_LIST:  # a repeated layout is a navigation row at an edge
            layout = None
        if layout is not None:
            keys.add(("layout", place, layout))
        keys.add(("region", place, f"{text_key or ''}|{layout or ''}"))
    keys.update(("crowded", place, "") for place, n in at_place.items() if n > CROWDED)
    return keys


@dataclass(frozen=True)
class Template:
    """The template regions of one source: places, and per place the texts and layouts
    that are template there."""

    texts: frozenset[str] = frozenset()
    """``place:text`` hashes."""
    layouts: frozenset[str] = frozenset()
    """``place:layout`` hashes."""
    whole: frozenset[str] = frozenset()
    """Places that are template whatever they hold."""
    places: frozenset[str] = field(default=frozenset(), compare=False)

    def __post_init__(self) -> None:
        places = {key.split(":", 1)[0] for key in (*self.texts, *self.layouts)}
        object.__setattr__(self, "places", frozenset(places | self.whole))

    def __bool__(self) -> bool:
        return bool(self.texts or self.layouts or self.whole)

    @property
    def digest(self) -> str:
        """A short hash of the whole template ("" for an empty one)."""
        if not self:
            return ""
        return _hash(*sorted(self.texts), "|", *sorted(self.layouts), "|", *sorted(self.whole))

    def to_json(self) -> str:
        return json.dumps(
            {"texts": sorted(self.texts), "layouts": sorted(self.layouts), "whole": sorted(self.whole)}
        )

    @classmethod
    def from_json(cls, text: str) -> Template:
        data = json.loads(text)
        return cls(*(frozenset(map(str, data.get(part, ()))) for part in ("texts", "layouts", "whole")))

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
            hit = place in self.whole or f"{place}:{_hash(text)}" in self.texts
            if not hit and self.layouts:
                layout = _layout(node, text, place.startswith(EDGE))
                hit = layout is not None and f"{place}:{layout}" in self.layouts
            if hit:
                walk.send(True)
                node.decompose()
                removed += 1
        return removed


def decide(pages: Iterable[set[tuple[str, str, str]]]) -> Template:
    """The template of a source from the ``page_keys`` of a sample of its pages."""
    sampled = list(pages)
    n = len(sampled)
    if n < MIN_PAGES:
        return Template()
    counts: Counter[tuple[str, str, str]] = Counter(key for keys in sampled for key in keys)
    least, toc_least = max(3, TEMPLATE_SHARE * n), max(3, TOC_SHARE * n)
    pages_at = Counter(place for keys in sampled for place in {p for kind, p, _ in keys if kind == "region"})
    crowded = {
        place for (kind, place, _), c in counts.items() if kind == "crowded" and 2 * c >= pages_at[place]
    }
    texts = {
        f"{place}:{value}"
        for (kind, place, value), c in counts.items()
        if kind == "text" and c >= least and place not in crowded
    }
    layouts = {
        f"{place}:{value}"
        for (kind, place, value), c in counts.items()
        if kind == "layout"
        and (c >= toc_least if value == LINK_LIST else c >= least and place not in crowded)
    }
    having: Counter[str] = Counter()  # pages with a region at each place
    covered: Counter[str] = Counter()  # pages where every region at the place is template
    for keys in sampled:
        found: dict[str, bool] = {}
        for kind, place, value in keys:
            if kind == "region":
                text_key, layout = value.split("|")
                # a table of contents is found by its links on each page, not by its place
                hit = f"{place}:{text_key}" in texts or (
                    layout != LINK_LIST and f"{place}:{layout}" in layouts
                )
                found[place] = found.get(place, True) and hit
        having.update(found)
        covered.update(place for place, hit in found.items() if hit)
    whole = {place for place, c in having.items() if c >= least and covered[place] >= PLACE_SHARE * c}
    return Template(frozenset(texts), frozenset(layouts), frozenset(whole))
