from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docbatch.config import BatchConfig
from docbatch.errors import ConfigError
from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.work.chunking import Passage, PassageRules, chunk, estimate_tokens


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


def _kept_indices(doc: ParsedDocument) -> set[int]:
    """Indices of the non-space characters of sections that are not only a heading
    opening a subsection (those live in the heading path of what follows)."""
    kept: set[int] = set()
    sections = doc.sections
    for n, s in enumerate(sections):
        body = doc.text[s.start : s.end]
        following = sections[n + 1].heading_path if n + 1 < len(sections) else ()
        opens_child = (
            bool(s.heading_path)
            and body.strip() == s.heading_path[-1]
            and len(following) > len(s.heading_path)
            and following[: len(s.heading_path)] == s.heading_path
        )
        if not opens_child:
            kept.update(i for i in range(s.start, s.end) if not doc.text[i].isspace())
    return kept


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.integers(1, 4), st.text(min_size=1, max_size=30)),
            st.text(max_size=400),
        ),
        max_size=12,
    ),
    st.integers(50, 300),
    st.floats(0, 0.5),
)
def test_passages_cover_every_kept_word_once_within_the_maximum(
    items: list[tuple[int, str] | str], max_chars: int, min_share: float
) -> None:
    doc = _doc(*items)
    rules = PassageRules(max_size=max_chars, min_size=int(max_chars * min_share))
    passages = chunk("p.md", doc, rules)
    covered: list[int] = []
    previous_end = 0
    for p in passages:
        assert doc.text[p.start : p.end] == p.text == p.text.strip()
        assert p.start >= previous_end
        assert len(p.text) <= max_chars
        covered.extend(range(p.start, p.end))
        previous_end = p.end
    assert _kept_indices(doc) <= set(covered)
    assert len(covered) == len(set(covered))
    # a short passage is left only where no neighbour fits with it
    for i, p in enumerate(passages):
        if len(p.text) < rules.min_size:
            for j in (i - 1, i + 1):
                if 0 <= j < len(passages):
                    lo, hi = sorted((passages[i], passages[j]), key=lambda q: q.start)
                    assert hi.end - lo.start > max_chars


def _heading_only(p: Passage) -> bool:
    return p.text == p.heading_path.split(" > ")[-1]


def test_a_heading_directly_followed_by_a_subheading_makes_no_passage() -> None:
    doc = _doc(
        (1, "Guide"), (2, "Install"), "Run pip install docbatch to install it.", (2, "Use"), "Call it."
    )
    passages = chunk("g.md", doc, PassageRules(max_size=1000, min_size=0))
    assert [p.heading_path for p in passages] == ["Guide > Install", "Guide > Use"]
    assert not any(_heading_only(p) for p in passages)


def test_an_empty_section_merges_instead_of_standing_alone() -> None:
    doc = _doc((1, "Guide"), "Some words about the guide " * 10, (2, "Notes"), (1, "Next"), "More text " * 30)
    passages = chunk("g.md", doc, PassageRules(max_size=1000, min_size=100))
    assert not any(_heading_only(p) for p in passages)
    assert any("Notes" in p.text for p in passages)


def test_a_short_passage_merges_with_the_next_of_its_section_or_the_previous_at_its_end() -> None:
    doc = _doc(
        (1, "API"),
        (2, "Returns"),
        "None.",
        (2, "Raises"),
        "ValueError when the input is empty; TypeError when it is not text. " * 3,
        (2, "See also"),
        "parse().",
    )
    passages = chunk("api.md", doc, PassageRules(max_size=600, min_size=100))
    assert all(len(p.text) >= 100 for p in passages)
    assert passages[0].text.startswith("Returns\n\nNone.\n\nRaises")
    assert passages[0].heading_path == "API"  # both sections lie under API
    assert passages[-1].text.endswith("See also\n\nparse().")
    # never over the maximum: a short passage next to a full one stays short
    tight = chunk("api.md", doc, PassageRules(max_size=260, min_size=100))
    assert all(len(p.text) <= 260 for p in tight)


def test_short_passages_never_merge_across_documents() -> None:
    a = chunk("a.md", _doc((1, "A"), "tiny"), PassageRules(max_size=500, min_size=100))
    b = chunk("b.md", _doc((1, "B"), "tiny too"), PassageRules(max_size=500, min_size=100))
    assert [p.text for p in a] == ["A\n\ntiny"] and [p.text for p in b] == ["B\n\ntiny too"]


def test_a_long_section_is_cut_into_even_pieces_without_a_short_tail() -> None:
    rules = PassageRules(max_size=1000, min_size=200)
    doc = _doc((1, "Long"), *[f"Sentence number {i} says something. " * 2 for i in range(40)])
    sizes = [len(p.text) for p in chunk("l.md", doc, rules)]
    assert len(sizes) > 2 and max(sizes) <= 1000 and min(sizes) >= 200
    # just over the maximum: two halves, not the maximum and a tail of a few words
    barely = _doc((1, "Long"), *[f"Sentence {i} is here. " * 2 for i in range(24)])
    assert 1000 < len(barely.text) < 1100
    halves = [len(p.text) for p in chunk("b.md", barely, rules)]
    assert len(halves) == 2 and min(halves) >= 0.4 * len(barely.text), halves


def test_overlap_repeats_the_end_of_the_previous_piece() -> None:
    doc = _doc((1, "Long"), " ".join(f"word{i}" for i in range(600)))
    rules = PassageRules(max_size=500, min_size=0, overlap=100)
    passages = chunk("o.md", doc, rules)
    assert len(passages) > 3 and all(len(p.text) <= 500 for p in passages)
    for before, after in zip(passages, passages[1:], strict=False):
        shared = doc.text[after.start : before.end]
        assert 60 <= len(shared) <= 100, shared
        assert after.text.startswith("word")  # starts at a word
    words = [w for p in passages for w in p.text.split()]
    assert set(words) >= {f"word{i}" for i in range(600)}


def test_sizes_in_tokens_use_the_estimate_or_a_given_tokenizer() -> None:
    doc = _doc((1, "Long"), " ".join(f"w{i}" for i in range(1000)))
    estimate = chunk("t.md", doc, PassageRules(max_size=120, min_size=0, unit="tokens"))
    assert all(estimate_tokens(p.text) <= 120 for p in estimate)
    assert max(estimate_tokens(p.text) for p in estimate) > 100
    by_words = chunk(
        "t.md", doc, PassageRules(max_size=50, min_size=0, unit="tokens", tokenizer="builtins:str.split")
    )
    assert all(len(p.text.split()) <= 50 for p in by_words)
    assert max(len(p.text.split()) for p in by_words) >= 45


def test_bad_passage_settings_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="passage_tokenizer='nope:missing'"):
        PassageRules(unit="tokens", tokenizer="nope:missing").measure()
    with pytest.raises(ConfigError, match="min_passage_chars=900"):
        PassageRules(max_size=1000, min_size=900)
    with pytest.raises(ConfigError, match="passage_unit='words'"):
        BatchConfig(passage_unit="words")
    with pytest.raises(ConfigError, match="passage_tokenizer='not a path'"):
        BatchConfig(passage_tokenizer="not a path")
    with pytest.raises(ConfigError, match="passage_tokenizer"):
        PassageRules.from_config(BatchConfig(passage_unit="tokens", passage_tokenizer="nope:missing"))


def test_check_sections_names_what_breaks_the_contract() -> None:
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
