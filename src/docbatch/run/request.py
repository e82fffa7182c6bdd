"""What one ``ingest_batch`` call asks for: its arguments, checked, in one frozen object."""

from __future__ import annotations

import os
from dataclasses import KW_ONLY, dataclass
from pathlib import Path

from docbatch.errors import ConfigError, check_root
from docbatch.plan.inventory import check_source, default_source
from docbatch.plan.selection import DEFAULT_PATTERN
from docbatch.run.execution import ExecutorSpec, check_executor
from docbatch.work.decoding import check_codec

ARGUMENTS = """\
        Args:
            source: the name of this tree in the store (default: the folder's name).
            executor: "auto" (default: a process pool for 200 files or more, else this
                process), "serial", "process" (a local pool of ``workers`` processes, default
                one per CPU) or any ``concurrent.futures.Executor``.
            progress: None/"none" (silent); "auto" (the widget dashboard in Jupyter, tqdm's
                text bar in a kernel without ipywidgets and on a terminal, log lines when
                stderr is not a terminal); "tqdm" (or "terminal"), "log", "widget"; a sink
                object with ``start``/``update``/``stop``; or a list of these. Every display
                shows the same files/s (``docbatch.metrics.files_per_second``).
            fallback_encoding: decode files that are not UTF-8 with this codec (reported
                per file) instead of rejecting them.
            report_dir: a folder that also gets a copy of the reports (they are always
                written to the state folder, where ``verify`` and ``load_run`` read them).
            progress_file: a legacy JSON list of completed paths; it is read (recovering
                what it can), and listed files the store does not hold are processed.
            sync_deletions: remove from the store the documents of this source whose file
                is gone — only within this root and pattern scope — listed in the outcomes
                with status "deleted".
            allow_mass_delete: let ``sync_deletions`` remove more than
                ``config.max_delete_share`` of the source's stored documents.
            since: a git revision: plan from ``git diff --name-status REV`` (the work tree's
                changes since it, renames as delete + add) instead of walking the tree.
            limit: process at most this many files in this call (None: all); the others
                are ``pending`` rows (``result.pending``), and the next call (or the same
                command) continues the run.
            include_hidden: ingest hidden files and folders (a name starting with ``.``)
                too; by default each is a ``skipped`` row with reason ``hidden`` (a hidden
                folder one row, ``"<folder>/"``, and is not walked; ``.git`` never is).
            exclude: globs of files to leave out (a list, or one comma-separated string),
                whatever ``pattern`` says. Patterns follow gitignore rules: ``*`` does not
                cross ``/``, ``**`` does, a glob without ``/`` matches a name at any depth,
                ``!glob`` leaves out; a pattern that matches no file is a warning (logged,
                and in ``result.checkpoint_problems`` and the error report).

        Raises:
            RootError: ``directory`` is missing or unreadable.
            ConfigError: a bad pattern, source, executor or progress value.
            MassDeleteError: ``sync_deletions`` would remove too much; nothing was deleted.
            StoreError: the store cannot be read or written.
"""
"""The documentation of ``ingest_batch``'s arguments and errors, kept next to their checks (the
service appends it to the method's docstring, where ``help()`` shows it)."""


@dataclass(frozen=True)
class IngestRequest:
    """The arguments of one ``BatchIngestService.ingest_batch`` call, positional and keyword
    as there (its docstring says what each means), and the service's ``respect_gitignore``.

    Making one checks the arguments that need no state folder (the root, the executor, the
    limit, the fallback codec): a bad one raises before anything is created for the run.
    """

    directory: str | os.PathLike[str]
    pattern: str = DEFAULT_PATTERN
    recursive: bool = True
    force: bool = False
    resume: bool = True
    _: KW_ONLY
    source: str | None = None
    executor: ExecutorSpec = None
    workers: int | None = None
    fallback_encoding: str | None = None
    report_dir: str | os.PathLike[str] | None = None
    progress_file: str | os.PathLike[str] | None = None
    sync_deletions: bool = False
    allow_mass_delete: bool = False
    since: str | None = None
    limit: int | None = None
    include_hidden: bool = False
    exclude: str | list[str] | tuple[str, ...] | None = None
    respect_gitignore: bool = True

    def __post_init__(self) -> None:
        check_root(self.directory)  # before the writer lock makes the state folder
        check_executor(self.executor)
        limit = self.limit
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ConfigError.invalid("limit", limit, "a whole number >= 1, or None for no limit")
        if self.fallback_encoding is not None:
            check_codec(self.fallback_encoding)

    @property
    def root(self) -> Path:
        return Path(self.directory)

    def source_name(self) -> str:
        """The source the call writes (the folder's name unless ``source`` is given), checked."""
        return check_source(self.source if self.source is not None else default_source(self.root))

    def report_path(self, state_dir: Path) -> Path:
        """Where the reports are written: ``report_dir``, else the state folder."""
        return Path(self.report_dir) if self.report_dir is not None else state_dir
