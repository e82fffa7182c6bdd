"""What only the PostgreSQL store does: URLs and passwords, the extra, the schema, reconnecting."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import polars as pl
import pytest

from docbatch.errors import ConfigError, StoreError
from docbatch.frames import DOCUMENTS, PASSAGES, TOUCHED
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN
from docbatch.store import open_store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _one_document(text: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    docs = pl.DataFrame(
        [
            {
                "doc_id": "a.md",
                "title": "A",
                "format": "markdown",
                "size": 1,
                "mtime_ns": 1,
                "content_hash": "h",
                "n_chars": 1,
                "n_passages": 1,
                "fingerprint": "fp",
            }
        ],
        schema=DOCUMENTS,
    )
    passages = pl.DataFrame(
        [("a.md", 0, "a-0", "Setup", 0, len(text), text, "setup", 1, 3)], schema=PASSAGES, orient="row"
    )
    return docs, passages, pl.DataFrame(schema=TOUCHED)


def test_without_psycopg_open_store_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "docbatch.store.postgres", raising=False)
    with pytest.raises(ConfigError, match=r"pip install 'docbatch\[postgres\]'"):
        open_store("postgresql://user@localhost/docs")


def test_mask_password() -> None:
    pytest.importorskip("psycopg")
    from docbatch.store import mask_password

    assert mask_password("postgresql://ann:pw@h:5/db") == "postgresql://ann:***@h:5/db"
    assert mask_password("postgresql://ann@h/db") == "postgresql://ann@h/db"
    assert (
        mask_password("postgres://h/db?user=a&password=pw&x=1") == "postgres://h/db?user=a&password=***&x=1"
    )


def test_masking_replaces_the_password_field_and_nothing_else() -> None:
    from docbatch.store import mask_password, mask_secrets

    assert mask_password("postgresql://ann:e@[bad") == "postgresql://ann:***@[bad"  # urlsplit raises here
    assert (
        mask_password("postgresql://ann:p@ss@h/db?password=x#f") == "postgresql://ann:***@h/db?password=***#f"
    )
    url = "postgresql://ann:e@db.example/docs"
    message = 'connection failed: password authentication failed for user "ann" (e)'
    assert mask_secrets(message, url) == message
    assert mask_secrets(f"could not use {url}: timeout", url) == (
        "could not use postgresql://ann:***@db.example/docs: timeout"
    )
    assert mask_secrets("host=h password='s e' user=ann", url) == "host=h password=*** user=ann"
    assert mask_secrets('spaces found in "p w"', "postgresql://ann:p w@h/db") == 'spaces found in "***"'


@pytest.mark.parametrize(
    "url", ["postgresql://ann:s3cret@[bad", "postgresql://ann:s3 cret@h/db", "postgresql://h/db?x=1"]
)
def test_a_url_libpq_cannot_read_is_a_config_error_without_the_password(url: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(ConfigError, match="not a usable PostgreSQL URL") as caught:
        open_store(url)
    assert "s3cret" not in str(caught.value) and "s3 cret" not in str(caught.value)


def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://ann:s3cret@127.0.0.1:{_free_port()}/docs"
    with pytest.raises(StoreError, match="cannot open store") as caught:
        open_store(url)
    assert "s3cret" not in str(caught.value)
    assert f"postgresql://ann:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in str(caught.value)


def test_open_store_url_gives_a_postgres_store(postgres_schema_url: str) -> None:
    from docbatch.store import mask_password
    from docbatch.store.postgres import PostgresStore

    store = open_store(postgres_schema_url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.location == mask_password(postgres_schema_url)
    finally:
        store.close()


def test_schema_has_a_generated_tsvector_with_a_gin_index(postgres_schema_url: str) -> None:
    import psycopg

    open_store(postgres_schema_url).close()
    with psycopg.connect(postgres_schema_url) as conn:
        indexes = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'passages' AND indexname = 'passages_tsv'"
        ).fetchall()
        generated = conn.execute(
            "SELECT is_generated FROM information_schema.columns "
            "WHERE table_name = 'passages' AND column_name = 'tsv' AND table_schema = current_schema()"
        ).fetchall()
    assert len(indexes) == 1 and "USING gin (tsv)" in indexes[0][0]
    assert generated == [("ALWAYS",)]


def test_dotted_names_are_split_like_sqlite_does(postgres_schema_url: str) -> None:
    store = open_store(postgres_schema_url)
    try:
        store.write_slice("s", *_one_document("edit httpd.conf and mail admin@example.org"))
        for query in ("httpd", "conf", "httpd.conf", "example", "admin@example.org", "htt*"):
            assert store.search(query)["doc_id"].to_list() == ["a.md"], query
    finally:
        store.close()


def test_nul_characters_are_stored_as_replacement_characters(postgres_schema_url: str) -> None:
    store = open_store(postgres_schema_url)
    try:
        store.write_slice("s", *_one_document("before\x00after"))
        assert store.passages("s", "a.md")["text"].to_list() == ["before\ufffdafter"]
    finally:
        store.close()


def test_a_lost_connection_is_reopened(postgres_schema_url: str) -> None:
    import psycopg

    name = f"docbatch-{uuid.uuid4().hex[:8]}"
    store = open_store(f"{postgres_schema_url}&application_name={name}")
    try:
        store.write_slice("s", *_one_document("first"))
        with psycopg.connect(postgres_schema_url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            )
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone() != (0,):
                time.sleep(0.02)
        with pytest.raises(StoreError, match="lost the connection"):
            store.counts()
        assert store.counts() == {"documents": 1, "passages": 1}
    finally:
        store.close()


def test_another_schema_version_is_refused(postgres_schema_url: str) -> None:
    import psycopg

    open_store(postgres_schema_url).close()
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        conn.execute("UPDATE docbatch_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="schema version 99"):
        open_store(postgres_schema_url)


def test_a_store_opens_and_reads_while_a_write_is_open(postgres_schema_url: str) -> None:
    import psycopg

    open_store(postgres_schema_url).close()
    with psycopg.connect(postgres_schema_url) as writer:
        writer.execute("DELETE FROM passages WHERE false")
        from docbatch.store.postgres import PostgresStore

        reader = PostgresStore(postgres_schema_url, busy_timeout_s=0.2)
        try:
            assert reader.counts() == {"documents": 0, "passages": 0}
        finally:
            reader.close()
        writer.rollback()


def test_the_cli_ingests_into_postgres(postgres_schema_url: str, sample_tree: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "docbatch", "ingest-docs-batch", str(sample_tree)]
    command += ["--db", postgres_schema_url]
    options = ["--pattern", SAMPLE_PATTERN, "--max-file-size", str(SAMPLE_MAX_FILE_SIZE), "--quiet", "--json"]
    run = subprocess.run([*command, *options], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert (tmp_path / "docbatch.state").is_dir()
    store = open_store(postgres_schema_url)
    try:
        assert store.counts()["documents"] == summary["succeeded"] > 20
    finally:
        store.close()


def test_a_store_made_before_the_sources_table_gets_it(postgres_schema_url: str) -> None:
    import psycopg

    store = open_store(postgres_schema_url)
    store.write_slice("docs", *_one_document("echidna"))
    store.close()
    with psycopg.connect(postgres_schema_url, autocommit=True) as conn:
        conn.execute("DROP TABLE docbatch_sources")
    store = open_store(postgres_schema_url)
    try:
        listed = store.sources()  # type: ignore[attr-defined]
        assert listed.select("name", "root", "documents").rows() == [("docs", None, 1)]
        store.record_source("docs", "/data/docs")  # type: ignore[attr-defined]
        assert store.sources()["root"].to_list() == ["/data/docs"]  # type: ignore[attr-defined]
    finally:
        store.close()


def test_the_cli_lists_renames_and_drops_sources_in_postgres(
    postgres_schema_url: str, sample_tree: Path, tmp_path: Path
) -> None:
    def docbatch(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "docbatch", *args, "--db", postgres_schema_url]
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=120)

    ingest = docbatch("ingest", str(sample_tree), "--pattern", "*.md", "--quiet")
    assert ingest.returncode == 0, ingest.stderr
    listed = json.loads(docbatch("sources", "--json").stdout)
    assert [(s["name"], s["root"]) for s in listed] == [("sample_docs", str(sample_tree))]
    assert docbatch("sources", "rename", "sample_docs", "docs").returncode == 0
    assert [s["name"] for s in json.loads(docbatch("sources", "--json").stdout)] == ["docs"]
    refused = docbatch("sources", "drop", "docs")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    dropped = docbatch("sources", "drop", "docs", "--yes")
    assert dropped.returncode == 0, dropped.stderr
    assert json.loads(docbatch("sources", "--json").stdout) == []
