"""The corpus under test: finding it, listing its files, copying and touching it.

Only the standard library is used here, so child processes can import it cheaply.
"""

from __future__ import annotations

import fnmatch
import os
import random
import re
import shutil
from pathlib import Path

DEV_PATTERN = "*.md,*.rst,*.txt,*.html,*.html.en,*.html.en.utf8"
TOUCH_LINE = b"\nA line appended by the docbatch benchmark.\n"


def default_corpus() -> Path | None:
    """The shared dev corpus next to the repository, when it is there."""
    dev = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "dev"
    return dev if dev.is_dir() else None


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """One compiled regex matching a file name against comma-separated globs."""
    globs = [p.strip() for p in pattern.split(",") if p.strip()]
    return re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))


def list_files(root: str | os.PathLike[str], pattern: str = DEV_PATTERN) -> list[tuple[str, str]]:
    """``(relative path, absolute path)`` of every non-hidden matching file, sorted.

    Mirrors what docbatch ingests: hidden files and folders are skipped, names are
    matched against the globs, symlinks are not followed out of the tree.
    """
    rx = pattern_regex(pattern)
    found: list[tuple[str, str]] = []
    stack = [(os.fspath(root), "")]
    while stack:
        directory, rel_dir = stack.pop()
        with os.scandir(directory) as it:
            for entry in it:
                if entry.name.startswith("."):
                    continue
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, rel))
                elif entry.is_file(follow_symlinks=False) and rx.match(entry.name):
                    found.append((rel, entry.path))
    found.sort()
    return found


def corpus_size(root: str | os.PathLike[str], pattern: str = DEV_PATTERN) -> tuple[int, int]:
    """Number of matching files and their total bytes."""
    files = list_files(root, pattern)
    return len(files), sum(os.path.getsize(p) for _, p in files)


def copy_tree(src: str | os.PathLike[str], dest: str | os.PathLike[str]) -> Path:
    """Copy a tree keeping modification times (so docbatch sees the same files)."""
    shutil.copytree(src, dest, copy_function=shutil.copy2, symlinks=True)
    return Path(dest)


def scaled_copy(src: str | os.PathLike[str], dest: str | os.PathLike[str], times: int) -> Path:
    """``dest`` holding ``times`` copies of ``src`` as ``copy00``, ``copy01``, ..."""
    dest_path = Path(dest)
    dest_path.mkdir(parents=True, exist_ok=True)
    for i in range(times):
        copy_tree(src, dest_path / f"copy{i:02d}")
    return dest_path


def choose_touched(root: str | os.PathLike[str], pattern: str, fraction: float, seed: int) -> list[str]:
    """The relative paths of ``fraction`` of the matching files, chosen with ``seed``."""
    rels = [rel for rel, _ in list_files(root, pattern)]
    k = max(1, round(fraction * len(rels)))
    return sorted(random.Random(seed).sample(rels, k))


def touch(root: str | os.PathLike[str], rels: list[str]) -> None:
    """Append one line to each of ``rels`` under ``root``."""
    for rel in rels:
        with open(Path(root) / rel, "ab") as f:
            f.write(TOUCH_LINE)


def copy_subset(root: str | os.PathLike[str], rels: list[str], dest: str | os.PathLike[str]) -> Path:
    """A tree at ``dest`` with only ``rels`` copied from ``root`` (same relative paths)."""
    dest_path = Path(dest)
    for rel in rels:
        target = dest_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(Path(root) / rel, target)
    return dest_path
