"""``BatchIngestService``: the seed-compatible facade over inventory, planning and the runner.

>>> import tempfile, os
>>> from docbatch import BatchIngestService, sample
>>> tmp = tempfile.mkdtemp()
>>> docs = sample.write_sample_tree(os.path.join(tmp, "docs"))
>>> service = BatchIngestService(os.path.join(tmp, "docs.db"))
>>> result = service.ingest_batch(docs, pattern="*.md,*.rst,*.html,*.txt")
>>> result.failed > 0 and result.succeeded > 20
True
>>> service.search("quokka")["doc_id"][0]
'guides/troubleshooting.md'
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Unpack

import polars as pl

from docbatch.config import BatchConfig
from docbatch.config import config as default_config
from docbatch.display.progress import resolve as resolve_progress
from docbatch.export.reading import StoreReading
from docbatch.formats.base import Parser
from docbatch.metrics import BatchProgress, processing_metrics
from docbatch.plan.fingerprint import parser_fingerprints
from docbatch.plan.selection import DEFAULT_PATTERN
from docbatch.result import IngestResult
from docbatch.run.call import IngestCall
from docbatch.run.execution import ExecutorSpec, PoolKeeper
from docbatch.run.ingest import ingest
from docbatch.run.kept import RunInventory
from docbatch.run.preparation import preview
from docbatch.run.request import ARGUMENTS, IngestRequest
from docbatch.run.templates import html_options
from docbatch.state.sources import drop_source, registry, rename_source
from docbatch.state.verify import verify_source
from docbatch.store import DocumentStore, open_store
from docbatch.store.location import state_dir_for
from docbatch.store.query import SearchOptions


class BatchIngestService(StoreReading):
    """Ingest documentation trees into a searchable store, resumably.

    Args:
        backend: a store object, or a path/URL naming one (default ``./docbatch.db``).
        git_service: git provenance: None (default) finds the git work tree holding each
            ingested root, when git is installed; False turns git off; or a ``GitRepo``.
            Inside a work tree, ``.gitignore``d files are skipped and every document records
            the last commit, author and date that touched it.
        ingest_service: parsers by format name (``{"markdown": func}``) replacing the
            built-in ones; None uses the built-in parsers.
        config: the settings (default: the module-level ``docbatch.config``).
        state_dir: where checkpoints and reports go (default ``docbatch.state_dir_for``:
            next to a SQLite store, ``<store name>.state``; else ``./docbatch.state``).
        sleep: the function used to wait between retries (tests pass a no-op).
    """

    def __init__(
        self,
        backend: DocumentStore | str | os.PathLike[str] | None = None,
        git_service: object | None = None,
        ingest_service: Mapping[str, Parser] | None = None,
        config: BatchConfig | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.backend = open_store(backend)
        self.git_service = git_service
        self.respect_gitignore = True
        """Skip files git ignores (when the root is inside a git work tree)."""
        self.parsers: dict[str, Parser] = dict(ingest_service or {})
        self.config = config if config is not None else default_config
        self.state_dir = Path(state_dir) if state_dir is not None else state_dir_for(self.backend)
        self.sleep = sleep
        self.progress = BatchProgress()
        """The live counters of the current (or last) run; the same object across runs."""
        self._pools = PoolKeeper()
        """Worker processes kept while files are left for a next call (``limit``)."""
        self._run_inventory = RunInventory()
        """The inventory of a run left unfinished for a next call, which reuses it."""
        self.stop_signal: int | None = None
        """The signal (SIGINT, SIGTERM, SIGHUP) that stopped the last call early, if one did."""

    # ingest --------------------------------------------------------------------------------
    def ingest_batch(
        self,
        directory: str | os.PathLike[str],
        pattern: str = DEFAULT_PATTERN,
        recursive: bool = True,
        force: bool = False,
        resume: bool = True,
        *,
        source: str | None = None,
        executor: ExecutorSpec = None,
        workers: int | None = None,
        progress: object = None,
        fallback_encoding: str | None = None,
        report_dir: str | os.PathLike[str] | None = None,
        progress_file: str | os.PathLike[str] | None = None,
        sync_deletions: bool = False,
        allow_mass_delete: bool = False,
        since: str | None = None,
        limit: int | None = None,
        include_hidden: bool = False,
        exclude: str | list[str] | tuple[str, ...] | None = None,
    ) -> IngestResult:
        """Ingest the files of ``directory`` that match ``pattern`` (comma-separated globs).

        One call ingests the whole tree. Unchanged files are skipped (unless ``force``);
        with ``resume`` an unfinished run of the same tree continues where it stopped. The
        files are processed in batches of ``config.max_batch_size`` (0: one batch): at the
        end of each the reports are refreshed, and the timeline's ``batch`` column says
        which commits it made. One bad file never stops the run: it becomes a failed
        outcome row. (Its arguments' documentation: ``docbatch.run.request.ARGUMENTS``.)
        """
        clock0 = self.progress.begin_call()  # the call's clock: its files/s counts from here
        request = IngestRequest(
            directory, pattern, recursive, force, resume, source=source, executor=executor, workers=workers,
            fallback_encoding=fallback_encoding, report_dir=report_dir, progress_file=progress_file,
            sync_deletions=sync_deletions, allow_mass_delete=allow_mass_delete, since=since, limit=limit,
            include_hidden=include_hidden, exclude=exclude, respect_gitignore=self.respect_gitignore,
        )  # fmt: skip
        sinks = resolve_progress(progress, memory_threshold_mb=self.config.memory_threshold_mb)
        call = IngestCall(
            self.backend, self.config, self.state_dir, self.parsers, self.sleep, self.progress, self._pools,
            self._run_inventory, self.stop_signal,  # stop_signal: kept if the call fails before parsing
        )  # fmt: skip
        try:
            return ingest(call, request, sinks, git_service=self.git_service, clock0=clock0)
        finally:
            self.stop_signal = call.stop_signal

    # planning ------------------------------------------------------------------------------
    def plan(
        self,
        directory: str | os.PathLike[str],
        pattern: str = DEFAULT_PATTERN,
        recursive: bool = True,
        *,
        source: str | None = None,
        force: bool = False,
        include_hidden: bool = False,
        exclude: str | list[str] | tuple[str, ...] | None = None,
    ) -> pl.DataFrame:
        """What ``ingest_batch`` would do with every file, without touching the store.

        Returns the plan frame (``docbatch.frames.PLAN``): each file's ``status`` — new,
        changed, unchanged, deleted (stored under this root and pattern scope but gone from
        disk), invalid or skipped (hidden, or a folder symlink) — and the reason. Size and
        mtime are compared first; only files where they differ are read, to tell a real
        change from a touched file. ``include_hidden`` and ``exclude`` are
        ``ingest_batch``'s; a pattern that matches no file is logged as a warning.
        """
        fingerprints = parser_fingerprints(self.config, self.parsers)
        return preview(
            self.backend, self.config, Path(directory), pattern, recursive, source=source, force=force,
            include_hidden=include_hidden, exclude=exclude, fingerprints=fingerprints,
            state_dir=self.state_dir, html=html_options(self.config) if "html" not in self.parsers else None,
            labels="rst" not in self.parsers,
        )  # fmt: skip

    def verify(
        self,
        directory: str | os.PathLike[str] | None = None,
        pattern: str | None = None,
        recursive: bool | None = None,
        *,
        source: str | None = None,
        repair: bool = False,
        include_hidden: bool | None = None,
        exclude: str | list[str] | tuple[str, ...] | None = None,
        allow_mass_delete: bool = False,
        deep: bool = False,
    ) -> pl.DataFrame:
        """Compare the store with the disk and the last run's ledger: one row per problem
        (``docbatch.frames.PROBLEMS``). Without arguments the last run's root, pattern,
        source, ``include_hidden`` and ``exclude`` are used.

        It finds documents ``missing`` from the store and ``extra`` in it from a stat walk
        and one pass over the store's document table. ``deep`` also reads and hashes every
        file (``stale``: stored content that is not the file's, while size and mtime agree)
        and checks the store's own bookkeeping (passages and full-text index): minutes
        instead of seconds at a million files. A repair always makes the deep check.

        With ``repair`` the store's bookkeeping is mended, extra and damaged documents are
        removed and a new ingest puts back every missing, stale or damaged one (a second
        ``verify()`` comes back empty). A repair deletes no more than
        ``ingest_batch(sync_deletions=True)`` would: refused (``ConfigError``) from a folder
        that is not the source's unless ``source`` is given, and (``MassDeleteError``) over
        ``config.max_delete_share`` unless ``allow_mass_delete``. During another run of the
        source it raises ``StoreLockedError`` naming that run.
        """
        return verify_source(
            self.backend, self.config, self.state_dir, directory=directory, pattern=pattern,
            recursive=recursive, source=source, repair=repair, include_hidden=include_hidden,
            exclude=exclude, allow_mass_delete=allow_mass_delete, reingest=self.ingest_batch, deep=deep,
        )  # fmt: skip

    # sources -------------------------------------------------------------------------------
    def sources(self) -> pl.DataFrame:
        """The store's sources (``docbatch.store.base.SOURCES``): name, the root folder it
        was ingested from (null when not recorded), documents, last ingest."""
        return registry(self.backend).sources()

    def rename_source(self, old: str, new: str) -> int:
        """Give source ``old`` the name ``new`` (documents, passages and root record, in one
        transaction); returns how many documents it holds. The state folder's last run
        follows it. Raises ``ConfigError`` when ``old`` is not a source or ``new`` is one."""
        return rename_source(self.backend, self.state_dir, old, new)

    def drop_source(self, name: str) -> int:
        """Remove source ``name`` from the store: its documents and passages (one
        transaction); returns how many documents it held. Other sources are untouched."""
        return drop_source(self.backend, self.state_dir, name)

    # queries -------------------------------------------------------------------------------
    def search(
        self, query: str, *, limit: int = 10, source: str | None = None, **options: Unpack[SearchOptions]
    ) -> pl.DataFrame:
        """Ranked hits for ``query`` as a ``SEARCH_HITS`` frame; ``options`` as ``SearchOptions``
        (``group_by_document``, ``markers``, filters as ``format="rst"``). ``QueryError`` for a bad one."""
        return self.backend.search(query, limit=limit, source=source, **options)

    def get_processing_metrics(self, progress: BatchProgress | IngestResult | None = None) -> dict[str, Any]:
        """Rate, memory, percent done, ETA and success rate of a progress object or a result.

        ``files_per_second`` is the one rate every display shows
        (``docbatch.metrics.files_per_second``); ``estimated_time_remaining`` is 0 only when
        no file is left pending.
        """
        if isinstance(progress, IngestResult):
            return progress.processing_metrics()
        return processing_metrics(progress or self.progress)

    def close(self) -> None:
        """Stop worker processes kept for a next batch, and close the store."""
        self._pools.close()
        self._run_inventory.drop()
        self.backend.close()

    def __enter__(self) -> BatchIngestService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


BatchIngestService.ingest_batch.__doc__ = f"{BatchIngestService.ingest_batch.__doc__}\n{ARGUMENTS}"
