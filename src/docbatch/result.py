"""The result of ``ingest_batch``: counts, rates, errors and the frames behind them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.errors import IngestFailures as IngestFailures  # its home is docbatch.errors
from docbatch.frames import OUTCOMES, TIMELINE, count_statuses
from docbatch.metrics import estimate_remaining_s, files_per_second, format_rate
from docbatch.state.outcomes_file import OutcomesFile, OutcomesQuery
from docbatch.state.reports import error_records

FINAL = ("succeeded", "failed", "skipped")
"""The statuses a file of a run ends with (``pending`` is not final, ``deleted`` is no file)."""


class OutcomeCounts:
    """Counts over an ``outcomes`` frame, shared by live results and runs read from disk.

    They are taken from ``status_counts`` and ``failed_rows``, which read ``outcomes``;
    ``IngestResult`` keeps both from when its call closed, so that counting never loads a
    large run's rows."""

    outcomes: pl.DataFrame

    def status_counts(self) -> dict[str, int]:
        """The number of rows of each status."""
        return count_statuses(self.outcomes["status"])

    def failed_rows(self) -> pl.DataFrame:
        """The rows of the files that failed."""
        return self.outcomes.filter(pl.col("status") == "failed")

    def _count(self, status: str) -> int:
        return int(self.status_counts().get(status, 0))

    @property
    def total_files(self) -> int:
        """Files of the run (documents deleted because their file is gone are not counted)."""
        return sum(self.status_counts().values()) - self.deleted

    @property
    def succeeded(self) -> int:
        return self._count("succeeded")

    @property
    def failed(self) -> int:
        return self._count("failed")

    @property
    def skipped(self) -> int:
        return self._count("skipped")

    @property
    def pending(self) -> int:
        """Files left for the next call (over ``max_batch_size`` or after an interruption)."""
        return self._count("pending")

    @property
    def deleted(self) -> int:
        """Stored documents removed because their file is gone (``sync_deletions``)."""
        return self._count("deleted")

    @property
    def checked_only(self) -> bool:
        """No file of the run needed parsing (every one unchanged, or skipped): its files/s
        counts files checked, not files ingested."""
        return self.succeeded == 0 and self.failed == 0 and self.total_files > self.pending

    def error_summary(self) -> dict[str, int]:
        """Failed files counted by error category."""
        counts = self.failed_rows().group_by("error_category").len().sort("error_category")
        return dict(zip(counts["error_category"], counts["len"], strict=True))


