"""The ``docbatch`` argument parser: every subcommand, option and help text, and the
exit codes."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from docbatch import __version__
from docbatch.config import SIZE_ALLOWED, parse_size
from docbatch.errors import ConfigError
from docbatch.plan.selection import DEFAULT_PATTERN
from docbatch.run.dask_cluster import check_dask_url
from docbatch.run.execution import EXECUTOR_CHOICES

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_STORE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: the reader of the output went away (``| head``); nothing is printed."""


_DB_HELP = (
    "the store: a SQLite file path or a postgresql://user:password@host/dbname URL (default ./docbatch.db)"
)
_STATE_HELP = (
    "the state folder: checkpoints, writer lock and reports (default: next to a SQLite store, "
    "STORE.state; ./docbatch.state for PostgreSQL)"
)
_SIZE_HELP = "bytes, or a number with KB, MB or GB (200KB, 10MB, 1.5MB); default BATCH_MAX_FILE_SIZE or 50MB"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _size(text: str) -> int:
    try:
        return parse_size(text, "--max-file-size")
    except ConfigError:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected {SIZE_ALLOWED}") from None


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected a whole number >= 1")
    return value


def _executor(text: str) -> str:
    if text in EXECUTOR_CHOICES:
        return text
    if text.startswith("dask://"):
        try:
            return check_dask_url(text)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
    allowed = ", ".join(EXECUTOR_CHOICES)
    raise argparse.ArgumentTypeError(f"{text!r} is not allowed: expected {allowed} or dask://HOST:PORT")


