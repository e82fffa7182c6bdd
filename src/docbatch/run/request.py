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
