"""A fallback for Sphinx-only markup when plain docutils parses Sphinx sources.

docutils reports every directive and role it does not know as an error and keeps
the raw markup (a directive's whole body ends up inside the error message). While
``active()`` is in effect, the directive and role lookups fall back instead to:

- a generic directive: the argument as a paragraph (none when it is a file's path, which
  an extension would read) plus the body parsed as RST
  (a ``:target:`` option names link targets, as CMake's ``signature`` does);
- ``only``/``ifconfig``: the body parsed into the parent;
- ``toctree``: a bullet list of its entries' text;
- ``code``/``code-block``/``sourcecode``/``literalinclude`` (with a body) and a few
  other code-like directives: a literal block (never reading any file);
- invisible bookkeeping directives (``index``, ``highlight``, ...): nothing;
- a generic role: the display text of the role (``Title`` for
  ``Title <target>``, otherwise the target); a ``:ref:`` without a title of its own
  also keeps its label (normalised) in the ``REF_LABEL`` attribute, so the label can
  be replaced by its section's title once the document is read.

Every node a fallback makes has its source line: the directive's, or the line of the
content it holds (code, toctree entries, raw HTML).

``install()`` wraps ``docutils.parsers.rst.directives.directive`` and
``docutils.parsers.rst.roles.role`` once per process; outside ``active()`` the
wrappers delegate unchanged, so other docutils users are not affected.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from docutils import nodes, utils
from docutils.parsers.rst import Directive, directives, roles
from docutils.parsers.rst.directives.misc import Class, Raw

from docbatch.formats.rst_docutils.include import Include
from docbatch.formats.sphinx_text import closing_bracket_start, names_file, raw_html_blocks, shown_text

_ACTIVE: contextvars.ContextVar[bool] = contextvars.ContextVar("docbatch_sphinx", default=False)
_LOCK = threading.Lock()
_MARK = "_docbatch_sphinx_compat"

_Lookup = Callable[..., tuple[Any, list[Any]]]
_VERSION_SUFFIXES = ("versionadded", "versionchanged", "versionremoved", "deprecated")
_PROSE_DIRECTIVES = frozenset({"seealso", "centered", "todo", "deprecated-removed", "hlist"})
_REF_ROLES = frozenset({"ref", "std:ref"})
REF_LABEL = "docbatch_ref_label"
"""The attribute holding the label of a ``:ref:`` that shows its label (no title given)."""
_PROSE_ROLES = frozenset(
    {"ref", "doc", "term", "numref", "any", "abbr", "download", "guilabel", "menuselection", "dfn"}
)


class _AnyOptions(dict[str, Callable[[str | None], Any]]):
    """An option spec that accepts every option name, keeping the value as text."""

    def __missing__(self, key: str) -> Callable[[str | None], Any]:
        unchanged: Callable[[str | None], Any] = directives.unchanged
        return unchanged

    def __bool__(self) -> bool:
        return True


def _at(node: nodes.Node, line: int) -> nodes.Node:
    """``node`` on source line ``line`` (1-based)."""
    node.line = line
    return node


class _Fallback(Directive):  # type: ignore[misc]  # docutils has no type information
    """Any directive: the argument as a paragraph, the body parsed as RST."""

    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True
    option_spec = _AnyOptions()

    def _content_line(self, index: int = 0) -> int:
        """The source line of content line ``index``."""
        return int(self.content_offset) + 1 + index

    def run(self) -> list[nodes.Node]:
        node = nodes.container(classes=["sphinx-" + self.name.lower().replace(":", "-")])
        node.line = self.lineno
        names = [nodes.fully_normalize_name(t) for t in (self.options.get("target") or "").splitlines()]
        if any(names):
            node["names"].extend(name for name in names if name)
            self.state.document.note_explicit_target(node, node)
        messages: list[nodes.Node] = []
        if self.arguments and self.arguments[0].strip() and not names_file(self.arguments[0]):
            paragraph, messages = self._argument(self.arguments[0])
            node += paragraph
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, node)
        return [node, *messages]

    def _argument(self, text: str) -> tuple[nodes.paragraph, list[nodes.Node]]:
        name = self.name.lower()
        if name in _PROSE_DIRECTIVES or name.endswith(_VERSION_SUFFIXES):
            inline, messages = self.state.inline_text(text, self.lineno)
            return _at(nodes.paragraph(text, "", *inline), self.lineno), list(messages)
        return _at(nodes.paragraph(text, text), self.lineno), []


class _Hidden(_Fallback):
    """A directive whose output Sphinx does not show: produces nothing."""

    def run(self) -> list[nodes.Node]:
        return []


class _Literal(_Fallback):
    """A code directive with any options: the body verbatim, after an optional caption."""

    def run(self) -> list[nodes.Node]:
        result: list[nodes.Node] = []
        caption = self.options.get("caption")
        if caption:
            result.append(_at(nodes.paragraph(caption, caption), self.lineno))
        if self.content:
            code = "\n".join(self.content)
            result.append(_at(nodes.literal_block(code, code), self._content_line()))
        return result


class _Grammar(_Fallback):
    """``productionlist``: the productions (given as the argument) as a literal block."""

    def run(self) -> list[nodes.Node]:
        code = "\n".join([*self.arguments, *self.content])
        line = self.lineno if self.arguments else self._content_line()
        return [_at(nodes.literal_block(code, code), line)] if code.strip() else []


class _Transparent(_Fallback):
    """``only``/``ifconfig``: the body parsed into the current node, titles allowed there."""

    def run(self) -> list[nodes.Node]:
        if self.content:
            self.state.nested_parse(self.content, self.content_offset, match_titles=True)
        return []


class _RawHtml(Raw):  # type: ignore[misc]  # docutils has no type hints
    """``raw``: HTML written in the file is its text (``sphinx_text.raw_html_blocks``);
    other formats, ``:file:``/``:url:`` and substitution definitions behave as with raw
    output disabled."""

    def run(self) -> list[nodes.Node]:
        inline = isinstance(self.state_machine.node, nodes.substitution_definition)
        read = "file" in self.options or "url" in self.options
        if inline or read or "html" not in self.arguments[0].lower().split() or not self.content:
            disabled: list[nodes.Node] = super().run()
            return disabled
        line = int(self.content_offset) + 1
        blocks = raw_html_blocks("\n".join(self.content))
        return [_at(nodes.paragraph(block, block), line) for block in blocks]


class _TocTree(_Fallback):
    """``toctree``: a bullet list holding each entry's title (or target)."""

    optional_arguments = 0

    def run(self) -> list[nodes.Node]:
        items = []
        for index, line in enumerate(self.content):
            entry = line.strip()
            if entry:
                text = display_text(entry)
                at = self._content_line(index)
                items.append(_at(nodes.list_item("", _at(nodes.paragraph(text, text), at)), at))
        if not items:
            return []
        return [_at(nodes.bullet_list("", *items, bullet="-"), items[0].line)]


