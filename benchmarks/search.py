"""Search quality and latency on the dev corpus, against the judgments in ``judgments.json``.

Run ``python -m benchmarks.search [--store sqlite|postgres] [--postgres DSN] [--scale N]
[--json OUT]`` from the repository root. Each format folder of the corpus (``rst``, ``md``,
``html``) is ingested as its own source (named after the folder) into a fresh store, and
every judged query runs as ``service.search(query, limit=10, source=FORMAT)``.

- Hits are passages: a document counts once, at its best rank, and the ranks are those of
  the distinct documents in the order they first appear.
- Grades: 2 is the answer, 1 is useful. MRR@10 is the reciprocal rank of the first document
  of grade 1 or more; recall@10 the share of a query's judged documents in the top 10;
  nDCG@10 uses the gain ``2**grade - 1`` over the ideal order of the judged documents.
- Misses: the queries whose answer (a grade-2 document) is not in the top 10; a query the
  store refuses (``QueryError``) counts as returning nothing.
- Latency: after the judged run (which warms the store), every query runs ``--repeats``
  more times; p50 and p95 are taken over all those calls, per format and overall.

With ``--scale N`` (N > 1) each format folder is copied N times into one tree
(``copy00``, ``copy01``, ...) and ingested into a second fresh store, and the same queries
are timed there (the quality figures always come from the 1x store). Each store's size
per MB of text (the bytes of its files) is reported.

``--keep DIR`` (SQLite) keeps the scaled tree (``DIR/scaled-N``) and its store
(``DIR/search-Nx.db``, marked done by ``DIR/search-Nx.json`` once the ingest completes)
and uses them again in the next run with the same N and corpus: a second measurement
does not copy or ingest again (at 120 copies, a million files, the ingest takes about
20 minutes). ``--rebuild`` copies and ingests anew into ``DIR``. Delete ``DIR`` when done.

PostgreSQL: ``--postgres DSN`` (or ``DOCBATCH_BENCH_POSTGRES_URL``) names a database; the
run creates a schema of its own in it (``docbatch_search_1x``, ``docbatch_search_Nx``),
dropped at the end. Quality figures and misses are deterministic; timings are not.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from benchmarks.corpus import corpus_size, default_corpus, scaled_copy
from benchmarks.costly_queries import costly_lines, time_costly

from docbatch import BatchIngestService
from docbatch.errors import QueryError

JUDGMENTS = Path(__file__).with_name("judgments.json")
FORMATS = ("rst", "md", "html")
PATTERNS = {"rst": "*.rst,*.txt", "md": "*.md", "html": "*.html.en,*.html.en.utf8"}
"""The files of each format folder (``benchmarks.corpus.DEV_PATTERN``, split by folder)."""
K = 10
URL_VARIABLE = "DOCBATCH_BENCH_POSTGRES_URL"


@dataclass(frozen=True)
class Judged:
    """One query of the judgment set."""

    id: str
    format: str
    kind: str
    query: str
    relevant: dict[str, int]


@dataclass
class Outcome:
    """What one query returned and how it scores."""

    judged: Judged
    ranked: list[str]
    error: str | None = None
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        """The answers (grade 2) not in the top ``K``."""
        top = set(self.ranked[:K])
        return sorted(d for d, g in self.judged.relevant.items() if g >= 2 and d not in top)


def load_judgments(path: Path = JUDGMENTS) -> list[Judged]:
    """The queries of ``path``, checked: unique ids, known formats, grades 1 or 2."""
    data = json.loads(path.read_text(encoding="utf-8"))
    queries = [
        Judged(
            q["id"], q["format"], q["kind"], q["query"], {str(d): int(g) for d, g in q["relevant"].items()}
        )
        for q in data["queries"]
    ]
    ids = [q.id for q in queries]
    if len(set(ids)) != len(ids):
        raise SystemExit(f"{path}: repeated query ids")
    for q in queries:
        if q.format not in FORMATS or not q.relevant or not set(q.relevant.values()) <= {1, 2}:
            raise SystemExit(f"{path}: query {q.id} needs a format of {FORMATS} and grades 1 or 2")
    return queries


# metrics ---------------------------------------------------------------------------------------
def documents_in_order(doc_ids: Sequence[str]) -> list[str]:
    """Distinct documents in the order of their best (first) hit.

    >>> documents_in_order(["a", "b", "a", "c"])
    ['a', 'b', 'c']
    """
    return list(dict.fromkeys(doc_ids))


def reciprocal_rank(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> float:
    """1 / rank of the first judged document in the top ``k`` (0 when none is there).

    >>> reciprocal_rank(["x", "a"], {"a": 1})
    0.5
    """
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def ndcg(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> float:
    """nDCG@k with gain ``2**grade - 1`` and a ``log2(rank + 1)`` discount.

    >>> ndcg(["a", "b"], {"a": 2, "b": 1})
    1.0
    >>> round(ndcg(["b", "a"], {"a": 2, "b": 1}), 3)
    0.797
    """

    def dcg(grades: Sequence[int]) -> float:
        return sum(((1 << g) - 1) / math.log2(i + 2) for i, g in enumerate(grades[:k]))

    ideal = dcg(sorted(relevant.values(), reverse=True))
    return dcg([relevant.get(d, 0) for d in ranked]) / ideal if ideal else 0.0


def recall(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> float:
    """The share of the judged documents found in the top ``k``.

    >>> recall(["a", "x"], {"a": 2, "b": 1})
    0.5
    """
    top = set(ranked[:k])
    return sum(1 for d in relevant if d in top) / len(relevant)


def score(outcome: Outcome) -> Outcome:
    rel = outcome.judged.relevant
    outcome.scores = {
        "mrr": reciprocal_rank(outcome.ranked, rel),
        "ndcg": ndcg(outcome.ranked, rel),
        "recall": recall(outcome.ranked, rel),
    }
    return outcome


def mean_scores(outcomes: Sequence[Outcome]) -> dict[str, float]:
    return {m: statistics.fmean(o.scores[m] for o in outcomes) for m in ("mrr", "ndcg", "recall")}


def percentile(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``samples``.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
    (2.0, 4.0)
    """
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


