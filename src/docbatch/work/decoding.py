"""Turn a file's bytes into text, strictly.

UTF-8 is the default and the only guess: a UTF-8 byte-order mark is dropped, a
UTF-16/UTF-32 mark selects that codec, NUL bytes mean binary. Anything else that
is not valid UTF-8 is a validation error that says where, unless the caller
declared a fallback encoding, in which case the fallback is used and reported.
"""

from __future__ import annotations

import codecs

from docbatch.errors import ConfigError, ValidationError

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
BINARY_SNIFF_BYTES = 8192


def check_codec(name: str) -> str:
    """``name`` when it names a text encoding Python has, else ``ConfigError``.

    >>> check_codec("latin-1")
    'latin-1'
    """
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError):
        info = None
    if info is None or not getattr(info, "_is_text_encoding", True):
        raise ConfigError.invalid(
            "fallback_encoding", name, "a text encoding Python knows, e.g. latin-1 or cp1252"
        )
    return name


def check_not_binary(head: bytes) -> None:
    """Raise ``ValidationError`` when the first bytes of a file show it is binary (a NUL byte
    among the first ``BINARY_SNIFF_BYTES``, without a UTF-16/32 byte-order mark): decode's
    own test, made before the rest of the file is read.

    >>> check_not_binary(b"# Title")
    """
    if any(head.startswith(bom) for bom, _ in _BOMS):
        return
    nul = head.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if nul >= 0:
        raise ValidationError(f"binary content (NUL byte at offset {nul}), not a text document")


def decode(data: bytes, fallback_encoding: str | None = None) -> tuple[str, str]:
    """The text of ``data`` and the encoding used.

    >>> decode("héllo".encode())
    ('héllo', 'utf-8')

    Raises:
        ValidationError: binary content, or bytes that are not valid in any allowed encoding.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(encoding), encoding + " (BOM)"
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"not valid {encoding} despite its byte-order mark: {exc.reason} "
                    f"at byte {exc.start + len(bom)}"
                ) from None
    nul = data.find(b"\0", 0, BINARY_SNIFF_BYTES)
    if nul >= 0:
        raise ValidationError(f"binary content (NUL byte at offset {nul}), not a text document")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if fallback_encoding is None:
            bad = data[exc.start : exc.start + 1].hex()
            raise ValidationError(
                f"not valid UTF-8: byte 0x{bad} at offset {exc.start} ({exc.reason}); "
                "set a fallback encoding to accept such files"
            ) from None
    try:
        return data.decode(fallback_encoding), fallback_encoding
    except (UnicodeDecodeError, LookupError) as exc:
        raise ValidationError(f"not valid UTF-8 and not decodable as {fallback_encoding}: {exc}") from None
