"""reStructuredText found on a real Sphinx site (Sphinx's own documentation): column spans
in simple tables, directives and comments inside table cells, inline ``raw`` HTML and
``:ref:`` roles. Every test runs on both engines (the ``rst_engine`` fixture); the last
checks the fast reader gives the docutils engine's text for all of them."""

from __future__ import annotations

import pytest

from docbatch.formats import get_parser
from docbatch.formats.base import Parser

SPANNED_HEADER = """\
Title
=====

=====  =====  ======
   Inputs     Output
------------  ------
A      B      A or B
=====  =====  ======
False  False  False
True   True   True
=====  =====  ======
"""

SPANNED_NAME = """\
Title
=====

=======  ========  ========
autodoc_connection: setting
---------------------------
name     value     default
=======  ========  ========
a        b         c
=======  ========  ========
"""

CODE_IN_CELL = """\
Title
=====

+------------------+-------------------------+
| Name             | Example                 |
+==================+=========================+
| thing            | .. code-block:: python  |
|                  |    :caption: greeting   |
|                  |                         |
|                  |    print("hi")          |
+------------------+-------------------------+
"""

COMMENT_CELL = """\
Title
=====

+------+--------+
| ..   | Header |
+======+========+
| row  | value  |
+------+--------+

=====  =====
..     B
=====  =====
x      y
=====  =====
"""

TARGET_IN_CELL = """\
Title
=====

.. list-table::

   * - ``sphinx.websupport``
     - 1.6
     - `sphinxcontrib-websupport`_

       .. _sphinxcontrib-websupport: https://pypi.org/project/sphinxcontrib-websupport/

   * - other
     - 2.0
     - plain
"""

LONG_LIST = "Title\n=====\n\n* New class: Counter\n\n  .. doctest::\n\n     >>> Counter()\n\n" + "".join(
    f"* Item {i}.\n\n" for i in range(60)
)

RAW_HTML = """\
Title
=====

Before.

.. raw:: html

   <p>Hello <b>world</b>.</p>
   <script>alert("leak")</script>
   <style>p { color: crimson }</style>
   <p>Second paragraph.</p>

.. raw:: html
   :file: other.html

.. raw:: html
   :url: https://example.org/page.html

.. raw:: latex

   \\textbf{latexonly}

After.
"""

RAW_IN_BODIES = """\
Title
=====

* Item text.

  .. raw:: html

     <p>Inside item</p>

* Second.

Term
   Definition.

   .. raw:: html
      :file: other.html

* Only an item.
"""

REFS = """\
Title
=====

See :ref:`my-label`, :ref:`Shown title <other-label>` and :ref:`~pkg.mod.name`.
"""


def test_a_header_cell_spanning_columns_stays_whole(rst_engine: Parser) -> None:
    lines = rst_engine(SPANNED_HEADER).text.splitlines()
    assert "Inputs | Output" in lines
    assert "A | B | A or B" in lines
    assert rst_engine(SPANNED_NAME).text.splitlines()[2:] == [
        "autodoc_connection: setting",
        "name | value | default",
        "a | b | c",
    ]


def test_a_code_block_in_a_grid_cell_is_its_code(rst_engine: Parser) -> None:
    text = rst_engine(CODE_IN_CELL).text
    assert "code-block" not in text and ".." not in text
    assert 'print("hi")' in text
    assert "greeting" in text


def test_an_empty_comment_in_a_cell_leaves_an_empty_cell(rst_engine: Parser) -> None:
    text = rst_engine(COMMENT_CELL).text
    assert ".." not in text
    assert text.splitlines()[2:] == [" | Header", "row | value", "", " | B", "x | y"]


def test_a_target_in_a_list_table_cell_is_no_text(rst_engine: Parser) -> None:
    doc = rst_engine(TARGET_IN_CELL)
    assert doc.text.splitlines()[2:] == [
        "sphinx.websupport | 1.6 | sphinxcontrib-websupport",
        "other | 2.0 | plain",
    ]
    assert doc.links == ("https://pypi.org/project/sphinxcontrib-websupport/",)


def test_a_directive_in_the_first_of_many_list_items_is_read(rst_engine: Parser) -> None:
    """Sixty list items are sixty bodies side by side, not sixty levels of nesting."""
    lines = rst_engine(LONG_LIST).text.splitlines()
    assert lines[2:6] == ["- New class: Counter", "", ">>> Counter()", ""]
    assert "- Item 59." in lines


def test_inline_raw_html_is_text_and_files_stay_unread(rst_engine: Parser) -> None:
    text = rst_engine(RAW_HTML).text
    assert "Hello world." in text and "Second paragraph." in text
    assert text.index("Before.") < text.index("Hello world.") < text.index("After.")
    for absent in ("alert", "leak", "crimson", "<", "latexonly", "other.html", "example.org"):
        assert absent not in text


def test_raw_html_in_a_list_item_is_its_text(rst_engine: Parser) -> None:
    lines = rst_engine(RAW_IN_BODIES).text.splitlines()
    assert lines[2:7] == ["- Item text.", "", "Inside item", "", "- Second."]
    assert lines[-4:] == ["Term", "Definition.", "", "- Only an item."]


def test_a_ref_without_a_title_shows_its_label(rst_engine: Parser) -> None:
    assert "See my-label, Shown title and name." in rst_engine(REFS).text


@pytest.mark.parametrize(
    "source",
    [
        SPANNED_HEADER,
        SPANNED_NAME,
        CODE_IN_CELL,
        COMMENT_CELL,
        TARGET_IN_CELL,
        LONG_LIST,
        RAW_HTML,
        RAW_IN_BODIES,
        REFS,
    ],
    ids=[
        "spanned-header",
        "spanned-name",
        "code-in-cell",
        "comment-cell",
        "target-in-cell",
        "long-list",
        "raw-html",
        "raw-in-bodies",
        "refs",
    ],
)
def test_the_fast_reader_gives_the_docutils_text(source: str) -> None:
    fast = get_parser("rst", rst_engine="fast")(source)
    exact = get_parser("rst", rst_engine="docutils")(source)
    assert fast.text == exact.text
    assert fast.links == exact.links
