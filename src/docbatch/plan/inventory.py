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

import errno
import logging
import os
import stat as stat_module
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import polars as pl

from docbatch.errors import ConfigError, RootError
from docbatch.formats import detect_format, extension_formats, supported_formats
from docbatch.frames import INVENTORY
from docbatch.plan.selection import (
    DEFAULT_PATTERN,
    NEVER_WALKED,
    Selection,
    parse_excludes,
    parse_patterns,
    selection,
)
from docbatch.work.filekinds import not_regular_reason

HIDDEN = "hidden"
SYMLINK_LOOP = "symlink loop"
OUTSIDE_ROOT = "outside root"
NOT_FOLLOWED = "not followed"

log = logging.getLogger("docbatch")

FormatMap = Mapping[str, str] | Iterable[tuple[str, str]] | None
"""The ``format_map`` setting: pairs (or a dict) of extension and format."""


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
) -> _Walk:
    """Walk ``root`` (see ``scan``): the walk's rows go to ``sink`` part by part when given
    (``docbatch.plan.inventory_parts``), else stay with the walk (``frame``)."""
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

    walk = _Walk(rules, max_file_size, real_root, format_map, sink)
    # depth first, each folder's entries in the order of their paths (a folder's as
    # "name/"), so that the rows come out sorted by doc_id and no sort of the whole tree
    # (a second copy of it) is needed
    stack = [_listing(walk, real_root, "")]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            continue
        entry, rel, directory = step
        if not _is_utf8(rel):
            safe = os.fsencode(rel).decode("utf-8", "backslashreplace")
            walk.add(safe, "", None, "invalid", "file name is not valid UTF-8")
            continue
        into = walk.visit(entry, rel, directory)
        if into:
            stack.append(_listing(walk, entry.path, rel))
    return walk


def warn_unmatched(notes: list[str], unmatched: list[str] | None) -> None:
    """Log the notes of ``_Walk.unmatched`` as warnings, and add them to ``unmatched``."""
    for note in notes:
        log.warning("%s", note)
    if unmatched is not None:
        unmatched.extend(notes)


def _listing(walk: _Walk, directory: str, rel_dir: str) -> Iterator[tuple[os.DirEntry[str], str, str]]:
    """The entries of ``directory`` (``rel_dir`` under the root) in the order of their
    paths, each with its path under the root and its folder; a folder that cannot be
    listed is an invalid row instead."""
    try:
        entries = list(os.scandir(directory))
    except OSError as exc:
        walk.add(rel_dir + "/", directory, None, "invalid", f"cannot list directory: {exc}")
        return iter(())
    prefix = rel_dir + "/" if rel_dir else ""
    keyed = [(entry.name + "/" if _is_folder(entry) else entry.name, entry) for entry in entries]
    keyed.sort(key=lambda pair: pair[0])
    return ((entry, prefix + entry.name, directory) for _, entry in keyed)


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


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
    walk = _Walk(rules, max_file_size, real_root, format_map)
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
        link = _folder_link_on_the_way(real_root, parts)
        if link is not None:
            walk.add(rel, path, fmt, "skipped", link)
            continue
        if not include_hidden and any(p.startswith(".") for p in parts):
            walk.add(rel, path, fmt, "skipped", HIDDEN)
            continue
        if os.path.islink(path) and os.path.isdir(path):
            walk.add(
                rel + "/", path, None, "skipped", _folder_link_reason(path, os.path.dirname(path), real_root)
            )
            continue
        walk.file(rel, path, name, is_link=os.path.islink(path), entry=None)
    return walk.frame()


FORMAT_ENDINGS_KEPT = 4096
"""File name endings whose format the walk keeps (names with version numbers have many)."""

ROWS_PER_PART = 8192
"""Rows of the walk kept as Python objects before they become a part of the frame: a
tree's paths as Python strings take about 1 KB a file, its frame a tenth of that."""