@dataclass
class IngestResult(OutcomeCounts):
    """What one ``ingest_batch`` call did.

    ``outcomes`` has one row per file of the run (``docbatch.frames.OUTCOMES``);
    ``timeline`` one row per store commit (``docbatch.frames.TIMELINE``).

    Three words, as the column names use them (the names are the seed's):

    * a *slice* is ``chunk_processing_size`` files (``BATCH_CHUNK_SIZE``, ``--chunk-size``)
      parsed together by one worker; "chunk" in those names means this group of files;
    * a *commit* writes one slice, or several slices whose results came back together, to
      the store in one transaction. The ``commit`` column of both frames is the number of
      the commit within its call (0, 1, ...; each call of a run starts again at 0; null
      for a file decided without parsing), and ``commit_files`` its files;
    * a *passage* is a piece of a document's text as stored and searched. ``n_passages``
      in ``outcomes`` is the file's number of passages, as in the store.
    """

    run_id: str
    source: str
    root: str
    store: str
    state_dir: str
    outcomes_file: OutcomesFile | OutcomesQuery
    """The call's ``outcomes.parquet``, which ``outcomes`` reads on first use (or, for a
    call that leaves files for the next call of its run, the query of its rows)."""
    counts: dict[str, int]
    """Rows by status (what ``succeeded``, ``failed``, ... count)."""
    failures: pl.DataFrame
    """The rows of the files that failed (``errors``, ``error_summary``)."""
    timeline: pl.DataFrame
    elapsed_s: float
    peak_memory_mb: float
    bytes_processed: int = 0
    interrupted: bool = False
    reports: dict[str, str] = field(default_factory=dict)
    checkpoint_problems: list[dict[str, Any]] = field(default_factory=list)
    plan_counts: dict[str, int] = field(default_factory=dict)
    handled_files: int | None = None
    """Files of the run that got a final status in this call (None: every file not pending)."""
    run_calls: int = 1
    """Calls the run has taken so far, this one included (more than one after a ``limit``
    or an interruption)."""
    run_elapsed_s: float = 0.0
    """Seconds of all those calls."""
    run_files: int = 0
    """Files all those calls gave a status to."""
    pending_bytes: int = 0
    """The size of the files left pending."""

    @property
    def outcomes(self) -> pl.DataFrame:  # type: ignore[override]  # read, not kept, until asked for
        """One row per file of the run, read from the call's ``outcomes.parquet`` on first use."""
        return self.outcomes_file.frame()

    def status_counts(self) -> dict[str, int]:
        return dict(self.counts)

    def failed_rows(self) -> pl.DataFrame:
        return self.failures

    @property
    def complete(self) -> bool:
        return self.pending == 0 and not self.interrupted

    @property
    def files_per_second(self) -> float:
        """Files that got a final status in this call over the call's seconds
        (``docbatch.metrics.files_per_second``, the rate every display shows)."""
        handled = self.handled_files if self.handled_files is not None else self.total_files - self.pending
        return files_per_second(handled, self.elapsed_s)

    @property
    def bytes_per_second(self) -> float:
        return self.bytes_processed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def processing_metrics(self) -> dict[str, Any]:
        """The seed's metrics dict for this finished call, as ``get_processing_metrics``
        gives it for the live counters: the same rate, and an ETA that is 0 only when
        no file is pending (else the time the pending files would take at this pace)."""
        total, pending = self.total_files, self.pending
        attempted = self.succeeded + self.failed
        return {
            "total_files": total,
            "processed": total - pending,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "pending": pending,
            "elapsed_s": self.elapsed_s,
            "files_per_second": self.files_per_second,
            "bytes_per_second": self.bytes_per_second,
            "memory_usage_mb": float(self.timeline["rss_mb"].max() or 0.0)  # type: ignore[arg-type]
            if self.timeline.height
            else 0.0,
            "peak_memory_mb": self.peak_memory_mb,
            "progress_percent": 100.0 * (total - pending) / total if total else 100.0,
            "estimated_time_remaining": estimate_remaining_s(
                files_left=pending,
                bytes_left=self.pending_bytes,
                bytes_per_second=self.bytes_per_second,
                mean_file_bytes=None,
            ),
            "success_rate": self.succeeded / attempted if attempted else 1.0,
        }

    @property
    def errors(self) -> list[dict[str, Any]]:
        """One dict per failed file: type, category, path, doc_id, message, attempts."""
        return error_records(self.failures)

    def raise_on_failures(self) -> None:
        """Raise ``IngestFailures`` naming the failed files, if any."""
        if self.failed:
            names = ", ".join(e["doc_id"] for e in self.errors[:5])
            more = f" and {self.failed - 5} more" if self.failed > 5 else ""
            raise IngestFailures(f"{self.failed} files failed: {names}{more}")

    def summary(self) -> str:
        """A short multi-line text summary."""
        rate = format_rate(self.files_per_second, checked_only=self.checked_only)
        lines = [
            f"run {self.run_id}: {self.total_files} files from {self.root} into {self.store}",
            f"  succeeded {self.succeeded}, failed {self.failed}, skipped {self.skipped}"
            + (f", pending {self.pending}" if self.pending else "")
            + (f", deleted {self.deleted}" if self.deleted else ""),
            f"  {rate}, {self.elapsed_s:.2f} s, peak memory {self.peak_memory_mb:.0f} MB",
        ]
        if self.run_calls > 1:
            run_rate = format_rate(files_per_second(self.run_files, self.run_elapsed_s))
            lines.append(f"  the run so far: {self.run_calls} calls, {self.run_elapsed_s:.2f} s, {run_rate}")
        if self.failed:
            by_category = ", ".join(f"{k} {v}" for k, v in self.error_summary().items())
            lines.append(f"  errors by category: {by_category}")
        gone = self.plan_counts.get("deleted", 0)
        if gone and not self.deleted:
            lines.append(f"  {gone} stored documents' files are gone: --delete-missing removes them")
        if self.interrupted:
            lines.append("  interrupted: run the same command again to resume")
        elif self.pending:
            lines.append(
                f"  {self.pending} files pending (limit): call ingest_batch again, or run the "
                "same command, to continue"
            )
        if self.reports:
            lines.append(f"  reports in {Path(self.reports['performance']).parent}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """The summary as plain data (what ``--json`` prints)."""
        return {
            "run_id": self.run_id,
            "source": self.source,
            "root": self.root,
            "store": self.store,
            "total_files": self.total_files,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "skipped": self.skipped,
            "pending": self.pending,
            "deleted": self.deleted,
            "interrupted": self.interrupted,
            "files_per_second": round(self.files_per_second, 3),
            "elapsed_s": round(self.elapsed_s, 3),
            "peak_memory_mb": round(self.peak_memory_mb, 1),
            "error_summary": self.error_summary(),
            "errors": self.errors,
            "plan": self.plan_counts,
            "reports": self.reports,
        }

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<IngestResult {self.summary()}>"

    @property
    def plot(self) -> Any:
        """Plots of this run (``result.plot.throughput()``, ...; needs ``docbatch[notebook]``)."""
        from docbatch.display.plots import Plots

        return Plots(self)

    def _repr_html_(self) -> str:
        from docbatch.display.summary import summary_html

        return summary_html(self)


@dataclass
class OutcomeTally:
    """What a call's committed outcome rows add up to, kept as they are committed instead of
    the rows themselves (those are in the checkpoint parts)."""

    rows: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    """Rows by status."""
    passages: int = 0
    """Passages of the files that succeeded."""
    failures: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=OUTCOMES))
    """The rows of the files that failed."""
    ordered: bool = True
    """Whether the rows, part after part, are in ``doc_id`` order."""
    last_doc_id: str | None = None
    listing_changed: bool = False
    """A file was gone, or read at another size than the inventory listed."""

    def add(self, outcomes: pl.DataFrame, listed: pl.DataFrame) -> None:
        """Count ``outcomes`` (one commit's rows, in ``doc_id`` order) of the files ``listed``
        (their plan rows: ``doc_id`` and ``size``)."""
        if outcomes.height == 0:
            return
        self.rows += outcomes.height
        count_statuses(outcomes["status"], self.counts)
        succeeded = outcomes.filter(pl.col("status") == "succeeded")
        self.passages += int(succeeded["n_passages"].sum() or 0)
        failed = outcomes.filter(pl.col("status") == "failed")
        if failed.height:
            self.failures = pl.concat([self.failures, failed])
        first, last = outcomes["doc_id"][0], outcomes["doc_id"][-1]
        if self.last_doc_id is not None and first <= self.last_doc_id:
            self.ordered = False
        self.last_doc_id = last
        if not self.listing_changed:
            gone = (outcomes["error_type"] == "FileNotFoundError").any()
            read = outcomes.select("doc_id", "size").drop_nulls()
            sizes = listed.select("doc_id", pl.col("size").alias("listed_size"))
            resized = read.join(sizes, on="doc_id").filter(pl.col("size") != pl.col("listed_size"))
            self.listing_changed = bool(gone) or resized.height > 0


@dataclass
class RunOutput:
    """What the slices of one call produced: the checkpoint parts holding their outcome rows
    (in commit order), what the rows add up to, and the timeline rows."""

    parts: list[Path]
    tally: OutcomeTally
    timeline: pl.DataFrame
    interrupted: bool
    next_part: int

    def outcomes(self) -> pl.LazyFrame:
        """The call's outcome rows, read from its parts."""
        if not self.parts:
            return pl.LazyFrame(schema=OUTCOMES)
        return pl.scan_parquet([str(path) for path in self.parts], schema=OUTCOMES)

    @staticmethod
    def nothing(next_part: int, interrupted: bool = False) -> RunOutput:
        """No slice ran."""
        return RunOutput([], OutcomeTally(), pl.DataFrame(schema=TIMELINE), interrupted, next_part)