# stores --------------------------------------------------------------------------------------
def _with_schema(url: str, schema: str) -> str:
    option = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@contextmanager
def fresh_store(kind: str, dsn: str | None, work: Path, name: str) -> Iterator[str]:
    """The location of an empty store: a SQLite file under ``work``, or a new PostgreSQL
    schema ``docbatch_search_<name>`` (dropped on leaving)."""
    if kind == "sqlite":
        yield str(work / f"search-{name}.db")
        return
    import psycopg

    if dsn is None:
        raise SystemExit(f"--store postgres needs --postgres DSN or {URL_VARIABLE}")
    schema = f"docbatch_search_{name}"
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield _with_schema(dsn, schema)
    finally:
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def ingest(service: BatchIngestService, roots: Mapping[str, Path]) -> dict[str, Any]:
    """Ingest each root as the source named by its key; files and seconds per source."""
    done: dict[str, Any] = {}
    for source, root in roots.items():
        started = time.perf_counter()
        result = service.ingest_batch(root, pattern=PATTERNS[source], source=source, progress=None)
        elapsed = time.perf_counter() - started
        done[source] = {"files": result.succeeded, "failed": result.failed, "ingest_s": round(elapsed, 2)}
        print(
            f"  ingested {source}: {result.succeeded} files ({result.failed} failed) in {elapsed:.1f} s",
            file=sys.stderr,
        )
    return done


def check_judged_documents(service: BatchIngestService, queries: Sequence[Judged]) -> None:
    """Stop when a judged document is not in the store under its source (a typo in the set)."""
    known = {f: set(service.backend.known_documents(f)["doc_id"].to_list()) for f in FORMATS}
    absent = sorted(f"{q.id}: {d}" for q in queries for d in q.relevant if d not in known[q.format])
    if absent:
        raise SystemExit("judged documents missing from the store:\n  " + "\n  ".join(absent))


# running ---------------------------------------------------------------------------------------
def run_query(service: BatchIngestService, q: Judged) -> Outcome:
    try:
        hits = service.search(q.query, limit=K, source=q.format)
    except QueryError as exc:
        return score(Outcome(q, [], error=str(exc)))
    return score(Outcome(q, documents_in_order(hits["doc_id"].to_list())))


