"""Tables keep one line per row with their cells separated, and an image's alt text and a
figure's caption are text, in every format and reStructuredText engine."""

from __future__ import annotations

import pytest

from docbatch.formats import get_parser

RST = """\
Title
=====

+------+--------------+
| Name | What         |
+======+==============+
| a    | first para   |
|      |              |
|      | second para  |
+------+--------------+

.. figure:: pic.png
   :alt: The pipeline diagram

   Figure 1: stages.

.. image:: other.png
   :alt: Another   picture
"""

MARKDOWN = """\
# Title

| Name | What |
|------|------|
| a    | first para |

![The pipeline diagram](pic.png)

Figure 1: stages.
"""

HTML = """\
<main><h1>Title</h1>
<table><tr><th><p>Name</p></th><th><p>What</p></th></tr>
<tr><td><p>a</p></td><td><p>first para</p></td></tr></table>
<figure><img src="pic.png" alt="The pipeline diagram"><figcaption>Figure 1: stages.</figcaption></figure>
</main>
"""


@pytest.mark.parametrize(
    ("fmt", "engine", "source"),
    [
        ("rst", "fast", RST),
        ("rst", "docutils", RST),
        ("markdown", "fast", MARKDOWN),
        ("html", "fast", HTML),
    ],
    ids=["rst-fast", "rst-docutils", "markdown", "html"],
)
def test_rows_stay_lines_and_images_speak(fmt: str, engine: str, source: str) -> None:
    text = get_parser(fmt, rst_engine=engine)(source).text
    lines = text.splitlines()
    assert "Name | What" in lines
    assert any(line.startswith("a | first para") for line in lines)
    assert "The pipeline diagram" in text
    assert "Figure 1: stages." in text
    if fmt == "rst":
        assert "Another picture" in lines