def _selection_options(parser: argparse.ArgumentParser, *, last_run: bool = False) -> None:
    """``--include-hidden`` and ``--exclude`` (for verify, absent means the last run's)."""
    parser.add_argument(
        "--include-hidden",
        action="store_true",
        default=None if last_run else False,
        help="take hidden files and folders (names starting with '.') too; by default each is "
        "a skipped row with reason 'hidden'" + (" (default: as the last run)" if last_run else ""),
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="leave out the files matching this gitignore-style glob, e.g. 'drafts/**' "
        "(repeatable)" + (" (default: the last run's)" if last_run else ""),
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="docbatch", description="Batch-ingest documentation into a searchable store.")
    parser.add_argument("--version", action="version", version=f"docbatch {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ingest = sub.add_parser("ingest-docs-batch", aliases=["ingest"], help="ingest a directory of documents")
    ingest.add_argument("directory", type=Path, help="the folder of documents to ingest")
    ingest.add_argument(
        "--pattern",
        default=DEFAULT_PATTERN,
        help=f"comma-separated gitignore-style globs: *.md at any depth, docs/*.rst only directly "
        f"in docs/, ** any depth, !GLOB leaves out (default {DEFAULT_PATTERN})",
    )
    ingest.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="walk subfolders (default on)",
    )
    ingest.add_argument("--force", action="store_true", help="re-ingest unchanged files too")
    ingest.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="continue an unfinished run of the same tree (default on)",
    )
    ingest.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    ingest.add_argument("--state-dir", help=_STATE_HELP)
    ingest.add_argument("--report-dir", help="a folder that also gets a copy of the reports")
    ingest.add_argument("--source", help="name of this tree in the store (default: folder name)")
    ingest.add_argument(
        "--max-file-size", type=_size, metavar="SIZE", help=f"reject larger files: {_SIZE_HELP}"
    )
    ingest.add_argument(
        "--chunk-size", type=_positive, help="files per slice, the files a worker parses together"
    )
    ingest.add_argument("--fallback-encoding", help="decode non-UTF-8 files with this codec")
    ingest.add_argument(
        "--executor",
        type=_executor,
        default="auto",
        metavar="{auto,serial,process,dask://HOST:PORT}",
        help="where files are parsed (default auto: worker processes for 200+ files; "
        "dask://HOST:PORT: the workers of that Dask scheduler)",
    )
    ingest.add_argument("--workers", type=_positive, help="worker processes for --executor process")
    ingest.add_argument(
        "--delete-missing",
        action="store_true",
        help="remove stored documents whose file is gone (within this root and pattern)",
    )
    ingest.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="let --delete-missing remove more than max_delete_share of the source",
    )
    ingest.add_argument("--since", metavar="REV", help="plan from git's changes since REV, no tree walk")
    _selection_options(ingest)
    ingest.add_argument(
        "--limit",
        type=_positive,
        metavar="N",
        help="process at most N files, leaving the rest pending for the next run of the same command",
    )
    ingest.add_argument("--rst-engine", choices=["fast", "docutils"], help="reStructuredText parser")
    ingest.add_argument(
        "--html-content-selector",
        action="append",
        metavar="CSS",
        help="CSS selector of a page's main content, tried before the built-in ones (repeatable)",
    )
    ingest.add_argument(
        "--html-drop-selector",
        action="append",
        metavar="CSS",
        help="CSS selector of elements to drop from a page's content (repeatable)",
    )
    ingest.add_argument(
        "--format",
        action="append",
        metavar="EXT=FORMAT",
        help="read files of extension EXT as FORMAT (html, markdown, rst, text), e.g. .txt=rst (repeatable)",
    )
    ingest.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    ingest.add_argument("--fail-on-error", action="store_true", help="exit 1 when any file failed")
    ingest.add_argument("--quiet", action="store_true", help="no progress output")

    plan = sub.add_parser("plan", help="show what an ingest would do, without doing it")
    plan.add_argument("directory", type=Path, help="the folder an ingest would read")
    plan.add_argument(
        "--pattern", default=DEFAULT_PATTERN, help=f"as for ingest-docs-batch (default {DEFAULT_PATTERN})"
    )
    plan.add_argument(
        "--recursive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="walk subfolders (default on)",
    )
    plan.add_argument(
        "--force", action="store_true", help="plan unchanged files as changed, as --force would"
    )
    plan.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    plan.add_argument("--state-dir", help=_STATE_HELP)
    plan.add_argument("--source", help="name of this tree in the store (default: folder name)")
    plan.add_argument(
        "--max-file-size", type=_size, metavar="SIZE", help=f"plan larger files as invalid: {_SIZE_HELP}"
    )
    plan.add_argument("--json", action="store_true", help="print a JSON array of the plan rows")
    _selection_options(plan)

    verify = sub.add_parser("verify", help="compare the store with the disk and the last run")
    verify.add_argument(
        "directory", type=Path, nargs="?", help="the folder to compare (default: the last run's root)"
    )
    verify.add_argument("--pattern", help="comma-separated globs (default: the last run's pattern)")
    verify.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    verify.add_argument("--state-dir", help=f"where the last run's ledger is: {_STATE_HELP}")
    verify.add_argument("--source", help="the tree to check (default: the last run's, or the folder name)")
    verify.add_argument(
        "--repair",
        action="store_true",
        help="mend the store and re-ingest what is needed (from the source's own folder, unless --source "
        "names it; refused when it would delete more than max_delete_share of the source)",
    )
    verify.add_argument(
        "--deep",
        action="store_true",
        help="also read and hash every file (stale documents) and check the store's passages and "
        "full-text index (slow on large trees; --repair always does)",
    )
    verify.add_argument(
        "--allow-mass-delete",
        action="store_true",
        help="let --repair remove more than max_delete_share of the source",
    )
    verify.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: the problems and whether they were repaired",
    )
    _selection_options(verify, last_run=True)

    search = sub.add_parser("search", help="search the store")
    search.add_argument(
        "query",
        help='words that must all match (then passages holding some of them); "quoted phrases", OR, NOT '
        "and a trailing * are understood",
    )
    search.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    search.add_argument("--state-dir", help="accepted as by the other commands; search reads only the store")
    search.add_argument(
        "--limit", type=_positive, default=10, metavar="N", help="at most N hits (default 10)"
    )
    search.add_argument("--source", help="only the documents of this tree (default: every tree)")
    search.add_argument(
        "--all-passages",
        action="store_true",
        help="show every matching passage (default: the best passage of each document)",
    )
    search.add_argument("--json", action="store_true", help="print a JSON array on stdout")
    search.add_argument(
        "--format",
        action="append",
        metavar="FORMAT",
        help="only documents of this format (html, markdown, rst, text); repeat or comma-separate "
        "for several",
    )
    search.add_argument(
        "--path",
        metavar="GLOB",
        help="only documents whose path (doc_id) matches this glob, fnmatch rules: * matches / too, "
        "? one character, [abc] and [!abc] one of or none of; case-sensitive",
    )
    search.add_argument(
        "--heading", metavar="TEXT", help="only passages whose heading path contains TEXT (any case)"
    )
    search.add_argument(
        "--modified-since",
        metavar="DATE",
        help="only files modified at or after DATE (ISO 8601, UTC if no zone)",
    )
    search.add_argument("--git-since", metavar="DATE", help="only files last committed at or after DATE")
    search.add_argument(
        "--git-until", metavar="DATE", help="only files last committed at or before DATE (a day: all of it)"
    )
    search.add_argument(
        "--git-author", metavar="TEXT", help="only files whose last commit's author contains TEXT (any case)"
    )

    report = sub.add_parser("report", help="summarise the last run from its reports")
    report.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    report.add_argument("--state-dir", help=_STATE_HELP)
    report.add_argument(
        "--run", metavar="ID", help="one of the runs kept (see docbatch runs; default: the last)"
    )
    report.add_argument(
        "--json", action="store_true", help="print the performance and error reports as one JSON object"
    )
    report.add_argument(
        "--plots",
        type=Path,
        metavar="DIR",
        help="write the plots as PNG files into DIR (needs docbatch[notebook])",
    )

    runs = sub.add_parser("runs", help="list the runs whose reports the state folder keeps, newest first")
    runs.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    runs.add_argument("--state-dir", help=_STATE_HELP)
    runs.add_argument(
        "--json", action="store_true", help="print a JSON array of the runs' performance reports"
    )

    sources = sub.add_parser("sources", help="list, rename or drop the sources (ingested trees) of the store")
    sources.add_argument(
        "action",
        nargs="?",
        choices=["list", "rename", "drop"],
        default="list",
        help="list (default): name, documents, last ingest, root folder; rename OLD NEW; drop NAME",
    )
    sources.add_argument(
        "names", nargs="*", metavar="NAME", help="the source(s): OLD NEW for rename, NAME for drop"
    )
    sources.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    sources.add_argument("--state-dir", help=f"whose writer lock rename and drop take: {_STATE_HELP}")
    sources.add_argument("--yes", action="store_true", help="drop: really remove the source's documents")
    sources.add_argument("--json", action="store_true", help="list: print a JSON array of the sources")

    export = sub.add_parser(
        "export",
        help="write every passage with its document's metadata to a Parquet or JSON-lines file",
        description="Write every passage of the store, with its document's metadata, to OUT (schema "
        "docbatch.passages, its version in the Parquet metadata and in OUT's .schema.json file), "
        "streamed from the store in batches.",
    )
    export.add_argument("out", type=Path, metavar="OUT", help="the file to write (replaced if it exists)")
    export.add_argument(
        "--format", choices=["parquet", "jsonl"], default="parquet", help="the file format (default parquet)"
    )
    export.add_argument("--source", help="only the documents of this tree (default: every tree)")
    export.add_argument(
        "--since",
        metavar="RUN_ID",
        help="only the documents written since that run started (docbatch runs lists them), and the ids "
        "of the passages removed since then in OUT's .removed file",
    )
    export.add_argument("--db", default="docbatch.db", help=_DB_HELP)
    export.add_argument("--state-dir", help=f"where --since finds the run: {_STATE_HELP}")
    export.add_argument("--json", action="store_true", help="print what was written as one JSON object")

    sample = sub.add_parser("sample", help="write the sample documentation tree")
    sample.add_argument("destination", type=Path, help="the folder to write the tree into")
    sample.add_argument("--overwrite", action="store_true", help="replace the files of an existing tree")
    return parser
