"""Read a past run back from its reports, so it can be analysed in a new kernel.

>>> import tempfile, os
>>> from docbatch import BatchIngestService, sample
>>> from docbatch.display import load_run
>>> tmp = tempfile.mkdtemp()
>>> docs = sample.write_sample_tree(os.path.join(tmp, "docs"))
>>> result = BatchIngestService(os.path.join(tmp, "docs.db")).ingest_batch(docs)
>>> run = load_run(os.path.join(tmp, "docs.state"))
>>> run.run_id == result.run_id and run.succeeded == result.succeeded
True
>>> load_run(os.path.join(tmp, "docs.state"), result.run_id).run_id == result.run_id
True
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from docbatch.frames import OUTCOMES, TIMELINE, conform
from docbatch.metrics import format_rate
from docbatch.result import OutcomeCounts
from docbatch.state import reports
from docbatch.state.outcomes_file import OutcomesFile
from docbatch.store.location import state_dir_for

if TYPE_CHECKING:
    from docbatch.display.plots import Plots


@dataclass
class LoadedRun(OutcomeCounts):
    """A run read from its report folder: the same frames as ``IngestResult``.

    ``performance`` and ``errors`` are the two JSON reports as dicts (empty when a
    file is missing); ``outcomes`` and ``timeline`` follow ``docbatch.frames``. As for
    ``IngestResult``, the outcome rows are read when ``outcomes`` is first asked for: the
    counts, the summary and the errors read the status and the failed rows only.
    """

    state_dir: str
    rows: pl.DataFrame | None
    """The outcome rows, when given (else read from ``outcomes_file`` when asked for)."""
    timeline: pl.DataFrame
    performance: dict[str, Any] = field(default_factory=dict)
    errors_report: dict[str, Any] = field(default_factory=dict)
    reports: dict[str, str] = field(default_factory=dict)
    outcomes_file: OutcomesFile | None = None

    @property
    def outcomes(self) -> pl.DataFrame:  # read when first asked for
        """One row per file of the run (``docbatch.frames.OUTCOMES``)."""
        if self.rows is None:
            self.rows = (
                self.outcomes_file.frame()
                if self.outcomes_file is not None
                else pl.DataFrame(schema=OUTCOMES)
            )
        return self.rows

    @outcomes.setter
    def outcomes(self, rows: pl.DataFrame) -> None:
        """Put other rows in their place (a filtered frame, to plot part of the run)."""
        self.rows = rows

    def status_counts(self) -> dict[str, int]:
        if self.rows is None and self.outcomes_file is not None:
            return self.outcomes_file.status_counts()
        return super().status_counts()

    def failed_rows(self) -> pl.DataFrame:
        if self.rows is None and self.outcomes_file is not None:
            return self.outcomes_file.failed_rows()
        return super().failed_rows()

    @property
    def run_id(self) -> str:
        if self.performance.get("run_id"):
            return str(self.performance["run_id"])
        return str(self.outcomes["run_id"][0]) if self.outcomes.height else ""

    @property
    def source(self) -> str:
        """The name of the ingested tree in the store."""
        if self.performance.get("source"):
            return str(self.performance["source"])
        if self.outcomes.height and "source" in self.outcomes.columns:
            return str(self.outcomes["source"][0])
        return ""

    @property
    def elapsed_s(self) -> float:
        return float(self.performance.get("elapsed_s") or 0.0)

    @property
    def files_per_second(self) -> float:
        """The run's rate as its call measured it (``docbatch.metrics.files_per_second``)."""
        return float(self.performance.get("files_per_second") or 0.0)

    @property
    def peak_memory_mb(self) -> float:
        return float(self.performance.get("peak_memory_mb") or 0.0)

    @property
    def memory_threshold_mb(self) -> float | None:
        """The run's ``memory_threshold_mb`` setting, when the performance report has it."""
        value = self.performance.get("configuration", {}).get("memory_threshold_mb")
        return float(value) if value is not None else None

    @property
    def errors(self) -> list[dict[str, Any]]:
        """One dict per error, as in ``IngestResult.errors`` (from the errors report when read)."""
        listed = self.errors_report.get("errors")
        return list(listed) if isinstance(listed, list) else reports.error_records(self.failed_rows())

    @property
    def plot(self) -> Plots:
        """The plots of this run (``run.plot.throughput()``; needs matplotlib)."""
        from docbatch.display.plots import Plots

        return Plots(self)

    def summary(self) -> str:
        """A short multi-line text summary, as ``IngestResult.summary()``."""
        state = self.performance.get("state") or "unknown"
        rate = format_rate(self.files_per_second, checked_only=self.checked_only)
        lines = [
            f"run {self.run_id} ({state}): {self.total_files} files of source {self.source!r}",
            f"  succeeded {self.succeeded}, failed {self.failed}, skipped {self.skipped}"
            + (f", pending {self.pending}" if self.pending else "")
            + (f", deleted {self.deleted}" if self.deleted else ""),
            f"  {rate}, {self.elapsed_s:.2f} s, peak memory {self.peak_memory_mb:.0f} MB",
        ]
        if self.failed:
            by_category = ", ".join(f"{k} {v}" for k, v in self.error_summary().items())
            lines.append(f"  errors by category: {by_category}")
        lines.append(f"  reports in {self.state_dir}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<LoadedRun {self.summary()}>"

    def _repr_html_(self) -> str:
        from docbatch.display.summary import summary_html

        return summary_html(self)


def load_run(path: str | os.PathLike[str], run_id: str | None = None) -> LoadedRun:
    """Read the reports of a run from a state (or report) folder.

    ``run_id`` picks one of the runs the state folder keeps (``docbatch runs`` lists
    them); None reads the latest run. A store is accepted too, named as ``open_store``
    takes it (``docs.db``, ``sqlite:///docs.db``, ``postgresql://...``), and means its
    state folder (``docbatch.state_dir_for``: ``docs.state``, ``./docbatch.state``).

    Raises:
        FileNotFoundError: the folder has no ``outcomes.parquet``, or keeps no run ``run_id``.
    """
    folder = Path(path)
    is_url = isinstance(path, str) and "://" in path
    if is_url or folder.is_file() or (not folder.exists() and folder.suffix == ".db"):
        folder = state_dir_for(path)
    state_dir = folder
    if run_id is not None:
        try:
            folder = reports.run_folder(folder, run_id)
        except ValueError as exc:
            raise FileNotFoundError(f"no run {run_id!r} in {state_dir}: {exc}") from None
        if not folder.is_dir():
            kept = [row["run_id"] for row in reports.list_runs(state_dir)]
            raise FileNotFoundError(
                f"no run {run_id} in {state_dir}"
                + (f" (it keeps {', '.join(kept[:5])}{', ...' if len(kept) > 5 else ''})" if kept else "")
            )
    paths = reports.report_paths(folder)
    if not paths["outcomes"].is_file():
        raise FileNotFoundError(
            f"no {reports.OUTCOMES_PARQUET} in {folder}: give the state folder of a finished run"
        )
    timeline = (
        conform(pl.read_parquet(paths["timeline"]), TIMELINE)
        if paths["timeline"].is_file()
        else pl.DataFrame(schema=TIMELINE)
    )
    return LoadedRun(
        state_dir=str(state_dir),
        rows=None,
        outcomes_file=OutcomesFile(paths["outcomes"]),
        timeline=timeline,
        performance=_read_json(paths["performance"]),
        errors_report=_read_json(paths["errors"]),
        reports={name: str(p) for name, p in paths.items() if p.is_file()},
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return data if isinstance(data, dict) else {}
