"""The label table a call's workers parse with, and, after a call's files are committed,
parsing again the reStructuredText documents whose references to other documents' section
labels the label table now resolves otherwise.

A document is parsed with the label table as it was when the call began, with the labels
of the call's own files as a scan of them found them before parsing
(``docbatch.work.label_scan``); the parsers may find some otherwise. Once every slice is
committed (and the table holds the call's labels), the stored documents whose fingerprint
is not the one the table expects (``docbatch.state.labels``; each row says how its
document was stored, so the store is not read) are parsed again with the table, in slices
committed to the store like the call's. A call stopped before or during this pass leaves
those documents with a fingerprint the next call's planning finds out of date (a resumed
run does not carry their outcome rows then), so it parses them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import polars as pl

from docbatch.frames import PLAN
from docbatch.result import RunOutput
from docbatch.run.preparation import PreparedRun
from docbatch.run.runner import RunContext, Runner
from docbatch.state.label_titles import scanned_index
from docbatch.work.label_scan import SCANNED, LabelScan, no_labels
from docbatch.work.labels import TitleIndex
from docbatch.work.worker import ParseOptions

log = logging.getLogger("docbatch")


def with_labels(run: PreparedRun, options: ParseOptions) -> ParseOptions:
    """``options`` with the label table the call's workers start with: the kept table, where
    the call's files have the labels a scan finds in them, and the removed files none. The
    scan is left to the run (``ParseOptions.label_scan``), which does it on its executor."""
    table = run.labels
    if table is None:
        return options
    removed = run.decided.filter(pl.col("status") == "deleted").select("doc_id")

    def index(parts: Iterator[pl.DataFrame]) -> TitleIndex:
        if table.rows.height == 0:  # a first run: no file loses labels, none are merged
            return scanned_index(parts, run.planned.folder if run.planned.files else None)
        found = pl.concat([pl.DataFrame(schema=SCANNED), *parts])
        # the call's files the table has a row of and the scan found no label in lose their
        # labels, as the removed files do
        scanned = run.todo.lazy().filter(pl.col("format") == "rst").select("doc_id")
        held = scanned.join(table.rows.lazy().select("doc_id"), on="doc_id", how="semi")
        emptied = held.join(found.lazy().select("doc_id"), on="doc_id", how="anti").collect()
        return table.index_with(pl.concat([found, no_labels(emptied), no_labels(removed)]))

    scan = LabelScan(run.todo, index)
    return replace(options, labels={}, title_index=None, label_scan=scan)


def out_of_date(run: PreparedRun, ctx: RunContext, output: RunOutput) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Plan rows (``changed``) of the run's stored reStructuredText documents whose fingerprint
    is not the one the label table expects, leaving out the files that failed in the call;
    and the titles (``LabelTable.title_pairs``) of the labels the run's documents refer to."""
    table = ctx.labels
    base = ctx.options.fingerprints.get("rst")
    if table is None or base is None:
        return pl.DataFrame(schema=PLAN), pl.DataFrame(schema={"label": pl.Utf8, "title": pl.Utf8})
    removed = run.decided.filter(pl.col("status") == "deleted")["doc_id"]
    if removed.len():
        table.drop(removed)
    files = run.planned.lazy().filter(
        (pl.col("format") == "rst") & pl.col("status").is_in(["new", "changed", "unchanged"])
    )
    failed = output.tally.failures.select("doc_id").lazy()
    # their ids, streamed from the plan (the plan's rows of a million files are 100 MB)
    ids = files.select("doc_id").join(failed, on="doc_id", how="anti")
    # the call's label rows, written as parts, merged first: read once each, not a part at a
    # time in each of the reads below (at a million files, 3.5 s and 45 MB more)
    table.compact()
    titles = table.title_pairs(table.named())  # once: for finding the documents, and parsing them
    stale = table.stale(ids, base, titles)
    todo = (
        files.filter(pl.col("doc_id").is_in(stale.implode()))
        .collect()
        .with_columns(
            status=pl.lit("changed"),
            reason=pl.lit("resolves its references to other documents' sections otherwise"),
            known_hash=pl.lit(None, dtype=pl.Utf8),
        )
    )
    return todo, titles


def resolve_references(run: PreparedRun, ctx: RunContext, output: RunOutput) -> RunOutput:
    """Parse again (see the module) the documents ``out_of_date`` finds, and store them. This
    is a fix-up of what the call stored: no checkpoint part, no progress, no timeline row, and
    the files keep their outcome rows (a file that fails now keeps its stored document, which
    the next call plans out of date again); returns ``output`` (interrupted if stopped)."""
    todo, titles = out_of_date(run, ctx, output)
    if todo.height == 0 or ctx.labels is None:
        return output
    log.info("parsing %d documents again with the section titles of other documents", todo.height)
    ids = todo["doc_id"].to_list()
    again = replace(
        ctx,
        options=replace(
            ctx.options, labels={}, title_index=ctx.labels.index(todo["doc_id"], titles), label_scan=None
        ),
        fix_up=True,
        sinks=[],
        provenance=run.repo.provenance(ids) if run.repo is not None else None,
        on_checkpoint=None,
        on_batch=None,
    )
    second = Runner(again).run(todo.select(list(PLAN)))
    failed = second.tally.failures
    for doc_id, message in failed.select("doc_id", "error_message").iter_rows():
        log.warning("%s could not be parsed again for its references: %s", doc_id, message)
    return replace(output, interrupted=output.interrupted or second.interrupted)
