"""Preparing one ``ingest_batch`` call: inventory (``run.walking``), plan, and the run it
continues.

The result, a ``PreparedRun``, says what to process now, what is already decided
(unchanged and invalid files, and the outcomes of earlier calls of the same run) and
what waits for the next call.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.config import BatchConfig
from docbatch.formats.html import HtmlOptions
from docbatch.frames import OUTCOMES, PLAN
from docbatch.plan import planning
from docbatch.plan.git import GitRepo
from docbatch.plan.inventory import check_source, default_source
from docbatch.plan.inventory_parts import scan_parts
from docbatch.plan.selection import parse_excludes, parse_patterns
from docbatch.run.carried import lost_problem, without_lost
from docbatch.run.kept import Ledger, RunInventory, change_mark
from docbatch.run.plan_parts import PartPlanner
from docbatch.run.request import IngestRequest
from docbatch.run.templates import source_options, with_template
from docbatch.run.walking import walk
from docbatch.state.checkpoint import Checkpoint, LoadedCheckpoint
from docbatch.state.labels import LabelTable
from docbatch.state.plan_rows import PlanRows, Rows, clear_plans, new_plan_folder
from docbatch.store.base import DocumentStore
from docbatch.work.outcomes import carried_over, planned_rows

log = logging.getLogger("docbatch")


@dataclass(frozen=True)
class PreparedRun:
    """A planned call of ``ingest_batch``: what to process, and what is already decided.

    It is not changed once made: a step that decides more (the legacy progress file's
    problems, the deletions) makes a new one (``dataclasses.replace``)."""

    root: Path
    run_id: str
    source: str
    job: dict[str, Any]
    checkpoint: Checkpoint
    resumed: bool
    next_part: int
    problems: list[dict[str, Any]]
    planned: PlanRows
    """The plan's rows, kept on disk (``state.plan_rows``)."""
    force: bool
    repo: GitRepo | None
    stored_in_scope: int
    """Stored documents of this source within the root and pattern scope."""
    carried: pl.DataFrame
    """Outcome rows of this run's earlier calls, for files unchanged since."""
    decided: Rows
    """Outcome rows decided by planning alone (unchanged and invalid files), read from the
    plan when asked."""
    todo: PlanRows
    waiting: Rows
    """Files over the call's ``limit`` (when there is one), left for the next call."""
    started_at: datetime
    recovered: int = 0
    """Files this run had stored that the store no longer holds: processed again."""
    earlier_calls: tuple[int, float, int] = (0, 0.0, 0)
    """The calls of this run before this one: how many, their seconds and files."""
    html: HtmlOptions = field(default_factory=HtmlOptions)
    """How the source's HTML pages are read: selectors and the site template."""
    labels: LabelTable | None = None
    """The source's label table (``state.labels``), when the built-in RST parsers run."""
    ledger: Ledger | None = None
    """The figures of the run's reports as its previous call left them, when this call
    continues from that call's plan (``run.kept``): its reports add its own files to them."""
    uncompacted: int = 0
    """Passages the run's calls wrote whose index parts are not merged yet: a run in several
    calls merges them once, after its last call (``run.ingest.compact_index``)."""

    def manifest(self, state: str, call: tuple[float, int] | None = None) -> dict[str, Any]:
        """The run's manifest; with ``call`` (this call's seconds and files), the run's
        totals over its calls count this one too."""
        seconds, files = call if call is not None else (0.0, 0)
        return {
            **self.job,
            "run_id": self.run_id,
            "state": state,
            "force": self.force,
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "calls": self.earlier_calls[0] + (call is not None),
            "calls_s": self.earlier_calls[1] + seconds,
            "calls_files": self.earlier_calls[2] + files,
            "uncompacted_passages": self.uncompacted,
        }


