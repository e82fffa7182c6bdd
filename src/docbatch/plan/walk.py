"""The walk of a folder tree behind ``docbatch.plan.inventory``: depth first, each folder's
entries in the order of their paths, a file's row computed a part at a time (``Walk``;
the rows of a part are made a frame by ``docbatch.plan.walk_rows``)."""

from __future__ import annotations

import errno
import functools
import os
import stat as stat_module
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future
from operator import itemgetter

import polars as pl

from docbatch.formats import extension_formats
from docbatch.frames import INVENTORY
from docbatch.plan.selection import NEVER_WALKED, Selection
from docbatch.plan.walk_rows import Given, RowMaker, invalid_reason
from docbatch.work.filekinds import not_regular_reason

HIDDEN = "hidden"
SYMLINK_LOOP = "symlink loop"
OUTSIDE_ROOT = "outside root"
NOT_FOLLOWED = "not followed"

FormatMap = Mapping[str, str] | Iterable[tuple[str, str]] | None
"""The ``format_map`` setting: pairs (or a dict) of extension and format."""

ROWS_PER_PART = 16_384
"""Rows of the walk kept as Python objects before they become a part of the frame: a
tree's paths as Python strings take about 1 KB a file, its frame a tenth of that."""
PARTS_MAKING = 2
"""Parts being made on a walk's ``maker`` at most: the walk waits for the oldest beyond."""

_PLAIN_FILE, _FOLDER, _OTHER, _NOT_UTF8 = range(4)
"""What a folder's entry is to the walk: a regular file (not a symlink), a folder (not a
symlink), anything else (a symlink, a FIFO, ...: looked at by ``Walk.visit``), or a name
that is not valid UTF-8."""

Listing = list[tuple[str, int, os.DirEntry[str]]]
"""A folder's entries in the order of their paths: the key they sort by (a folder's name
with a ``/``), what they are (``_PLAIN_FILE``, ...) and the entry."""


