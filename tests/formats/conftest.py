"""The ``rst_engine`` fixture: each test that takes it runs once per reStructuredText engine."""

from __future__ import annotations

import pytest

from docbatch.formats import RST_ENGINES, get_parser
from docbatch.formats.base import Parser


@pytest.fixture(params=RST_ENGINES)
def rst_engine(request: pytest.FixtureRequest) -> Parser:
    """The parser of one engine: "fast" (docbatch's own reader) or "docutils"."""
    engine: str = request.param
    return get_parser("rst", rst_engine=engine)
