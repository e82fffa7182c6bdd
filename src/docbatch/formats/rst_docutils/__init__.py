"""reStructuredText parser on docutils, tolerant of Sphinx-only markup.

Parsing embeds no raw content and never touches the network: ``raw``,
``csv-table :file:``/``:url:`` and friends are disabled and the Sphinx fallbacks (see
``sphinx_compat``) never read files. ``include`` reads a file only through the include
reader given to ``parse`` (``docbatch.formats.includes``: inside the source's root), with
docbatch's own directive (``include``). docutils reports
nothing; the ERROR-level messages left in the doctree are summarised in
``ParsedDocument.warnings`` and removed before the text is extracted (by the walk in
``walk``).

A section's anchor is its docutils id (its explicit label when it has one); a block's
source lines run from its node's line to the line before the next block's. A ``:ref:``
without a title of its own to a section labelled in the document shows the section's
title, as in Sphinx; one to another document's label shows the title the label table
given to ``parse`` holds.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable, Mapping

from docutils import nodes
from docutils.core import publish_doctree
from docutils.frontend import Values, get_default_settings
from docutils.parsers.rst import Parser
from docutils.readers.standalone import Reader

from docbatch.errors import ParseError
from docbatch.formats.base import DocumentBuilder, ParsedDocument
from docbatch.formats.includes import Includes
from docbatch.formats.rst_docutils import include, sphinx_compat
from docbatch.formats.rst_docutils.walk import Placed, ancestors, one_line, walk

_OVERRIDES: dict[str, object] = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "syntax_highlight": "none",
    "report_level": 5,
    "halt_level": 5,
    "warning_stream": False,
    "traceback": True,
    "doctitle_xform": False,
    "sectsubtitle_xform": False,
}
_LINE_LIMIT_MESSAGE = "exceeds the line-length-limit"
_MAX_MESSAGE = 160
_PROBLEMATIC = tuple(
    re.compile(pattern, re.DOTALL)
    for pattern in (
        r":[\w.:+-]+:`(.+)`",
        r"`(.+)`:[\w.:+-]+:",
        r"`(.+)`__?",
        r"\|(.+)\|(?:__?)?",
        r"([\w.+-]+)__?",
    )
)

_base_settings: Values | None = None
_settings_lock = threading.Lock()


def _settings() -> Values:
    """A fresh copy of the settings, which are built once per process."""
    global _base_settings
    if _base_settings is None:
        with _settings_lock:
            if _base_settings is None:
                base = get_default_settings(Parser, Reader)
                for name, value in _OVERRIDES.items():
                    setattr(base, name, value)
                _base_settings = base
    return copy.copy(_base_settings)


def _doctree(text: str, includes: Includes | None = None) -> nodes.document:
    """The transformed doctree of ``text``; ``ParseError`` when docutils fails."""
    settings = _settings()
    setattr(settings, include.SETTING, includes)
    try:
        with sphinx_compat.active():
            return publish_doctree(text, settings=settings)
    except (Exception, SystemExit) as exc:
        detail = " ".join(str(exc).split())[:_MAX_MESSAGE]
        message = f"docutils failed: {type(exc).__name__}" + (f": {detail}" if detail else "")
        raise ParseError(message) from None


def _message_text(message: nodes.system_message) -> str:
    first = message.children[0] if message.children else message
    return one_line(first.astext())[:_MAX_MESSAGE]


def _clean_problematic(raw: str) -> str:
    """Markup-free text for source docutils could not resolve (``foo_``, ``|sub|``, ...)."""
    for pattern in _PROBLEMATIC:
        match = pattern.fullmatch(raw)
        if match:
            return sphinx_compat.display_text(match.group(1))
    return raw


def _prepare(doc: nodes.document) -> list[str]:
    """Remove system messages (summarising errors) and clean problematic nodes."""
    messages: list[nodes.system_message] = []
    problems: list[nodes.problematic] = []
    for node in doc.findall(lambda n: isinstance(n, nodes.system_message | nodes.problematic)):
        if isinstance(node, nodes.system_message):
            messages.append(node)
        else:
            problems.append(node)
    detached = [m for m in doc.transform_messages if m.parent is None]
    errors = [m for m in (*messages, *detached) if m.get("level", 0) >= 3]
    errors.sort(key=lambda m: m.get("line") or 0)
    for message in errors:
        if _LINE_LIMIT_MESSAGE in message.astext():
            raise ParseError(f"docutils refused the input: {_message_text(message)}")
    for message in messages:
        if message.parent is not None:
            message.parent.remove(message)
    for problem in problems:
        if problem.parent is not None:
            problem[:] = [nodes.Text(_clean_problematic(problem.astext()))]
    if not errors:
        return []
    count = len(errors)
    return [f"{count} rst error{'s' if count != 1 else ''}: {_message_text(errors[0])}"]


def _links(doc: nodes.document) -> Iterable[str]:
    """Link targets in document order (substitution definitions count where they are used)."""
    for ref in doc.findall(nodes.reference):
        uri = ref.get("refuri")
        if uri and not any(isinstance(parent, nodes.substitution_definition) for parent in ancestors(ref)):
            yield uri


def _section_title(doc: nodes.document, label: str) -> str | None:
    """The title of the section ``label`` (an explicit label) names in ``doc``, if any."""
    if not doc.nametypes.get(label):
        return None
    section = doc.ids.get(doc.nameids.get(label) or "")
    if isinstance(section, nodes.section) and section.children:
        title = section.children[0]
        if isinstance(title, nodes.title) and title.astext().strip():
            return one_line(title.astext())
    return None


def _labels(doc: nodes.document) -> dict[str, str]:
    """Each explicit label of a section of ``doc`` and the section's title."""
    titles = {}
    for label, explicit in doc.nametypes.items():
        if explicit:
            title = _section_title(doc, label)
            if title is not None:
                titles[label] = title
    return titles


