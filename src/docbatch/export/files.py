"""``docbatch export``: every passage of the store, with its document's metadata, written
to one Parquet or JSON-lines file under a documented, versioned schema, streamed from the
store in bounded batches (never the whole store in memory).

Next to ``OUT`` (``passages.parquet`` say) are written:

* ``passages.schema.json``: the schema name and version, the columns and their types, what
  was exported (source, since which run and time) and the counts;
* with ``since_run``, ``passages.removed.parquet`` (or ``.jsonl``): the passage ids removed
  since that run started (``docbatch.store.records.REMOVED_PASSAGES``).

A Parquet file carries the schema name and version in its key-value metadata too.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from docbatch.errors import ConfigError
from docbatch.export.lazy import passage_reader, scan_passages
from docbatch.state.atomic import write_json
from docbatch.state.reports import PERFORMANCE_JSON, run_folder
from docbatch.store.base import DocumentStore
from docbatch.store.records import DEFAULT_BATCH_SIZE, PASSAGE_RECORDS, REMOVED_PASSAGES, PassageFilter

RUN_MANIFEST = "run.json"
"""The current run's manifest in a state folder (``docbatch.state.checkpoint``)."""
EXPORT_SCHEMA = "docbatch.passages"
EXPORT_SCHEMA_VERSION = 1
"""The name and version of the exported schema (``PASSAGE_RECORDS``): the version grows
when a column is renamed, removed or changes type; a column added at the end keeps it."""
ExportFormat = Literal["parquet", "jsonl"]
EXPORT_FORMATS: tuple[str, ...] = ("parquet", "jsonl")


@dataclass(frozen=True)
class ExportSummary:
    """What ``export_passages`` wrote."""

    path: str
    format: str
    passages: int
    schema_path: str
    removed_path: str | None = None
    removed: int | None = None
    since_run: str | None = None
    since: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_started_at(state_dir: Path, run_id: str) -> datetime:
    """When run ``run_id`` of the state folder ``state_dir`` started (its kept reports, or
    the current run's manifest).

    Raises:
        ConfigError: the state folder keeps no run ``run_id``, or not when it started.
    """
    try:
        folder = run_folder(state_dir, run_id)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    manifests: list[Any] = []
    for path in (folder / PERFORMANCE_JSON, state_dir / RUN_MANIFEST):  # read only, never moved
        try:
            manifests.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            pass
    for manifest in manifests:
        if isinstance(manifest, dict) and manifest.get("run_id") == run_id and manifest.get("started_at"):
            try:
                started = datetime.fromisoformat(str(manifest["started_at"]))
            except ValueError:
                continue
            return started.replace(tzinfo=UTC) if started.tzinfo is None else started.astimezone(UTC)
    raise ConfigError(f"no run {run_id} in {state_dir}: docbatch runs lists the runs kept")


def side_paths(out: Path, fmt: ExportFormat) -> tuple[Path, Path]:
    """The schema file and the removed-ids file that go with ``out``."""
    stem = out.name.removesuffix(out.suffix) if out.suffix else out.name
    extension = ".parquet" if fmt == "parquet" else ".jsonl"
    return out.with_name(f"{stem}.schema.json"), out.with_name(f"{stem}.removed{extension}")


def schema_document(fmt: ExportFormat) -> dict[str, Any]:
    """The schema part of the schema file: name, version, format and columns with types."""
    return {
        "schema": EXPORT_SCHEMA,
        "schema_version": EXPORT_SCHEMA_VERSION,
        "format": fmt,
        "columns": {name: str(dtype) for name, dtype in PASSAGE_RECORDS.items()},
        "removed_columns": {name: str(dtype) for name, dtype in REMOVED_PASSAGES.items()},
    }


def export_passages(
    store: DocumentStore,
    out: str | os.PathLike[str],
    *,
    format: ExportFormat = "parquet",
    source: str | None = None,
    since_run: str | None = None,
    state_dir: Path | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> ExportSummary:
    """Write every passage of ``store`` (of ``source``) to ``out``, streamed in batches.

    With ``since_run`` (a run id of ``state_dir``) only the passages of documents written
    since that run started, and the ids of the passages removed since then in a file of
    their own: what a copy synced before that run needs to catch up. Each file is written
    under a temporary name and then renamed, so a reader never sees half of one.

    Raises:
        ConfigError: an unknown format or run, or a store that cannot give its passages out.
    """
    if format not in EXPORT_FORMATS:
        raise ConfigError.invalid("format", format, " or ".join(EXPORT_FORMATS))
    reader = passage_reader(store)
    since = None
    if since_run is not None:
        if state_dir is None:
            raise ConfigError("since_run needs the state folder that keeps the runs")
        since = run_started_at(state_dir, since_run)
    path = Path(out)
    schema_path, removed_path = side_paths(path, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    where = PassageFilter(source=source, since=since)
    _sink(scan_passages(store, where, batch_size=batch_size), path, format, batch_size)
    passages = _count(path, format)
    removed = None
    if since is not None:
        frame = reader.removed_passages(source=source, since=since)
        _sink(frame.lazy(), removed_path, format, batch_size)
        removed = frame.height
    summary = ExportSummary(
        path=str(path),
        format=format,
        passages=passages,
        schema_path=str(schema_path),
        removed_path=str(removed_path) if removed is not None else None,
        removed=removed,
        since_run=since_run,
        since=since.isoformat() if since is not None else None,
    )
    document = {
        **schema_document(format),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": store.location,
        "source": source,
        **{k: v for k, v in summary.to_dict().items() if k not in ("path", "format", "schema_path")},
        "path": path.name,
        "removed_path": removed_path.name if removed is not None else None,
    }
    write_json(document, schema_path)
    return summary


def _sink(frame: pl.LazyFrame, path: Path, fmt: ExportFormat, batch_size: int) -> None:
    """Stream ``frame`` into ``path`` under a temporary name, then rename it. A Parquet row
    group holds one batch: the writer keeps a row group in memory until it is written."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        if fmt == "parquet":
            metadata = {
                "docbatch.schema": EXPORT_SCHEMA,
                "docbatch.schema_version": str(EXPORT_SCHEMA_VERSION),
            }
            frame.sink_parquet(partial, metadata=metadata, row_group_size=batch_size)
        else:
            frame.sink_ndjson(partial, check_extension=False)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _count(path: Path, fmt: ExportFormat) -> int:
    """The rows of a written file (read from its metadata, or by streaming its lines)."""
    scan = pl.scan_parquet(path) if fmt == "parquet" else pl.scan_ndjson(path, schema=PASSAGE_RECORDS)
    return int(scan.select(pl.len()).collect().item())
