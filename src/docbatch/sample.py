"""The sample documentation tree: a small, believable doc set plus deliberately bad files.

The tree documents "lumen", a fictional static site server, in every format
docbatch reads (Markdown, reStructuredText, HTML, plain text). It also holds a
``broken/`` folder of files that must fail validation (see ``BAD_FILES``) and a
hidden ``.drafts/`` folder that an inventory should skip (see ``HIDDEN_FILES``).
A few words occur in exactly one file each (see ``KNOWN_WORDS``), so tests and
demos can check that search finds the right document.

The documents are package data: real files under ``docbatch/sample_docs/``, read
with ``importlib.resources`` (edit them there). Only the deliberately bad files of
``broken/`` are made here, since they cannot live as ordinary text files (not
UTF-8, binary, empty, too large). ``sample_files()`` is the whole tree;
``write_sample_tree()`` writes it to disk, as do ``docbatch sample DEST`` and
``python -m docbatch.sample DEST``.
"""

from __future__ import annotations

import argparse
import shutil
import struct
import sys
import zlib
from collections.abc import Sequence
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

SAMPLE_MAX_FILE_SIZE = 200_000
"""The file size limit the README demo uses; only ``broken/huge.txt`` exceeds it."""

SAMPLE_PATTERN = "*.md,*.rst,*.html,*.txt"
"""Globs matching every document format in the sample tree."""

KNOWN_WORDS: dict[str, str] = {
    "quokka": "guides/troubleshooting.md",
    "axolotl": "guides/plugins.md",
    "zephyrine": "api/cache.rst",
    "tamarind": "site/deploy.html",
    "saffron": "FAQ.txt",
}
"""Words that occur (case-insensitively) in exactly one file: word -> relative path."""

BAD_FILES: dict[str, str] = {
    "broken/empty.md": "empty",
    "broken/latin1.md": "encoding",
    "broken/image.md": "binary",
    "broken/huge.txt": "too_large",
}
"""Files that must fail validation: relative path -> the problem they have."""

HIDDEN_FILES: tuple[str, ...] = (".drafts/roadmap.md",)
"""Files inside hidden folders, which an inventory should skip."""

_PACKAGE_DIR = "sample_docs"
"""The folder of package data (inside ``docbatch``) that holds the sample's documents."""

_HUGE_FILE_SIZE = 300_000


def _latin1_markdown() -> bytes:
    """A German translation of a guide, encoded in Latin-1 (not valid UTF-8)."""
    text = """\
# Erste Schritte mit lumen

Diese Übersetzung der Anleitung »Getting started« stammt von Amélie und Jürgen.
Sie beschreibt, wie man eine Website mit lumen ausliefert.

## Größe des Caches

Der Standardwert für `max_entries` ist 2048. Für große Websites empfiehlt sich
ein höherer Wert; Dateien über 1 MiB werden nie im Speicher gehalten.

## Grüße

Vielen Dank an das Team in der Hauptstraße für die Korrekturen. Café und Kuchen
gehen auf uns!
"""
    return text.encode("latin-1")


