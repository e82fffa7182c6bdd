"""Extraction quality: the shape of the passages docbatch cuts, per site and format.

    python -m benchmarks.extraction [TREE ...] [--sites DIR] [--json OUT]

Each tree (default: the dev corpus's three parts, when present) is parsed file by file with
docbatch's own parsers and cut into passages with the default settings, in this process
(no store). Printed per tree and format:

- ``heading-only``: passages that hold nothing but their heading (target 0);
- ``< 40 chars``: very short passages (target at most 1%);
- ``over max``: passages longer than ``max_passage_chars`` (target 0);
- the median passage length.

``--sites DIR`` adds every site of a collection built by ``python -m benchmarks.sites.build``
(its ``sites.json`` names them).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from docbatch.config import BatchConfig
from docbatch.formats import detect_format, get_parser
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
            passages = chunk(str(path), get_parser(fmt)(text), rules)
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


def trees(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The trees to measure: those given, the dev corpus's parts, and a site collection's sites."""
    found = [(Path(t).name, Path(t)) for t in args.trees]
    if not args.trees and DEV.is_dir():
        found = [(f"dev/{part.name}", part) for part in sorted(DEV.iterdir()) if part.is_dir()]
    if args.sites:
        listing = json.loads((Path(args.sites) / "sites.json").read_text())
        sites = listing["sites"] if isinstance(listing, dict) else listing
        for site in sites:
            found.append((f"{site['name']} ({site.get('generator', '?')})", Path(args.sites) / site["path"]))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("trees", nargs="*", help="folders to measure (default: the dev corpus)")
    parser.add_argument("--sites", help="a site collection folder (with sites.json)")
    parser.add_argument("--json", help="write the figures as JSON here")
    args = parser.parse_args(argv)
    rules = PassageRules.from_config(BatchConfig())
    found = trees(args)
    if not found:
        print(
            "nothing to measure: give a folder, or build the dev corpus or a site collection", file=sys.stderr
        )
        return 2
    shapes: list[Shape] = []
    print(HEADER)
    for name, tree in found:
        for shape in measure(tree, name, rules):
            shapes.append(shape)
            print(shape.row(), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(s) for s in shapes], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