def _resolve_refs(doc: nodes.document, table: Mapping[str, str]) -> dict[str, None]:
    """Show the title of the section a ``:ref:`` names (by its explicit label) in place of
    the label: the document's section, else the title ``table`` holds for the label.
    Returns the labels that name no section of the document."""
    marked = [node for node in doc.findall(nodes.inline) if sphinx_compat.REF_LABEL in node.attributes]
    unresolved: dict[str, None] = {}
    for node in marked:
        label = node[sphinx_compat.REF_LABEL]
        title = _section_title(doc, label)
        if title is None:
            unresolved[label] = None
            title = table.get(label)
        if title is not None:
            node[:] = [nodes.Text(title)]
    return unresolved


def _first_section_title(doc: nodes.document) -> str | None:
    for section in doc.findall(nodes.section):
        if section.children and isinstance(section.children[0], nodes.title):
            title = one_line(section.children[0].astext())
            if title:
                return title
    return None


def parse(
    text: str, *, labels: Mapping[str, str] | None = None, includes: Includes | None = None
) -> ParsedDocument:
    """Parse reStructuredText into clean search text, headings and links, with the other
    documents' section ``labels`` and the ``includes`` reader as ``formats.base.LabelParser``
    says.

    Raises:
        ParseError: docutils cannot process the text.
    """
    builder = DocumentBuilder()
    if not text.strip():
        return builder.build(None)
    doc = _doctree(text, includes)
    builder.warnings.extend(_prepare(doc))
    if includes is not None:
        include.place(doc, includes)
        builder.warnings.extend(includes.warnings)
    if ":ref:`" in text:
        builder.refs.update(_resolve_refs(doc, labels or {}))
    builder.labels.update(_labels(doc))
    walk(doc, Placed(builder, text))
    builder.links.extend(_links(doc))
    title = doc.get("title") or _first_section_title(doc)
    return builder.build(title)


__all__ = ["parse"]
