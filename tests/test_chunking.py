from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.work.chunking import chunk


def _doc(*items: tuple[int, str] | str) -> ParsedDocument:
    b = DocumentBuilder()
    for item in items:
        if isinstance(item, tuple):
            b.heading(*item)
        else:
            b.block(item)
    return b.build(None)


def test_splits_at_headings_first() -> None:
    doc = _doc((1, "Guide"), "Intro.", (2, "Install"), "Run it.", (2, "Use"), "Call it.")
    passages = chunk("g.md", doc, 1000)
    assert [p.heading_path for p in passages] == ["Guide", "Guide > Install", "Guide > Use"]
    assert passages[1].text == "Install\n\nRun it."
    assert [p.seq for p in passages] == [0, 1, 2]


def test_long_section_is_split_by_size_at_paragraphs() -> None:
    paragraphs = [f"Paragraph {i} " + "word " * 40 for i in range(10)]
    doc = _doc((1, "Long"), *paragraphs)
    passages = chunk("l.md", doc, 500)
    assert len(passages) > 3
    assert all(len(p.text) <= 500 for p in passages)
    assert all(p.heading_path == "Long" for p in passages)
    # cut at paragraph boundaries: every passage after the first starts a paragraph
    assert all(p.text.startswith("Paragraph") for p in passages[1:])


def test_ranges_are_exact_slices_and_ids_are_stable() -> None:
    doc = _doc((1, "A"), "alpha " * 100, (2, "B"), "beta")
    first = chunk("x.md", doc, 120)
    for p in first:
        assert doc.text[p.start : p.end] == p.text
    edited = _doc((1, "A"), "alpha " * 100, (2, "B"), "beta changed")
    second = chunk("x.md", edited, 120)
    assert [p.passage_id for p in first[:-1]] == [p.passage_id for p in second[:-1]]
    assert first[-1].passage_id != second[-1].passage_id
    assert chunk("other.md", doc, 120)[0].passage_id != first[0].passage_id


def test_repeated_text_under_one_heading_gets_distinct_ids() -> None:
    doc = _doc((1, "Same"), "x " * 60, "x " * 60)
    ids = [p.passage_id for p in chunk("d.md", doc, 130)]
    assert len(ids) == len(set(ids))


def test_empty_document_has_no_passages() -> None:
    assert chunk("e.md", _doc(), 100) == []


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(1, 4), st.text(min_size=1, max_size=30)),
            st.text(max_size=400),
        ),
        max_size=12,
    ),
    st.integers(20, 300),
)
def test_passages_cover_all_words_without_overlap(items: list, max_chars: int) -> None:
    doc = _doc(*items)
    passages = chunk("p.md", doc, max_chars)
    covered = "".join(p.text for p in passages)
    in_sections = "".join(doc.text[s.start : s.end] for s in doc.sections)
    assert "".join(covered.split()) == "".join(in_sections.split())
    previous_end = 0
    for p in passages:
        assert p.start >= previous_end
        assert len(p.text) <= max_chars
        assert p.text == p.text.strip()
        previous_end = p.end


def test_check_sections_names_what_breaks_the_contract() -> None:
    import pytest

    from docbatch.formats.base import ParsedDocument, Section, check_sections

    good = _doc((1, "A"), "alpha", (2, "B"), "beta")
    check_sections(good)
    bad_heading = ParsedDocument("A", good.text, (Section(("Zed",), 0, len(good.text)),))
    with pytest.raises(ValueError, match="does not open with its heading 'Zed'"):
        check_sections(bad_heading)
    overlapping = ParsedDocument("A", good.text, (good.sections[0], Section(("A",), 0, 3)))
    with pytest.raises(ValueError, match="out of order"):
        check_sections(overlapping, complete=False)
    with pytest.raises(ValueError, match="start to its end"):
        check_sections(ParsedDocument("A", good.text, good.sections[:1]))
