"""The ``include`` directive with an include reader (``docbatch.formats.includes``), on both
engines (the ``rst_engine`` fixture): the included text takes the directive's place, with its
options; nothing is read without a reader, nor outside the root."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from docbatch.formats.base import Parser
from docbatch.formats.includes import Includes

DOC = """\
Guide
=====

.. |what| replace:: the guide

.. include:: parts/intro.rst

.. warning::

   .. include:: parts/intro.rst
      :end-before: SECOND

.. include:: parts/code.txt
   :literal:

After the includes.
"""


def _root(tmp_path: Path) -> Path:
    (tmp_path / "parts").mkdir(parents=True)
    (tmp_path / "parts" / "intro.rst").write_text("About |what|.\n\nSECOND paragraph.\n")
    (tmp_path / "parts" / "code.txt").write_text("*not emphasis*\n")
    (tmp_path / "guide.rst").write_text(DOC)
    return tmp_path


def _parse(parser: Parser, text: str, **options: Any) -> Any:
    return parser(text, **options)


def test_included_text_takes_the_directives_place(rst_engine: Parser, tmp_path: Path) -> None:
    root = _root(tmp_path)
    includes = Includes(str(root), str(root / "guide.rst"))
    doc = _parse(rst_engine, DOC, includes=includes)
    blocks = doc.text.split("\n\n")
    assert blocks == [
        "Guide",
        "About the guide.",
        "SECOND paragraph.",
        "About the guide.",
        "*not emphasis*",
        "After the includes.",
    ]
    assert set(includes.read) == {"parts/intro.rst", "parts/code.txt"}
    assert doc.warnings == ()
    last = doc.line_range(doc.text.index("After"), len(doc.text))
    assert last is not None and last[0] == 16


def test_without_a_reader_an_include_gives_nothing(rst_engine: Parser) -> None:
    assert _parse(rst_engine, DOC).text.split("\n\n") == ["Guide", "After the includes."]


def test_a_path_out_of_the_root_is_not_read(rst_engine: Parser, tmp_path: Path) -> None:
    root = _root(tmp_path / "root")
    (tmp_path / "secret.rst").write_text("Secret.\n")
    text = "Title\n=====\n\n.. include:: ../secret.rst\n.. include:: /../secret.rst\n"
    doc = _parse(rst_engine, text, includes=Includes(str(root), str(root / "guide.rst")))
    assert "Secret" not in doc.text
    assert len(doc.warnings) == 2 and all("outside the source" in w for w in doc.warnings)


def test_an_include_in_a_literal_block_is_its_text(rst_engine: Parser, tmp_path: Path) -> None:
    root = _root(tmp_path)
    text = (
        "Title\n=====\n\nExample::\n\n   .. include:: parts/intro.rst\n\n"
        ".. code-block:: rst\n\n   .. include:: parts/code.txt\n\nEnd.\n"
    )
    doc = _parse(rst_engine, text, includes=Includes(str(root), str(root / "guide.rst")))
    assert doc.text.split("\n\n") == [
        "Title",
        "Example:",
        ".. include:: parts/intro.rst",
        ".. include:: parts/code.txt",
        "End.",
    ]


def test_a_fifo_is_not_read(rst_engine: Parser, tmp_path: Path) -> None:
    root = _root(tmp_path)
    os.mkfifo(root / "parts" / "pipe.rst")
    text = "Title\n=====\n\n.. include:: parts/pipe.rst\n"
    doc = _parse(rst_engine, text, includes=Includes(str(root), str(root / "guide.rst")))
    assert doc.text == "Title" and "not a regular file" in doc.warnings[0]
