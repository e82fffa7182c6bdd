"""Git facts about an ingested root: last commit per file, ignored files, changes since a revision.

Plain ``git`` subprocesses, no git library. Every call spawns a fixed number of
processes whatever the number of files, passes ``-z`` so names with spaces,
newlines or non-ASCII bytes survive, and has a timeout. Paths in and out are
doc ids: posix paths relative to the ingested root, which may be a subfolder of
the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

from docbatch.errors import ConfigError
from docbatch.errors import GitError as GitError  # its home is docbatch.errors

DEFAULT_TIMEOUT_S = 120.0

PROVENANCE: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "git_commit": pl.Utf8(),  # last commit that touched the file, reachable from HEAD
    "git_author": pl.Utf8(),
    "git_date": pl.Datetime("us", "UTC"),  # author date of that commit
}

CHANGES: dict[str, pl.DataType] = {
    "doc_id": pl.Utf8(),
    "change": pl.Utf8(),  # "added", "modified" or "deleted"
}

# Settings that would change what git prints; the user's other settings (excludes files...) stay.
_CONFIG = ("log.showSignature=false", "color.ui=false", "diff.relative=false", "core.quotePath=false")
# Variables that would point git at another repository or change how pathspecs are read.
_DROPPED_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_GLOB_PATHSPECS",
    "GIT_NOGLOB_PATHSPECS",
    "GIT_ICASE_PATHSPECS",
)
_HEADER = re.compile(rb"\x01([0-9a-f]{40,64})\x1f(.*)\x1f(-?[0-9]+)", re.DOTALL)
_CHANGE_NAMES = {"A": "added", "D": "deleted"}


def _environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update(GIT_LITERAL_PATHSPECS="1", GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


def _first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    return (errors or lines or ["(no message)"])[0]


def _split_z(out: bytes) -> list[str]:
    return [os.fsdecode(item) for item in out.split(b"\0") if item]


@dataclass(frozen=True)
class GitRepo:
    """A git work tree seen from an ingested root.

    Attributes:
        git: the git executable.
        top: absolute path of the work tree's top level.
        prefix: the root's posix path inside the work tree, ``""`` or ending with ``/``.
        timeout_s: the limit for each git process.
    """

    git: str
    top: str
    prefix: str
    timeout_s: float = DEFAULT_TIMEOUT_S

    @classmethod
    def discover(
        cls, root: str | os.PathLike[str], *, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> GitRepo | None:
        """The work tree holding ``root``, or None when git is missing or ``root`` is not in one.

        Raises:
            GitError: git is there but fails for another reason (e.g. an unsafe repository owner).
        """
        git = shutil.which("git")
        real = os.path.realpath(root)
        if git is None or not os.path.isdir(real):
            return None
        probe = cls(git, real, "", timeout_s)
        try:
            done = probe._run(["rev-parse", "--is-inside-work-tree", "--show-cdup"], ok=(0, 128))
        except GitError as exc:
            if isinstance(exc.__cause__, OSError):
                return None
            raise
        if done.returncode != 0:
            if b"not a git repository" in done.stderr:
                return None
            raise GitError(f"git rev-parse failed in {real}: {_first_line(done.stderr)}")
        lines = done.stdout.decode("ascii", "replace").split("\n")
        if lines[0] != "true":
            return None  # inside the .git folder or a bare repository
        top = os.path.normpath(os.path.join(real, lines[1])) if len(lines) > 1 else real
        rel = os.path.relpath(real, top)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        return cls(git, top, prefix, timeout_s)

    def provenance(self, doc_ids: Iterable[str]) -> pl.DataFrame:
        """Last commit, author and author date per doc id, in one streamed ``git log`` pass.

        Files not in HEAD (untracked, new, or outside the repository) get nulls.
        The log is read as it comes and git is stopped once every file was seen.
        """
        ids = list(dict.fromkeys(doc_ids))
        found: dict[str, tuple[str, str, int]] = {}
        if ids and self._head() is not None:
            tracked = set(_split_z(self._run(self._ls_tree()).stdout))
            wanted = {self.prefix + d for d in ids} & tracked
            found = self._last_commits(wanted)
        rows = [(d, *found.get(self.prefix + d, (None, None, None))) for d in ids]
        schema = {"doc_id": pl.Utf8(), "git_commit": pl.Utf8(), "git_author": pl.Utf8(), "ts": pl.Int64()}
        frame = pl.DataFrame(rows, schema=schema, orient="row")
        date = pl.from_epoch("ts", "s").dt.replace_time_zone("UTC").cast(PROVENANCE["git_date"])
        return frame.with_columns(git_date=date).drop("ts")

    def ignored(self, doc_ids: Iterable[str]) -> set[str]:
        """The doc ids that git ignores (.gitignore, info/exclude, core.excludesFile).

        Tracked files are never ignored. A file inside an ignored folder, or below an
        ignored symlink, is ignored too.
        """
        return self.ignored_filter()(doc_ids)

    def ignored_filter(self) -> Callable[[Iterable[str]], set[str]]:
        """``ignored`` with git asked once: the filter tells of doc ids given a part at a time."""
        args = ["ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory"]
        entries = {e.rstrip("/") for e in _split_z(self._run([*args, "--", *self._pathspec()]).stdout)}
        prefix = self.prefix

        def ignored(doc_ids: Iterable[str]) -> set[str]:
            if not entries:
                return set()
            result = set()
            for doc_id in doc_ids:
                parts = (prefix + doc_id).split("/")
                if any("/".join(parts[:i]) in entries for i in range(1, len(parts) + 1)):
                    result.add(doc_id)
            return result

        return ignored

    def changes_since(self, rev: str) -> pl.DataFrame:
        """Files under the root added, modified or deleted between ``rev`` and the work tree.

        Uncommitted edits count, untracked files that are not ignored count as added,
        and a rename shows as a deletion plus an addition.

        Raises:
            ConfigError: ``rev`` does not name a single commit.
        """
        commit = self._resolve(rev)
        diff = ["diff", "--name-status", "-z", "--no-renames", "--no-ext-diff", "--no-textconv"]
        out = self._run([*diff, "--end-of-options", commit, "--", *self._pathspec()]).stdout
        fields = out.split(b"\0")
        changes: dict[str, str] = {}
        for status, path in zip(fields[0::2], fields[1::2], strict=False):
            if path:
                changes[os.fsdecode(path)] = _CHANGE_NAMES.get(status[:1].decode("ascii"), "modified")
        others = ["ls-files", "-z", "--others", "--exclude-standard", "--", *self._pathspec()]
        for untracked in _split_z(self._run(others).stdout):
            # a file untracked since rev but still on disk shows as deleted in the diff
            changes[untracked] = "modified" if changes.get(untracked) == "deleted" else "added"
        n = len(self.prefix)
        rows = sorted((p[n:], c) for p, c in changes.items() if p.startswith(self.prefix))
        return pl.DataFrame(rows, schema=CHANGES, orient="row")

    # -- helpers ---------------------------------------------------------------------------------

    def _pathspec(self) -> list[str]:
        return [self.prefix] if self.prefix else []

    def _ls_tree(self) -> list[str]:
        return ["ls-tree", "-r", "-z", "--name-only", "--full-tree", "HEAD", "--", *self._pathspec()]

    def _head(self) -> str | None:
        done = self._run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], ok=(0, 1))
        return done.stdout.decode("ascii").strip() if done.returncode == 0 else None

    def _resolve(self, rev: str) -> str:
        if not isinstance(rev, str) or not rev.strip():
            raise ConfigError.invalid("since", rev, "a git revision such as HEAD~3, a tag or a commit id")
        args = ["rev-parse", "--verify", "--end-of-options", f"{rev}^{{commit}}"]
        done = self._run(args, ok=(0, 1, 128))
        if done.returncode != 0:
            raise ConfigError(
                f"since={rev!r} is not a commit of the git repository at {self.top}: "
                f"{_first_line(done.stderr)}"
            )
        return done.stdout.decode("ascii").strip()

    def _command(self, args: list[str]) -> list[str]:
        config = [item for setting in _CONFIG for item in ("-c", setting)]
        return [self.git, *config, *args]

    def _run(self, args: list[str], *, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[bytes]:
        try:
            done = subprocess.run(
                self._command(args),
                cwd=self.top,
                env=_environment(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise GitError(f"git {args[0]} timed out after {self.timeout_s:g} s in {self.top}") from None
        except OSError as exc:
            raise GitError(f"cannot run {self.git}: {exc}") from exc
        if done.returncode not in ok:
            raise GitError(
                f"git {args[0]} failed in {self.top} (exit {done.returncode}): {_first_line(done.stderr)}"
            )
        return done

    def _last_commits(self, wanted: set[str]) -> dict[str, tuple[str, str, int]]:
        """First hit per wanted path in ``git log`` order, reading the output as a stream."""
        found: dict[str, tuple[str, str, int]] = {}
        if not wanted:
            return found
        args = ["log", "--no-renames", "--name-only", "-z", "--format=%x01%H%x1f%an%x1f%at"]
        command = self._command([*args, "HEAD", "--", *self._pathspec()])
        timed_out = threading.Event()
        with tempfile.TemporaryFile() as stderr:
            try:
                proc = subprocess.Popen(
                    command,
                    cwd=self.top,
                    env=_environment(),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                )
            except OSError as exc:
                raise GitError(f"cannot run {self.git}: {exc}") from exc

            def expire() -> None:
                timed_out.set()
                proc.kill()

            timer = threading.Timer(self.timeout_s, expire)
            timer.start()
            complete = False
            try:
                assert proc.stdout is not None
                fd = proc.stdout.fileno()
                commit: tuple[str, str, int] | None = None
                after_header = False
                rest = b""
                while not complete and (chunk := os.read(fd, 1 << 16)):
                    *tokens, rest = (rest + chunk).split(b"\0")
                    for token in tokens:
                        header = _HEADER.fullmatch(token) if token[:1] == b"\x01" else None
                        if header is not None:
                            sha, author, ts = header.groups()
                            commit = (sha.decode("ascii"), author.decode("utf-8", "replace"), int(ts))
                            after_header = True
                            continue
                        if after_header:
                            token = token[1:]  # git puts a newline between a header and its files
                            after_header = False
                        path = os.fsdecode(token)
                        if commit is not None and path in wanted and path not in found:
                            found[path] = commit
                            if len(found) == len(wanted):
                                complete = True
                                break
            finally:
                timer.cancel()
                if proc.poll() is None:
                    proc.terminate()
                assert proc.stdout is not None
                proc.stdout.close()
                try:
                    returncode = proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    returncode = proc.wait()
            if timed_out.is_set():
                raise GitError(f"git log timed out after {self.timeout_s:g} s in {self.top}")
            if not complete and returncode != 0:
                stderr.seek(0)
                message = _first_line(stderr.read())
                raise GitError(f"git log failed in {self.top} (exit {returncode}): {message}")
        return found
