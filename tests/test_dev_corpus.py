"""Ingest the shared dev corpus (real CMake, Hugo and Apache httpd docs) when it is present."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from docbatch import BatchIngestService, IngestResult
from docbatch.plan.inventory import scan

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "corpora" / "dev"
PATTERN = "*.md,*.rst,*.txt,*.html,*.html.en,*.html.en.utf8"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.corpus,
    pytest.mark.skipif(not DEV.is_dir(), reason="the shared dev corpus is not present on this machine"),
]

# a distinctive term, and the file that must come up for it
KNOWN = {
    "CheckCaseOnly": "html/docs/manual/mod/mod_speling.html.en.utf8",
    "EXPORT_COMPILE_COMMANDS": "rst/Help/prop_tgt/EXPORT_COMPILE_COMMANDS.rst",
    '"Subresource Integrity"': "md/content/en/functions/resources/Fingerprint.md",
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BatchIngestService, IngestResult]]:
    db = tmp_path_factory.mktemp("dev") / "dev.db"
    service = BatchIngestService(db)
    result = service.ingest_batch(DEV, pattern=PATTERN, executor="process")
    while result.pending:
        result = service.ingest_batch(DEV, pattern=PATTERN, executor="process")
    yield service, result
    service.close()


def test_every_file_becomes_a_document(ingested: tuple[BatchIngestService, IngestResult]) -> None:
    service, result = ingested
    expected = scan(DEV, PATTERN)
    assert result.total_files == expected.height >= 3714
    assert result.failed == 0, result.errors[:5]
    assert result.succeeded == expected.height
    assert service.backend.counts()["documents"] == expected.height


@pytest.mark.parametrize("term", list(KNOWN))
def test_a_known_term_finds_its_file(ingested: tuple[BatchIngestService, IngestResult], term: str) -> None:
    service, _ = ingested
    hits = service.search(term, limit=5)
    assert KNOWN[term] in hits["doc_id"].to_list()
