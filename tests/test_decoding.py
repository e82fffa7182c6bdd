from __future__ import annotations

import codecs

import pytest

from docbatch.errors import ValidationError
from docbatch.work.decoding import decode


def test_plain_utf8() -> None:
    assert decode("Grüße".encode()) == ("Grüße", "utf-8")


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_byte_order_marks_select_the_codec_and_are_dropped(bom: bytes, codec: str) -> None:
    text, used = decode(bom + "# Título".encode(codec))
    assert text == "# Título"
    assert used == f"{codec} (BOM)"


def test_latin1_is_a_validation_error_that_says_where() -> None:
    data = "ok\ncafé".encode("latin-1")
    with pytest.raises(ValidationError, match=r"not valid UTF-8: byte 0xe9 at offset 6"):
        decode(data)


def test_declared_fallback_is_used_and_reported() -> None:
    assert decode("café".encode("latin-1"), "latin-1") == ("café", "latin-1")


def test_unknown_fallback_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="not decodable as no-such-codec"):
        decode(b"caf\xe9", "no-such-codec")


def test_nul_bytes_mean_binary() -> None:
    with pytest.raises(ValidationError, match="binary content"):
        decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
