"""RST quality gate: the fast reStructuredText reader against the docutils engine.

Run ``python benchmarks/rst_quality.py [RST_DIR] [--limit N] [--snippets] [--json PATH]``.
Every ``*.rst`` file under ``RST_DIR`` (default: the shared dev corpus's ``rst`` folder),
and with ``--snippets`` every ``*.txt`` file too (Sphinx's include snippets), is parsed
by both engines and compared:

- headings: the sequence of heading texts (white space normalised) is the same;
- token F1: bag-of-words F1 of the lower-cased ``\\w+`` tokens of the whole clean text,
  per file, averaged over the files;
- markup leaks: role, directive, substitution and target syntax left in each engine's
  text (``:word:`` before a backquote, a line starting with ``..``, ``.. name::`` and
  ``.. _label:`` anywhere, ``|name|``, ``_`name``` and ```name`_``), outside literal
  blocks and inline literals (docutils' doctree says which), per 1,000 words;
- speed: files per second of each engine (parse time only, one core) and their ratio.

The gate passes when the heading lists agree on at least 97% of the files, the mean
F1 is at least 0.95 and the fast reader leaks no more markup than docutils; the exit
status is 0 then, 1 otherwise. Files the docutils engine rejects (``ParseError``) have
no reference: they are named and counted apart; a file the fast reader rejects counts
as a disagreement with F1 0. Parse times are taken after a warm-up parse;
the fast reader's is the median of three runs (the machines are noisy).
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.core import publish_doctree

from docbatch.errors import ParseError
from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.rst_docutils import sphinx_compat

DEFAULT_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "dev" / "rst"
HEADINGS_TARGET = 0.97
F1_TARGET = 0.95
_TOKEN = re.compile(r"\w+")
LEAK = re.compile(
    r":[A-Za-z][\w.+-]*(?::[\w.+-]+)*:`"  # a role
    r"|^[ \t]*\.\.(?:[ \t]|$)"  # a line opening explicit markup
    r"|(?<!^)(?<![ \t\n])[ \t]*\.\. (?:_[^:\n]+|[\w:.+-]+:):(?:[ \t]|$)"  # mid-line directive/target
    r"|(?<![\w|])\|\w(?:[^|\n]{0,58}\w)?\|(?![\w|])"  # a substitution reference
    r"|(?<!\w)_`[^`\n]+`"  # an inline target
    r"|`[^`\n]+`__?(?!\w)",  # a reference
    re.MULTILINE,
)
"""reStructuredText syntax that should not survive in clean text (see the module's doc)."""
_DOCTREE_SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "report_level": 5,
    "halt_level": 5,
    "warning_stream": False,
    "syntax_highlight": "none",
}

Parse = Callable[[str], ParsedDocument]


def headings(doc: ParsedDocument) -> list[str]:
    """The heading texts of a document in order, white space normalised."""
    return [" ".join(s.heading_path[-1].split()) for s in doc.sections if s.heading_path]


def token_f1(text: str, reference: str) -> float:
    """Bag-of-words F1 of the lower-cased word tokens of ``text`` against ``reference``."""
    got, want = Counter(_TOKEN.findall(text.lower())), Counter(_TOKEN.findall(reference.lower()))
    if not got and not want:
        return 1.0
    common = sum((got & want).values())
    if not common:
        return 0.0
    precision, recall = common / sum(got.values()), common / sum(want.values())
    return 2 * precision * recall / (precision + recall)


def leaks(text: str) -> int:
    """The markup leaks (``LEAK`` matches) in ``text``."""
    return sum(1 for _ in LEAK.finditer(text))


def _literals(source: str) -> list[str]:
    """Texts of the literal blocks and inline literals of ``source`` as docutils reads it."""
    try:
        with sphinx_compat.active():
            doc = publish_doctree(source, settings_overrides=_DOCTREE_SETTINGS)
    except (Exception, SystemExit):
        return []
    kinds = (nodes.literal_block, nodes.doctest_block, nodes.math_block, nodes.literal)
    return [str(node.astext()) for node in doc.findall(lambda node: isinstance(node, kinds))]


def leak_count(source: str, text: str, literals: list[str] | None = None) -> tuple[int, int]:
    """Markup leaks and words of ``text`` (parsed from ``source``) outside its literal
    blocks and inline literals (those holding leak syntax are cut out of ``text`` first)."""
    if LEAK.search(text) is not None:
        for literal in _literals(source) if literals is None else literals:
            if LEAK.search(literal) is not None:
                text = text.replace(literal, " ")
    return leaks(text), len(text.split())


