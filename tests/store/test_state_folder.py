"""One rule for where a store's state folder is: the service writes there, ``docbatch runs``
and ``docbatch report`` read there, and ``load_run`` given the store finds the run there."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import docbatch
from docbatch import BatchIngestService, load_run, state_dir_for


def _docbatch(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(params=["sqlite path", "sqlite url", "postgresql url"])
def spec(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store as a user names it, with the working directory a fresh folder."""
    monkeypatch.chdir(tmp_path)
    if request.param == "sqlite path":
        return str(tmp_path / "stores" / "docs.db")
    if request.param == "sqlite url":
        return f"sqlite:///{tmp_path / 'stores' / 'docs.db'}"
    url: str = request.getfixturevalue("postgres_schema_url")
    return url


def test_service_cli_and_load_run_agree_on_the_state_folder(spec: str, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# A\n\nalpha words\n")
    (docs / "b.md").write_text("# B\n\nbeta words\n")
    expected = state_dir_for(spec)
    assert expected == (
        Path("docbatch.state") if spec.startswith("postgresql") else tmp_path / "stores" / "docs.state"
    )

    ingest = _docbatch("ingest-docs-batch", str(docs), "--db", spec, cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    written = sorted(p.name for p in (tmp_path / expected).iterdir())  # the service's rule
    assert "run.json" in written and "outcomes.parquet" in written
    run_id = json.loads((tmp_path / expected / "run.json").read_text())["run_id"]

    runs = _docbatch("runs", "--db", spec, "--json", cwd=tmp_path)  # the command line's rule
    assert runs.returncode == 0, runs.stderr
    assert [run["run_id"] for run in json.loads(runs.stdout)] == [run_id]
    report = _docbatch("report", "--db", spec, "--json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout)["performance"]["run_id"] == run_id

    loaded = load_run(spec)  # load_run's rule, given the store rather than its folder
    assert (loaded.run_id, loaded.succeeded) == (run_id, 2)
    assert Path(loaded.state_dir).resolve() == (tmp_path / expected).resolve()

    with BatchIngestService(spec) as service:
        assert service.state_dir.resolve() == (tmp_path / expected).resolve()


def test_the_rule_for_store_objects_path_objects_and_the_default(tmp_path: Path) -> None:
    sqlite = docbatch.SQLiteStore(tmp_path / "x.db")
    try:
        assert state_dir_for(sqlite) == tmp_path / "x.state"
        assert state_dir_for(tmp_path / "y.db") == tmp_path / "y.state"
        assert state_dir_for(None) == Path("docbatch.state")
        assert state_dir_for("sqlite:///") == Path("docbatch.state")  # sqlite:/// alone is ./docbatch.db
    finally:
        sqlite.close()