class Walk:
    """The rows of one inventory, and the paths that exclusions left out.

    Depth first, each folder's entries in the order of their paths (a folder's as
    ``name/``), so that the rows come out sorted by doc_id and no sort of the whole tree (a
    second copy of it) is needed. A plain file costs the walk its name, its ``stat`` and
    three list appends: its path, format, status and reason are computed a part at a time
    by polars (``_flush``); the few other rows (hidden, skipped, invalid) are given whole
    (``add``). The rows are made into a frame every ``ROWS_PER_PART`` rows (a part), so
    that the walk holds the Python objects of one part at a time; each part goes to
    ``sink`` when there is one, else is kept."""

    def __init__(
        self,
        rules: Selection,
        max_file_size: int,
        real_root: str,
        format_map: FormatMap,
        sink: Callable[[pl.DataFrame], None] | None = None,
        maker: Executor | None = None,
    ) -> None:
        self.rules = rules
        self.rows = RowMaker(extension_formats(format_map), max_file_size, real_root)
        self.take = rules.taker
        self.hidden_too = rules.include_hidden
        self.max_file_size = max_file_size
        self.real_root = real_root
        self._new_rows()
        self.excluded: list[str] = []
        self._parts: list[pl.DataFrame] = []
        self._sink = sink
        self._unmatched: list[list[str]] = []  # the notes of each part
        self._maker = maker
        self._making: deque[Future[None]] = deque()

    def _new_rows(self) -> None:
        self._ids: list[str] = []
        self._sizes: list[int | None] = []
        self._mtimes: list[int | None] = []
        self._given: Given = {}
        """The path, format, status and reason of the rows not computed, by row."""

    def walk(self) -> None:
        """Walk the tree from the root (see the class)."""
        rules, take, hidden_too, part_rows = self.rules, self.take, self.hidden_too, ROWS_PER_PART
        stack: list[tuple[Listing, list[int], int | None, str, str]] = []
        try:
            stack.append((*self._listing(self.real_root, ""), self.real_root, ""))
            self._walk(stack, rules, take, hidden_too, part_rows)
        finally:
            for _, _, fd, _, _ in stack:
                if fd is not None:
                    os.close(fd)

    def _walk(
        self,
        stack: list[tuple[Listing, list[int], int | None, str, str]],
        rules: Selection,
        take: Callable[[str], object],
        hidden_too: bool,
        part_rows: int,
    ) -> None:
        while stack:
            # the lists of the part being gathered (``add`` and ``_flush`` start new ones)
            ids, sizes, mtimes = self._ids, self._sizes, self._mtimes
            items, at, _, directory, prefix = stack[-1]
            i = at[0]
            while i < len(items):
                key, kind, entry = items[i]
                i += 1
                if kind == _PLAIN_FILE:
                    rel = prefix + key
                    if not take(rel):
                        if rules.excluded(rel):
                            self.excluded.append(rel)
                        continue
                    if key[0] == "." and not hidden_too:
                        self.add(rel, _path(directory, key), self.format_of(key), "skipped", HIDDEN)
                        ids, sizes, mtimes = self._ids, self._sizes, self._mtimes
                        continue
                    try:
                        st = entry.stat()
                    except OSError as exc:
                        problem = stat_problem(exc.errno, exc.strerror or str(exc), False)
                        self.add(rel, _path(directory, key), self.format_of(key), "invalid", problem)
                        ids, sizes, mtimes = self._ids, self._sizes, self._mtimes
                        continue
                    ids.append(rel)
                    sizes.append(st.st_size)
                    mtimes.append(st.st_mtime_ns)
                    if len(ids) >= part_rows:
                        self._flush()
                        ids, sizes, mtimes = self._ids, self._sizes, self._mtimes
                    continue
                if kind == _NOT_UTF8:
                    safe = os.fsencode(prefix + entry.name).decode("utf-8", "backslashreplace")
                    self.add(safe, "", None, "invalid", "file name is not valid UTF-8")
                    into = False
                elif kind == _FOLDER:
                    into = self._into(entry, prefix + entry.name, directory)
                else:
                    into = self.visit(entry, prefix + entry.name, directory)
                ids, sizes, mtimes = self._ids, self._sizes, self._mtimes
                if into:
                    at[0] = i
                    rel, path = prefix + entry.name, _path(directory, entry.name)
                    stack.append((*self._listing(path, rel), path, rel + "/"))
                    break
            else:
                fd = stack.pop()[2]
                if fd is not None:
                    os.close(fd)

    def _listing(self, directory: str, rel_dir: str) -> tuple[Listing, list[int], int | None]:
        """The entries of ``directory`` (``rel_dir`` under the root) in the order of their
        paths, where the walk starts in it, and the folder's descriptor when the entries are
        looked at through it (to be closed by the caller); a folder that cannot be listed is
        an invalid row instead. Through the folder's descriptor, a file's ``stat`` looks up
        its name alone, not every folder of its path (a tenth of a stat walk's time)."""
        fd = None
        try:
            if _STAT_IN_FOLDER:
                fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
            with os.scandir(directory if fd is None else fd) as listing:
                entries = list(listing)
        except OSError as exc:
            if fd is not None:
                os.close(fd)
            self.add(rel_dir + "/", directory, None, "invalid", f"cannot list directory: {exc}")
            return [], [0], None
        try:
            items: Listing = [
                (entry.name, _PLAIN_FILE, entry) if entry.is_file(follow_symlinks=False) else _other(entry)
                for entry in entries
            ]
        except OSError:  # the kind of an entry unknown, and its lstat failed
            items = [_item(entry) for entry in entries]
        if not is_utf8("".join(key for key, _, _ in items)):
            items = [(key, kind if is_utf8(key) else _NOT_UTF8, entry) for key, kind, entry in items]
        items.sort(key=itemgetter(0))
        return items, [0], fd

    def frame(self) -> pl.DataFrame:
        """Every row of the walk kept, in the order they were found (its parts as chunks:
        not copied into one)."""
        self._flush()
        self._made()
        if not self._parts:
            return pl.DataFrame(schema=INVENTORY)
        return pl.concat(self._parts, rechunk=False) if len(self._parts) > 1 else self._parts[0]

    def unmatched(self, where: str) -> list[str]:
        """The warnings of ``Selection.unmatched`` for the whole walk: a pattern matches
        nothing when it matches nothing in any part; an exclusion, when it left out no
        path by the end of the walk."""
        self._flush()
        self._made()
        # each pattern's note, and those of the exclusions that left out no path of the walk
        blank = self.rules.unmatched([], self.excluded, "")
        named = dict(zip(blank, self.rules.unmatched([], self.excluded, where), strict=True))
        return [named[note] for note in blank if all(note in found for found in self._unmatched)]

    def _flush(self) -> None:
        """Make the rows gathered so far a part (on the ``maker`` when there is one, while
        the walk goes on), and start gathering the next."""
        if not self._ids:
            return
        make = functools.partial(
            self._make, functools.partial(self.rows.part, self._ids, self._sizes, self._mtimes, self._given)
        )
        self._new_rows()
        if self._maker is None:
            make()
            return
        self._making.append(self._maker.submit(make))
        while len(self._making) > PARTS_MAKING or (self._making and self._making[0].done()):
            self._making.popleft().result()  # raises what making it raised

    def _made(self) -> None:
        """Wait for every part being made."""
        while self._making:
            self._making.popleft().result()

    def _make(self, rows_part: Callable[[], pl.DataFrame]) -> None:
        """Make the part (``RowMaker.part`` of the rows gathered), note the patterns it
        matches and hand it on."""
        part = rows_part()
        # the patterns this part's rows match; the exclusions are looked at once, by ``unmatched``
        self._unmatched.append(self.rules.unmatched(part["doc_id"].to_list(), (), ""))
        if self._sink is not None:
            self._sink(part)
        else:
            self._parts.append(part)

    def _into(self, entry: os.DirEntry[str], rel: str, directory: str) -> bool:
        """Whether to walk into the folder ``entry`` (not a symlink); a hidden one the
        patterns could select from gets a row instead."""
        rules = self.rules
        if not rules.recursive or entry.name == NEVER_WALKED:
            return False
        if entry.name.startswith(".") and not rules.include_hidden:
            if rules.could_hold(rel):
                self.add(rel + "/", _path(directory, entry.name), None, "skipped", HIDDEN)
            return False
        return True

    def visit(self, entry: os.DirEntry[str], rel: str, directory: str) -> bool:
        """One entry of folder ``directory`` (a real path: folder symlinks are not followed)
        that is neither a plain file nor a plain folder; True when it is a folder to walk into."""
        rules = self.rules
        name = entry.name
        path = _path(directory, name)
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=True)
        except OSError:
            is_link, is_dir = True, False
        if is_dir:
            if not is_link:
                return self._into(entry, rel, directory)
            if not rules.recursive or name == NEVER_WALKED:
                return False
            if rules.could_hold(rel):
                reason = folder_link_reason(path, directory, self.real_root)
                self.add(rel + "/", path, None, "skipped", reason)
            return False
        if not self.take(rel):
            if rules.excluded(rel):
                self.excluded.append(rel)
            return False
        if name[0] == "." and not self.hidden_too:
            self.add(rel, path, self.format_of(name), "skipped", HIDDEN)
            return False
        self.file(rel, path, name, is_link, entry)
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
            self.add(rel, path, fmt, "invalid", stat_problem(errno.ENOENT, "", is_link))
            return
        except OSError as exc:
            self.add(rel, path, fmt, "invalid", stat_problem(exc.errno, exc.strerror or str(exc), is_link))
            return
        if not stat_module.S_ISREG(st.st_mode):
            self.add(rel, path, fmt, "skipped", not_regular_reason(st.st_mode))
            return
        reason = invalid_reason(fmt, st.st_size, self.max_file_size)
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
        """A row given whole (not computed from its doc id and size as a plain file's)."""
        self._given[len(self._ids)] = (path, fmt, status, reason)
        self._ids.append(doc_id)
        self._sizes.append(size)
        self._mtimes.append(mtime_ns)
        if len(self._ids) >= ROWS_PER_PART:
            self._flush()

    def format_of(self, name: str) -> str | None:
        """The format of a file name (``RowMaker.format_of``)."""
        return self.rows.format_of(name)


