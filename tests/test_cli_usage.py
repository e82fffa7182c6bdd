"""The command line as a new user meets it: version, help, options, bad values, pipes, leftovers."""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import docbatch
from docbatch.cli import build_parser, main
from docbatch.sample import SAMPLE_MAX_FILE_SIZE, SAMPLE_PATTERN

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "docbatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Each subcommand's parser by its name (aliases left out)."""
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    names = {action.dest for action in sub._choices_actions}
    return {name: p for name, p in sub.choices.items() if name in names}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {
        option
        for action in parser._actions
        for option in action.option_strings
        if option not in ("-h", "--help")
    }


def test_version_prints_the_package_version(tmp_path: Path) -> None:
    run = _run("--version", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"docbatch {docbatch.__version__}\n"


def test_every_argument_of_every_subcommand_has_a_help_text() -> None:
    commands = _subcommands(build_parser())
    assert {"ingest-docs-batch", "plan", "verify", "search", "report", "sample"} <= set(commands)
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, parser in commands.items()
        for action in parser._actions
        if not (action.help or "").strip()
    ]
    assert missing == []


def test_db_help_says_it_takes_a_path_or_a_postgresql_url() -> None:
    for name, parser in _subcommands(build_parser()).items():
        for action in parser._actions:
            if "--db" in action.option_strings:
                assert action.help is not None, name
                assert "path" in action.help and "postgresql://" in action.help, name


