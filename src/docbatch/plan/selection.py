"""Which files a run takes: its patterns (gitignore rules, through ``pathspec``), its
exclusions, hidden paths and depth, checked and compiled once (``selection``). The walk
(``docbatch.plan.inventory``), deletion scope and ``verify`` all decide with it.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Iterable

import pathspec

from docbatch.errors import ConfigError

DEFAULT_PATTERN = "*.md,*.rst,*.html"

NEVER_WALKED = ".git"
"""A folder never walked nor listed, even with ``include_hidden`` (see the module text)."""


def parse_patterns(pattern: str | Iterable[str]) -> tuple[str, ...]:
    """Split a comma-separated glob list into its patterns.

    >>> parse_patterns("*.md, *.rst, !drafts/**")
    ('*.md', '*.rst', '!drafts/**')

    Raises:
        ConfigError: no pattern given, only exclusions (``!...``), or a pattern that is
            absolute or climbs out with ``..``.
    """
    items = pattern.split(",") if isinstance(pattern, str) else list(pattern)
    patterns = tuple(p.strip() for p in items if p.strip())
    if not patterns:
        raise ConfigError.invalid("pattern", pattern, "one or more globs such as '*.md,*.rst'")
    for p in patterns:
        _check_glob("pattern", p.removeprefix("!"))
    if all(p.startswith("!") for p in patterns):
        raise ConfigError.invalid(
            "pattern", pattern, "at least one glob that is not an exclusion ('*.md,!drafts/**')"
        )
    return patterns


def parse_excludes(exclude: str | Iterable[str] | None) -> tuple[str, ...]:
    """The exclusion globs: a comma-separated string, or one glob per item; None for none.

    >>> parse_excludes(["drafts/**", "*.tmp.md"])
    ('drafts/**', '*.tmp.md')

    Raises:
        ConfigError: an exclusion that starts with ``!``, is absolute, or climbs out with ``..``.
    """
    if exclude is None:
        return ()
    items = exclude.split(",") if isinstance(exclude, str) else list(exclude)
    globs = tuple(g.strip() for g in items if g.strip())
    for g in globs:
        if g.startswith("!"):
            raise ConfigError.invalid("exclude", g, "a glob of files to leave out, without '!'")
        _check_glob("exclude", g)
    return globs


def _check_glob(what: str, glob: str) -> None:
    if glob.startswith("/") or ".." in glob.split("/"):
        raise ConfigError.invalid(what, glob, "a glob relative to the root (no leading '/' and no '..')")
    if not glob.startswith("#") and pathspec.GitIgnoreSpec.from_lines([glob]).patterns[0].regex is None:
        raise ConfigError.invalid(
            what, glob, "a glob gitignore rules can read (a '[' needs its ']': '[ab].md'; '\\[' is a '[')"
        )


class Selection:
    """Which paths under a root a run takes.

    ``patterns`` follow gitignore rules (compiled by ``pathspec``): ``*`` does not cross
    ``/`` and ``**`` does; a glob without ``/`` (``*.md``) matches a name at any depth,
    one with a ``/`` (``docs/*.rst``) the path from the root; a glob naming a folder
    takes the files under it; ``!glob`` leaves out what it matches, and the last glob
    that matches a path decides. ``exclude`` globs leave out what they match, whatever
    the patterns say. Hidden paths (a part starting with ``.``) are taken only with
    ``include_hidden``; with ``recursive=False``, only the root's own files.

    >>> s = Selection(("docs/*.rst", "*.md", "!drafts/**"))
    >>> [s.matches(p) for p in ("docs/a.rst", "docs/api/b.rst", "x/y/c.md", "drafts/d.md")]
    [True, False, True, False]
    """

    def __init__(
        self,
        patterns: tuple[str, ...],
        exclude: tuple[str, ...] = (),
        *,
        include_hidden: bool = False,
        recursive: bool = True,
    ) -> None:
        self.patterns = patterns
        self.exclude = exclude
        self.include_hidden = include_hidden
        self.recursive = recursive
        lines = [*patterns, *(f"!{g}" for g in exclude)]
        compiled = pathspec.GitIgnoreSpec.from_lines(lines).patterns
        self._rules: list[tuple[str, bool, re.Pattern[str]]] = []
        self._comments: list[str] = []
        for line, compiled_line in zip(lines, compiled, strict=True):
            regex = getattr(compiled_line, "regex", None)
            if compiled_line.include is not None and regex is not None:
                self._rules.append((line, compiled_line.include, regex))
            else:  # "#..." is a comment in gitignore's syntax
                self._comments.append(line)
        # consecutive globs of the same kind, as one expression each, last first: the
        # first group (from the end) that matches a path decides (gitignore's last match)
        groups: list[tuple[bool, list[re.Pattern[str]]]] = []
        for _, include, regex in self._rules:
            if groups and groups[-1][0] == include:
                groups[-1][1].append(regex)
            else:
                groups.append((include, [regex]))
        self._groups = [(include, _union(regexes)) for include, regexes in reversed(groups)]
        self._has_exclusions = any(not include for include, _ in self._groups)

    @property
    def taker(self) -> Callable[[str], object]:
        """``matches`` as a function whose result is true or false, without the call of
        ``matches`` itself when one expression decides (the walk calls it for every file)."""
        if len(self._groups) == 1 and self._groups[0][0]:
            return self._groups[0][1].match
        return self.matches

    def matches(self, rel: str) -> bool:
        """Whether the patterns and exclusions take ``rel`` (a posix path from the root)."""
        for include, regex in self._groups:
            if regex.match(rel) is not None:
                return include
        return False

    def excluded(self, rel: str) -> bool:
        """Whether ``rel``, which ``matches`` does not take, is matched by a pattern (and so
        left out by an exclusion)."""
        return self._has_exclusions and any(
            include and regex.match(rel) is not None for include, regex in self._groups
        )

    def selects(self, doc_id: str) -> bool:
        """Whether a walk would list ``doc_id`` (a stored document's id) for ingesting:
        within the depth, not hidden (unless ``include_hidden``), matched by the patterns."""
        parts = doc_id.split("/")
        if not self.recursive and len(parts) > 1:
            return False
        if NEVER_WALKED in parts[:-1]:
            return False
        if not self.include_hidden and any(p.startswith(".") for p in parts):
            return False
        return self.matches(doc_id)

    def could_hold(self, rel_dir: str) -> bool:
        """Whether a pattern could select a file inside folder ``rel_dir`` (a cautious
        answer: True unless every pattern is anchored somewhere else)."""
        dir_parts = rel_dir.split("/")
        for line, include, _ in self._rules:
            if not include:
                continue
            glob = line.rstrip("/")
            if "/" not in glob or glob.startswith("**"):
                return True  # a name at any depth
            parts = glob.split("/")
            for i, dir_part in enumerate(dir_parts):
                if i >= len(parts) or parts[i] == "**":
                    return True  # the pattern took a folder above, or any depth below
                if not fnmatch.fnmatchcase(dir_part, parts[i]):
                    break
            else:
                return True
        return False

    def unmatched(self, listed: Iterable[str], excluded: Iterable[str], where: str) -> list[str]:
        """Warnings for the patterns that select none of the ``listed`` paths and the
        exclusions that leave out none of the ``excluded`` ones."""
        listed = list(listed)
        excluded = list(excluded)
        notes = [
            f"pattern {line!r} matches nothing: a glob starting with '#' is a comment "
            f"(write '\\{line}' for a name that starts with '#')"
            for line in self._comments
        ]
        for line, include, regex in self._rules:
            paths = listed if include else excluded
            if any(regex.match(p) is not None for p in paths):
                continue
            if include:
                note = f"pattern {line!r} matches no file under {where}"
            elif line in self.patterns:
                note = f"pattern {line!r} excludes no file under {where}"
            else:
                note = f"exclude pattern {line[1:]!r} excludes no file under {where}"
            text = line.removeprefix("!")
            if not self.include_hidden and any(p.startswith(".") and p != "." for p in text.split("/")):
                note += " (hidden paths are skipped: include_hidden=True / --include-hidden takes them)"
            elif not self.recursive and "/" in text.rstrip("/"):
                note += " (recursive=False takes the root's own files only)"
            notes.append(note)
        return notes


def _union(regexes: list[re.Pattern[str]]) -> re.Pattern[str]:
    """One expression matching what any of ``regexes`` matches (their named groups, which
    only mark a folder match, made plain so that the expressions can be joined)."""
    if len(regexes) == 1:
        return regexes[0]
    plain = [re.sub(r"\(\?P<\w+>", "(?:", r.pattern) for r in regexes]
    try:
        return re.compile("|".join(f"(?:{p})" for p in plain))
    except re.error:  # pragma: no cover - pathspec's expressions always join
        return _Any(regexes)  # type: ignore[return-value]


class _Any:
    def __init__(self, regexes: list[re.Pattern[str]]) -> None:
        self.regexes = regexes

    def match(self, text: str) -> object | None:
        return next((m for r in self.regexes if (m := r.match(text)) is not None), None)


@functools.lru_cache(maxsize=32)
def selection(
    patterns: tuple[str, ...],
    exclude: tuple[str, ...] = (),
    include_hidden: bool = False,
    recursive: bool = True,
) -> Selection:
    """The (cached) ``Selection`` of these settings."""
    return Selection(patterns, exclude, include_hidden=include_hidden, recursive=recursive)