def _paths(doc: ParsedDocument) -> list[tuple[str, ...]]:
    return [section.heading_path for section in doc.sections]


def rst_files(rst_dir: str | Path, limit: int | None = None, *, snippets: bool = False) -> list[Path]:
    """The ``*.rst`` files under ``rst_dir`` (and the ``*.txt`` ones with ``snippets``) in
    sorted order; ``limit`` spreads a sample."""
    suffixes = (".rst", ".txt") if snippets else (".rst",)
    files = sorted(p for p in Path(rst_dir).rglob("*") if p.suffix in suffixes and p.is_file())
    if limit is not None and 0 < limit < len(files):
        step = len(files) / limit
        files = [files[int(i * step)] for i in range(limit)]
    return files


def _timed(parse: Parse, texts: list[str], repeat: int = 1) -> tuple[list[ParsedDocument | None], float]:
    """Each text parsed (None when rejected) and the median total parse time of ``repeat`` runs.

    One parse of the first text before timing warms up imports and caches.
    """
    if texts:
        _parse_or_none(parse, texts[0])
    times: list[float] = []
    results: list[ParsedDocument | None] = []
    for _ in range(max(1, repeat)):
        results, total = [], 0.0
        for text in texts:
            start = time.perf_counter()
            doc = _parse_or_none(parse, text)
            total += time.perf_counter() - start
            results.append(doc)
        times.append(total)
    return results, statistics.median(times)


def _parse_or_none(parse: Parse, text: str) -> ParsedDocument | None:
    try:
        return parse(text)
    except ParseError:
        return None


def quality_gate(
    rst_dir: str | Path,
    *,
    limit: int | None = None,
    repeat: int = 3,
    worst: int = 10,
    snippets: bool = False,
) -> dict[str, Any]:
    """Compare the fast reader with the docutils engine on the ``*.rst`` files of a tree.

    Args:
        rst_dir: Directory searched recursively for ``*.rst`` files.
        limit: Compare only this many files, spread evenly over the sorted list.
        repeat: Runs of the fast reader to take the median time of (docutils runs once).
        worst: How many lowest-F1 files (and files where the fast reader leaks most
            beyond docutils) to list.
        snippets: Compare the ``*.txt`` files too (Sphinx's include snippets).

    Returns:
        The figures as a JSON-ready dict: ``files``, ``heading_agreement``,
        ``mean_f1``, per-engine ``files_per_s``, ``leaks``, ``leaks_per_1k_words`` and
        ``rejected_files``, ``speed_ratio``, ``passes``, ...
    """
    paths = rst_files(rst_dir, limit, snippets=snippets)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
    fast_docs, fast_s = _timed(get_parser("rst", rst_engine="fast"), texts, repeat)
    slow_docs, slow_s = _timed(get_parser("rst", rst_engine="docutils"), texts)
    rows: list[dict[str, Any]] = []
    names = [path.relative_to(rst_dir).as_posix() for path in paths]
    for name, text, fast, slow in zip(names, texts, fast_docs, slow_docs, strict=True):
        if slow is None:
            continue
        row: dict[str, Any] = {"file": name, "f1": 0.0, "fast_leaks": 0, "fast_words": 0}
        row.update(dict.fromkeys(("headings", "paths", "title", "links"), False))
        literals = _literals(text) if LEAK.search(slow.text) or (fast and LEAK.search(fast.text)) else []
        row["leaks"], row["words"] = leak_count(text, slow.text, literals)
        if fast is not None:
            row["f1"] = token_f1(fast.text, slow.text)
            row["headings"] = headings(fast) == headings(slow)
            row["paths"] = _paths(fast) == _paths(slow)
            row["title"] = fast.title == slow.title
            row["links"] = fast.links == slow.links
            row["fast_leaks"], row["fast_words"] = leak_count(text, fast.text, literals)
        rows.append(row)
    compared = len(rows)

    def total(key: str) -> int:
        return sum(int(row[key]) for row in rows)

    fast_leaks, slow_leaks = total("fast_leaks"), total("leaks")
    leak_ok = fast_leaks <= slow_leaks

    def share(key: str) -> float:
        return sum(1 for row in rows if row[key]) / compared if compared else 1.0

    heading_agreement = share("headings")
    mean_f1 = sum(float(row["f1"]) for row in rows) / compared if compared else 1.0
    fast_rate = len(texts) / fast_s if fast_s else 0.0
    slow_rate = len(texts) / slow_s if slow_s else 0.0
    return {
        "files": len(texts),
        "compared": compared,
        "rst_dir": str(rst_dir),
        "heading_agreement": heading_agreement,
        "mean_f1": mean_f1,
        "heading_path_agreement": share("paths"),
        "title_agreement": share("title"),
        "link_agreement": share("links"),
        "fast": _engine(fast_s, fast_rate, fast_docs, names, fast_leaks, total("fast_words")),
        "docutils": _engine(slow_s, slow_rate, slow_docs, names, slow_leaks, total("words")),
        "speed_ratio": fast_rate / slow_rate if slow_rate else 0.0,
        "targets": {"heading_agreement": HEADINGS_TARGET, "mean_f1": F1_TARGET, "leaks": "fast <= docutils"},
        "passes": bool(compared)
        and heading_agreement >= HEADINGS_TARGET
        and mean_f1 >= F1_TARGET
        and leak_ok,
        "worst": sorted(rows, key=lambda row: float(row["f1"]))[:worst],
        "leakiest": [
            row
            for row in sorted(rows, key=lambda row: int(row["leaks"]) - int(row["fast_leaks"]))[:worst]
            if row["fast_leaks"] > row["leaks"]
        ],
    }