def _png_image() -> bytes:
    """A valid 2x2 RGB PNG image.

    The image data uses a stored (uncompressed) deflate block, so the bytes do not
    depend on the zlib version.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    width, height = 2, 2
    rows = (bytes([255, 200, 0, 0, 120, 255]), bytes([0, 0, 0, 255, 255, 255]))
    raw = b"".join(b"\x00" + row for row in rows)
    stored = b"\x01" + struct.pack("<HH", len(raw), len(raw) ^ 0xFFFF) + raw
    idat = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(raw))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _huge_access_log(size: int = _HUGE_FILE_SIZE) -> str:
    """A deterministic lumen access log of at least ``size`` bytes."""
    paths = (
        "/",
        "/guides/",
        "/guides/getting-started.html",
        "/guides/configuration.html",
        "/guides/deployment.html",
        "/reference/cli.html",
        "/reference/config-file.html",
        "/api/server.html",
        "/api/routing.html",
        "/_static/site.3f9a1c.css",
        "/_static/search.js",
        "/favicon.ico",
        "/docs/old/intro.html",
    )
    lines = ["# lumen access log, web-1, 2024-06-04 (excerpt kept for size tests)"]
    total = len(lines[0]) + 1
    i = 0
    while total < size:
        seconds = i * 7
        stamp = f"2024-06-04T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
        client = f"10.0.{i * 37 % 256}.{i * 101 % 254 + 1}"
        path = paths[(i * 7 + i // 5) % len(paths)]
        if path == "/docs/old/intro.html":
            status, body = 301, 0
        elif i % 53 == 0:
            status, body = 404, 1873
        elif i % 9 == 0:
            status, body = 304, 0
        else:
            status, body = 200, 512 + i * 7919 % 40_000
        hundredths = 20 + i * 31 % 997
        duration = f"{hundredths // 100}.{hundredths % 100:02d}ms"
        line = f'{stamp} info    access {client} "GET {path} HTTP/1.1" {status} {body}B {duration}'
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def _broken_files() -> dict[str, bytes]:
    """The files in ``broken/``, each with the problem ``BAD_FILES`` names."""
    return {
        "broken/empty.md": b"",
        "broken/latin1.md": _latin1_markdown(),
        "broken/image.md": _png_image(),
        "broken/huge.txt": _huge_access_log().encode("utf-8"),
    }


def _packaged_files() -> dict[str, bytes]:
    """The documents shipped as package data: relative POSIX path -> bytes."""
    found: dict[str, bytes] = {}

    def walk(folder: Traversable, prefix: str) -> None:
        for entry in folder.iterdir():
            relpath = prefix + entry.name
            if entry.is_dir():
                walk(entry, relpath + "/")
            elif entry.is_file():
                found[relpath] = entry.read_bytes()

    root = resources.files("docbatch").joinpath(_PACKAGE_DIR)
    if not root.is_dir():
        raise FileNotFoundError(f"the sample documents are missing from the installed package ({root})")
    walk(root, "")
    return found


@cache
def _build_files() -> dict[str, bytes]:
    tree = _packaged_files()
    for path, data in _broken_files().items():
        if path in tree:
            raise ValueError(f"sample file {path!r} is both packaged and generated")
        tree[path] = data
    return dict(sorted(tree.items()))


def sample_files() -> dict[str, bytes]:
    """All files of the sample tree: the packaged documents and the generated bad files.

    Returns:
        Relative POSIX path -> file content, sorted by path. Text files are UTF-8
        with ``\\n`` line endings, except the deliberately bad ones in ``broken/``.
    """
    return dict(_build_files())


def _refuse_dangerous_delete(dest: Path) -> None:
    """Raise ValueError if deleting ``dest`` would remove a root, home or working directory."""
    target = dest.resolve()
    cwd = Path.cwd().resolve()
    protected = {cwd, *cwd.parents, Path(target.anchor)}
    try:
        protected.add(Path.home().resolve())
    except RuntimeError:
        pass
    if target in protected:
        raise ValueError(
            f"refusing to delete {dest}: it is the filesystem root, the home directory "
            "or contains the current directory; choose a dedicated directory"
        )


def write_sample_tree(dest: str | Path, *, overwrite: bool = False) -> Path:
    """Write the sample tree (``sample_files()``) into ``dest``.

    Args:
        dest: Directory to write; created if missing. It must be empty unless
            ``overwrite`` is true.
        overwrite: Delete a non-empty ``dest`` and everything in it first.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        FileExistsError: ``dest`` is not a directory, or is not empty and
            ``overwrite`` is false.
        ValueError: ``overwrite`` would delete the filesystem root, the home
            directory or a directory containing the current directory.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{dest} is not empty; use overwrite=True (--overwrite) to replace it")
        _refuse_dangerous_delete(dest)
        shutil.rmtree(dest)
    for relpath, data in sample_files().items():
        path = dest.joinpath(*relpath.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m docbatch.sample DEST [--overwrite]``.

    Returns:
        0 when the tree was written, 2 on error (with a one-line message on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m docbatch.sample",
        description="Write docbatch's sample documentation tree into DEST.",
    )
    parser.add_argument("dest", metavar="DEST", help="directory to write (created if missing)")
    parser.add_argument("--overwrite", action="store_true", help="delete DEST first if it is not empty")
    args = parser.parse_args(argv)
    try:
        written = write_sample_tree(args.dest, overwrite=args.overwrite)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(sample_files())} files to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
