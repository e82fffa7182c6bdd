"""Sources and their roots, as a user meets them on the command line: ``verify --repair``
from another folder, a renamed root, and ``docbatch sources`` (list, rename, drop)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from docbatch import BatchIngestService


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATCH_")}
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def _tree(folder: Path, n: int, *, word: str = "kestrel") -> Path:
    folder.mkdir(parents=True)
    for i in range(n):
        sub = folder / f"part{i % 3}"
        sub.mkdir(exist_ok=True)
        (sub / f"page{i:03d}.md").write_text(f"# Page {i}\n\nThe {word} note number {i}.\n", encoding="utf-8")
    return folder


def _documents(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as con:
        return dict(con.execute("SELECT source, count(*) FROM documents GROUP BY source").fetchall())


def _ingest(tree: Path, db: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return _cli("ingest", str(tree), "--db", str(db), "--pattern", "*.md", "--quiet", *more, cwd=db.parent)


def _one_line_refusal(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("docbatch: error: ")]
    assert len(lines) == 1 and run.stderr.endswith(lines[0] + "\n"), run.stderr
    assert "Traceback" not in run.stderr
    return lines[0]


# 1. verify --repair never does more harm than --delete-missing ------------------------------


def test_repair_from_another_folder_of_the_same_name_is_refused(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 40)
    other = _tree(tmp_path / "OTHER" / "docs", 1)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    assert _documents(db) == {"docs": 40}

    line = _one_line_refusal(_cli("verify", str(other), "--db", str(db), "--repair", cwd=tmp_path))
    assert str(docs) in line and "--source docs" in line and "nothing was changed" in line
    assert _documents(db) == {"docs": 40}

    # naming the source explicitly passes the root check, and meets the mass-delete guard
    run = _cli("verify", str(other), "--db", str(db), "--repair", "--source", "docs", cwd=tmp_path)
    line = _one_line_refusal(run)
    assert "refusing to delete 39 of 40 stored documents" in line and "--allow-mass-delete" in line
    assert _documents(db) == {"docs": 40}

    # without --repair verify only reports (exit 1), and changes nothing
    run = _cli("verify", str(other), "--db", str(db), cwd=tmp_path)
    assert run.returncode == 1 and "39 problems" in run.stdout, run.stdout + run.stderr
    assert _documents(db) == {"docs": 40}

    run = _cli(
        "verify",
        str(other),
        "--db",
        str(db),
        "--repair",
        "--source",
        "docs",
        "--allow-mass-delete",
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert _documents(db) == {"docs": 1}


def test_repair_of_its_own_root_goes_through_the_mass_delete_guard(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 20)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    (docs / "part0" / "page000.md").unlink()
    run = _cli("verify", str(docs), "--db", str(db), "--repair", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr  # 1 of 20: under max_delete_share
    assert _documents(db) == {"docs": 19}

    for page in sorted((docs / "part1").glob("*.md")):
        page.unlink()
    line = _one_line_refusal(_cli("verify", "--db", str(db), "--repair", cwd=tmp_path))
    assert "refusing to delete 7 of 19" in line and "max_delete_share=20%" in line
    assert _documents(db) == {"docs": 19}
    run = _cli("verify", "--db", str(db), "--repair", "--allow-mass-delete", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _documents(db) == {"docs": 12}


# 2. a renamed root -----------------------------------------------------------------------------


def test_a_renamed_root_is_refused_with_the_way_to_move_the_source(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 30)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    docs2 = docs.rename(tmp_path / "docs2")

    line = _one_line_refusal(_ingest(docs2, db))
    assert "--source docs" in line and "docbatch sources rename docs docs2" in line
    assert _documents(db) == {"docs": 30}  # no second copy of every document

    # the way out the message gives: keep the name, move the root
    run = _ingest(docs2, db, "--source", "docs", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["succeeded"] == 0  # nothing re-parsed: same files
    assert _documents(db) == {"docs": 30}
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["root"], s["documents"]) for s in listed] == [("docs", str(docs2), 30)]
    hits = json.loads(
        _cli("search", "kestrel", "--db", str(db), "--json", "--limit", "100", cwd=tmp_path).stdout
    )
    assert len(hits) == 30


def test_sources_rename_then_ingest_the_renamed_root(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 12)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    docs2 = docs.rename(tmp_path / "docs2")
    run = _cli("sources", "rename", "docs", "docs2", "--db", str(db), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "12 documents" in run.stdout
    run = _ingest(docs2, db, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["succeeded"] == 0
    assert _documents(db) == {"docs2": 12}
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["root"]) for s in listed] == [("docs2", str(docs2))]
    assert _cli("verify", "--db", str(db), cwd=tmp_path).returncode == 0


def test_a_copy_beside_its_original_is_not_a_rename(tmp_path: Path) -> None:
    """The original root still exists: the copy is a source of its own, as before."""
    docs = _tree(tmp_path / "docs", 10)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    copy = _tree(tmp_path / "copy", 10)
    assert _ingest(copy, db).returncode == 0
    assert _documents(db) == {"docs": 10, "copy": 10}


def test_a_different_tree_in_a_new_folder_is_not_a_rename(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 10)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    docs.rename(tmp_path / "gone")
    (tmp_path / "gone" / "part0" / "page000.md").unlink()
    (tmp_path / "gone").rename(tmp_path / "elsewhere")
    other = _tree(tmp_path / "other", 10, word="heron")  # same names, other content
    assert _ingest(other, db).returncode == 0
    assert _documents(db) == {"docs": 10, "other": 10}


def test_the_same_name_in_a_new_place_takes_the_source_over(tmp_path: Path) -> None:
    """A checkout at a new path (the old one gone), same folder name: the source moves."""
    docs = _tree(tmp_path / "build1" / "docs", 8)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    (tmp_path / "build2").mkdir()
    moved = docs.rename(tmp_path / "build2" / "docs")
    run = _ingest(moved, db, "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["succeeded"] == 0
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["root"]) for s in listed] == [("docs", str(moved))]


def test_ingest_delete_missing_from_another_folder_of_the_same_name_is_refused(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 10)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    other = _tree(tmp_path / "OTHER" / "docs", 9)
    line = _one_line_refusal(_ingest(other, db, "--delete-missing"))
    assert "--source docs" in line
    assert _documents(db) == {"docs": 10}
    run = _ingest(other, db)  # without deleting: a warning, and the files are added
    assert run.returncode == 0, run.stderr
    assert "not the folder source 'docs' was ingested from" in run.stderr


# 3. docbatch sources ---------------------------------------------------------------------------


def test_sources_list_rename_and_drop(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    assert _cli("sources", "--db", str(db), cwd=tmp_path).returncode == 2  # no store: nothing made
    assert not db.exists()
    a, b = _tree(tmp_path / "alpha", 5), _tree(tmp_path / "beta", 3, word="heron")
    assert _ingest(a, db).returncode == 0 and _ingest(b, db).returncode == 0

    run = _cli("sources", "--db", str(db), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[:4] == ["source", "documents", "last", "ingest"]
    assert lines[1].split()[0:2] == ["alpha", "5"] and lines[1].endswith(str(a))
    assert lines[2].split()[0:2] == ["beta", "3"] and lines[2].endswith(str(b))

    listed = json.loads(_cli("sources", "list", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["documents"]) for s in listed] == [("alpha", 5), ("beta", 3)]
    assert all(s["last_ingest"].startswith("20") for s in listed)

    line = _one_line_refusal(_cli("sources", "rename", "alpha", "beta", "--db", str(db), cwd=tmp_path))
    assert "beta" in line and "already" in line
    line = _one_line_refusal(_cli("sources", "rename", "nope", "x", "--db", str(db), cwd=tmp_path))
    assert "no source 'nope'" in line
    _one_line_refusal(_cli("sources", "rename", "alpha", "--db", str(db), cwd=tmp_path))

    line = _one_line_refusal(_cli("sources", "drop", "beta", "--db", str(db), cwd=tmp_path))
    assert "--yes" in line and "3 documents" in line
    assert _documents(db) == {"alpha": 5, "beta": 3}
    run = _cli("sources", "drop", "beta", "--yes", "--db", str(db), cwd=tmp_path)
    assert run.returncode == 0 and "3 documents" in run.stdout, run.stderr
    assert _documents(db) == {"alpha": 5}
    hits = json.loads(_cli("search", "heron", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert hits == []
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [s["name"] for s in listed] == ["alpha"]


def test_an_older_store_without_a_sources_table_keeps_working(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 6)
    db = tmp_path / "d.db"
    assert _ingest(docs, db).returncode == 0
    with sqlite3.connect(db) as con:
        con.execute("DROP TABLE sources")
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["root"], s["documents"]) for s in listed] == [("docs", None, 6)]
    other = _tree(tmp_path / "OTHER" / "docs", 1)
    # an unknown root is not an error: the mass-delete guard still holds
    line = _one_line_refusal(_cli("verify", str(other), "--db", str(db), "--repair", cwd=tmp_path))
    assert "refusing to delete 5 of 6" in line
    assert _ingest(docs, db).returncode == 0  # the next ingest records the root
    listed = json.loads(_cli("sources", "--db", str(db), "--json", cwd=tmp_path).stdout)
    assert [(s["name"], s["root"]) for s in listed] == [("docs", str(docs))]


def test_python_api(tmp_path: Path) -> None:
    docs = _tree(tmp_path / "docs", 4)
    with BatchIngestService(tmp_path / "d.db") as service:
        service.ingest_batch(docs)
        frame = service.sources()
        assert isinstance(frame, pl.DataFrame)
        assert frame.columns == ["name", "root", "documents", "last_ingest"]
        assert frame.row(0)[:3] == ("docs", str(docs), 4)
        assert service.rename_source("docs", "manual") == 4
        assert service.sources()["name"].to_list() == ["manual"]
        assert service.search("kestrel", source="manual").height == 4
        assert service.drop_source("manual") == 4
        assert service.sources().height == 0 and service.backend.counts()["documents"] == 0


def test_the_rename_check_reads_a_sample_not_the_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbatch.plan.hashing import file_sha256
    from docbatch.state import sources

    docs = _tree(tmp_path / "docs", 300)
    with BatchIngestService(tmp_path / "d.db") as service:
        service.ingest_batch(docs, "*.md")
        moved = docs.rename(tmp_path / "docs2")
        hashed: list[str] = []

        def counting(path: str) -> str | None:
            hashed.append(path)
            return file_sha256(path)

        monkeypatch.setattr(sources, "file_sha256", counting)
        found = sources.moved_source(service.backend, service.sources(), moved)
        assert found == ("docs", str(docs), sources.RENAME_SAMPLE, sources.RENAME_SAMPLE)
        assert 0 < len(hashed) <= sources.RENAME_HASHED
        # one changed file among the hashed ones is enough to say "not the same tree"
        Path(hashed[0]).write_text("# changed\n", encoding="utf-8")
        hashed.clear()
        assert sources.moved_source(service.backend, service.sources(), moved) is None
