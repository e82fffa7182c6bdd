"""Walk a root folder and list the candidate files as an inventory frame.

The walk uses ``os.scandir`` (one ``stat`` per file, no reads). Which files it takes is
a ``Selection`` (``docbatch.plan.selection``): gitignore-style patterns, exclusions,
hidden paths and depth. Every path under the root that the patterns select gets a row with a status and
a reason instead of an exception or silence:

* files judged from their metadata alone (empty, too large, unsupported, unreadable
  name) are ``status="invalid"``;
* hidden files (a name starting with ``.``) are ``status="skipped"``, reason ``hidden``,
  unless ``include_hidden``. A hidden folder is not walked: it gets one row of its own,
  ``"<folder>/"``, reason ``hidden`` (when a pattern could select a file inside it).
  ``.git`` is never walked and gets no row, even with ``include_hidden``: it is git's
  own store, not part of the tree (git never lists it either), and a row for it would
  add a skipped file to every run of a repository;
* a folder symlink is never followed: it gets one row ``"<link>/"``, ``skipped``, with
  reason ``symlink loop`` (it points at its own folder or one above), ``outside root``
  (it leads out of the root), or ``not followed`` (it points elsewhere inside the root,
  whose files are listed under their own path). A file symlink is followed when its
  target is inside the root.

A pattern that selects no file is logged as a warning naming it (and returned to the
caller, see ``scan``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from pathlib import Path

import polars as pl

from docbatch.errors import ConfigError, RootError
from docbatch.plan.selection import (
    DEFAULT_PATTERN,
    NEVER_WALKED,
    parse_excludes,
    parse_patterns,
    selection,
)
from docbatch.plan.walk import (
    HIDDEN,
    FormatMap,
    Walk,
    folder_link_on_the_way,
    folder_link_reason,
)

log = logging.getLogger("docbatch")


def scan(
    root: str | os.PathLike[str],
    pattern: str | Iterable[str] = DEFAULT_PATTERN,
    *,
    recursive: bool = True,
    max_file_size: int = 50 * 1024 * 1024,
    exclude: str | Iterable[str] | None = None,
    include_hidden: bool = False,
    unmatched: list[str] | None = None,
    format_map: FormatMap = None,
) -> pl.DataFrame:
    """The inventory frame of ``root``: one row per path the selection takes (see
    ``Selection``; hidden paths and folder symlinks as ``skipped`` rows), sorted by doc_id.
    A file's format comes from its name (``detect_format``), ``format_map`` first (the
    setting's pairs of extension and format).

    A pattern that matches no file (or an exclusion that leaves none out) is logged as a
    warning, which is also appended to ``unmatched`` when given.

    Raises:
        RootError: ``root`` does not exist, is not a folder, or cannot be listed.
        ConfigError: the pattern is not usable.
    """
    walk = walk_tree(root, pattern, recursive, max_file_size, exclude, include_hidden, format_map)
    frame = walk.frame()
    warn_unmatched(walk.unmatched(str(root)), unmatched)
    return frame if frame["doc_id"].is_sorted() else frame.sort("doc_id")  # names not UTF-8


def walk_tree(
    root: str | os.PathLike[str],
    pattern: str | Iterable[str],
    recursive: bool,
    max_file_size: int,
    exclude: str | Iterable[str] | None,
    include_hidden: bool,
    format_map: FormatMap,
    sink: Callable[[pl.DataFrame], None] | None = None,
    maker: Executor | None = None,
) -> Walk:
    """Walk ``root`` (see ``scan``): the walk's rows go to ``sink`` part by part when given
    (``docbatch.plan.inventory_parts``), else stay with the walk (``frame``); each part is
    made (and given to ``sink``) on ``maker`` when given, while the walk goes on."""
    rules = selection(parse_patterns(pattern), parse_excludes(exclude), include_hidden, recursive)
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

    walk = Walk(rules, max_file_size, real_root, format_map, sink, maker)
    walk.walk()
    return walk


def warn_unmatched(notes: list[str], unmatched: list[str] | None) -> None:
    """Log the notes of ``Walk.unmatched`` as warnings, and add them to ``unmatched``."""
    for note in notes:
        log.warning("%s", note)
    if unmatched is not None:
        unmatched.extend(notes)


def scan_listed(
    root: str | os.PathLike[str],
    doc_ids: list[str],
    pattern: str | Iterable[str] = DEFAULT_PATTERN,
    *,
    recursive: bool = True,
    max_file_size: int = 50 * 1024 * 1024,
    exclude: str | Iterable[str] | None = None,
    include_hidden: bool = False,
    format_map: FormatMap = None,
) -> pl.DataFrame:
    """The inventory frame of only the listed files of ``root`` (e.g. those git says changed),
    with the same selection, hidden, symlink and validation rules as ``scan``; nothing else
    is walked. A listed hidden file (or one in a hidden folder) is a ``skipped`` row of its
    own, as is one reached through a folder symlink. Listed files that no longer exist are
    left out; a pattern matching none of the listed files is no warning here."""
    rules = selection(parse_patterns(pattern), parse_excludes(exclude), include_hidden, recursive)
    real_root = os.path.realpath(root)
    if not os.path.isdir(real_root):
        raise RootError(f"not a directory: {root}")
    walk = Walk(rules, max_file_size, real_root, format_map)
    for rel in sorted(set(doc_ids)):
        parts = rel.split("/")
        name = parts[-1]
        if NEVER_WALKED in parts[:-1] or (not recursive and len(parts) > 1):
            continue
        if not rules.matches(rel):
            continue
        path = os.path.join(real_root, *parts)
        fmt = walk.format_of(name)
        if not os.path.lexists(path):
            continue
        link = folder_link_on_the_way(real_root, parts)
        if link is not None:
            walk.add(rel, path, fmt, "skipped", link)
            continue
        if not include_hidden and any(p.startswith(".") for p in parts):
            walk.add(rel, path, fmt, "skipped", HIDDEN)
            continue
        if os.path.islink(path) and os.path.isdir(path):
            walk.add(
                rel + "/", path, None, "skipped", folder_link_reason(path, os.path.dirname(path), real_root)
            )
            continue
        walk.file(rel, path, name, is_link=os.path.islink(path), entry=None)
    return walk.frame()


def default_source(root: Path) -> str:
    """The name a tree gets in the store when none is given: its folder's name."""
    return Path(os.path.realpath(root)).name or "root"


def check_source(source: str) -> str:
    """``source`` when it is a usable name (not empty, one line), else ``ConfigError``."""
    if not source or not source.strip() or "\n" in source:
        raise ConfigError.invalid("source", source, "a non-empty name on one line")
    return source