class _Walk:
    """The rows of one inventory, and the paths that exclusions left out.

    The rows are gathered as lists and made into a frame every ``ROWS_PER_PART`` rows (a
    part), so that the walk holds the Python objects of one part at a time; each part goes
    to ``sink`` when there is one, else is kept."""

    def __init__(
        self,
        rules: Selection,
        max_file_size: int,
        real_root: str,
        format_map: FormatMap,
        sink: Callable[[pl.DataFrame], None] | None = None,
    ) -> None:
        self.rules = rules
        self.formats = extension_formats(format_map)
        self.take = rules.taker
        self.hidden_too = rules.include_hidden
        self.max_file_size = max_file_size
        self.real_root = real_root
        self._format_of_ending: dict[str, str | None] = {}
        self._new_rows()
        self.excluded: list[str] = []
        self._parts: list[pl.DataFrame] = []
        self._sink = sink
        self._unmatched: list[list[str]] = []  # the notes of each part

    def _new_rows(self) -> None:
        self.rows: dict[str, list[object]] = {name: [] for name in INVENTORY}
        self._columns = tuple(self.rows.values())

    def frame(self) -> pl.DataFrame:
        """Every row of the walk kept, in the order they were found (its parts as chunks:
        not copied into one)."""
        self._flush()
        if not self._parts:
            return pl.DataFrame(schema=INVENTORY)
        return pl.concat(self._parts, rechunk=False) if len(self._parts) > 1 else self._parts[0]

    def unmatched(self, where: str) -> list[str]:
        """The warnings of ``Selection.unmatched`` for the whole walk: a pattern matches
        nothing when it matches nothing in any part; an exclusion, when it left out no
        path by the end of the walk."""
        self._flush()
        blank = self.rules.unmatched([], self.excluded, "")  # each rule's note, as the parts got it
        named = dict(zip(blank, self.rules.unmatched([], self.excluded, where), strict=True))
        return [named[note] for note in blank if all(note in found for found in self._unmatched)]

    def _flush(self) -> None:
        if not self.rows["doc_id"]:
            return
        part = pl.DataFrame(self.rows, schema=INVENTORY)
        self._new_rows()
        self._unmatched.append(self.rules.unmatched(part["doc_id"].to_list(), self.excluded, ""))
        if self._sink is not None:
            self._sink(part)
        else:
            self._parts.append(part)

    def visit(self, entry: os.DirEntry[str], rel: str, directory: str) -> bool:
        """One entry of folder ``directory`` (a real path: folder symlinks are not followed);
        True when it is a folder to walk into."""
        rules = self.rules
        name = entry.name
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_link, is_dir = True, False
        if is_dir:
            if not rules.recursive or name == NEVER_WALKED:
                return False
            if is_link:
                reason = _folder_link_reason(entry.path, directory, self.real_root)
            elif name.startswith(".") and not rules.include_hidden:
                reason = HIDDEN
            else:
                return True
            if rules.could_hold(rel):
                self.add(rel + "/", entry.path, None, "skipped", reason)
            return False
        if not self.take(rel):
            if rules.excluded(rel):
                self.excluded.append(rel)
            return False
        if name[0] == "." and not self.hidden_too:
            self.add(rel, entry.path, self.format_of(name), "skipped", HIDDEN)
            return False
        if is_link:
            self.file(rel, entry.path, name, is_link, entry)
            return False
        # a plain file (every file but a few): what ``file`` does, without its call
        fmt = self.format_of(name)
        try:
            st = entry.stat()
        except OSError as exc:
            self.add(
                rel, entry.path, fmt, "invalid", _stat_problem(exc.errno, exc.strerror or str(exc), False)
            )
            return False
        if stat_module.S_ISREG(st.st_mode):
            invalid = _invalid_reason(fmt, st.st_size, self.max_file_size)
            self.add(rel, entry.path, fmt, "invalid" if invalid else "", invalid, st.st_size, st.st_mtime_ns)
        else:  # a FIFO, socket or device: never opened
            self.add(rel, entry.path, fmt, "skipped", not_regular_reason(st.st_mode))
        return False

    def file(self, rel: str, path: str, name: str, is_link: bool, entry: os.DirEntry[str] | None) -> None:
        """The row of a selected file: valid (status ""), or invalid with the reason."""
        fmt = self.format_of(name)
        if is_link and not _inside(os.path.realpath(path), self.real_root):
            self.add(rel, path, fmt, "invalid", "symlink points outside the root")
            return
        try:
            st = entry.stat() if entry is not None and not is_link else os.stat(path)
        except FileNotFoundError:
            if entry is None and not is_link:
                return  # a listed file that is gone
            self.add(rel, path, fmt, "invalid", _stat_problem(errno.ENOENT, "", is_link))
            return
        except OSError as exc:
            self.add(rel, path, fmt, "invalid", _stat_problem(exc.errno, exc.strerror or str(exc), is_link))
            return
        if not stat_module.S_ISREG(st.st_mode):
            self.add(rel, path, fmt, "skipped", not_regular_reason(st.st_mode))
            return
        reason = _invalid_reason(fmt, st.st_size, self.max_file_size)
        self.add(rel, path, fmt, "invalid" if reason else "", reason, st.st_size, st.st_mtime_ns)

    def add(
        self,
        doc_id: str,
        path: str,
        fmt: str | None,
        status: str,
        reason: str | None,
        size: int | None = None,
        mtime_ns: int | None = None,
    ) -> None:
        ids, paths, formats, sizes, mtimes, statuses, reasons = self._columns
        ids.append(doc_id)
        paths.append(path)
        formats.append(fmt)
        sizes.append(size)
        mtimes.append(mtime_ns)
        statuses.append(status)
        reasons.append(reason)
        if len(ids) >= ROWS_PER_PART:
            self._flush()

    def format_of(self, name: str) -> str | None:
        """``detect_format`` of a file name, looked up once for each ending (from the first dot)."""
        ending = name[name.find(".") :] if "." in name else ""
        try:
            return self._format_of_ending[ending]
        except KeyError:
            if len(self._format_of_ending) >= FORMAT_ENDINGS_KEPT:
                self._format_of_ending.clear()
            fmt = self._format_of_ending[ending] = detect_format(name, self.formats)
            return fmt


