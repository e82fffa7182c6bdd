"""Rebuild the collection of real generated HTML documentation sites, one per generator.

    python -m benchmarks.sites.build [--out DIR] [--only NAME ...] [--max-pages N]

Each site is the HTML output of a real documentation generator: the pages that a
Debian ``-doc`` package ships (fetched with ``apt-get download``, no install), or a
site built here with the generator itself (MkDocs with the Material theme from a
pinned virtual environment, Hugo from Debian's binary). Only HTML pages are kept
(no CSS, scripts or images), at most ``--max-pages`` per site: the first ones in
sorted path order, redirect stubs left out.

The collection lives outside the repository, in ``--out``, else ``$DOCBATCH_SITES``,
else ``~/.cache/docbatch-sites``::

    sites.json            one record per site (generator, source, version, pages, selector)
    <site>/...            the pages, with their paths inside the generated site
    <site>/.site.json     that site's record; a site that has it is not built again
    .downloads/ .tools/   packages, sdists, the MkDocs venv and the Hugo binary (hidden)

Building is idempotent: a site whose ``.site.json`` exists is skipped, so a
re-run only builds what is missing or failed. Delete a site's folder to rebuild it.
"""

from __future__ import annotations

import argparse
import collections
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.corpus import default_corpus

MAX_PAGES = 300
ENV_OUT = "DOCBATCH_SITES"
DEFAULT_OUT = Path("~/.cache/docbatch-sites")
RECORD = ".site.json"

# The MkDocs site: the documentation sources shipped in this sdist, built with these pins.
MKDOCS_DOCS_SDIST = "pymdown-extensions==13.1.2"
MKDOCS_PINS = ("mkdocs==1.6.1", "mkdocs-material==9.8.2", MKDOCS_DOCS_SDIST)

HTML_GLOBS = ("*.html", "*.htm")
REFRESH = re.compile(rb"<meta[^>]+http-equiv=[\"']?refresh", re.IGNORECASE)
GENERATOR_META = re.compile(rb"<meta\s+name=[\"']generator[\"']\s+content=[\"']([^\"']+)", re.IGNORECASE)
GENERATOR_COMMENT = re.compile(rb"<!--\s*(?:Book\s+)?generated\s+(?:by|using)\s+([^\n>]{1,60}?)\s*-->", re.I)


@dataclass(frozen=True)
class Source:
    """Where a site's HTML came from."""

    origin: str  # "debian" or "built"
    package: str
    version: str
    tree: str  # the folder inside the package, or how the site was built
    note: str = ""


@dataclass(frozen=True)
class Site:
    """One site of the collection: how to get its HTML tree and which pages to keep."""

    name: str
    generator: str
    content_selector: str | None  # the element the generator marks as main content, if any
    make: Callable[[Path, Path], Source]  # (cache folder, empty folder to fill with HTML) -> Source
    exclude: tuple[str, ...] = ()  # globs on the page's relative path
    selector_note: str = ""
    require: bytes = b""  # kept pages contain this (the generator's own mark)


@dataclass
class Record:
    """What ``sites.json`` says about one built site."""

    name: str
    generator: str
    origin: str
    package: str
    version: str
    tree: str
    pages: int
    pages_available: int
    bytes: int
    content_selector: str | None
    selector_note: str
    generator_marks: dict[str, int] = field(default_factory=dict)
    note: str = ""