_LITERAL_NAMES = """code code-block sourcecode literalinclude doctest testcode testoutput prompt
    ipython graphviz digraph graph"""
_HIDDEN_NAMES = """index highlight highlightlang currentmodule module program sectionauthor
    codeauthor moduleauthor tabularcolumns default-domain testsetup testcleanup todolist cssclass"""
_OVERRIDES: dict[str, type[Directive]] = {
    "toctree": _TocTree,
    "only": _Transparent,
    "ifconfig": _Transparent,
    "rst-class": Class,
    "productionlist": _Grammar,
    "raw": _RawHtml,
    "include": Include,
    **dict.fromkeys(_LITERAL_NAMES.split(), _Literal),
    **dict.fromkeys(_HIDDEN_NAMES.split(), _Hidden),
}


def display_text(text: str) -> str:
    """The text Sphinx shows for a role or toctree entry (see ``sphinx_text.shown_text``).

    >>> display_text("Guide <guide-1>"), display_text("~pkg.mod.func"), display_text("$<CONFIG>")
    ('Guide', 'func', '$<CONFIG>')
    """
    return shown_text(text, lambda shown: str(utils.unescape(shown)))


def _fallback_role(
    name: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: object,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """Any role: its display text, as a literal for code-like roles."""
    shown = display_text(text)
    node_class = nodes.inline if name.lower() in _PROSE_ROLES else nodes.literal
    node = node_class(rawtext, shown)
    if name.lower() in _REF_ROLES and not _has_title(text):
        node[REF_LABEL] = nodes.fully_normalize_name(utils.unescape(text))
    return [node], []


def _has_title(text: str) -> bool:
    """Whether a role's text gives its own title (``Title <target>``, see ``shown_text``)."""
    start = closing_bracket_start(text)
    return start > 0 and text[start - 1].isspace() and bool(text[:start].strip())


def _wrap_directive(original: _Lookup) -> _Lookup:
    def directive(name: str, language_module: Any, document: Any) -> tuple[Any, list[Any]]:
        if not _ACTIVE.get():
            return original(name, language_module, document)
        override = _OVERRIDES.get(name.lower())
        if override is not None:
            return override, []
        found, messages = original(name, language_module, document)
        if found is None:
            return _Fallback, []
        return found, messages

    setattr(directive, _MARK, original)
    return directive


def _wrap_role(original: _Lookup) -> _Lookup:
    def role(name: str, language_module: Any, lineno: int, reporter: Any) -> tuple[Any, list[Any]]:
        if not _ACTIVE.get():
            return original(name, language_module, lineno, reporter)
        found, messages = original(name, language_module, lineno, reporter)
        if found is None:
            return _fallback_role, []
        return found, messages

    setattr(role, _MARK, original)
    return role


def install() -> None:
    """Wrap the docutils directive and role lookups (once per process)."""
    with _LOCK:
        if not hasattr(directives.directive, _MARK):
            directives.directive = _wrap_directive(directives.directive)
        if not hasattr(roles.role, _MARK):
            roles.role = _wrap_role(roles.role)


@contextmanager
def active() -> Iterator[None]:
    """Use the Sphinx fallbacks for lookups made in this context (installs them if needed)."""
    install()
    token = _ACTIVE.set(True)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


__all__ = ["REF_LABEL", "active", "display_text", "install"]
