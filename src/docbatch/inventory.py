"""Walk a root folder and list the candidate files as an inventory frame.

The walk uses ``os.scandir`` (one ``stat`` per file, no reads), skips hidden
files and folders, and never leaves the root through a symlink. Files that can
be judged from their metadata alone (empty, too large, unsupported, unreadable
name) come back with ``status="invalid"`` and a reason instead of an exception.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat as stat_module
from pathlib import Path

import polars as pl

from docbatch.errors import ConfigError, RootError
from docbatch.formats import detect_format, supported_formats
from docbatch.frames import INVENTORY

DEFAULT_PATTERN = "*.md,*.rst,*.html"


def parse_patterns(pattern: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Split a comma-separated glob list into its patterns.

    >>> parse_patterns("*.md, *.rst")
    ('*.md', '*.rst')

    Raises:
        ConfigError: no pattern given, or a pattern that is absolute or climbs out with ``..``.
    """
    items = pattern.split(",") if isinstance(pattern, str) else list(pattern)
    patterns = tuple(p.strip() for p in items if p.strip())
    if not patterns:
        raise ConfigError.invalid("pattern", pattern, "one or more globs such as '*.md,*.rst'")
    for p in patterns:
        if p.startswith("/") or ".." in p.split("/"):
            raise ConfigError.invalid(
                "pattern", p, "a glob relative to the root (no leading '/' and no '..')"
            )
    return patterns


class _Rules:
    """Which files an inventory keeps: a glob without "/" matches the file name, one with
    "/" the path from the root (each kind compiled into one expression)."""

    def __init__(self, patterns: tuple[str, ...], max_file_size: int) -> None:
        self.max_file_size = max_file_size
        self._by_name = _compile([p for p in patterns if "/" not in p])
        self._by_path = _compile([p for p in patterns if "/" in p])

    def matches(self, name: str, rel: str) -> bool:
        return bool(
            (self._by_name is not None and self._by_name.match(name))
            or (self._by_path is not None and self._by_path.match(rel))
        )


def _compile(globs: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(fnmatch.translate(g) for g in globs)) if globs else None


def scan(
    root: str | os.PathLike[str],
    pattern: str | list[str] | tuple[str, ...] = DEFAULT_PATTERN,
    *,
    recursive: bool = True,
    max_file_size: int = 50 * 1024 * 1024,
) -> pl.DataFrame:
    """The inventory frame of ``root``: one row per file matching ``pattern``, sorted by doc_id.

    Raises:
        RootError: ``root`` does not exist, is not a folder, or cannot be listed.
        ConfigError: the pattern is not usable.
    """
    rules = _Rules(parse_patterns(pattern), max_file_size)
    root_path = Path(root)
    if not root_path.exists():
        raise RootError(f"directory not found: {root}")
    if not root_path.is_dir():
        raise RootError(f"not a directory: {root}")
    real_root = os.path.realpath(root_path)
    try:
        os.scandir(real_root).close()
    except OSError as exc:
        raise RootError(f"cannot list directory {root}: {exc.strerror or exc}") from None

    rows: dict[str, list[object]] = {name: [] for name in INVENTORY}
    stack: list[tuple[str, str]] = [(real_root, "")]
    seen_dirs = {real_root}
    while stack:
        directory, rel_dir = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            _add(rows, rel_dir + "/", directory, None, "invalid", f"cannot list directory: {exc}")
            continue
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if not _is_utf8(rel):
                safe = os.fsencode(rel).decode("utf-8", "backslashreplace")
                _add(rows, safe, "", None, "invalid", "file name is not valid UTF-8")
                continue
            _visit(entry, rel, rules, recursive, real_root, seen_dirs, stack, rows)
    frame = pl.DataFrame(rows, schema=INVENTORY)
    return frame.sort("doc_id")