def run(
    cmd: Sequence[str | os.PathLike[str]], cwd: Path | None = None, env: dict[str, str] | None = None
) -> None:
    """Run a command, failing with its output when it fails."""
    proc = subprocess.run([os.fspath(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr).strip()[-2000:]
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {proc.returncode}: {tail}")


def deb_file(cache: Path, package: str) -> Path:
    """The package's ``.deb`` in the cache, fetched with ``apt-get download`` when missing."""
    downloads = cache / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    found = sorted(downloads.glob(f"{package}_*.deb"))
    if not found:
        run(["apt-get", "download", package], cwd=downloads)
        found = sorted(downloads.glob(f"{package}_*.deb"))
    if not found:
        raise RuntimeError(f"apt-get download {package} left no .deb")
    return found[-1]


def deb_field(deb: Path, name: str) -> str:
    out = subprocess.run(["dpkg-deb", "-f", os.fspath(deb), name], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def from_deb(package: str, tree: str, note: str = "") -> Callable[[Path, Path], Source]:
    """A site made of the HTML pages that ``package`` ships under ``tree``."""

    def make(cache: Path, dest: Path) -> Source:
        deb = deb_file(cache, package)
        prefix = "./" + tree.strip("/") + "/"
        # Stream the package's data archive: only the HTML pages under ``tree`` are written.
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", os.fspath(deb)], stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                for member in tar:
                    if not (member.isfile() and member.name.startswith(prefix) and is_html(member.name)):
                        continue
                    target = dest / member.name[len(prefix) :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    data = tar.extractfile(member)
                    assert data is not None
                    target.write_bytes(data.read())
        if proc.returncode != 0:
            raise RuntimeError(f"dpkg-deb --fsys-tarfile {deb.name} exited {proc.returncode}")
        return Source("debian", package, deb_field(deb, "Version"), "/" + tree.strip("/"), note)

    return make


def is_html(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, g) for g in HTML_GLOBS)


# --- MkDocs (Material theme) -------------------------------------------------------------

MKDOCS_YML = """\
site_name: PyMdown Extensions Documentation
site_description: Extensions for Python Markdown.
site_author: Isaac Muse
copyright: |
  Copyright &copy; 2014 - 2025 <a href="https://github.com/facelessuser" target="_blank">Isaac Muse</a>
repo_url: https://github.com/facelessuser/pymdown-extensions
edit_uri: tree/main/docs/src/markdown
docs_dir: {docs}
use_directory_urls: true
theme:
  name: material
  custom_dir: {overrides}
  icon:
    logo: material/book-open-page-variant
  palette:
    - scheme: default
      primary: indigo
      toggle:
        icon: material/brightness-7
        name: Switch to dark mode
    - scheme: slate
      primary: indigo
      toggle:
        icon: material/brightness-4
        name: Switch to light mode
  features:
    - navigation.tabs
    - navigation.top
    - navigation.instant
    - navigation.footer
    - navigation.indexes
    - toc.follow
    - search.highlight
    - search.share
    - content.code.copy
    - content.action.edit
markdown_extensions:
  - markdown.extensions.toc:
      slugify: !!python/object/apply:pymdownx.slugs.slugify {{kwds: {{case: lower}}}}
      permalink: ""
  - markdown.extensions.admonition
  - markdown.extensions.smarty:
      smart_quotes: false
  - markdown.extensions.attr_list
  - markdown.extensions.def_list
  - markdown.extensions.tables
  - markdown.extensions.abbr
  - markdown.extensions.footnotes
  - markdown.extensions.md_in_html
  - pymdownx.betterem
  - pymdownx.superfences
  - pymdownx.highlight:
      extend_pygments_lang:
        - name: pycon3
          lang: pycon
          options:
            python3: true
  - pymdownx.inlinehilite
  - pymdownx.magiclink:
      repo_url_shortener: true
      repo_url_shorthand: true
      social_url_shorthand: true
      user: facelessuser
      repo: pymdown-extensions
  - pymdownx.tilde
  - pymdownx.caret
  - pymdownx.smartsymbols
  - pymdownx.emoji
  - pymdownx.escapeall:
      hardbreak: true
      nbsp: true
  - pymdownx.tasklist:
      custom_checkbox: true
  - pymdownx.progressbar
  - pymdownx.arithmatex:
      generic: true
  - pymdownx.mark
  - pymdownx.striphtml
  - pymdownx.snippets:
      base_path: [{snippets}]
      auto_append: [refs.md]
      check_paths: false
  - pymdownx.keys:
      separator: "\\uff0b"
  - pymdownx.saneheaders
  - pymdownx.blocks.admonition
  - pymdownx.blocks.details
  - pymdownx.blocks.html
  - pymdownx.blocks.definition
  - pymdownx.blocks.tab:
      alternate_style: true
  - pymdownx.blocks.caption
plugins:
  - search
"""


PAGE_ICON = re.compile(r"(?m)^icon:\s*([\w-]+/[\w-]+)\s*$")
STAND_IN_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><circle cx="12" cy="12" r="9"/></svg>'
)


def mkdocs_material(cache: Path, dest: Path) -> Source:
    """PyMdown Extensions' documentation (its sdist's Markdown), built with MkDocs + Material."""
    venv = cache / ".tools" / "mkdocs-venv"
    pip, mkdocs = venv / "bin" / "pip", venv / "bin" / "mkdocs"
    if not mkdocs.exists():
        run([sys.executable, "-m", "venv", "--clear", venv])
        run([pip, "install", "-q", "--disable-pip-version-check", *MKDOCS_PINS])
    downloads = cache / ".downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    name, version = MKDOCS_DOCS_SDIST.split("==")
    stem = f"{name.replace('-', '_')}-{version}"
    sdist = downloads / f"{stem}.tar.gz"
    if not sdist.exists():
        fetch = ["download", "-q", "--disable-pip-version-check", "--no-deps", "--no-binary", ":all:"]
        run([pip, *fetch, MKDOCS_DOCS_SDIST, "-d", downloads])
    with tempfile.TemporaryDirectory(dir=cache, prefix=".work-") as tmp:
        work = Path(tmp)
        docs_prefix = f"{stem}/docs/src/markdown/"
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(docs_prefix)]
            tar.extractall(work, members=members, filter="data")
        docs = work / docs_prefix
        # The pages' front matter names Lucide icons, which this Material release lacks: give
        # each one a plain stand-in so the navigation renders.
        overrides = work / "overrides"
        icons = set(PAGE_ICON.findall("\n".join(p.read_text(encoding="utf-8") for p in docs.rglob("*.md"))))
        for icon in sorted(i for i in icons if i.startswith("lucide/")):
            svg = overrides / ".icons" / f"{icon}.svg"
            svg.parent.mkdir(parents=True, exist_ok=True)
            svg.write_text(STAND_IN_ICON, encoding="utf-8")
        config = work / "mkdocs.yml"
        yml = MKDOCS_YML.format(
            docs=json.dumps(os.fspath(docs)),
            snippets=json.dumps(os.fspath(docs / ".snippets")),
            overrides=json.dumps(os.fspath(overrides)),
        )
        config.write_text(yml, encoding="utf-8")
        run([mkdocs, "build", "-q", "-f", config, "-d", dest])
    versions = ", ".join(MKDOCS_PINS[:2])
    note = f"the Markdown under docs/src/markdown of the {name} {version} sdist, built with {versions}"
    return Source("built", MKDOCS_DOCS_SDIST, version, "mkdocs build (theme: material)", note)


# --- Hugo --------------------------------------------------------------------------------

HUGO_CONFIG = """\
baseURL = "https://example.org/"
title = "Hugo Documentation"
languageCode = "en-us"
contentDir = "content"
relativeURLs = true
disableAliases = true
disableKinds = ["taxonomy", "term", "sitemap", "robotsTXT", "404"]
enableGitInfo = false
[markup.goldmark.renderer]
unsafe = true
[markup.tableOfContents]
startLevel = 2
endLevel = 3
"""

HUGO_LAYOUTS = {
    "_default/baseof.html": """\
<!DOCTYPE html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{{ hugo.Generator }}
<title>{{ if not .IsHome }}{{ .Title }} | {{ end }}{{ .Site.Title }}</title>
<meta name="description" content="{{ with .Description }}{{ . }}{{ else }}{{ .Summary | plainify }}{{ end }}">
<link rel="stylesheet" href="{{ "css/site.css" | relURL }}">
</head>
<body class="kind-{{ .Kind }}">
{{ partial "header.html" . }}
<div class="container">
{{ partial "sidebar.html" . }}
<main id="main" class="content">
{{ partial "breadcrumb.html" . }}
{{ block "main" . }}{{ end }}
</main>
</div>
{{ partial "footer.html" . }}
</body>
</html>
""",
    "_default/single.html": """\
{{ define "main" }}
<article class="page">
<h1>{{ .Title }}</h1>
{{ with .Description }}<p class="lead">{{ . }}</p>{{ end }}
{{ if ge (len .TableOfContents) 80 }}
<aside class="toc"><h2>On this page</h2>{{ .TableOfContents }}</aside>
{{ end }}
{{ .Content }}
</article>
{{ partial "prevnext.html" . }}
{{ end }}
""",
    "_default/list.html": """\
{{ define "main" }}
<article class="page section">
<h1>{{ .Title }}</h1>
{{ with .Description }}<p class="lead">{{ . }}</p>{{ end }}
{{ .Content }}
<ul class="section-pages">
{{ range .Pages }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a>
{{- with .Description }} - {{ . }}{{ end }}</li>
{{ end }}
</ul>
</article>
{{ end }}
""",
    "partials/header.html": """\
<header class="site-header">
<a class="brand" href="{{ "/" | relURL }}">{{ .Site.Title }}</a>
<nav class="main-menu" aria-label="Sections">
<ul>
{{ range .Site.Home.Sections.ByWeight }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>
{{ end }}
</ul>
</nav>
<form class="search" action="{{ "/search/" | relURL }}">
<input type="search" name="q" placeholder="Search"></form>
</header>
""",
    "partials/sidebar.html": """\
<aside class="sidebar" aria-label="In this section">
{{ with .CurrentSection }}
<h2><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></h2>
<ul>
{{ range .Pages.ByWeight }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>
{{ end }}
</ul>
{{ end }}
</aside>
""",
    "partials/breadcrumb.html": """\
<nav class="breadcrumb" aria-label="Breadcrumb">
<ol>
{{ range .Ancestors.Reverse }}<li><a href="{{ .RelPermalink }}">{{ .LinkTitle }}</a></li>
{{ end }}<li aria-current="page">{{ .LinkTitle }}</li>
</ol>
</nav>
""",
    "partials/prevnext.html": """\
<nav class="prev-next" aria-label="Pages">
{{ with .PrevInSection }}<a class="prev" href="{{ .RelPermalink }}">Previous: {{ .LinkTitle }}</a>{{ end }}
{{ with .NextInSection }}<a class="next" href="{{ .RelPermalink }}">Next: {{ .LinkTitle }}</a>{{ end }}
</nav>
""",
    "partials/footer.html": """\
<footer class="site-footer">
<p>{{ with .File }}<a href="https://github.com/gohugoio/hugoDocs/edit/master/content/{{ .Path }}">\
Improve this page</a>{{ end }}{{ with .Lastmod }} Last updated {{ .Format "January 2, 2006" }}.{{ end }}</p>
<p>By the Hugo Authors. The documentation is licensed under the Apache License 2.0.</p>
<p>Built with Hugo {{ hugo.Version }}.</p>
</footer>
""",
}

SHORTCODE = re.compile(r"\{\{[<%]\s*(/?)\s*([A-Za-z][\w.-]*(?:/[\w.-]+)*)")


def hugo_content() -> Path:
    """The Hugo documentation's Markdown: the shared dev corpus's ``md/content/en``."""
    env = os.environ.get("DOCBATCH_HUGO_CONTENT")
    if env:
        return Path(env)
    dev = default_corpus()
    if dev is None:
        raise RuntimeError(
            "no Hugo Markdown: the shared dev corpus is absent and DOCBATCH_HUGO_CONTENT is unset"
        )
    return dev / "md" / "content" / "en"


def hugo_site(cache: Path, dest: Path) -> Source:
    """The Hugo documentation's Markdown built by Debian's Hugo with a small documentation layout.

    The documentation's own shortcodes are not part of the Markdown: each one it calls
    gets a stub that renders its inner content (when it has some) and nothing else. The
    ``_common`` fragments, which those shortcodes include, are left out.
    """
    tools = cache / ".tools" / "hugo"
    binary = tools / "usr" / "bin" / "hugo"
    if not binary.exists():
        tools.mkdir(parents=True, exist_ok=True)
        for package in ("hugo", "libsass1"):
            run(["dpkg-deb", "-x", deb_file(cache, package), tools])
    libs = ":".join(os.fspath(p.parent) for p in tools.glob("usr/lib/*/libsass.so*"))
    env = dict(os.environ, LD_LIBRARY_PATH=libs)
    content = hugo_content()
    with tempfile.TemporaryDirectory(dir=cache, prefix=".work-") as tmp:
        site = Path(tmp)
        shutil.copytree(content, site / "content", ignore=shutil.ignore_patterns("LICENSE*", "_common"))
        (site / "hugo.toml").write_text(HUGO_CONFIG, encoding="utf-8")
        for rel, text in HUGO_LAYOUTS.items():
            (site / "layouts" / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / "layouts" / rel).write_text(text, encoding="utf-8")
        closed: set[str] = set()
        called: set[str] = set()
        for md in sorted((site / "content").rglob("*.md")):
            for slash, name in SHORTCODE.findall(md.read_text(encoding="utf-8", errors="replace")):
                (closed if slash else called).add(name)
        for name in sorted(called | closed):
            stub = site / "layouts" / "shortcodes" / f"{name}.html"
            stub.parent.mkdir(parents=True, exist_ok=True)
            body = '{{- with .Inner }}<div class="sc-%s">{{ . }}</div>{{ end -}}' if name in closed else ""
            stub.write_text(body.replace("%s", name.replace("/", "-")), encoding="utf-8")
        run([binary, "--source", site, "--destination", dest], env=env)
    deb = deb_file(cache, "hugo")
    note = (
        f"{content.name} Markdown of gohugoio/hugoDocs (shared dev corpus md/), a small docs layout "
        "(header menu, section sidebar, breadcrumb, prev/next, footer) "
        f"and {len(called | closed)} shortcode stubs"
    )
    return Source("built", "hugo", deb_field(deb, "Version"), "hugo (minimal documentation layout)", note)


# --- The collection ----------------------------------------------------------------------

SITES: tuple[Site, ...] = (
    Site(
        "sphinx",
        "Sphinx",
        "div.body[role=main]",
        from_deb("sphinx-doc", "usr/share/doc/sphinx-doc/html"),
        exclude=("_modules/*",),
        selector_note="inside div.documentwrapper; sidebar div.sphinxsidebar, nav div.related, div.footer",
    ),
    Site(
        "docbook",
        "DocBook XSL",
        None,
        from_deb("postgresql-doc-15", "usr/share/doc/postgresql-doc-15/html"),
        selector_note="no marked element: the content is the body's child between div.navheader "
        "and div.navfooter",
    ),
    Site(
        "asciidoc",
        "AsciiDoc",
        "div#content",
        from_deb("git-doc", "usr/share/doc/git-doc"),
        selector_note="div#header (title, synopsis) and div#footer (version, date) around it; "
        "user-manual.html is DocBook XSL output",
    ),
    Site(
        "javadoc",
        "javadoc",
        "main[role=main]",
        from_deb("libcommons-lang3-java-doc", "usr/share/doc/libcommons-lang3-java/api"),
        exclude=("src-html/*",),
        selector_note="header.flex-header holds the nav rows; footer with the copyright line inside main",
    ),
    Site(
        "doxygen",
        "Doxygen",
        "div.contents",
        from_deb("libjsoncpp-doc", "usr/share/doc/libjsoncpp-doc"),
        selector_note="div.header (title, summary links) above it; div#top (title area, menu) and "
        "hr.footer/address.footer around",
    ),
    Site(
        "mdbook",
        "mdBook",
        "main",
        from_deb("rust-doc", "usr/share/doc/rust-doc/html/book"),
        exclude=("*/*", "print.html"),
        selector_note="inside div#content; nav#sidebar (table of contents), div#menu-bar, nav.nav-wrapper "
        "(prev/next); top-level pages only (the edition folders are stubs), print.html left out",
        require=b"Book generated using mdBook",
    ),
    Site(
        "rustdoc",
        "rustdoc",
        "section#main-content",
        from_deb("rust-doc", "usr/share/doc/rust-doc/html/std"),
        exclude=("all.html",),
        selector_note="inside main > div.width-limiter; nav.sidebar and nav.sub (search) around",
    ),
    Site(
        "mkdocs",
        "MkDocs (theme: mkdocs)",
        "div[role=main]",
        from_deb("mkdocs-doc", "usr/share/doc/mkdocs/html"),
        selector_note="div.col-md-9[role=main]; navbar, div.bs-sidebar (toc) and footer around",
    ),
    Site(
        "mkdocs-material",
        "MkDocs (theme: material)",
        "article.md-content__inner",
        mkdocs_material,
        selector_note="also div.md-content[data-md-component=content]; header.md-header, nav.md-tabs, "
        "the nav and toc sidebars and footer.md-footer around",
    ),
    Site(
        "hugo",
        "Hugo",
        "main#main > article",
        hugo_site,
        selector_note="set by the layout this script writes (Hugo marks nothing itself): main#main also "
        "holds nav.breadcrumb and nav.prev-next; header.site-header, aside.sidebar, footer.site-footer",
    ),
)


def select_pages(
    tree: Path, exclude: Sequence[str], limit: int, require: bytes = b""
) -> tuple[list[str], int]:
    """The kept pages (relative paths, sorted, first ``limit``) and how many were eligible.

    Eligible: HTML files outside hidden folders, not matching ``exclude``, not redirect
    stubs, and containing ``require``.
    """
    eligible: list[str] = []
    for path in tree.rglob("*"):
        rel = path.relative_to(tree).as_posix()
        if not path.is_file() or path.is_symlink() or not is_html(rel):
            continue
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        if any(fnmatch.fnmatch(rel, g) for g in exclude):
            continue
        data = path.read_bytes()
        if REFRESH.search(data[:4096]) or require not in data:
            continue
        eligible.append(rel)
    eligible.sort()
    return eligible[:limit], len(eligible)


def generator_marks(pages: Sequence[Path]) -> dict[str, int]:
    """How many pages carry each generator name (``<meta name=generator>`` or a 'generated by' comment)."""
    counts: collections.Counter[str] = collections.Counter()
    for page in pages:
        head = page.read_bytes()[:200_000]
        marks = {m.decode("utf-8", "replace").strip() for m in GENERATOR_META.findall(head)}
        marks |= {m.decode("utf-8", "replace").strip() for m in GENERATOR_COMMENT.findall(head)}
        counts.update(marks)
    return dict(counts.most_common())


def build_site(site: Site, out: Path, limit: int) -> Record:
    """Build one site into ``out/<name>`` (via a temporary folder) and return its record."""
    final = out / site.name
    with tempfile.TemporaryDirectory(dir=out, prefix=f".{site.name}-") as tmp:
        raw, kept = Path(tmp) / "raw", Path(tmp) / "kept"
        raw.mkdir()
        source = site.make(out, raw)
        pages, available = select_pages(raw, site.exclude, limit, site.require)
        if not pages:
            raise RuntimeError(f"no HTML pages in {source.package} {source.tree}")
        for rel in pages:
            (kept / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(raw / rel, kept / rel)
        copied = [kept / rel for rel in pages]
        record = Record(
            name=site.name,
            generator=site.generator,
            origin=source.origin,
            package=source.package,
            version=source.version,
            tree=source.tree,
            pages=len(pages),
            pages_available=available,
            bytes=sum(p.stat().st_size for p in copied),
            content_selector=site.content_selector,
            selector_note=site.selector_note,
            generator_marks=generator_marks(copied),
            note=source.note,
        )
        (kept / RECORD).write_text(json.dumps(asdict(record), indent=2) + "\n", encoding="utf-8")
        if final.exists():
            shutil.rmtree(final)
        kept.rename(final)
    return record


def load_record(folder: Path) -> Record | None:
    path = folder / RECORD
    if not path.is_file():
        return None
    return Record(**json.loads(path.read_text(encoding="utf-8")))


def default_out() -> Path:
    return Path(os.environ.get(ENV_OUT) or DEFAULT_OUT).expanduser()


def build(out: Path, names: Sequence[str] = (), limit: int = MAX_PAGES) -> dict[str, object]:
    """Build every missing site (or only ``names``) and rewrite ``out/sites.json``."""
    out.mkdir(parents=True, exist_ok=True)
    wanted = [s for s in SITES if not names or s.name in names]
    unknown = set(names) - {s.name for s in SITES}
    if unknown:
        raise SystemExit(
            f"unknown site(s): {', '.join(sorted(unknown))}; known: {', '.join(s.name for s in SITES)}"
        )
    failed: dict[str, str] = {}
    for site in wanted:
        if load_record(out / site.name) is not None:
            print(f"{site.name}: already built", file=sys.stderr)
            continue
        print(f"{site.name}: building ({site.generator})", file=sys.stderr)
        try:
            record = build_site(site, out, limit)
        except Exception as exc:  # one site failing must not stop the others
            failed[site.name] = f"{type(exc).__name__}: {exc}"
            print(f"{site.name}: FAILED {failed[site.name]}", file=sys.stderr)
            continue
        print(f"{site.name}: {record.pages} pages, {record.bytes / 1e6:.1f} MB", file=sys.stderr)
    records = [r for s in SITES if (r := load_record(out / s.name)) is not None]
    summary: dict[str, object] = {
        "max_pages": limit,
        "sites": [asdict(r) for r in records],
        "failed": failed,
    }
    (out / "sites.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.sites.build", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=None, help=f"collection folder (default ${ENV_OUT} or {DEFAULT_OUT})"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="NAME", help="build only this site (repeatable)"
    )
    parser.add_argument(
        "--max-pages", type=int, default=MAX_PAGES, help="pages kept per site (default %(default)s)"
    )
    args = parser.parse_args(argv)
    out = (args.out or default_out()).expanduser().resolve()
    summary = build(out, args.only, args.max_pages)
    sites = summary["sites"]
    assert isinstance(sites, list)
    for rec in sites:
        size = f"{rec['pages']:4} pages {rec['bytes'] / 1e6:6.1f} MB"
        print(f"{rec['name']:17} {rec['generator']:26} {size}  {rec['content_selector'] or '-'}")
    print(f"collection: {out}")
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