def _readme_synopsis() -> dict[str, set[str]]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Command line\n\n```text\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    synopsis: dict[str, set[str]] = {}
    command = ""
    for line in block.group(1).splitlines():
        words = line.split()
        if line.startswith("docbatch "):
            command = words[1] if not words[1].startswith("-") else ""
            synopsis.setdefault(command, set())
        synopsis[command] |= set(re.findall(r"--[a-z][a-z-]*", line))
    return synopsis


def test_readme_synopsis_lists_every_subcommand_and_option() -> None:
    parser = build_parser()
    expected = {name: _options(p) for name, p in _subcommands(parser).items()}
    expected[""] = _options(parser)
    assert _readme_synopsis() == expected


def _ingest(tree: Path, *more: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    options = ["--pattern", SAMPLE_PATTERN, "--max-file-size", str(SAMPLE_MAX_FILE_SIZE), "--quiet"]
    return _run("ingest-docs-batch", str(tree), *options, *more, cwd=cwd)


def test_state_dir_is_understood_by_every_command_after_an_ingest(sample_tree: Path, tmp_path: Path) -> None:
    state = tmp_path / "elsewhere"
    ingest = _ingest(sample_tree, "--db", "y.db", "--state-dir", str(state), "--json", cwd=tmp_path)
    assert ingest.returncode == 0, ingest.stderr
    assert not (tmp_path / "y.state").exists()
    (sample_tree / "CONTRIBUTING.md").unlink()

    verify = _run("verify", "--db", "y.db", "--state-dir", str(state), "--json", cwd=tmp_path)
    assert verify.returncode == 1, verify.stderr  # the last run is found, and the deleted file
    problems = json.loads(verify.stdout)["problems"]
    assert [p["doc_id"] for p in problems if p["kind"] == "extra"] == ["CONTRIBUTING.md"]

    plan = _run("plan", str(sample_tree), "--db", "y.db", "--state-dir", str(state), cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    report = _run("report", "--db", "y.db", "--state-dir", str(state), cwd=tmp_path)
    assert report.returncode == 0 and "succeeded" in report.stdout, report.stderr
    search = _run("search", "quokka", "--db", "y.db", "--state-dir", str(state), cwd=tmp_path)
    assert search.returncode == 0 and "1." in search.stdout, search.stderr
    assert not (tmp_path / "y.state").exists()


@pytest.mark.parametrize("value", ["10MB", "200KB", "52428800", "1.5MB", "2 kb", "1_000"])
def test_environment_and_option_accept_the_same_sizes(value: str, sample_tree: Path, tmp_path: Path) -> None:
    from docbatch.config import BatchConfig, parse_size

    expected = parse_size(value, "BATCH_MAX_FILE_SIZE")
    assert BatchConfig.from_environment({"BATCH_MAX_FILE_SIZE": value}).max_file_size == expected
    env = {**os.environ, "BATCH_MAX_FILE_SIZE": value}
    by_env = _run("plan", str(sample_tree), "--json", "--db", "y.db", cwd=tmp_path, env=env)
    by_option = _run(
        "plan", str(sample_tree), "--json", "--db", "y.db", f"--max-file-size={value}", cwd=tmp_path
    )
    assert by_env.returncode == 0, by_env.stderr
    assert by_option.returncode == 0, by_option.stderr
    assert json.loads(by_env.stdout) == json.loads(by_option.stdout)


def test_size_values() -> None:
    from docbatch.config import parse_size

    assert parse_size("10MB", "x") == 10 * 1024**2
    assert parse_size("200KB", "x") == 200 * 1024
    assert parse_size("1.5MB", "x") == 1536 * 1024
    assert parse_size("4096", "x") == 4096
    assert parse_size(" 2 GiB ", "x") == 2 * 1024**3
    assert parse_size("3k", "x") == 3 * 1024


@pytest.mark.parametrize("value", ["lots", "10XB", "0", "-5MB", "1.5", "0.0001KB", "MB", ""])
def test_a_bad_size_names_the_variable_or_option_the_value_and_what_is_allowed(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from docbatch.config import BatchConfig
    from docbatch.errors import ConfigError

    if value.strip():
        with pytest.raises(ConfigError) as caught:
            BatchConfig.from_environment({"BATCH_MAX_FILE_SIZE": value})
        message = str(caught.value)
        assert f"BATCH_MAX_FILE_SIZE={value!r}" in message and "200KB" in message and "1.5MB" in message

    with pytest.raises(SystemExit) as exit_info:
        main(["ingest-docs-batch", str(tmp_path), f"--max-file-size={value}"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--max-file-size" in err and repr(value) in err and "200KB" in err and err.count("\n") == 1, err

    monkeypatch.setenv("BATCH_MAX_FILE_SIZE", value or "x")
    assert main(["plan", str(tmp_path)]) == 2
    assert "BATCH_MAX_FILE_SIZE=" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["search", "word"], ["ingest-docs-batch", "."], ["verify", "."]])
def test_a_malformed_postgresql_url_is_one_line_and_exit_2(command: list[str], tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    run = _run(*command, "--db", "postgresql://ann:s3cret@[bad", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("docbatch: error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr and "s3cret" not in run.stderr
    assert "postgresql://ann:***@[bad" in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_one_letter_password_masks_only_the_password(tmp_path: Path) -> None:
    pytest.importorskip("psycopg")
    url = f"postgresql://ann:e@127.0.0.1:{_free_port()}/docs"
    run = _run("search", "word", "--db", url, cwd=tmp_path)
    assert run.returncode == 3, run.stderr
    assert run.stderr.count("\n") == 1 and "***" in run.stderr, run.stderr
    message = run.stderr.replace(url.replace(":e@", ":***@"), "URL")
    assert "***" not in message  # nothing else was masked
    assert "connection" in message and "failed" in message, message


@pytest.mark.parametrize(
    "args",
    [
        ["ingest-docs-batch", "nonexistent"],
        ["ingest-docs-batch", "a-file.txt"],
        ["plan", "nonexistent"],
        ["verify", "nonexistent"],
    ],
)
def test_a_refused_command_leaves_no_store_and_no_state_behind(args: list[str], tmp_path: Path) -> None:
    (tmp_path / "a-file.txt").write_text("not a folder", encoding="utf-8")
    run = _run(*args, "--db", "y.db", cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file.txt"]


def test_ingest_batch_on_a_missing_directory_takes_no_lock_and_makes_no_state_folder(tmp_path: Path) -> None:
    from docbatch import BatchIngestService
    from docbatch.errors import RootError

    with BatchIngestService(tmp_path / "y.db") as service, pytest.raises(RootError, match="nonexistent"):
        service.ingest_batch(tmp_path / "nonexistent")
    assert not (tmp_path / "y.state").exists()


def _closed_pipe(*args: str, cwd: Path) -> tuple[int, str]:
    """Run docbatch with its stdout a pipe whose reader has gone before anything is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "docbatch", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    with process.stderr:
        err = process.stderr.read()
    return process.wait(timeout=120), err


@pytest.mark.parametrize(
    "args",
    [["search", "the", "--json", "--db", "y.db"], ["plan", "{tree}", "--db", "y.db"], ["--help"]],
)
def test_output_into_a_closed_pipe_exits_quietly(args: list[str], sample_tree: Path, tmp_path: Path) -> None:
    assert _ingest(sample_tree, "--db", "y.db", cwd=tmp_path).returncode == 0
    (sample_tree / "new.md").write_text("# New\n\nA new page.\n", encoding="utf-8")
    code, err = _closed_pipe(*(a.format(tree=sample_tree) for a in args), cwd=tmp_path)
    assert err == ""
    # 128 + SIGPIPE, as a tool the shell's pipe stopped; argparse's help ignores the closed pipe
    assert code == (0 if args == ["--help"] else 141)


def test_a_pipe_to_head_gets_its_bytes_and_no_traceback(sample_tree: Path, tmp_path: Path) -> None:
    assert _ingest(sample_tree, "--db", "y.db", cwd=tmp_path).returncode == 0
    for n in range(3000):  # a plan longer than a pipe holds
        (sample_tree / f"page{n:04}.md").write_text("# Page\n", encoding="utf-8")
    shell = (
        f"{sys.executable} -m docbatch plan {sample_tree} --db y.db --json | head -c 300; "
        f"{sys.executable} -m docbatch plan {sample_tree} --db y.db | head -n 2"
    )
    run = subprocess.run(["sh", "-c", shell], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.stderr == ""
    assert run.stdout.startswith("[{") and run.stdout.count("\n") == 2


def test_plan_gives_no_none_reason_for_new_files(sample_tree: Path, tmp_path: Path) -> None:
    plan = _run("plan", str(sample_tree), "--pattern", "*.md", cwd=tmp_path)
    assert plan.returncode == 0, plan.stderr
    assert "new" in plan.stdout
    assert "None" not in plan.stdout


def test_the_module_docstring_names_every_subcommand() -> None:
    from docbatch import cli

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = {name for name in sub.choices if name != "ingest"}  # "ingest" is an alias
    assert commands == {
        "ingest-docs-batch",
        "plan",
        "verify",
        "search",
        "report",
        "runs",
        "export",
        "sources",
        "sample",
    }
    doc = cli.__doc__ or ""
    assert [name for name in sorted(commands) if f"``{name}``" not in doc] == []