def scan_listed(
    root: str | os.PathLike[str],
    doc_ids: list[str],
    pattern: str | list[str] | tuple[str, ...] = DEFAULT_PATTERN,
    *,
    recursive: bool = True,
    max_file_size: int = 50 * 1024 * 1024,
) -> pl.DataFrame:
    """The inventory frame of only the listed files of ``root`` (e.g. those git says changed),
    with the same scope, symlink and validation rules as ``scan``; nothing else is walked.
    Listed files that no longer exist are left out."""
    rules = _Rules(parse_patterns(pattern), max_file_size)
    real_root = os.path.realpath(root)
    if not os.path.isdir(real_root):
        raise RootError(f"not a directory: {root}")
    rows: dict[str, list[object]] = {name: [] for name in INVENTORY}
    for rel in sorted(set(doc_ids)):
        parts = rel.split("/")
        name = parts[-1]
        if any(p.startswith(".") for p in parts) or (not recursive and len(parts) > 1):
            continue
        if not rules.matches(name, rel):
            continue
        path = os.path.join(real_root, *parts)
        fmt = detect_format(name)
        if not _inside(os.path.realpath(path), real_root):
            _add(rows, rel, path, fmt, "invalid", "symlink points outside the root")
            continue
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            _add(rows, rel, path, fmt, "invalid", _stat_problem(exc, os.path.islink(path)))
            continue
        if stat_module.S_ISREG(st.st_mode):
            reason = _invalid_reason(fmt, st.st_size, rules.max_file_size)
            _add(rows, rel, path, fmt, "invalid" if reason else "", reason, st.st_size, st.st_mtime_ns)
    return pl.DataFrame(rows, schema=INVENTORY)


def _visit(
    entry: os.DirEntry[str],
    rel: str,
    rules: _Rules,
    recursive: bool,
    real_root: str,
    seen_dirs: set[str],
    stack: list[tuple[str, str]],
    rows: dict[str, list[object]],
) -> None:
    try:
        is_link = entry.is_symlink()
        is_dir = entry.is_dir(follow_symlinks=True)
    except OSError:
        is_link, is_dir = True, False
    if is_dir:
        if not recursive:
            return
        target = os.path.realpath(entry.path) if is_link else entry.path
        if is_link and (not _inside(target, real_root) or target in seen_dirs):
            return
        seen_dirs.add(target)
        stack.append((entry.path, rel))
        return
    if not rules.matches(entry.name, rel):
        return
    fmt = detect_format(entry.name)
    if is_link:
        target = os.path.realpath(entry.path)
        if not _inside(target, real_root):
            _add(rows, rel, entry.path, fmt, "invalid", "symlink points outside the root")
            return
    try:
        st = os.stat(entry.path) if is_link else entry.stat()
    except OSError as exc:
        _add(rows, rel, entry.path, fmt, "invalid", _stat_problem(exc, is_link))
        return
    if not stat_module.S_ISREG(st.st_mode):
        return
    reason = _invalid_reason(fmt, st.st_size, rules.max_file_size)
    _add(rows, rel, entry.path, fmt, "invalid" if reason else "", reason, st.st_size, st.st_mtime_ns)


def _stat_problem(exc: OSError, is_link: bool) -> str:
    """Why a listed file cannot be looked at, naming broken symlinks as such."""
    if exc.errno == errno.ELOOP:
        return "symlink loop: too many levels of symbolic links"
    if is_link and exc.errno == errno.ENOENT:
        return "dangling symlink: its target does not exist"
    return f"cannot stat file: {exc.strerror or exc}"


def _invalid_reason(fmt: str | None, size: int, max_file_size: int) -> str | None:
    if fmt is None:
        return f"unsupported format (supported: {', '.join(supported_formats())})"
    if size == 0:
        return "empty file"
    if size > max_file_size:
        return f"file is {size} bytes, over max_file_size={max_file_size}"
    return None


def _add(
    rows: dict[str, list[object]],
    doc_id: str,
    path: str,
    fmt: str | None,
    status: str,
    reason: str | None,
    size: int | None = None,
    mtime_ns: int | None = None,
) -> None:
    rows["doc_id"].append(doc_id)
    rows["path"].append(path)
    rows["format"].append(fmt)
    rows["size"].append(size)
    rows["mtime_ns"].append(mtime_ns)
    rows["status"].append(status)
    rows["reason"].append(reason)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
