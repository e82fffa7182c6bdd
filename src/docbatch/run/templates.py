"""The site template of a source's HTML pages, found before they are parsed.

A sample of the source's pages (the ``SAMPLE_PAGES`` whose ids hash lowest, so that
adding or removing a page rarely changes it) is read and its repeated regions become
the template (``docbatch.formats.templates``). The template is kept in the state folder
with the sample's signature (ids, sizes, modification times, selectors): while the
sample is unchanged, a later call reuses it without reading a page. Its digest is part
of the HTML fingerprint, so a changed template re-parses the source's pages.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl

from docbatch.formats.html import HtmlOptions, template_keys
from docbatch.formats.templates import SAMPLE_PAGES, Template, decide
from docbatch.state.atomic import write_json
from docbatch.work.decoding import decode

log = logging.getLogger("docbatch")

_SAFE = str.maketrans({c: "_" for c in '/\\:*?"<>| '})


def sample(inventory: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """The HTML rows of ``inventory`` whose doc ids hash lowest (at most ``SAMPLE_PAGES``)."""
    wanted = (pl.col("format") == "html") & (pl.col("status") == "")
    pages = (
        inventory.lazy()
        .filter(wanted)
        .select("doc_id", "path", "size", "mtime_ns")
        .with_columns(key=pl.col("doc_id").hash(seed=7))
        .sort("key", "doc_id")
        .head(SAMPLE_PAGES + 1)  # the lowest, without sorting them all
        .drop("key")
        .collect()
    )
    return pages.sort("doc_id") if pages.height <= SAMPLE_PAGES else pages.head(SAMPLE_PAGES)


def _signature(pages: pl.DataFrame, options: HtmlOptions) -> str:
    text = json.dumps(
        [pages.sort("doc_id").rows(), list(options.content_selectors), list(options.drop_selectors)],
        default=str,
    )
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def find_template(pages: pl.DataFrame, options: HtmlOptions) -> Template:
    """The template of the sampled ``pages`` (files that cannot be read or parsed are left
    out: the run reports them when it reaches them)."""

    def keys() -> list[set[tuple[str, str, str]]]:
        found = []
        for path in pages["path"]:
            try:
                text, _ = decode(Path(path).read_bytes()[: 8 * 1024 * 1024], None)
                found.append(template_keys(text, options))
            except Exception as exc:  # one bad page never stops the run
                log.debug("template sample %s left out: %s", path, exc)
        return found

    return decide(keys())


def _kept_file(state_dir: Path, source: str) -> Path:
    return state_dir / "templates" / f"{source.translate(_SAFE)}.json"


def last_options(state_dir: Path, source: str, options: HtmlOptions) -> HtmlOptions:
    """``options`` with the template kept by the source's last call (whatever its sample),
    or with none: what a re-run most likely finds (``source_options``), known before the
    tree is walked."""
    try:
        stored = json.loads(_kept_file(state_dir, source).read_text())
        return replace(options, template=Template.from_json(json.dumps(stored["template"])))
    except (OSError, ValueError, KeyError, TypeError):
        return options


def source_options(
    inventory: pl.DataFrame | pl.LazyFrame,
    state_dir: Path,
    source: str,
    options: HtmlOptions,
    *,
    keep: bool = True,
) -> HtmlOptions:
    """``options`` with the source's template: the one kept in ``state_dir`` while its
    sample is unchanged, else found anew from the sample and kept (unless not ``keep``)."""
    pages = sample(inventory)
    if pages.height == 0:
        return options
    signature = _signature(pages, options)
    kept = _kept_file(state_dir, source)
    try:
        stored = json.loads(kept.read_text())
        if stored.get("signature") == signature:
            return replace(options, template=Template.from_json(json.dumps(stored["template"])))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # none kept, or unreadable: find it again
    template = find_template(pages, options)
    if not keep:
        return replace(options, template=template)
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        write_json({"signature": signature, "template": json.loads(template.to_json())}, kept)
    except OSError as exc:  # the template is only a cache of the sample's reading
        log.warning("could not keep the site template in %s: %s", kept, exc)
    return replace(options, template=template)


def html_options(config: Any) -> HtmlOptions:
    """The HTML parser's options a ``BatchConfig`` sets (its selectors; no template yet)."""
    return HtmlOptions(tuple(config.html_content_selectors), tuple(config.html_drop_selectors))


def with_template(fingerprints: dict[str, str], options: HtmlOptions) -> dict[str, str]:
    """``fingerprints`` with the HTML one naming the template and the selectors."""
    extra = [options.template.digest, *options.content_selectors, "|", *options.drop_selectors]
    if "html" not in fingerprints or not any(part for part in extra if part != "|"):
        return fingerprints
    digest = hashlib.blake2b("\0".join(extra).encode(), digest_size=6).hexdigest()
    return {**fingerprints, "html": f"{fingerprints['html']}+t{digest}"}
