"""The ``include`` directive, reading through docbatch's include reader
(``docbatch.formats.includes``) in place of docutils' own file access (which the engine's
settings keep disabled: it would read any path). The reader is the ``docbatch_includes``
setting of the document; without one an include gives nothing, as before.

The included lines go into docutils' input at the directive, with the included file as
their source (an include in them is relative to it); with ``literal`` or ``code`` they are a
literal block. ``place`` puts the nodes read from an included file on the document line of
the directive that included it.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes, statemachine
from docutils.parsers.rst import Directive, directives

from docbatch.formats.includes import OPTIONS, Includes, select, tab_width

SETTING = "docbatch_includes"


class Include(Directive):  # type: ignore[misc]  # docutils has no type information
    required_arguments = 1
    final_argument_whitespace = True
    option_spec = {
        name: directives.unchanged for name in (*OPTIONS, "parser", "number-lines", "class", "name")
    }

    def run(self) -> list[Any]:
        includes: Includes | None = getattr(self.state.document.settings, SETTING, None)
        if includes is None:
            return []
        machine = self.state_machine
        source = machine.input_lines.source(self.lineno - machine.input_offset - 1)
        options = {name: str(value or "") for name, value in self.options.items()}
        read = includes.text(directives.path(self.arguments[0]), source, options.get("encoding") or None)
        if read is None:
            return []
        text, path = read
        line = includes.lines.get(source) or machine.get_source_and_line(self.lineno)[1] or self.lineno
        includes.lines.setdefault(path, line)
        text = select(text, options)
        width = tab_width(options)
        if "literal" in options or "code" in options:
            literal = "\n".join(line.expandtabs(width).rstrip() for line in text.splitlines())
            block = nodes.literal_block(literal, literal)
            block.line = line
            return [block]
        lines = statemachine.string2lines(text, width, convert_whitespace=True)
        machine.insert_input(lines, path)
        return []


def place(doc: nodes.document, includes: Includes) -> None:
    """Give the nodes read from included files the line of their include in the document."""
    lines = includes.lines
    if not lines:
        return
    for node in doc.findall():
        line = lines.get(getattr(node, "source", None) or "")
        if line is not None:
            node.line = line


__all__ = ["SETTING", "Include", "place"]
