"""The live display in a real terminal: the CLI under a pseudo-terminal of 80 and 40 columns.

What the terminal shows is rebuilt from the bytes the process wrote, the way a terminal
does it: a character past the last column wraps to a new line, ``\\r`` goes back to the
first column, ``\\n`` starts a new line. A bar that fits redraws in place (``\\r``); one
that is too wide wraps, and every redraw then leaves a line behind.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

FILES = 600
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("terminal") / "corpus"
    for i in range(FILES):
        folder = root / f"part{i % 6}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"page{i}.md").write_text(f"# Page {i}\n\n" + f"Text about widget number {i}.\n" * 40)
    return root


def _run_in_pty(args: list[str], cwd: Path, columns: int, rows: int = 24) -> tuple[int, str]:
    """Run ``args`` with stdin, stdout and stderr on a pseudo-terminal of ``columns``."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "COLUMNS": str(columns), "LINES": str(rows), "TERM": "xterm"}
    proc = subprocess.Popen(args, cwd=cwd, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    data = os.read(master, 65536)
                except OSError:  # the slave side is closed: the process has exited
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
        code = proc.wait(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    return code, b"".join(chunks).decode("utf-8", "replace")


def _screen_lines(output: str, columns: int) -> tuple[int, list[str]]:
    """Lines the terminal scrolled through (newlines and wraps), and every text drawn
    between two carriage returns or newlines."""
    text = ANSI.sub("", output).replace("\r\n", "\n")
    lines, column = 0, 0
    for char in text:
        if char == "\r":
            column = 0
        elif char == "\n":
            lines, column = lines + 1, 0
        else:
            if column == columns:  # auto-wrap: the character goes on the next line
                lines, column = lines + 1, 0
            column += 1
    drawn = [piece for piece in re.split(r"[\r\n]", text) if piece.strip()]
    return lines, drawn


def _ingest_in_pty(corpus: Path, tmp_path: Path, columns: int) -> tuple[str, int, list[str]]:
    args = [sys.executable, "-m", "docbatch", "ingest-docs-batch", str(corpus), "--pattern", "*.md"]
    args += ["--db", str(tmp_path / "docs.db"), "--chunk-size", "5", "--executor", "serial"]
    code, output = _run_in_pty(args, tmp_path, columns)
    assert code == 0, output[-3000:]
    lines, drawn = _screen_lines(output, columns)
    return output, lines, drawn


@pytest.mark.slow
@pytest.mark.parametrize("columns", [80, 40])
def test_the_bar_fits_the_terminal_and_redraws_in_place(corpus: Path, tmp_path: Path, columns: int) -> None:
    output, lines, drawn = _ingest_in_pty(corpus, tmp_path, columns)
    bars = [piece for piece in drawn if "files/s" in piece and f"/{FILES}" in piece]
    assert len(bars) >= 5, output[-2000:]  # it was redrawn as the run went
    too_wide = [bar for bar in bars if len(bar) > columns]
    assert not too_wide, too_wide[:3]
    final = bars[-1]
    assert f"{FILES}/{FILES}" in final and "100%" in final, final
    # the bar's redraws are in place: the whole run scrolls the log lines and the
    # summary (about 10 lines), never one line per redraw
    assert lines < 25, (lines, len(bars), output[-2000:])


def test_auto_gives_log_lines_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(30):
        (root / f"p{i}.md").write_text(f"# P{i}\n\ntext\n")
    proc = subprocess.run(
        [sys.executable, "-m", "docbatch", "ingest-docs-batch", str(root), "--pattern", "*.md"]
        + ["--db", str(tmp_path / "d.db"), "--executor", "serial"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr and "\x1b[" not in proc.stderr
    assert "ingesting 30 files" in proc.stderr
    assert "30/30 files" in proc.stderr  # the final log line


@pytest.mark.slow
def test_auto_in_a_jupyter_kernel_without_ipywidgets_is_a_text_bar(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    root = tmp_path / "docs"
    root.mkdir()
    for i in range(30):
        (root / f"p{i}.md").write_text(f"# P{i}\n\ntext\n")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell("import sys\nsys.modules['ipywidgets'] = None  # as if not installed"),
        nbformat.v4.new_code_cell(
            "from docbatch import BatchIngestService\n"
            "result = BatchIngestService('docs.db').ingest_batch('docs', '*.md', progress='auto')\n"
            "print('RESULT', result.succeeded)"
        ),
    ]
    client = nbclient.NotebookClient(notebook, timeout=300, resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    outputs = notebook.cells[1].outputs
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    stdout = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert "RESULT 30" in stdout
    frames = [f for f in stderr.replace("\n", "\r").split("\r") if f.strip()]
    assert frames and "100%|" in frames[-1] and "30/30" in frames[-1] and "files/s" in frames[-1], stderr
