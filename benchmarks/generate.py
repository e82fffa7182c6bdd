"""Large synthetic documentation trees for scale runs.

``python -m benchmarks.generate DEST --files 100000 --seed 7`` writes a tree of mixed
Markdown (40%), reStructuredText (30%), HTML (20%) and plain text (10%) with sizes drawn
from a lognormal distribution (median about 1.2 KB, a long tail up to 400 KB). Pages have
headings, lists, code blocks, tables and links. The same seed gives the same bytes.
Speed comes from building a pool of blocks per format once and assembling each page
from random picks of them, with a unique title per page.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

FORMATS = (("md", 0.4), ("rst", 0.3), ("html", 0.2), ("txt", 0.1))
BLOCKS_PER_KIND = 120
SIZE_MU, SIZE_SIGMA = 7.1, 1.1
MIN_SIZE, MAX_SIZE = 120, 400_000
FILES_PER_DIR = 100
_SYLLABLES = (
    "ka",
    "lo",
    "mi",
    "ne",
    "ru",
    "ta",
    "shi",
    "po",
    "de",
    "va",
    "zen",
    "qui",
    "bor",
    "cel",
    "dra",
    "fen",
    "gli",
    "hox",
    "jun",
    "mar",
    "ost",
    "pyr",
    "sel",
    "tum",
    "wex",
)


class _Words:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab = sorted({"".join(rng.choices(_SYLLABLES, k=rng.randint(1, 4))) for _ in range(3000)})

    def words(self, n: int) -> str:
        return " ".join(self.rng.choices(self.vocab, k=n))

    def sentence(self) -> str:
        text = self.words(self.rng.randint(5, 16))
        return text[0].upper() + text[1:] + "."

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 6)))

    def ident(self) -> str:
        return "_".join(self.rng.choices(self.vocab, k=2))


def _md_blocks(w: _Words) -> dict[str, list[str]]:
    r = w.rng
    return {
        "heading": [
            f"{'#' * r.randint(2, 3)} {w.words(r.randint(2, 5)).title()}" for _ in range(BLOCKS_PER_KIND)
        ],
        "para": [w.paragraph() for _ in range(BLOCKS_PER_KIND)],
        "list": [
            "\n".join(
                f"- {w.words(r.randint(3, 9))} [{w.words(1)}](../{w.ident()}.md)"
                for _ in range(r.randint(2, 6))
            )
            for _ in range(BLOCKS_PER_KIND)
        ],
        "code": [
            f"```python\ndef {w.ident()}(x):\n    return x + {r.randint(1, 99)}  # {w.words(3)}\n```"
            for _ in range(BLOCKS_PER_KIND)
        ],
        "table": [
            "| key | value | note |\n| --- | --- | --- |\n"
            + "\n".join(
                f"| `{w.ident()}` | {r.randint(0, 999)} | {w.words(3)} |" for _ in range(r.randint(2, 5))
            )
            for _ in range(BLOCKS_PER_KIND)
        ],
    }


def _rst_blocks(w: _Words) -> dict[str, list[str]]:
    r = w.rng

    def heading() -> str:
        title = w.words(r.randint(2, 5)).title()
        return f"{title}\n{r.choice('-~^') * len(title)}"

    return {
        "heading": [heading() for _ in range(BLOCKS_PER_KIND)],
        "para": [
            w.paragraph().replace(".", f" (see :ref:`{w.ident()}`).", 1) for _ in range(BLOCKS_PER_KIND)
        ],
        "list": [
            "\n".join(
                f"* {w.words(r.randint(3, 9))} `{w.words(1)} <https://example.org/{w.ident()}>`_"
                for _ in range(r.randint(2, 6))
            )
            for _ in range(BLOCKS_PER_KIND)
        ],
        "code": [
            f".. code-block:: python\n\n   def {w.ident()}(x):\n       return x * {r.randint(1, 99)}"
            for _ in range(BLOCKS_PER_KIND)
        ],
        "table": [
            "=========  =====  ==========\nkey        value  note\n=========  =====  ==========\n"
            + "\n".join(
                f"{w.words(1)[:9]:<9}  {r.randint(0, 999):<5}  {w.words(1)[:10]}"
                for _ in range(r.randint(2, 5))
            )
            + "\n=========  =====  =========="
            for _ in range(BLOCKS_PER_KIND)
        ],
        "note": [f".. note::\n\n   {w.paragraph()}" for _ in range(BLOCKS_PER_KIND)],
    }


def _html_blocks(w: _Words) -> dict[str, list[str]]:
    r = w.rng
    return {
        "heading": [
            f"<h{(n := r.randint(2, 3))}>{w.words(r.randint(2, 5)).title()}</h{n}>"
            for _ in range(BLOCKS_PER_KIND)
        ],
        "para": [
            f'<p>{w.paragraph()} <a href="{w.ident()}.html">{w.words(2)}</a>.</p>'
            for _ in range(BLOCKS_PER_KIND)
        ],
        "list": [
            "<ul>\n"
            + "\n".join(f"<li>{w.words(r.randint(3, 9))}</li>" for _ in range(r.randint(2, 6)))
            + "\n</ul>"
            for _ in range(BLOCKS_PER_KIND)
        ],
        "code": [
            f"<pre><code>def {w.ident()}(x):\n    return x - {r.randint(1, 99)}</code></pre>"
            for _ in range(BLOCKS_PER_KIND)
        ],
        "table": [
            "<table>\n<tr><th>key</th><th>value</th></tr>\n"
            + "\n".join(
                f"<tr><td>{w.ident()}</td><td>{r.randint(0, 999)}</td></tr>" for _ in range(r.randint(2, 5))
            )
            + "\n</table>"
            for _ in range(BLOCKS_PER_KIND)
        ],
    }


def _txt_blocks(w: _Words) -> dict[str, list[str]]:
    r = w.rng
    return {
        "heading": [
            (t := w.words(r.randint(2, 5)).upper()) + "\n" + "-" * len(t) for _ in range(BLOCKS_PER_KIND)
        ],
        "para": [w.paragraph() for _ in range(BLOCKS_PER_KIND)],
        "list": [
            "\n".join(f"  * {w.words(r.randint(3, 9))}" for _ in range(r.randint(2, 6)))
            for _ in range(BLOCKS_PER_KIND)
        ],
    }


def _page(fmt: str, title: str, body: str, w: _Words, with_front_matter: bool) -> str:
    if fmt == "md":
        head = f"---\ntitle: {title}\nweight: {len(body) % 97}\n---\n\n" if with_front_matter else ""
        return f"{head}# {title}\n\n{body}\n"
    if fmt == "rst":
        bar = "=" * len(title)
        return f".. _{w.ident()}:\n\n{bar}\n{title}\n{bar}\n\n{body}\n"
    if fmt == "html":
        return (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title>'
            '<script>var nav = 1;</script></head>\n<body><nav><a href="index.html">Home</a> | '
            f'<a href="search.html">Search</a></nav>\n<main>\n<h1>{title}</h1>\n{body}\n</main>\n'
            "<footer>Generated documentation.</footer></body></html>\n"
        )
    return f"{title}\n{'=' * len(title)}\n\n{body}\n"


def generate(dest: str | os.PathLike[str], files: int, seed: int = 0) -> dict[str, int]:
    """Write ``files`` pages under ``dest``; returns counts of files and bytes by format."""
    rng = random.Random(seed)
    words = _Words(rng)
    builders: dict[str, Callable[[_Words], dict[str, list[str]]]] = {
        "md": _md_blocks,
        "rst": _rst_blocks,
        "html": _html_blocks,
        "txt": _txt_blocks,
    }
    pools = {fmt: builder(words) for fmt, builder in builders.items()}
    kinds = {fmt: list(pool) for fmt, pool in pools.items()}
    avg = {
        fmt: sum(len(b) for bs in pool.values() for b in bs) / sum(map(len, pool.values()))
        for fmt, pool in pools.items()
    }
    names = [name for name, _ in FORMATS]
    weights = [weight for _, weight in FORMATS]
    stats = {"files": 0, "bytes": 0} | {f"{n}_files": 0 for n in names}
    root = Path(dest)
    made: set[Path] = set()
    for i in range(files):
        fmt = rng.choices(names, weights)[0]
        size = min(MAX_SIZE, max(MIN_SIZE, int(rng.lognormvariate(SIZE_MU, SIZE_SIGMA))))
        n_blocks = max(1, round(size / (avg[fmt] + 2)))
        picks = rng.choices(kinds[fmt], k=n_blocks)
        body = "\n\n".join(rng.choice(pools[fmt][kind]) for kind in picks)
        title = f"{words.words(rng.randint(2, 4)).title()} {i:06d}"
        text = _page(fmt, title, body, words, with_front_matter=rng.random() < 0.5)
        folder = root / f"sec{i // (FILES_PER_DIR * 100):03d}" / f"part{(i // FILES_PER_DIR) % 100:02d}"
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)
        data = text.encode("utf-8")
        with open(folder / f"page{i:06d}.{fmt}", "wb") as f:
            f.write(data)
        stats["files"] += 1
        stats["bytes"] += len(data)
        stats[f"{fmt}_files"] += 1
    return stats


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m benchmarks.generate DEST --files N --seed S``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    started = time.perf_counter()
    stats = generate(args.dest, args.files, args.seed)
    elapsed = time.perf_counter() - started
    print(
        f"wrote {stats['files']} files, {stats['bytes'] / 1e6:.1f} MB in {elapsed:.1f} s to {args.dest}",
        file=sys.stderr,
    )
    print(" ".join(f"{k}={v}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