def prepare(
    store: DocumentStore,
    config: BatchConfig,
    state_dir: Path,
    request: IngestRequest,
    *,
    fingerprints: dict[str, str],
    repo: GitRepo | None = None,
    kept: RunInventory | None = None,
    html: HtmlOptions | None = None,
    labels: LabelTable | None = None,
) -> PreparedRun:
    """Inventory, plan and checkpoint read back: what one ``ingest_batch`` call will do
    (``labels``: the source's label table, which plans the documents it finds out of date).

    With ``html`` (the built-in HTML parser's options), the source's site template is found
    (``run.templates``) and named in the HTML fingerprint.

    With ``kept``, a call that continues the run whose inventory it holds reuses it (and
    its plan, while the store is unchanged), and a call that leaves files for a next one
    (over ``limit`` files to process) keeps its inventory and plan there.
    """
    cfg, root, recursive, since, limit = config, request.root, request.recursive, request.since, request.limit
    patterns = parse_patterns(request.pattern)
    excludes = parse_excludes(request.exclude)
    include_hidden, respect_gitignore = request.include_hidden, request.respect_gitignore
    source = request.source_name()
    job = {
        "root": os.path.realpath(root),
        "patterns": list(patterns),
        "recursive": recursive,
        "source": source,
        "exclude": list(excludes),
        "include_hidden": include_hidden,
    }
    checkpoint = Checkpoint(state_dir)
    key = (*job.values(), cfg.max_file_size, respect_gitignore, repo is not None, cfg.format_map)
    continued = continued_run(checkpoint, job, request.resume)
    inventory = None
    if kept is not None and since is None and continued is not None:
        inventory = kept.get(str(continued["run_id"]), key)
    inventory_kept = inventory is not None
    folder = new_plan_folder(state_dir, source)
    scope = (patterns, excludes, include_hidden)
    # a forced run stays forced for the files it has left
    force = request.force or bool(continued is not None and continued.get("force"))

    def planner(parser_prints: dict[str, str], listed: set[str] | None) -> PartPlanner:
        return PartPlanner(
            store,
            source,
            folder,
            listed=listed,
            force=force,
            scope=scope,
            recursive=recursive,
            fingerprints=parser_prints,
            labels=labels,
        )

    walked = walk(
        request,
        cfg,
        state_dir,
        folder,
        planner,
        source=source,
        scope=scope,
        fingerprints=fingerprints,
        repo=repo,
        kept=kept,
        inventory=inventory,
        html=html,
    )
    inventory, listed, html, fingerprints = walked.inventory, walked.listed, walked.html, walked.fingerprints
    checkpoint.prepare()
    known, ledger = None, None
    forced: bool | None
    if kept is not None and inventory_kept and continued is not None:
        kept_rows = kept.carried(str(continued["run_id"]), checkpoint.signature(str(continued["run_id"])))
        known, ledger = kept_rows if kept_rows is not None else (None, None)
    if known is not None and continued is not None:  # the rows its previous call left: not read again
        run_id, forced = str(continued["run_id"]), bool(continued.get("force"))
        loaded = LoadedCheckpoint(known, [], checkpoint.compact_known(run_id, known))
    else:
        run_id, loaded, forced = open_run(checkpoint, continued)
    resumed = forced is not None
    plan_key = (force, tuple(sorted(fingerprints.items())))
    reused = kept.plan(plan_key, change_mark(store)) if kept is not None and inventory_kept else None
    clear_plans(state_dir, source, keep={folder, *(kept.folders() if kept is not None else ())})
    # kept rows were carried over from the same inventory, which the run still holds
    carried = known if known is not None else carried_over(loaded.outcomes, inventory.lazy())
    lost = 0
    if reused is not None:
        planned, stored_in_scope = reused
        if ledger is not None and ledger.plan is not planned:
            ledger = None
    else:
        planned, stored_in_scope = (
            walked.planned if walked.planned is not None else planner(fingerprints, listed).plan(inventory)
        )
        if carried.height:  # planned against the store as it is now
            carried, lost = without_lost(carried, planned, force)
    done = pl.col("doc_id").is_in(carried["doc_id"].implode())
    to_parse = pl.col("status").is_in(["new", "changed"])
    statuses = planned.statuses()
    todo: PlanRows
    waiting: Rows
    if carried.height == 0 and sum(statuses.get(s, 0) for s in ("new", "changed")) == planned.height:
        # a first run parses every file: not a copy of the plan
        todo, waiting = planned.head(limit or planned.height), planned.after(limit or planned.height)
    else:
        parse = planned.lazy().filter(to_parse & ~done)
        if reused is not None and ledger is not None and ledger.after is not None:
            # the files up to the previous call's last are all done: the plan's row groups
            # before it are skipped by their statistics, and only the done files after it
            # are looked up (not a set of every done file made for each call again)
            ids = carried["doc_id"]
            later = pl.col("doc_id").is_in(ids.filter(ids > ledger.after).implode())
            parse = planned.lazy().filter(pl.col("doc_id") > ledger.after, to_parse & ~later)
        # with a limit, only the call's files are written: the others are asked of the plan
        todo = PlanRows.write(parse.head(limit) if limit else parse, folder / "todo.parquet")
        waiting = Rows(parse.slice(limit)) if limit else Rows.of(pl.DataFrame(schema=PLAN))
    decided_rows = planned_rows(planned.lazy().filter(~done), run_id, source)
    if reused is not None and ledger is not None:  # counted by the previous call: not again
        decided = Rows(decided_rows, statuses=ledger.decided)
        waiting = Rows(waiting.lazy(), height=max(0, ledger.pending - todo.height))
    else:
        decided, ledger = Rows(decided_rows), None
    if kept is not None:
        if since is None and limit and waiting.height:
            kept.keep(run_id, key, inventory, (plan_key, planned, stored_in_scope))
        else:
            kept.drop()
    return PreparedRun(
        root=root,
        run_id=run_id,
        source=source,
        job=job,
        checkpoint=checkpoint,
        resumed=resumed,
        next_part=loaded.next_part,
        problems=[
            *loaded.problems,
            *(_pattern_problem(note, root) for note in walked.unmatched),
            *([lost_problem(lost, store.location)] if lost else []),
        ],
        recovered=lost,
        earlier_calls=_earlier_calls(continued),
        uncompacted=int(continued.get("uncompacted_passages", 0)) if continued is not None else 0,
        planned=planned,
        force=force,
        repo=repo,
        stored_in_scope=stored_in_scope,
        carried=carried,
        decided=decided,
        todo=todo,
        waiting=waiting,
        started_at=datetime.now(UTC),
        html=html or HtmlOptions(),
        labels=labels,
        ledger=ledger,
    )


