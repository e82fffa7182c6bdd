"""One ``ingest_batch`` call from start to end, once its arguments are checked.

Under the writer lock of the call's source: the source's root is claimed, the run
prepared (``run.preparation``), the documents of files gone from disk removed and the
files parsed and committed (``run.call``); then the source's record and the inventory
kept for a next call are brought up to date, and the call is closed into its result
(``run.closing``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.plan.fingerprint import parser_fingerprints
from docbatch.plan.git import GitRepo
from docbatch.result import IngestResult
from docbatch.run.call import IngestCall
from docbatch.run.closing import close_call
from docbatch.run.kept import Ledger, RunInventory, change_mark
from docbatch.run.preparation import PreparedRun, prepare
from docbatch.run.request import IngestRequest
from docbatch.run.templates import html_options
from docbatch.state.checkpoint import legacy_problems
from docbatch.state.folders import check_folder, check_state_folder
from docbatch.state.labels import LabelTable
from docbatch.state.lock import writer_lock
from docbatch.state.plan_rows import clear_plans
from docbatch.state.sources import claim_root, record_ingest
from docbatch.store.base import IndexCompactor

log = logging.getLogger("docbatch")


def ingest(
    call: IngestCall, request: IngestRequest, sinks: list[Any], *, git_service: object | None, clock0: float
) -> IngestResult:
    """Run ``request`` with ``call``'s store, settings and state folder, showing progress on
    ``sinks``; ``clock0`` is when the call began (``BatchProgress.begin_call``), and
    ``git_service`` the service's (see ``find_repo``)."""
    store, state_dir = call.backend, call.state_dir
    check_state_folder(state_dir)  # a clear message now, not a traceback mid-run
    if request.report_dir is not None:
        check_folder(Path(request.report_dir), "report folder", "--report-dir")
    source = request.source_name()
    with writer_lock(state_dir, store, source) as lock:
        previous = lock.previous
        if previous is not None:
            log.warning(
                "took over the writer lock left by a run that stopped without releasing it (pid %s on %s)",
                previous.get("pid"),
                previous.get("host"),
            )
        root = request.root
        explicit = request.source is not None
        claimed = claim_root(store, source, root, explicit=explicit, deleting=request.sync_deletions)
        run = prepare(
            store,
            call.config,
            state_dir,
            request,
            fingerprints=parser_fingerprints(call.config, call.parsers),
            repo=find_repo(git_service, root),
            kept=call.run_inventory,
            html=html_options(call.config) if "html" not in call.parsers else None,
            labels=LabelTable.load(state_dir, source) if "rst" not in call.parsers else None,
        )
        lock.note(run_id=run.run_id)
        first_part = run.next_part
        if request.progress_file is not None:
            run = replace(run, problems=[*run.problems, *legacy_problems(request.progress_file)])
        if request.sync_deletions:
            run = call.sync_deletions(run, request.allow_mass_delete)
        report_path = request.report_path(state_dir)
        output = call.execute(
            run, request.executor, request.workers, sinks, request.fallback_encoding, report_path
        )
        continued = bool(run.waiting.height) and not output.interrupted
        if run.labels is not None and not continued:
            # the run's label rows, written as parts, into the table's file once, after its
            # last call (the table is read with its parts, and merged when they are many)
            run.labels.compact()
        record_ingest(store, run.source, claimed)
        written = run.uncompacted + output.tally.passages
        if continued:
            run = replace(run, uncompacted=written)  # merged after the run's last call
        else:
            compact_index(store, written)
            run = replace(run, uncompacted=0)
        if output.tally.listing_changed:  # the next call's walk leaves a file that is gone out
            call.run_inventory.drop()
        call.run_inventory.settle(change_mark(store))
        figures: list[Ledger] = []
        result = close_call(
            run,
            output,
            progress=call.progress,
            config=call.config,
            store_location=store.location,
            state_dir=state_dir,
            report_path=report_path,
            elapsed_s=time.perf_counter() - clock0,
            keep_figures=figures.append,
        )
        if call.run_inventory.holds(run.run_id):
            keep_carried(call.run_inventory, run, first_part, figures[0] if figures else None)
        clear_plans(state_dir, run.source, keep=call.run_inventory.folders())
        return result


def keep_carried(kept: RunInventory, run: PreparedRun, first_part: int, figures: Ledger | None) -> None:
    """Keep what the run's next call carries over: this call's, with the rows of the parts
    it wrote (from ``first_part`` on; their files are the kept inventory's, unchanged, or
    the inventory is not kept), read back once here rather than all parts in every call;
    and the ``figures`` of this call's reports."""
    new = run.checkpoint.read_parts(run.checkpoint.parts_of(run.run_id, since=first_part))
    carried = run.carried
    if carried["doc_id"].is_in(new["doc_id"].implode()).any():  # files done again
        carried = carried.join(new.select("doc_id"), on="doc_id", how="anti")
    # appended, not copied: a result that makes its rows later holds the frame it was given
    rows = pl.concat([carried, new], rechunk=False)
    kept.keep_carried(run.run_id, run.checkpoint.signature(run.run_id), rows, figures)


def compact_index(store: object, written: int) -> None:
    """Let a store whose index is written in parts merge them, after the ``written`` passages
    of this call (``IndexCompactor``)."""
    if isinstance(store, IndexCompactor):
        store.compact_index(written)


def find_repo(git_service: object | None, root: Path) -> GitRepo | None:
    """The git work tree of ``root``: none when ``git_service`` is False, ``git_service``
    itself when it is one, else the work tree holding ``root`` (if git is installed)."""
    if git_service is False:
        return None
    if git_service is not None:
        return git_service  # type: ignore[return-value]
    return GitRepo.discover(root)
