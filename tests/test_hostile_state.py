"""Values read back from the state folder are checked before they name any file: a
tampered or damaged run manifest is moved aside, and the run starts afresh."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from docbatch import BatchIngestService
from docbatch.checkpoint import CheckpointWarning


@pytest.mark.parametrize(
    "tampered",
    [
        {"run_id": "../../escaped"},
        {"run_id": "/tmp/escaped"},
        {"run_id": 7},
        {"run_id": "ok-id", "patterns": "*.md"},
        {"run_id": "ok-id", "root": ["not", "a", "path"]},
    ],
    ids=["climbs-out", "absolute", "not-text", "patterns-not-a-list", "root-not-text"],
)
def test_a_tampered_manifest_is_moved_aside_and_never_names_a_file(tmp_path: Path, tampered: dict) -> None:
    docs = tmp_path / "work" / "docs"
    docs.mkdir(parents=True)
    for i in range(3):
        (docs / f"{i}.md").write_text(f"# Page {i}\n\ntext\n")
    service = BatchIngestService(tmp_path / "work" / "s.db")
    first = service.ingest_batch(docs, limit=1)
    state = tmp_path / "work" / "s.state"
    manifest = json.loads((state / "run.json").read_text())
    (state / "run.json").write_text(json.dumps({**manifest, **tampered}))
    before = set(tmp_path.rglob("*"))

    with pytest.warns(CheckpointWarning, match="run manifest not trusted"):
        result = service.ingest_batch(docs)
    assert result.complete and result.run_id != first.run_id and result.succeeded + result.skipped == 3
    created = {p for p in set(tmp_path.rglob("*")) - before if state not in p.parents}
    assert created == set(), created  # nothing outside the state folder
    assert not Path("/tmp/escaped").exists() and not (tmp_path / "escaped").exists()
    assert any(p.name.startswith("run.json") for p in (state / "corrupt").iterdir())
    assert os.listdir(state / "outcomes")
