"""Tests of the docutils reStructuredText engine where it differs from the fast reader on
purpose: it reports rst errors as warnings, it raises ``ParseError`` where docutils gives up
(deep nesting, the line length limit), and its Sphinx fallbacks are a shim over docutils'
registries. What both engines do alike is tested in test_rst_engines.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from docutils import nodes
from docutils.core import publish_doctree
from docutils.parsers.rst import directives, roles

from docbatch.errors import ParseError
from docbatch.formats import ParsedDocument, get_parser
from docbatch.formats.base import check_sections
from docbatch.formats.rst_docutils import parse, sphinx_compat

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "dev"


def assert_sections_consistent(doc: ParsedDocument) -> None:
    """Sections cover the text in order, without overlap, each opening with its heading."""
    check_sections(doc, complete=False)


def test_registry_returns_this_parser_for_the_docutils_engine() -> None:
    assert get_parser("rst", rst_engine="docutils") is parse
    assert get_parser("rst") is not parse  # the fast reader is the default


def test_errors_are_summarised_not_embedded() -> None:
    # the fast reader reports no warnings: the same text comes out with none
    doc = parse("Points at missing_.\n\nUses |undefined| here.\n")
    assert doc.warnings == ('2 rst errors: Unknown target name: "missing".',)
    assert doc.text == "Points at missing.\n\nUses undefined here."


def test_docutils_failure_becomes_one_line_parse_error() -> None:
    deep = "\n".join("  " * level + "- item" for level in range(400))
    with pytest.raises(ParseError) as info:
        parse(deep)
    assert "\n" not in str(info.value)
    with pytest.raises(ParseError, match="line-length-limit"):
        parse("x" * 20_000)


def test_shim_is_idempotent_and_scoped_to_parsing() -> None:
    sphinx_compat.install()
    sphinx_compat.install()
    wrapped = directives.directive.__dict__["_docbatch_sphinx_compat"]
    assert "_docbatch_sphinx_compat" not in getattr(wrapped, "__dict__", {})
    assert "_docbatch_sphinx_compat" in roles.role.__dict__
    plain = publish_doctree(":ref:`x`\n", settings_overrides={"report_level": 5})
    assert any(m["level"] == 3 for m in plain.findall(nodes.system_message))


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Title <target>", "Title"),
        ("target", "target"),
        ("!plain", "plain"),
        ("~a.b.c", "c"),
        ("$<TARGET_FILE:tgt>", "$<TARGET_FILE:tgt>"),
        ("CMAKE_<LANG>_COMPILER <CMAKE_<LANG>_COMPILER>", "CMAKE_<LANG>_COMPILER"),
    ],
)
def test_display_text(text: str, shown: str) -> None:
    assert sphinx_compat.display_text(text) == shown


def _corpus_sample(limit: int = 50) -> list[Path]:
    """Titled pages spread over the CMake Help folders (snippets and module stubs left out)."""
    root = CORPUS / "rst"
    pages = [
        path
        for path in sorted(root.rglob("*.rst"))
        if not {"include", "module", "presets"} & set(path.relative_to(root).parts[:-1])
    ]
    step = max(1, len(pages) // limit)
    return pages[::step][:limit]


@pytest.mark.corpus
@pytest.mark.skipif(not (CORPUS / "rst").is_dir(), reason="shared dev corpus not available")
def test_cmake_help_corpus_sample() -> None:
    sample = _corpus_sample()
    assert len(sample) >= 40
    for path in sample:
        doc = parse(path.read_text(encoding="utf-8"))
        name = path.name
        assert doc.title, name
        assert doc.text.strip(), name
        for leaked in ("Unknown interpreted text role", "Unknown directive type", "No role entry"):
            assert leaked not in doc.text, name
        assert_sections_consistent(doc)