def _folder_link_reason(link: str, parent: str, real_root: str) -> str:
    """Why the folder symlink ``link`` in real folder ``parent`` is not followed."""
    target = os.path.realpath(link)
    if not _inside(target, real_root):
        return OUTSIDE_ROOT
    if _inside(os.path.realpath(parent), target):
        return SYMLINK_LOOP
    return NOT_FOLLOWED


def _folder_link_on_the_way(real_root: str, parts: list[str]) -> str | None:
    """The reason of the first folder symlink on the way to ``parts`` (None: there is none)."""
    folder = real_root
    for part in parts[:-1]:
        step = os.path.join(folder, part)
        if os.path.islink(step):
            return _folder_link_reason(step, folder, real_root)
        folder = step
    return None


def _stat_problem(code: int | None, text: str, is_link: bool) -> str:
    """Why a listed file cannot be looked at, naming broken symlinks as such."""
    if code == errno.ELOOP:
        return "symlink loop: too many levels of symbolic links"
    if is_link and code == errno.ENOENT:
        return "dangling symlink: its target does not exist"
    return f"cannot stat file: {text}"


def _invalid_reason(fmt: str | None, size: int, max_file_size: int) -> str | None:
    if fmt is None:
        return f"unsupported format (supported: {', '.join(supported_formats())})"
    if size == 0:
        return "empty file"
    if size > max_file_size:
        return f"file is {size} bytes, over max_file_size={max_file_size}"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def default_source(root: Path) -> str:
    """The name a tree gets in the store when none is given: its folder's name."""
    return Path(os.path.realpath(root)).name or "root"


def check_source(source: str) -> str:
    """``source`` when it is a usable name (not empty, one line), else ``ConfigError``."""
    if not source or not source.strip() or "\n" in source:
        raise ConfigError.invalid("source", source, "a non-empty name on one line")
    return source