def preview(
    store: DocumentStore,
    config: BatchConfig,
    root: Path,
    pattern: str,
    recursive: bool,
    *,
    source: str | None,
    force: bool,
    include_hidden: bool,
    exclude: str | list[str] | tuple[str, ...] | None,
    fingerprints: dict[str, str],
    state_dir: Path | None = None,
    html: HtmlOptions | None = None,
    labels: bool = False,
) -> pl.DataFrame:
    """The plan frame of ``BatchIngestService.plan``: the tree walked and planned against
    the store, touched files read to tell a real change, nothing written (with ``html``,
    the site template is the one an ingest would use: kept in ``state_dir``, or found)."""
    patterns = parse_patterns(pattern)
    excludes = parse_excludes(exclude)
    source = check_source(source if source is not None else default_source(root))
    table = LabelTable.load(state_dir, source) if labels and state_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="docbatch-plan-") as folder:  # as an ingest plans
        inventory = scan_parts(
            root,
            Path(folder),
            patterns,
            recursive=recursive,
            max_file_size=config.max_file_size,
            exclude=excludes,
            include_hidden=include_hidden,
            format_map=config.format_map,
        )
        if html is not None and state_dir is not None:
            options = source_options(inventory.lazy(), state_dir, source, html, keep=False)
            fingerprints = with_template(fingerprints, options)
        planned, _ = PartPlanner(
            store,
            source,
            Path(folder),
            listed=None,
            force=force,
            scope=(patterns, excludes, include_hidden),
            recursive=recursive,
            fingerprints=fingerprints,
            labels=table,
        ).plan(inventory)
        frame = planned.collect()
    return planning.confirm_changes(frame)


def _earlier_calls(manifest: dict[str, Any] | None) -> tuple[int, float, int]:
    """The totals over the earlier calls of a continued run, as its manifest has them."""
    if manifest is None:
        return (0, 0.0, 0)
    return (
        int(manifest.get("calls", 0)),
        float(manifest.get("calls_s", 0.0)),
        int(manifest.get("calls_files", 0)),
    )


def continued_run(checkpoint: Checkpoint, job: dict[str, Any], resume: bool) -> dict[str, Any] | None:
    """The manifest of the unfinished run of this job, if there is one and ``resume``."""
    manifest = checkpoint.read_run()
    if not resume or manifest is None or manifest.get("state") != "running":
        return None
    # a manifest written before a setting existed holds its default
    defaults = {"exclude": [], "include_hidden": False}
    return manifest if all(manifest.get(k, defaults.get(k)) == v for k, v in job.items()) else None


def open_run(
    checkpoint: Checkpoint, manifest: dict[str, Any] | None
) -> tuple[str, LoadedCheckpoint, bool | None]:
    """The run of ``manifest`` (see ``continued_run``) to continue: its id, checkpoint and
    whether it was forced; or, without one, a new run (a fresh id, nothing loaded, None)."""
    if manifest is not None:
        run_id = str(manifest["run_id"])
        return run_id, checkpoint.load(run_id), bool(manifest.get("force"))
    checkpoint.clear_parts()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    return run_id, LoadedCheckpoint(pl.DataFrame(schema=OUTCOMES)), None


def _pattern_problem(note: str, root: Path) -> dict[str, Any]:
    """A warning about a pattern that matches no file, as a problem of the run's report."""
    return {"type": "PatternMatchesNothing", "category": "pattern", "path": str(root), "message": note}