_STAT_IN_FOLDER = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd
"""Whether a folder is listed through its descriptor (``Walk._listing``)."""


def _path(directory: str, name: str) -> str:
    """The path of ``name`` in ``directory`` (a real path)."""
    return os.path.join(directory, name)


def _other(entry: os.DirEntry[str]) -> tuple[str, int, os.DirEntry[str]]:
    """The listing item of an entry that is not a plain file."""
    if entry.is_dir(follow_symlinks=False):
        return (entry.name + "/", _FOLDER, entry)
    return (entry.name + "/" if _is_folder(entry) else entry.name, _OTHER, entry)


def _item(entry: os.DirEntry[str]) -> tuple[str, int, os.DirEntry[str]]:
    """The listing item of any entry, one that cannot be looked at as ``_OTHER``."""
    try:
        return (entry.name, _PLAIN_FILE, entry) if entry.is_file(follow_symlinks=False) else _other(entry)
    except OSError:
        return (entry.name, _OTHER, entry)


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:
        return False


def folder_link_reason(link: str, parent: str, real_root: str) -> str:
    """Why the folder symlink ``link`` in real folder ``parent`` is not followed."""
    target = os.path.realpath(link)
    if not _inside(target, real_root):
        return OUTSIDE_ROOT
    if _inside(os.path.realpath(parent), target):
        return SYMLINK_LOOP
    return NOT_FOLLOWED


def folder_link_on_the_way(real_root: str, parts: list[str]) -> str | None:
    """The reason of the first folder symlink on the way to ``parts`` (None: there is none)."""
    folder = real_root
    for part in parts[:-1]:
        step = os.path.join(folder, part)
        if os.path.islink(step):
            return folder_link_reason(step, folder, real_root)
        folder = step
    return None


def stat_problem(code: int | None, text: str, is_link: bool) -> str:
    """Why a listed file cannot be looked at, naming broken symlinks as such."""
    if code == errno.ELOOP:
        return "symlink loop: too many levels of symbolic links"
    if is_link and code == errno.ENOENT:
        return "dangling symlink: its target does not exist"
    return f"cannot stat file: {text}"


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
