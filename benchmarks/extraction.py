"""Extraction quality: the shape of the passages docbatch cuts, per site and format.

    python -m benchmarks.extraction [TREE ...] [--sites DIR] [--only shape|quality] [--json OUT]

Each tree (default: the dev corpus's three parts, when present) is parsed file by file with
docbatch's own parsers and cut into passages with the default settings, in this process
(no store). Printed per tree and format:

- ``heading-only``: passages that hold nothing but their heading (target 0);
- ``< 40 chars``: very short passages (target at most 1%);
- ``over max``: passages longer than ``max_passage_chars`` (target 0);
- the median passage length.

``--sites DIR`` adds every site of a collection built by ``python -m benchmarks.sites.build``
(its ``sites.json`` names them).

A second table measures how much of a site's template reaches the store. Each HTML site (the
collection's, and the dev corpus's Apache httpd manual, whose content is ``div#page-content``)
is ingested by ``BatchIngestService`` into a fresh SQLite store, and the stored passages are
read back from the file. The truth comes from each page's raw HTML: its *content* is the text
docbatch's HTML parser reads from the element the generator marks as main content (the site's
``content_selector``; ``BODY_RULES`` for a site that marks none) less the navigation it holds
(each ``nav``, with a wrapper holding only it and its label, such as ``<aside><h2>On this
page</h2><nav>``), its *template* the lines the
parser reads from the whole ``body`` that the content lacks (white space collapsed). Printed
per site:

- ``template share``: passages holding at least one template line (target at most 0.5%): a
  line outside the content that is on at least two pages of the site (a line outside the
  content on one page only, such as the page's own title in a header, is the page's);
- ``template-only``: passages made of template lines alone (target 0);
- ``content recall``: the content's distinct words (case-folded, English stopwords left
  out, per page, summed) found in
  the page's passages or their heading paths (target at least 0.99), with the lowest page's
  recall and name. Distinct words, because what is dropped on purpose may repeat what the
  page says elsewhere: a table of contents repeats the headings, and loses no word;
- ``no match``: pages where the content selector matched nothing (their whole body, less
  the ``BODY_RULES`` of DocBook, counts as content).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from selectolax.lexbor import LexborHTMLParser

from docbatch import BatchIngestService
from docbatch.config import BatchConfig
from docbatch.formats import detect_format, get_parser
from docbatch.formats.base import LabelParser
from docbatch.formats.html import HtmlOptions, parse
from docbatch.formats.includes import Includes
from docbatch.frames import HEADING_SEPARATOR
from docbatch.work.chunking import Passage, PassageRules, chunk
from docbatch.work.decoding import decode

DEV = Path(__file__).resolve().parent.parent.parent / "shared" / "corpora" / "dev"
SHORT = 40


@dataclass
class Shape:
    """Counts over the passages of one tree and format."""

    tree: str
    format: str
    files: int = 0
    failed: int = 0
    passages: int = 0
    heading_only: int = 0
    short: int = 0
    over_max: int = 0
    median_chars: float = 0.0

    def row(self) -> str:
        share = 100.0 / max(self.passages, 1)
        return (
            f"| {self.tree} | {self.format} | {self.files} | {self.passages} | "
            f"{self.heading_only * share:.2f}% | {self.short * share:.2f}% | {self.over_max} | "
            f"{self.median_chars:.0f} |"
        )


HEADER = (
    "| tree | format | files | passages | heading-only | < 40 chars | over max | median chars |\n"
    "|---|---|---|---|---|---|---|---|"
)


def heading_only(passage: Passage) -> bool:
    """The passage holds nothing but the last heading of its path."""
    last = passage.heading_path.rsplit(HEADING_SEPARATOR, 1)[-1]
    return bool(last) and passage.text.strip() == last


def measure(tree: Path, name: str, rules: PassageRules) -> list[Shape]:
    """The passage shape of every file under ``tree`` that docbatch can parse, per format."""
    shapes: dict[str, Shape] = {}
    lengths: dict[str, list[int]] = {}
    for path in sorted(tree.rglob("*")):
        fmt = detect_format(path.name) if path.is_file() else None
        if fmt is None:
            continue
        shape = shapes.setdefault(fmt, Shape(name, fmt))
        shape.files += 1
        try:
            text, _ = decode(path.read_bytes(), None)
            parser = get_parser(fmt)
            if fmt == "rst":  # its includes read as an ingest reads them
                rst = cast(LabelParser, parser)
                parser = functools.partial(rst, includes=Includes(str(tree), str(path)))
            passages = chunk(str(path), parser(text), rules)
        except Exception:
            shape.failed += 1
            continue
        shape.passages += len(passages)
        shape.heading_only += sum(heading_only(p) for p in passages)
        shape.short += sum(len(p.text) < SHORT for p in passages)
        shape.over_max += sum(len(p.text) > rules.max_size for p in passages)
        lengths.setdefault(fmt, []).extend(len(p.text) for p in passages)
    for fmt, shape in shapes.items():
        shape.median_chars = statistics.median(lengths.get(fmt) or [0])
    return [shapes[fmt] for fmt in sorted(shapes)]


HTTPD_SELECTOR = "div#page-content"
"""The main content of the Apache httpd manual's pages (the dev corpus's ``html/``)."""

BODY_RULES: dict[str, tuple[str, ...]] = {
    "DocBook XSL": ("body > div.navheader", "body > div.navfooter"),
}
"""Per generator that marks no content element: what of the ``body`` is template, the rest
being content. A page whose content selector matches nothing is read with the DocBook rule
(AsciiDoc's ``user-manual.html`` is DocBook output; elsewhere the rule finds nothing)."""

LEAKS = 3
"""Template lines named per site: those found in most passages."""

_BODY = HtmlOptions(content_selectors=("body",))
_WORD = re.compile(r"\w+")


@dataclass
class Quality:
    """Template and content figures over the stored passages of one HTML site."""

    site: str
    generator: str
    selector: str
    pages: int = 0
    failed: int = 0
    no_match: int = 0
    passages: int = 0
    template_passages: int = 0
    template_only: int = 0
    content_words: int = 0
    found_words: int = 0
    min_recall: float = 1.0
    min_recall_page: str = ""
    unread: int = 0
    seconds: float = 0.0
    leaks: dict[str, int] = field(default_factory=dict)
    """The template lines found in most passages, with their passage counts."""

    @property
    def template_share(self) -> float:
        return self.template_passages / max(self.passages, 1)

    @property
    def recall(self) -> float:
        return self.found_words / self.content_words if self.content_words else 1.0

    def row(self) -> str:
        return (
            f"| {self.site} | {self.generator} | `{self.selector}` | {self.pages} | {self.passages} | "
            f"{100 * self.template_share:.1f}% | {self.template_only} | {self.recall:.4f} | "
            f"{self.min_recall:.3f} {self.min_recall_page} | {self.no_match} | {self.failed} | "
            f"{self.unread} | {self.seconds:.1f} |"
        )


QUALITY_HEADER = (
    "| site | generator | content | pages | passages | template share | template-only | "
    "content recall | lowest page | no match | failed | unread | s |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def _lines(text: str) -> set[str]:
    """The non-empty lines of ``text``, white space collapsed."""
    return {line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line}


def _words(text: str) -> Counter[str]:
    """The words of ``text``, case-folded, without the English words that carry no content."""
    return Counter(w for w in (word.casefold() for word in _WORD.findall(text)) if w not in STOPWORDS)


STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been before being
    below between both but by can did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with you your""".split()
)


def truth(page: str, selector: str | None, rule: tuple[str, ...]) -> tuple[set[str], Counter[str], bool]:
    """A page's template lines and content words, and whether its content element was found.

    The template lines are the lines docbatch's parser reads from the whole ``body`` that it
    does not read from the content alone (the content element's outer HTML as a page).
    """
    tree = LexborHTMLParser(page)
    node = tree.css_first(selector) if selector else None
    matched = node is not None or (not selector and bool(rule))
    if node is None:  # no content element: the body, less what the rule calls template
        for selector_of_template in rule or BODY_RULES["DocBook XSL"]:
            for dropped in tree.css(selector_of_template):
                dropped.decompose()
        node = tree.body
    if node is not None:
        _drop_navigation(node)
    content_html = node.html if node is not None else ""
    content = parse(f"<html><body>{content_html or ''}</body></html>", _BODY).text
    template = _lines(parse(page, _BODY).text) - _lines(content)
    return template, _words(content), matched


_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def _drop_navigation(content: Any) -> None:
    """Take the navigation the content element holds out of it: each ``nav`` (a table of
    contents, a pager), with the element wrapping it when that element holds nothing else
    but the nav's label (``<aside><h2>On this page</h2><nav>…</nav></aside>``)."""
    for nav in content.css("nav"):
        wrapper = nav.parent
        others = [
            child
            for child in (wrapper.iter(include_text=True) if wrapper is not None else ())
            if child.tag != "nav" and not (child.tag == "-text" and not (child.text() or "").strip())
        ]
        if wrapper is not None and wrapper != content and all(c.tag in _HEADINGS for c in others):
            wrapper.decompose()
        else:
            nav.decompose()


def shorten(line: str, width: int = 60) -> str:
    """``line`` cut to ``width`` characters, its table bars and backticks made harmless."""
    line = line.replace("`", "'").replace("|", "/")
    return line if len(line) <= width else line[: width - 1] + "…"


def html_pages(folder: Path) -> tuple[list[Path], str]:
    """The HTML pages under ``folder`` (hidden folders left out, as docbatch leaves them) and
    the pattern that selects them (their last suffixes: ``*.html``, ``*.utf8``, ...)."""
    pages = [
        path
        for path in sorted(folder.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        and detect_format(path.name) == "html"
    ]
    suffixes = sorted({path.suffix for path in pages})
    return pages, ",".join(f"*{suffix}" for suffix in suffixes)


def stored_passages(db: Path) -> dict[str, list[tuple[str, str]]]:
    """The passages' heading paths and texts per doc id, in order, read straight from a SQLite
    store file."""
    found: dict[str, list[tuple[str, str]]] = {}
    con = sqlite3.connect(db)
    try:
        query = "SELECT doc_id, heading_path, text FROM passages ORDER BY doc_id, seq"
        for doc_id, heading_path, text in con.execute(query):
            found.setdefault(doc_id, []).append((heading_path, text))
    finally:
        con.close()
    return found


def measure_site(name: str, generator: str, folder: Path, selector: str | None) -> Quality:
    """Ingest ``folder``'s HTML pages into a fresh store and compare the passages with the truth."""
    rule = BODY_RULES.get(generator, ()) if not selector else ()
    quality = Quality(name, generator, selector or ", ".join(f"not {r}" for r in rule) or "body")
    pages, pattern = html_pages(folder)
    quality.pages = len(pages)
    if not pages:
        return quality
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="docbatch-extraction-") as tmp:
        db = Path(tmp) / "site.db"
        result = BatchIngestService(db).ingest_batch(folder, pattern=pattern, source=name)
        quality.failed = result.failed
        passages = stored_passages(db)
    truths: dict[Path, tuple[set[str], Counter[str], bool] | None] = {}
    for path in pages:
        try:
            text, _ = decode(path.read_bytes(), None)
            truths[path] = truth(text, selector, rule)
        except Exception:  # a page docbatch refuses too (binary, too deep): no truth to compare
            truths[path] = None
    # boilerplate is what repeats: a line outside the content on one page only (the page's
    # own title or name line in a header) is that page's, not the site's template
    repeated = Counter(line for found in truths.values() if found for line in found[0])
    leaks: Counter[str] = Counter()
    for path in pages:
        doc_id = path.relative_to(folder).as_posix()
        stored = passages.get(doc_id, [])
        texts = [text for _, text in stored]
        # a heading the passages' texts leave out (one followed directly by a subheading)
        # is still stored, in the heading paths: each heading counts once
        headings = {part for path_of, _ in stored for part in path_of.split(HEADING_SEPARATOR)}
        page_truth = truths[path]
        if page_truth is None:
            quality.unread += 1
            continue
        template, content, matched = page_truth
        template = {line for line in template if repeated[line] > 1}
        quality.no_match += not matched
        quality.passages += len(texts)
        for passage in texts:
            lines = _lines(passage)
            held = lines & template
            leaks.update(held)
            quality.template_passages += bool(held)
            quality.template_only += bool(held) and held == lines
        total = len(content)
        found = len(content.keys() & _words("\n".join([*texts, *headings])).keys())
        quality.content_words += total
        quality.found_words += found
        recall = found / total if total else 1.0
        if recall < quality.min_recall or not quality.min_recall_page:
            quality.min_recall, quality.min_recall_page = min(recall, quality.min_recall), doc_id
    quality.seconds = time.perf_counter() - start
    quality.leaks = dict(leaks.most_common(LEAKS))
    return quality


def html_sites(args: argparse.Namespace) -> list[tuple[str, str, Path, str | None]]:
    """The HTML sites to measure: the dev corpus's httpd manual and a collection's sites."""
    found: list[tuple[str, str, Path, str | None]] = []
    if not args.trees and (DEV / "html").is_dir():
        found.append(("dev/html", "Apache httpd", DEV / "html", HTTPD_SELECTOR))
    for site, folder in collection(args.sites):
        found.append((site["name"], site.get("generator", "?"), folder, site.get("content_selector")))
    return found


def collection(sites: str | None) -> list[tuple[dict[str, Any], Path]]:
    """The sites of a collection folder's ``sites.json`` and their folders."""
    if not sites:
        return []
    listing = json.loads((Path(sites) / "sites.json").read_text())
    found = listing["sites"] if isinstance(listing, dict) else listing
    return [(site, Path(sites) / (site.get("path") or site["name"])) for site in found]


def trees(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The trees to measure: those given, the dev corpus's parts, and a site collection's sites."""
    found = [(Path(t).name, Path(t)) for t in args.trees]
    if not args.trees and DEV.is_dir():
        found = [(f"dev/{part.name}", part) for part in sorted(DEV.iterdir()) if part.is_dir()]
    for site, folder in collection(args.sites):
        found.append((f"{site['name']} ({site.get('generator', '?')})", folder))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="*", help="folders to measure (default: the dev corpus)")
    parser.add_argument("--sites", help="a site collection folder (with sites.json)")
    parser.add_argument("--only", choices=("shape", "quality"), help="print one of the two tables")
    parser.add_argument("--json", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    rules = PassageRules.from_config(BatchConfig())
    found = trees(args) if args.only != "quality" else []
    sites = html_sites(args) if args.only != "shape" else []
    if not found and not sites:
        print(
            "nothing to measure: give a folder, or build the dev corpus or a site collection", file=sys.stderr
        )
        return 2
    shapes: list[Shape] = []
    if found:
        print("## Passage shape\n\n" + HEADER)
    for name, tree in found:
        for shape in measure(tree, name, rules):
            shapes.append(shape)
            print(shape.row(), flush=True)
    qualities: list[Quality] = []
    if sites:
        print("\n## Template and content in the stored passages\n\n" + QUALITY_HEADER, flush=True)
    for name, generator, folder, selector in sites:
        quality = measure_site(name, generator, folder, selector)
        qualities.append(quality)
        print(quality.row(), flush=True)
    if any(q.leaks for q in qualities):
        print("\nTemplate lines in most passages (passages):\n")
    for quality in qualities:
        if quality.leaks:
            named = "; ".join(f"`{shorten(line)}` ({n})" for line, n in quality.leaks.items())
            print(f"- {quality.site}: {named}")
    if args.json:
        figures = {
            "shape": [asdict(s) for s in shapes],
            "quality": [
                {**asdict(q), "template_share": q.template_share, "content_recall": q.recall}
                for q in qualities
            ],
        }
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