def time_queries(service: BatchIngestService, queries: Sequence[Judged], repeats: int) -> dict[str, Any]:
    """Search latency in ms, p50/p95 per format and overall (the store warmed first)."""
    samples: dict[str, list[float]] = {f: [] for f in FORMATS}
    for q in queries:  # warm-up
        run_query(service, q)
    for _ in range(repeats):
        for q in queries:
            started = time.perf_counter()
            try:
                service.search(q.query, limit=K, source=q.format)
            except QueryError:
                pass
            samples[q.format].append((time.perf_counter() - started) * 1000)
    samples["all"] = [s for f in FORMATS for s in samples[f]]
    return {
        name: {
            "calls": len(s),
            "p50_ms": round(percentile(s, 50), 2),
            "p95_ms": round(percentile(s, 95), 2),
            "max_ms": round(max(s), 2),
        }
        for name, s in samples.items()
        if s
    }


def slowest_queries(
    service: BatchIngestService, queries: Sequence[Judged], repeats: int
) -> list[dict[str, Any]]:
    """The judged queries by their median latency in ms, slowest first (the ten slowest)."""
    timed: list[dict[str, Any]] = []
    for q in queries:
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            try:
                service.search(q.query, limit=K, source=q.format)
            except QueryError:
                pass
            times.append((time.perf_counter() - started) * 1000)
        timed.append({"id": q.id, "query": q.query[:60], "ms": round(statistics.median(times), 2)})
    return sorted(timed, key=lambda t: -t["ms"])[:10]


def unanswered(service: BatchIngestService, queries: Sequence[Judged]) -> list[str]:
    """The judged queries that find nothing at all: on copies of the corpus every one finds
    its documents' copies (the ranks of copies say nothing, as ten copies of one passage
    fill the top ten; a query answered at 1x and empty here has lost its source's passages)."""
    empty = []
    for q in queries:
        try:
            if service.search(q.query, limit=K, source=q.format).is_empty():
                empty.append(q.id)
        except QueryError:
            pass
    return empty


def store_bytes(location: str) -> int:
    """The bytes of a SQLite store: its file and any ``-wal`` / ``-shm`` beside it."""
    path = Path(location)
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def text_bytes(roots: Mapping[str, Path]) -> int:
    """The bytes of the files ingested from ``roots`` (by the patterns of their format)."""
    return sum(corpus_size(root, PATTERNS[source])[1] for source, root in roots.items())


