"""What an inventory row says of a file the walk found (``docbatch.plan.walk``): its format,
from the ending of its name, why it is invalid, and the rows of a part made a frame, a
plain file's path, format, status and reason computed over the columns by polars."""

from __future__ import annotations

import os
from collections.abc import Mapping

import polars as pl

from docbatch.formats import detect_format, supported_formats
from docbatch.frames import INVENTORY

FORMAT_ENDINGS_KEPT = 4096
"""File name endings whose format a ``RowMaker`` keeps (names with version numbers have many)."""

_ENDING = r"(\.[^/]*)$"
"""A doc id's file name from its first dot (``guide.en.md`` -> ``.en.md``): the first dot
with no ``/`` after it (the expression finds the leftmost)."""

Given = dict[int, tuple[str, str | None, str, str | None]]
"""The path, format, status and reason of the rows of a part given whole, by row."""


class RowMaker:
    """The rows of one walk's files: their formats (``formats``: the ``format_map`` setting
    read) and the limit on their size, under the real path ``real_root``."""

    def __init__(self, formats: Mapping[str, str], max_file_size: int, real_root: str) -> None:
        self.formats = formats
        self.max_file_size = max_file_size
        self.real_root = real_root
        self._format_of_ending: dict[str, str | None] = {}

    def format_of(self, name: str) -> str | None:
        """``detect_format`` of a file name, looked up once for each ending (from the first dot)."""
        return self._ending_format(name[name.find(".") :] if "." in name else "")

    def _ending_format(self, ending: str) -> str | None:
        try:
            return self._format_of_ending[ending]
        except KeyError:
            if len(self._format_of_ending) >= FORMAT_ENDINGS_KEPT:
                self._format_of_ending.clear()
            fmt = self._format_of_ending[ending] = detect_format(ending, self.formats)
            return fmt

    def part(
        self,
        ids: list[str],
        sizes: list[int | None],
        mtimes: list[int | None],
        given: Given,
    ) -> pl.DataFrame:
        """Rows gathered as an inventory frame: a plain file's path, format, status and
        reason computed from its doc id and size, the ``given`` rows' as given."""
        rows = pl.DataFrame(
            {"doc_id": ids, "size": sizes, "mtime_ns": mtimes},
            schema={name: INVENTORY[name] for name in ("doc_id", "size", "mtime_ns")},
        )
        endings = rows["doc_id"].str.extract(_ENDING, 1).fill_null("")
        formats = {ending: self._ending_format(ending) for ending in endings.unique().to_list()}
        size, fmt = pl.col("size"), pl.col("format")
        too_large = f"file is {{}} bytes, over max_file_size={self.max_file_size}"
        reason = (
            pl.when(fmt.is_null())
            .then(pl.lit(unsupported()))
            .when(size == 0)
            .then(pl.lit("empty file"))
            .when(size > self.max_file_size)
            .then(pl.format(too_large, size))
        )
        base = self.real_root if self.real_root.endswith(os.sep) else self.real_root + os.sep
        on_disk = (
            pl.col("doc_id") if os.sep == "/" else pl.col("doc_id").str.replace_all("/", os.sep, literal=True)
        )
        part = (
            rows.lazy()
            .with_columns(
                path=pl.lit(base) + on_disk,
                format=pl.lit(endings).replace_strict(formats, return_dtype=pl.Utf8),
            )
            .with_columns(reason=reason)
            .select(
                *(pl.col(name) for name in ("doc_id", "path", "format", "size", "mtime_ns")),
                status=pl.when(pl.col("reason").is_null()).then(pl.lit("")).otherwise(pl.lit("invalid")),
                reason=pl.col("reason").cast(pl.Utf8),
            )
            .collect()
        )
        if not given:
            return part
        rows_given = list(given)
        columns = list(zip(*given.values(), strict=True))
        return part.with_columns(
            part[name].scatter(rows_given, pl.Series(values, dtype=pl.Utf8))
            for name, values in zip(("path", "format", "status", "reason"), columns, strict=True)
        )


def unsupported() -> str:
    """The reason of a file of no supported format."""
    return f"unsupported format (supported: {', '.join(supported_formats())})"


def invalid_reason(fmt: str | None, size: int, max_file_size: int) -> str | None:
    """Why a file of format ``fmt`` and ``size`` bytes is not parsed (None: it is)."""
    if fmt is None:
        return unsupported()
    if size == 0:
        return "empty file"
    if size > max_file_size:
        return f"file is {size} bytes, over max_file_size={max_file_size}"
    return None