def _engine(
    parse_s: float,
    rate: float,
    docs: list[ParsedDocument | None],
    names: list[str],
    leak_total: int,
    words: int,
) -> dict[str, Any]:
    rejected = [name for name, doc in zip(names, docs, strict=True) if doc is None]
    return {
        "parse_s": parse_s,
        "files_per_s": rate,
        "rejected": len(rejected),
        "rejected_files": rejected,
        "leaks": leak_total,
        "words": words,
        "leaks_per_1k_words": 1000 * leak_total / words if words else 0.0,
    }


def table(result: dict[str, Any]) -> str:
    """The gate's figures as a Markdown table."""
    fast, slow = result["fast"], result["docutils"]
    yes = {True: "yes", False: "NO"}
    lines = [
        f"RST quality gate: fast reader vs docutils on {result['compared']} of "
        f"{result['files']} files ({result['rst_dir']})",
        "",
        "| measure | value | target | ok |",
        "| --- | ---: | ---: | --- |",
        f"| same heading list | {result['heading_agreement']:.2%} | >= {HEADINGS_TARGET:.0%} | "
        f"{yes[result['heading_agreement'] >= HEADINGS_TARGET]} |",
        f"| mean token F1 | {result['mean_f1']:.4f} | >= {F1_TARGET} | "
        f"{yes[result['mean_f1'] >= F1_TARGET]} |",
        f"| same heading paths | {result['heading_path_agreement']:.2%} | | |",
        f"| same title | {result['title_agreement']:.2%} | | |",
        f"| same links | {result['link_agreement']:.2%} | | |",
        f"| markup leaks per 1,000 words: fast | {fast['leaks_per_1k_words']:.3f} ({fast['leaks']}) | "
        f"<= docutils | {yes[fast['leaks'] <= slow['leaks']]} |",
        f"| markup leaks per 1,000 words: docutils | {slow['leaks_per_1k_words']:.3f} "
        f"({slow['leaks']}) | | |",
        f"| fast reader files/s (1 core) | {fast['files_per_s']:,.0f} | | |",
        f"| docutils files/s (1 core) | {slow['files_per_s']:,.0f} | | |",
        f"| speed ratio | {result['speed_ratio']:.1f}x | | |",
    ]
    for engine, figures in (("docutils", slow), ("fast reader", fast)):
        names = figures["rejected_files"]
        if names:
            shown = ", ".join(names[:20]) + (f", ... ({len(names) - 20} more)" if len(names) > 20 else "")
            lines += ["", f"{engine} rejects {len(names)} file{'s' if len(names) != 1 else ''}: {shown}"]
    if result.get("leakiest"):
        lines += ["", "fast reader leaks more than docutils in:"]
        lines += [f"  {row['file']}: {row['fast_leaks']} vs {row['leaks']}" for row in result["leakiest"]]
    lines += ["", f"gate: {'PASS' if result['passes'] else 'FAIL'}"]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the gate, print the table, write JSON; 0 when the gate passes, 1 otherwise."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rst_dir", nargs="?", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--limit", type=int, default=None, help="compare this many files only")
    parser.add_argument("--repeat", type=int, default=3, help="fast reader runs (median time)")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument("--snippets", action="store_true", help="compare the *.txt files too")
    args = parser.parse_args(argv)
    if not args.rst_dir.is_dir():
        print(f"no such directory: {args.rst_dir}", file=sys.stderr)
        return 1
    result = quality_gate(args.rst_dir, limit=args.limit, repeat=args.repeat, snippets=args.snippets)
    print(table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["passes"] else 1


if __name__ == "__main__":
    sys.exit(main())