def evaluate(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    groups = {f: [o for o in outcomes if o.judged.format == f] for f in FORMATS}
    groups["all"] = list(outcomes)
    return {
        name: {"queries": len(os), **{m: round(v, 4) for m, v in mean_scores(os).items()}}
        for name, os in groups.items()
        if os
    }


def by_kind(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    kinds = sorted({o.judged.kind for o in outcomes})
    return {
        k: {"queries": len(os), **{m: round(v, 4) for m, v in mean_scores(os).items()}}
        for k in kinds
        for os in [[o for o in outcomes if o.judged.kind == k]]
    }


# report ----------------------------------------------------------------------------------------
def _table(title: str, rows: Mapping[str, Mapping[str, Any]], latency: Mapping[str, Any] | None) -> list[str]:
    head = "| | queries | MRR@10 | nDCG@10 | recall@10 |"
    rule = "|---|---:|---:|---:|---:|"
    if latency is not None:
        head += " p50 ms | p95 ms |"
        rule += "---:|---:|"
    lines = [f"### {title}", "", head, rule]
    for name, r in rows.items():
        line = f"| {name} | {r['queries']} | {r['mrr']:.3f} | {r['ndcg']:.3f} | {r['recall']:.3f} |"
        if latency is not None:
            t = latency.get(name, {})
            line += f" {t.get('p50_ms', float('nan')):.2f} | {t.get('p95_ms', float('nan')):.2f} |"
        lines.append(line)
    return lines


def report(result: Mapping[str, Any], outcomes: Sequence[Outcome]) -> str:
    lines = [f"## Search on the dev corpus ({result['store']}, {result['queries']} judged queries)", ""]
    lines += _table("quality and latency (1x corpus)", result["quality"], result["latency"]["1x"])
    lines += [""] + _table("quality by kind of query", result["by_kind"], None)
    for name, lat in result["latency"].items():
        if name == "1x":
            continue
        docs = sum(s["files"] for s in result["ingest"][name].values())
        lines += [
            "",
            f"### latency at {name} ({docs} documents)",
            "",
            "| | p50 ms | p95 ms | max ms |",
            "|---|---:|---:|---:|",
        ]
        lines += [
            f"| {f} | {t['p50_ms']:.2f} | {t['p95_ms']:.2f} | {t.get('max_ms', float('nan')):.2f} |"
            for f, t in lat.items()
        ]
        slow = result.get("slowest", {}).get(name)
        if slow:
            lines += [
                "",
                "slowest judged queries (median): " + "; ".join(f"`{t['id']}` {t['ms']:.0f}" for t in slow),
            ]
        empty = result.get("unanswered", {}).get(name)
        if empty is not None:
            lines += [
                "",
                f"judged queries with no hits: {len(empty)}" + (f" ({', '.join(empty)})" if empty else ""),
            ]
    documents = {name: sum(s["files"] for s in done.values()) for name, done in result["ingest"].items()}
    lines += [""] + costly_lines(result["costly"], documents)
    if result.get("size"):
        lines += [
            "",
            "### store size",
            "",
            "| corpus | MB of text | store MB | store MB per MB of text |",
            "|---|---:|---:|---:|",
        ]
        for name, size in result["size"].items():
            lines.append(
                f"| {name} | {size['text_mb']:.1f} | {size['store_mb']:.1f} "
                f"| {size['store_mb'] / size['text_mb']:.2f} |"
            )
    missed = [o for o in outcomes if o.missing or o.error]
    lines += ["", f"### answers missing from the top {K} ({len(missed)} queries)", ""]
    for o in missed:
        q = o.judged
        found = "none of its documents" if o.scores["recall"] == 0 else f"RR {o.scores['mrr']:.2f}"
        top = o.ranked[0] if o.ranked else ("error: " + o.error if o.error else "no hits")
        lines.append(
            f"- `{q.id}` ({q.kind}) `{q.query}`: wants {', '.join(o.missing) or '-'}; {found}; top: {top}"
        )
    return "\n".join(lines)


def _size(location: str, text: int) -> dict[str, float]:
    return {"text_mb": round(text / 1e6, 1), "store_mb": round(store_bytes(location) / 1e6, 1)}


@contextmanager
def _scaled_store(
    args: argparse.Namespace, kind: str, work: Path, name: str
) -> Iterator[tuple[str, dict[str, Path], Path]]:
    """The scaled store's location, its roots and the file marking its ingest done: fresh
    under ``work``, or kept under ``--keep DIR`` (copied and ingested once, unless
    ``--rebuild``)."""
    if args.keep is None:
        print(f"copying the corpus {args.scale} times", file=sys.stderr)
        roots = {f: scaled_copy(args.corpus / f, work / "scaled" / f, args.scale) for f in FORMATS}
        with fresh_store(kind, args.postgres, work, name) as location:
            yield location, roots, work / f"search-{name}.json"
        return
    keep: Path = args.keep
    keep.mkdir(parents=True, exist_ok=True)
    tree, copied = keep / f"scaled-{args.scale}", keep / f"scaled-{args.scale}.json"
    store, done = keep / f"search-{name}.db", keep / f"search-{name}.json"
    corpus = str(args.corpus.resolve())
    fresh = args.rebuild or not copied.exists() or json.loads(copied.read_text())["corpus"] != corpus
    if fresh:
        shutil.rmtree(tree, ignore_errors=True)
        print(f"copying the corpus {args.scale} times into {tree}", file=sys.stderr)
        for f in FORMATS:
            scaled_copy(args.corpus / f, tree / f, args.scale)
        copied.write_text(json.dumps({"corpus": corpus, "copies": args.scale}))
    else:
        print(f"using the scaled tree {tree}", file=sys.stderr)
    if fresh or not done.exists():  # a store not marked done is half ingested: start again
        done.unlink(missing_ok=True)
        for old in [*keep.glob(f"search-{name}.db*"), keep / f"state-{name}"]:
            shutil.rmtree(old) if old.is_dir() else old.unlink(missing_ok=True)
    yield str(store), {f: tree / f for f in FORMATS}, done


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__.split("\n")[0])
    p.add_argument(
        "--store", choices=("sqlite", "postgres"), default=None, help="default: sqlite (postgres with a DSN)"
    )
    p.add_argument(
        "--postgres", metavar="DSN", default=os.environ.get(URL_VARIABLE), help=f"or ${URL_VARIABLE}"
    )
    p.add_argument(
        "--scale", type=int, default=1, help="copies of the corpus for the latency figures (1: none)"
    )
    p.add_argument("--repeats", type=int, default=5, help="timed runs of each query (after a warm-up)")
    p.add_argument("--corpus", type=Path, default=default_corpus(), help="default: the shared dev corpus")
    p.add_argument("--judgments", type=Path, default=JUDGMENTS)
    p.add_argument("--json", type=Path, help="write every figure and per-query result here")
    p.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep the scaled tree and store in DIR and use them again (SQLite)",
    )
    p.add_argument("--rebuild", action="store_true", help="with --keep: copy and ingest anew")
    args = p.parse_args(argv)
    kind = args.store or ("postgres" if args.postgres else "sqlite")
    if args.corpus is None or not all((args.corpus / f).is_dir() for f in FORMATS):
        raise SystemExit(f"no corpus with the folders {FORMATS}: give --corpus")
    if args.keep is not None and kind != "sqlite":
        raise SystemExit("--keep keeps a SQLite store only")
    queries = load_judgments(args.judgments)
    result: dict[str, Any] = {"store": kind, "queries": len(queries), "k": K, "repeats": args.repeats}
    result["ingest"], result["latency"], result["costly"], result["size"] = {}, {}, {}, {}
    result["slowest"], result["unanswered"] = {}, {}
    with tempfile.TemporaryDirectory(prefix="docbatch-search-") as tmp:
        work = Path(tmp)
        with fresh_store(kind, args.postgres, work, "1x") as location:
            service = BatchIngestService(location, git_service=False, state_dir=work / "state-1x")
            try:
                print(f"ingesting the 1x corpus into {kind}", file=sys.stderr)
                roots = {f: args.corpus / f for f in FORMATS}
                result["ingest"]["1x"] = ingest(service, roots)
                check_judged_documents(service, queries)
                outcomes = [run_query(service, q) for q in queries]
                result["latency"]["1x"] = time_queries(service, queries, args.repeats)
                result["costly"]["1x"] = time_costly(service, args.repeats)
            finally:
                service.close()
            if kind == "sqlite":
                result["size"]["1x"] = _size(location, text_bytes(roots))
        if args.scale > 1:
            name = f"{args.scale}x"
            with _scaled_store(args, kind, work, name) as (location, roots, done):
                service = BatchIngestService(
                    location, git_service=False, state_dir=done.parent / f"state-{name}"
                )
                try:
                    if done.exists():
                        print(f"using the {name} store {location}", file=sys.stderr)
                        kept = json.loads(done.read_text(encoding="utf-8"))
                        result["ingest"][name] = kept["ingest"]
                    else:
                        print(f"ingesting the {name} corpus into {kind}", file=sys.stderr)
                        result["ingest"][name] = ingest(service, roots)
                        if args.keep is not None:
                            done.write_text(json.dumps({"ingest": result["ingest"][name]}), encoding="utf-8")
                    result["latency"][name] = time_queries(service, queries, args.repeats)
                    result["slowest"][name] = slowest_queries(service, queries, args.repeats)
                    result["unanswered"][name] = unanswered(service, queries)
                    result["costly"][name] = time_costly(service, args.repeats)
                finally:
                    service.close()
                if kind == "sqlite":
                    text = text_bytes({f: args.corpus / f for f in FORMATS}) * args.scale
                    result["size"][name] = _size(location, text)
    result["quality"] = evaluate(outcomes)
    result["by_kind"] = by_kind(outcomes)
    result["per_query"] = [
        {
            "id": o.judged.id,
            "format": o.judged.format,
            "kind": o.judged.kind,
            "query": o.judged.query,
            "ranked": o.ranked[:K],
            **{m: round(v, 4) for m, v in o.scores.items()},
            "missing": o.missing,
            **({"error": o.error} if o.error else {}),
        }
        for o in outcomes
    ]
    print(report(result, outcomes))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
