"""The sample documentation tree: a small, believable doc set plus deliberately bad files.

The tree documents "lumen", a fictional static site server, in every format
docbatch reads (Markdown, reStructuredText, HTML, plain text). It also holds a
``broken/`` folder of files that must fail validation (see ``BAD_FILES``) and a
hidden ``.drafts/`` folder that an inventory should skip (see ``HIDDEN_FILES``).
A few words occur in exactly one file each (see ``KNOWN_WORDS``), so tests and
demos can check that search finds the right document.

``sample_files()`` is the single source of truth; ``write_sample_tree()`` writes
it to disk. The committed copy in ``data/sample_docs`` is written with::

    python -m docbatch.sample data/sample_docs --overwrite
"""

from __future__ import annotations

import argparse
import shutil
import struct
import sys
import zlib
from collections.abc import Sequence
from functools import cache
from pathlib import Path

SAMPLE_MAX_FILE_SIZE = 200_000

SAMPLE_PATTERN = "*.md,*.rst,*.html,*.txt"
"""Globs matching every document format in the sample tree."""
"""The file size limit the README demo uses; only ``broken/huge.txt`` exceeds it."""

KNOWN_WORDS: dict[str, str] = {
    "quokka": "guides/troubleshooting.md",
    "axolotl": "guides/plugins.md",
    "zephyrine": "api/cache.rst",
    "tamarind": "site/deploy.html",
    "saffron": "FAQ.txt",
}
"""Words that occur (case-insensitively) in exactly one file: word -> relative path."""

BAD_FILES: dict[str, str] = {
    "broken/empty.md": "empty",
    "broken/latin1.md": "encoding",
    "broken/image.md": "binary",
    "broken/huge.txt": "too_large",
}
"""Files that must fail validation: relative path -> the problem they have."""

HIDDEN_FILES: tuple[str, ...] = (".drafts/roadmap.md",)
"""Files inside hidden folders, which an inventory should skip."""

_HUGE_FILE_SIZE = 300_000


_MARKDOWN: dict[str, str] = {
    "README.md": """\
---
title: lumen
description: A small static site server for documentation sets.
---

# lumen

**lumen** is a small static site server built for documentation sets. It serves a
directory of pre-built HTML over HTTP/1.1, with strong caching headers, optional TLS,
redirect rules and a tiny plugin API. It is a single Python package with no compiled
dependencies, so it installs anywhere Python 3.10 or newer runs.

> lumen does not build your site. Point it at the output of Sphinx, MkDocs, Hugo or
> any other generator and it will serve it.

## Features

- Serves `index.html` for directory requests and `404.html` for missing pages.
- Sends `ETag` and `Cache-Control` headers and answers conditional requests with
  `304 Not Modified`.
- Reads one configuration file, `lumen.toml`, and lets environment variables
  override it.
- Terminates TLS itself when you do not have a reverse proxy in front of it.
- Loads plugins from Python entry points to rewrite requests and responses.

## Quick start

```bash
pipx install lumen-server
lumen serve ./public --port 8080
```

Open <http://127.0.0.1:8080/> in a browser. Press *Ctrl+C* to stop the server.

## Documentation

- [Getting started](guides/getting-started.md)
- [Installation](guides/installation.md)
- [Configuration](guides/configuration.md)
- [Command-line reference](reference/cli.md)
- [Python API](api/index.rst)
- [Administration](admin/index.rst)

Release history is in [CHANGES.txt](CHANGES.txt); common questions are answered in
[FAQ.txt](FAQ.txt).

## License

lumen is distributed under the Apache License 2.0. See
<https://www.apache.org/licenses/LICENSE-2.0> for the full text.
""",
    "CONTRIBUTING.md": """\
# Contributing to lumen

Thanks for taking the time to improve lumen. This page explains how to set up a
development environment, run the tests and get a change merged.

## Setting up

You need Python 3.10 or newer and `git`. Clone the repository and install the
package in editable mode together with the test dependencies:

```bash
git clone https://github.com/lumen-server/lumen.git
cd lumen
python -m venv .venv
. .venv/bin/activate
pip install -e ".[test]"
```

## Running the tests

```bash
pytest -q
pytest -q -m "not slow"   # skip the TLS and load tests
```

The test suite starts real servers on free ports of the loopback interface, so it
does not need network access. Tests that need `openssl` on the `PATH` are skipped
when it is missing.

## Making a change

1. Open an issue first for anything larger than a typo, so we can agree on the
   approach before you write the code.
2. Create a branch from `main` and keep each commit focused on one change.
3. Add or update tests. A bug fix should come with a test that fails without it.
4. Add a line to `CHANGES.txt` under *Unreleased*.
5. Open a pull request and fill in the template.

### Style

- Code is formatted with `ruff format` and checked with `ruff check`.
- Public functions have type hints and a short docstring.
- User-facing messages say what went wrong *and* what to do about it.

### Documentation

The Markdown guides live in `guides/` and `reference/`; the API and administration
pages are reStructuredText in `api/` and `admin/` and are built with Sphinx.
Preview your changes with:

```bash
sphinx-build -b html . _build/html
lumen serve _build/html
```

## Code of conduct

Everyone taking part in the project is expected to follow the
[Contributor Covenant](https://www.contributor-covenant.org/version/2/1/code_of_conduct/).
""",
    "guides/getting-started.md": """\
---
title: Getting started with lumen
---

# Getting started

This guide takes you from an empty directory to a documentation site served by
lumen in about five minutes. It assumes lumen is already installed; if it is not,
follow the [installation guide](installation.md) first.

## Serve a directory

Any directory of HTML files will do. Create a small one:

```bash
mkdir -p public/guide
echo '<h1>Hello from lumen</h1>' > public/index.html
echo '<h1>A guide page</h1>' > public/guide/index.html
lumen serve public
```

lumen prints the address it listens on:

```text
lumen 1.1.0 serving /home/ada/site/public
listening on http://127.0.0.1:8080 (4 workers, cache on)
```

Requests for a directory, such as `/guide/`, are answered with the directory's
`index.html`. A request for `/guide` without the trailing slash is redirected to
`/guide/` with a `301` status, so relative links inside the page keep working.

## Add a configuration file

Command-line options are handy while you experiment, but a deployment should keep
its settings in `lumen.toml` next to the site:

```toml
[server]
root = "public"
port = 8080

[cache]
max_age = 600
```

Run `lumen serve` without arguments in the directory that holds `lumen.toml` and
lumen picks the file up. The [configuration guide](configuration.md) lists every
section, and `lumen config show` prints the settings lumen would use.

## Check the site before you publish

`lumen check` walks the site root and reports broken internal links, missing
`index.html` files and files that are too large to cache:

```bash
lumen check public
```

It exits with status `1` when it finds a problem, which makes it easy to use in CI.

## Next steps

- Put lumen behind a reverse proxy or let it terminate TLS itself: see the
  [deployment guide](deployment.md).
- Tune caching for large sites in [Caching](advanced/caching.md).
- Look up every command and option in the [CLI reference](../reference/cli.md).
""",
    "guides/installation.md": """\
# Installing lumen

lumen is published on PyPI as `lumen-server` (the name `lumen` was already taken).
The command it installs is called `lumen`.

## Requirements

- Python 3.10, 3.11, 3.12 or 3.13
- Linux, macOS or Windows
- `openssl` is *optional*; only `lumen tls selfsigned` needs it

## With pipx (recommended)

[pipx](https://pipx.pypa.io/) installs command-line tools into isolated
environments, so lumen's dependencies never clash with your projects:

```bash
pipx install lumen-server
lumen version
```

## With pip

Inside a virtual environment:

```bash
python -m venv ~/.venvs/lumen
~/.venvs/lumen/bin/pip install lumen-server
~/.venvs/lumen/bin/lumen version
```

Avoid `sudo pip install`: it writes into the system Python and can break tools
your operating system depends on.

## From source

```bash
git clone https://github.com/lumen-server/lumen.git
cd lumen
pip install .
```

### Optional extras

| Extra    | Installs         | Needed for                   |
|----------|------------------|------------------------------|
| `brotli` | `brotli`         | the bundled `brotli` plugin  |
| `watch`  | `watchfiles`     | `lumen serve --reload`       |
| `all`    | everything above | trying every feature         |

Install extras with the usual bracket syntax, for example
`pipx install "lumen-server[watch]"`.

## Verifying the installation

`lumen version` prints the version and the Python it runs on:

```text
lumen 1.1.0 (CPython 3.12.3, linux)
```

If the shell reports `command not found`, the directory pipx or pip installed
into is not on your `PATH`; run `pipx ensurepath` and open a new terminal.

## Upgrading and removing

```bash
pipx upgrade lumen-server
pipx uninstall lumen-server
```

Read the [upgrade notes](../admin/upgrading.rst) before moving between minor
versions.
""",
    "guides/configuration.md": """\
---
title: Configuring lumen
---

# Configuration

lumen reads its settings from several places. When the same setting appears in
more than one of them, the one higher in this table wins:

| Source               | Example                     | Scope       |
|----------------------|-----------------------------|-------------|
| Command-line option  | `--port 9000`               | one run     |
| Environment variable | `LUMEN_PORT=9000`           | the process |
| Configuration file   | `port = 9000` in `[server]` | every run   |
| Built-in default     | `8080`                      | always      |

## The configuration file

lumen looks for `lumen.toml` in the current directory. Pass `--config PATH` or set
`LUMEN_CONFIG` to use another file. The file is [TOML](https://toml.io/en/v1.0.0);
unknown keys are an error, so a typo never goes unnoticed.

A complete example:

```toml
[server]
root = "public"
host = "0.0.0.0"
port = 8080
workers = 4

[cache]
max_entries = 2048
max_age = 300
etag = true

[log]
level = "info"
format = "json"

[[redirects]]
from = "/docs/old/*"
to = "/docs/:splat"
status = 301
```

### `[server]`

`root` is resolved relative to the configuration file, not to the current
directory, so `lumen --config /srv/docs/lumen.toml serve` works from anywhere.

#### Choosing the number of workers

Each worker is a thread that serves one request at a time. Static files are cheap
to send, so the default of `4` is enough for most sites; raise it if
`lumen_requests_queued` in the metrics stays above zero.

### `[cache]`

See [Caching](advanced/caching.md) for what each key does and how to size the cache.

### `[[redirects]]`

Each `[[redirects]]` table adds one rule. Rules are tried in the order they appear
and the first match wins. `*` in `from` matches the rest of the path and is
available as `:splat` in `to`.

> Redirect loops are detected at start-up: lumen refuses to start if a rule's
> target matches the rule itself.

## Environment variables

Keys in `[server]` map to `LUMEN_` plus the key in upper case (`LUMEN_PORT`,
`LUMEN_WORKERS`); keys in other sections include the section name
(`LUMEN_CACHE_MAX_AGE`, `LUMEN_LOG_LEVEL`). The full list is in the
[environment reference](../reference/environment.md), and every key of the file is
described in the [configuration file reference](../reference/config-file.md).

## Checking what lumen will use

```bash
lumen config show --format toml
```

prints the merged settings and, for each one, where it came from.
""",
    "guides/deployment.md": """\
# Deploying lumen

lumen is happy to face the internet on its own, but most deployments put it behind
a reverse proxy that already handles TLS and compression. This guide covers both
set-ups and running lumen as a system service.

## Running under systemd

Create a dedicated user and a unit file at `/etc/systemd/system/lumen.service`:

```ini
[Unit]
Description=lumen static site server
After=network-online.target

[Service]
User=lumen
WorkingDirectory=/srv/docs
ExecStart=/opt/lumen/bin/lumen --config /srv/docs/lumen.toml serve
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
AmbientCapabilities=CAP_NET_BIND_SERVICE

[Install]
WantedBy=multi-user.target
```

Then enable and start it:

```bash
sudo useradd --system --home /srv/docs lumen
sudo systemctl daemon-reload
sudo systemctl enable --now lumen
journalctl -u lumen -f
```

`AmbientCapabilities` lets lumen bind to port 80 or 443 without running as root.

## Behind a reverse proxy

Bind lumen to the loopback interface and let the proxy forward to it:

```nginx
server {
    listen 443 ssl;
    server_name docs.example.org;

    location / {
        proxy_pass http://127.0.0.1:8080;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
```

Set `trust_proxy = true` in `[server]` so lumen logs the client address from
`X-Forwarded-For` instead of the proxy's.

## Terminating TLS in lumen

Without a proxy, give lumen a certificate and key; see [TLS](advanced/tls.md).

## In a container

The official image is built on `python:3.12-slim` and serves `/site`:

```bash
docker run --rm -p 8080:8080 -v "$PWD/public:/site:ro" ghcr.io/lumen-server/lumen:1.1
```

## Health checks

`GET /_lumen/health` answers `200 OK` with the body `ok` as long as the server can
read its root directory. Point your load balancer at it rather than at `/`, which
may be cached or redirected.
""",
    "guides/troubleshooting.md": """\
---
title: Troubleshooting
---

# Troubleshooting

Most problems with lumen come down to the wrong root directory, a port that is
already taken or a cache that is doing exactly what it was told. Start with
`lumen config show`: it prints every setting together with where it came from.

## The server does not start

### "Address already in use"

Another process is listening on the port. Find it with:

```bash
ss -ltnp 'sport = :8080'
```

Stop that process or pick another port with `--port`.

### "root directory not found"

`root` in `lumen.toml` is resolved relative to the configuration file. If you
moved the file, move the site with it or use an absolute path.

## Pages are out of date

### Browsers keep showing the old page

lumen sends `Cache-Control: max-age=300` by default, so browsers may reuse a page
for five minutes without asking. Lower `max_age` in `[cache]` while you are
editing, or see [Caching](advanced/caching.md) for per-path rules.

### lumen itself serves the old page

The in-memory cache is keyed on path, size and modification time. Some deployment
tools copy files with their original timestamps and sizes; run `lumen cache clear`
after such a deploy, or send the process `SIGHUP`.

## Requests are slow

### Finding the bottleneck

#### Check the worker queue

If `lumen_requests_queued` stays above zero, every worker is busy. Raise
`workers`, or check whether a plugin blocks in `on_request`.

#### Check name resolution

We once spent an afternoon on a test machine called `quokka.lab.example.net`
whose resolver timed out on every reverse lookup. lumen never resolves client
addresses itself, but plugins that log host names do; disable them to compare.

## Getting help

When you open an issue, include the output of `lumen version`, the relevant part
of your configuration and the log lines around the error. Run with
`--log-level debug` to get more detail. Issues go to
<https://github.com/lumen-server/lumen/issues>.
""",
    "guides/plugins.md": """\
# Writing plugins

A plugin is a Python class that sees every request before lumen serves it and
every response before it is sent. Plugins can add headers, rewrite paths or answer
a request themselves. The full API is documented in the
[plugin API reference](../api/plugins.rst).

## A first plugin

This plugin tags every response with a request id and redirects requests for a
retired section of the site:

```python
from __future__ import annotations

import uuid

from lumen.plugins import Plugin, Request, Response


class RequestId(Plugin):
    \"\"\"Add an X-Request-Id header to every response.\"\"\"

    name = "request-id"

    def on_request(self, request: Request) -> Response | None:
        incoming = request.headers.get("X-Request-Id")
        request.state["request_id"] = incoming or uuid.uuid4().hex
        if request.path.startswith("/axolotl-docs/"):
            return Response.redirect("/docs/", status=308)
        return None

    def on_response(self, request: Request, response: Response) -> Response:
        response.headers["X-Request-Id"] = request.state["request_id"]
        return response
```

Returning a `Response` from `on_request` skips the file lookup; returning `None`
lets lumen carry on.

## Registering the plugin

lumen finds plugins through the `lumen.plugins` entry point group. In your
package's `pyproject.toml`:

```toml
[project.entry-points."lumen.plugins"]
request-id = "mypackage.plugins:RequestId"
```

Then enable it by name in `lumen.toml`:

```toml
[plugins]
enabled = ["request-id", "gzip"]
```

## Rules for plugins

- Hooks run on worker threads: keep them fast and never block on the network.
- Do not keep per-request data on `self`; use `request.state`.
- Raise `lumen.plugins.PluginError` to fail a request with `500` and a log line;
  any other exception is treated the same way but logged with a traceback.

> Plugins run in the order they are listed in `enabled`, and `on_response` hooks
> run in reverse order, like middleware in most web frameworks.
""",
    "guides/advanced/caching.md": """\
---
title: Caching
---

# Caching

lumen caches at two levels: in its own memory, and in the browser through HTTP
headers. Both are on by default and both can be tuned in the `[cache]` section of
the [configuration file](../configuration.md).

## The in-memory cache

Small files are kept in memory after the first request, keyed on their path, size
and modification time. A changed file is therefore picked up on the next request,
without a restart.

| Key           | Default | Meaning                                       |
|---------------|---------|-----------------------------------------------|
| `max_entries` | `2048`  | files kept in memory before eviction starts   |
| `max_bytes`   | `64MiB` | total size of the cached bodies               |
| `max_file`    | `1MiB`  | larger files are always streamed from disk    |

### Sizing the cache

Count the files your visitors actually request, not the files in the site. For a
typical documentation set, a few hundred pages account for almost all traffic, and
the default of 2048 entries is plenty.

## Browser caching

### `Cache-Control`

`max_age` sets `Cache-Control: max-age=N` on every response. For sites whose asset
file names contain a content hash, a long lifetime for those files is safe:

```toml
[[cache.rules]]
match = "/_static/*"
max_age = 31536000
immutable = true
```

### `ETag` and conditional requests

With `etag = true`, lumen sends a weak `ETag` derived from the file's size and
modification time and answers `If-None-Match` with `304 Not Modified`. The headers
are listed in the [HTTP header reference](../../reference/http-headers.md).

## Clearing the cache

```bash
lumen cache clear --url http://127.0.0.1:8080
```

The Python side of the cache is described in the [cache API](../../api/cache.rst).
""",
    "guides/advanced/tls.md": """\
# TLS

lumen can terminate TLS itself. You need a certificate chain and its private key
in PEM format.

## Configuration

```toml
[tls]
cert = "/etc/lumen/fullchain.pem"
key = "/etc/lumen/privkey.pem"
port = 8443
redirect_http = true
```

With `redirect_http = true`, lumen also listens on the plain `port` from
`[server]` and redirects every request there to HTTPS with a `308` status.

## Getting a certificate

### Let's Encrypt

Use any ACME client, for example [certbot](https://certbot.eff.org/), in webroot
mode with lumen's root as the webroot. lumen serves `/.well-known/acme-challenge/`
from the root like any other path.

Reload lumen after the certificate is renewed:

```bash
sudo systemctl reload lumen
```

`SIGHUP` makes lumen re-read the certificate and key without dropping connections.

### A self-signed certificate for development

```bash
lumen tls selfsigned --host localhost --out ./dev-certs
lumen serve public --tls-cert dev-certs/cert.pem --tls-key dev-certs/key.pem
```

Browsers will warn about the certificate; that is expected.

## Protocol settings

lumen accepts TLS 1.2 and 1.3 only and uses Python's default cipher suites.
`min_version = "1.3"` in `[tls]` disables TLS 1.2.

> lumen does not support HTTP/2. If you need it, put a proxy in front; see the
> [deployment guide](../deployment.md).
""",
    "reference/cli.md": """\
---
title: Command-line reference
---

# Command-line reference

```text
lumen [--config PATH] [--log-level LEVEL] COMMAND [OPTIONS]
```

## Global options

- `--config PATH`: read settings from `PATH` instead of `./lumen.toml`.
- `--log-level LEVEL`: one of `debug`, `info`, `warning`, `error`.
- `--version`: print the version and exit.

## Commands

| Command          | What it does                                           |
|------------------|--------------------------------------------------------|
| `serve [ROOT]`   | serve `ROOT` (or `server.root`) over HTTP              |
| `check [ROOT]`   | report broken links, missing index pages, large files  |
| `routes`         | print the redirect rules in the order they are tried   |
| `config show`    | print the merged settings and where each came from     |
| `cache clear`    | empty the in-memory cache of a running server          |
| `tls selfsigned` | write a self-signed certificate for development        |
| `version`        | print version information                               |

### `lumen serve`

| Option            | Default     | Description                             |
|-------------------|-------------|-----------------------------------------|
| `--host HOST`     | `127.0.0.1` | interface to bind                       |
| `--port PORT`     | `8080`      | TCP port                                |
| `--workers N`     | `4`         | worker threads                          |
| `--no-cache`      | off         | disable the in-memory cache             |
| `--reload`        | off         | restart when the configuration changes  |
| `--tls-cert PATH` | none        | certificate chain (PEM)                 |
| `--tls-key PATH`  | none        | private key (PEM)                       |

`--reload` needs the `watch` extra. It watches the configuration file, not the
site: the site is always served fresh.

### `lumen check`

```bash
lumen check public --external --max-size 5MiB
```

`--external` also checks `https://` links (slow; off by default). `--max-size`
warns about files larger than the given size.

### `lumen config show`

`--format` is `table` (the default), `toml` or `json`.

## Exit status

- `0`: success.
- `1`: `lumen check` found problems.
- `2`: bad usage or invalid configuration.
- `3`: the server could not start, for example because the port is in use.

See also the [configuration file reference](config-file.md) and the list of
[environment variables](environment.md).
""",
    "reference/config-file.md": """\
# Configuration file reference

This page lists every key `lumen.toml` accepts. For an introduction, read the
[configuration guide](../guides/configuration.md).

Sizes are written as a string with a unit, `KiB`, `MiB` or `GiB`; a plain integer
is a number of bytes.

## `[server]`

| Key               | Type    | Default        | Description                                  |
|-------------------|---------|----------------|----------------------------------------------|
| `root`            | string  | `"public"`     | directory to serve, relative to this file    |
| `host`            | string  | `"127.0.0.1"`  | interface to bind                            |
| `port`            | integer | `8080`         | TCP port for plain HTTP                      |
| `workers`         | integer | `4`            | worker threads                               |
| `index`           | string  | `"index.html"` | file served for directory requests           |
| `not_found`       | string  | `"404.html"`   | page served with status 404                  |
| `pretty_urls`     | boolean | `false`        | try `PATH.html` when `PATH` is missing       |
| `follow_symlinks` | boolean | `true`         | follow symbolic links inside the root        |
| `trust_proxy`     | boolean | `false`        | read the client address from X-Forwarded-For |

## `[cache]`

| Key           | Type    | Default    | Description                          |
|---------------|---------|------------|--------------------------------------|
| `backend`     | string  | `"memory"` | name of the cache backend            |
| `max_entries` | integer | `2048`     | files kept in memory                 |
| `max_bytes`   | size    | `"64MiB"`  | total size of cached bodies          |
| `max_file`    | size    | `"1MiB"`   | larger files are never cached        |
| `max_age`     | integer | `300`      | seconds, sent as `Cache-Control`     |
| `etag`        | boolean | `true`     | send weak ETags, answer with 304     |

`[[cache.rules]]` tables take `match`, `max_age` and `immutable` and override
`max_age` for the paths they match.

## `[tls]`

| Key             | Type    | Default | Description                              |
|-----------------|---------|---------|------------------------------------------|
| `cert`          | string  | none    | certificate chain in PEM format          |
| `key`           | string  | none    | private key in PEM format                |
| `port`          | integer | `8443`  | TCP port for HTTPS                       |
| `redirect_http` | boolean | `false` | redirect plain HTTP requests to HTTPS    |
| `min_version`   | string  | `"1.2"` | oldest TLS version accepted              |
| `hsts`          | integer | `0`     | `max-age` of Strict-Transport-Security   |

## `[log]`

| Key      | Type    | Default  | Description                              |
|----------|---------|----------|------------------------------------------|
| `level`  | string  | `"info"` | `debug`, `info`, `warning` or `error`    |
| `format` | string  | `"text"` | `text` or `json`                         |
| `access` | boolean | `true`   | write one record per request             |
| `file`   | string  | none     | log file; standard error when unset      |

## `[[redirects]]`

Each table has `from`, `to` and an optional `status` (default `301`).

## `[plugins]`

`enabled` is a list of plugin names. Settings for a plugin go in a table named
after it, such as `[plugins.headers]`.
""",
    "reference/environment.md": """\
# Environment variables

Environment variables override the configuration file and are overridden by
command-line options.

| Variable              | Configuration key   | Example                |
|-----------------------|---------------------|------------------------|
| `LUMEN_CONFIG`        | (the file itself)   | `/srv/docs/lumen.toml` |
| `LUMEN_ROOT`          | `server.root`       | `/srv/docs/public`     |
| `LUMEN_HOST`          | `server.host`       | `0.0.0.0`              |
| `LUMEN_PORT`          | `server.port`       | `9000`                 |
| `LUMEN_WORKERS`       | `server.workers`    | `8`                    |
| `LUMEN_CACHE_MAX_AGE` | `cache.max_age`     | `60`                   |
| `LUMEN_LOG_LEVEL`     | `log.level`         | `debug`                |
| `LUMEN_LOG_FORMAT`    | `log.format`        | `json`                 |

Boolean values accept `1`, `true`, `yes`, `on` and `0`, `false`, `no`, `off`, in
any case. Anything else is a configuration error (exit status 2).

## Variables lumen reads but does not own

- `NO_COLOR`: when set to any non-empty value, lumen prints no ANSI colours.
- `SSL_CERT_FILE`: used by `lumen check --external` to verify `https://` links.

## Example

```bash
LUMEN_PORT=9000 LUMEN_LOG_LEVEL=debug lumen serve
```
""",
    "reference/http-headers.md": """\
---
title: HTTP headers
---

# HTTP headers

## Response headers lumen sets

| Header                      | When                       | Example                         |
|-----------------------------|----------------------------|---------------------------------|
| `Content-Type`              | always, from the extension | `text/html; charset=utf-8`      |
| `Content-Length`            | always                     | `5123`                          |
| `Last-Modified`             | always                     | `Tue, 04 Jun 2024 10:15:02 GMT` |
| `ETag`                      | when `cache.etag` is true  | `W/"1403-65f0a1b2"`             |
| `Cache-Control`             | always                     | `max-age=300`                   |
| `Strict-Transport-Security` | TLS with `hsts` above zero | `max-age=31536000`              |
| `X-Content-Type-Options`    | always                     | `nosniff`                       |

## Request headers lumen reads

- `If-None-Match` and `If-Modified-Since`: answered with `304 Not Modified` when
  the file is unchanged.
- `Range`: a single byte range is served with `206 Partial Content`; a request for
  several ranges gets the whole file.
- `Accept-Encoding`: used by the `gzip` and `brotli` plugins.
- `X-Forwarded-For`: only read with `trust_proxy = true`.

## Adding your own headers

Use the bundled `headers` plugin:

```toml
[plugins]
enabled = ["headers"]

[plugins.headers]
"/*" = { "Referrer-Policy" = "strict-origin-when-cross-origin" }
"/downloads/*" = { "Content-Disposition" = "attachment" }
```

For what each header means, see MDN's
[HTTP headers reference](https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers).
""",
}


_RST: dict[str, str] = {
    "index.rst": """\
.. lumen documentation master file

===================
lumen documentation
===================

lumen is a small static site server for documentation sets. These pages describe
its Python API and how to run it in production. The task-oriented guides are
written in Markdown and live in the ``guides/`` directory.

.. toctree::
   :maxdepth: 2
   :caption: Contents

   api/index
   admin/index

Where to start
--------------

* Embedding lumen in a Python program: :ref:`api-server`.
* Writing a plugin: :ref:`api-plugins`.
* Running lumen for other people: :ref:`admin-security` and :ref:`admin-logging`.
* Moving to a new version: :ref:`admin-upgrading`.

Indices and tables
------------------

* :ref:`genindex`
* :ref:`search`
""",
    "api/index.rst": """\
.. _api-index:

Python API
==========

lumen can be embedded in a Python program: start a server in a thread for tests,
serve a directory from a command-line tool of your own, or write plugins.

.. toctree::
   :maxdepth: 1

   server
   routing
   cache
   plugins

Stability
---------

Everything documented here follows `semantic versioning`_: it changes
incompatibly only in a new major version. Names starting with an underscore are
private and may change in any release.

.. _semantic versioning: https://semver.org/
""",
    "api/server.rst": """\
.. _api-server:

lumen.server
============

.. module:: lumen.server

The :class:`Server` class runs lumen inside your own Python process. It is what
``lumen serve`` uses under the hood.

Starting a server
-----------------

.. code-block:: python

   from lumen.config import Config
   from lumen.server import Server

   config = Config.load("lumen.toml")
   with Server(config) as server:
       print("listening on", server.url)
       server.serve_forever()

``Server`` is a context manager: leaving the ``with`` block stops the workers and
closes the listening socket.

Testing with a background server
~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~

In tests, bind to port ``0`` to get a free port and run the server in a thread::

   import threading
   import urllib.request

   config = Config(root="tests/site", port=0)
   with Server(config) as server:
       threading.Thread(target=server.serve_forever, daemon=True).start()
       body = urllib.request.urlopen(server.url + "index.html").read()
       server.shutdown()

.. versionadded:: 0.9
   ``port=0`` picks a free port and ``Server.url`` reports the real one.

Server states
-------------

+---------------+---------------------------------------+-----------------+
| State         | Meaning                               | Next state      |
+===============+=======================================+=================+
| ``created``   | configuration loaded, no socket yet   | ``listening``   |
+---------------+---------------------------------------+-----------------+
| ``listening`` | socket bound, workers serving         | ``draining``    |
+---------------+---------------------------------------+-----------------+
| ``draining``  | no new connections; requests in       | ``stopped``     |
|               | progress are allowed to finish        |                 |
+---------------+---------------------------------------+-----------------+
| ``stopped``   | socket closed, workers joined         | none            |
+---------------+---------------------------------------+-----------------+

Reference
---------

.. class:: Server(config, *, plugins=None)

   Serve ``config.root`` according to ``config``.

   :param config: a :class:`lumen.config.Config`.
   :param plugins: plugin instances to use instead of those named in
      ``config.plugins.enabled``.

   .. method:: serve_forever()

      Handle requests until :meth:`shutdown` is called.

   .. method:: shutdown(timeout=5.0)

      Stop accepting connections and wait up to *timeout* seconds for requests
      in progress.

   .. attribute:: url

      The base URL with a trailing slash, for example ``http://127.0.0.1:8080/``.
""",
    "api/routing.rst": """\
.. _api-routing:

lumen.routing
=============

The routing layer maps a request path to a file under the site root, applying the
redirect rules first.

Path resolution
---------------

For each request path, lumen tries, in order:

1. the redirect rules, first match wins;
2. the file at that path under the root;
3. ``index.html`` inside the directory at that path;
4. the ``not_found`` page, with status 404.

Paths are normalised before the lookup: ``..`` segments that would leave the root
are rejected with status 400, and percent-encoded bytes are decoded exactly once.

Pattern syntax
--------------

================  ========================  ===========================
Pattern           Matches                   Captures
================  ========================  ===========================
``/about/``       exactly ``/about/``       nothing
``/docs/*``       ``/docs/`` and below      ``:splat``, the rest
``/v:version/*``  ``/v1/x``, ``/v2/y/z``    ``:version`` and ``:splat``
================  ========================  ===========================

Using the router directly
-------------------------

:func:`lumen.routing.resolve` is a pure function, handy for testing a rule set::

   >>> from lumen.routing import Rule, resolve
   >>> rules = [Rule("/docs/old/*", "/docs/:splat", status=301)]
   >>> resolve("/docs/old/intro.html", rules)
   Redirect(location='/docs/intro.html', status=301)

.. versionchanged:: 1.0
   Named captures such as ``:version`` were added; before 1.0 only ``*`` was
   supported.

See :ref:`api-server` for how the router is wired into the server.
""",
    "api/cache.rst": """\
.. _api-cache:

lumen.cache
===========

The cache keeps small files in memory so that repeated requests do not touch the
disk. This page describes the Python interface; the caching guide explains how to
tune it.

How entries are keyed
---------------------

An entry is keyed on ``(path, mtime_ns, size)``. A file that changes on disk gets
a new key on its next request, and the stale entry ages out of the cache.

Eviction
~~~~~~~~

Entries are evicted least-recently-used first once either ``max_entries`` or
``max_bytes`` is exceeded.

.. note::

   Files larger than ``max_file`` are never cached. They are streamed from disk
   with ``os.sendfile`` where the platform supports it.

Cache backends
--------------

Two backends ship with lumen:

``memory``
   The default: a least-recently-used dictionary inside each process.

``zephyrine``
   A shared-memory backend, so that several lumen processes on one host share a
   single cache. It was contributed by the team behind the Zephyrine internal
   documentation portal and kept its name. Select it with
   ``backend = "zephyrine"`` in ``[cache]``.

.. versionadded:: 1.1
   The ``zephyrine`` backend.

Writing a backend
-----------------

A backend implements four methods:

.. code-block:: python

   class Backend(Protocol):
       def get(self, key: CacheKey) -> bytes | None: ...
       def put(self, key: CacheKey, body: bytes) -> None: ...
       def clear(self) -> None: ...
       def stats(self) -> CacheStats: ...

Register it under the ``lumen.cache_backends`` entry point group. Cache hits and
misses are logged at debug level; see :ref:`admin-logging`.
""",
    "api/plugins.rst": """\
.. _api-plugins:

lumen.plugins
=============

Plugins observe and change requests and responses. The `plugin guide`_ walks
through a complete example; this page is the reference.

.. _plugin guide: https://lumen-server.readthedocs.io/en/stable/guides/plugins.html

The Plugin base class
---------------------

.. code-block:: python

   class Plugin:
       name: str = ""

       def configure(self, settings: Mapping[str, Any]) -> None: ...
       def on_request(self, request: Request) -> Response | None: ...
       def on_response(self, request: Request, response: Response) -> Response: ...

``configure`` receives the ``[plugins.<name>]`` table from the configuration file,
once, before the server starts.

Hook order
~~~~~~~~~~

``on_request`` hooks run in the order the plugins are listed; ``on_response``
hooks run in reverse order. A plugin whose ``on_request`` returns a response stops
the chain: later plugins' ``on_request`` hooks are skipped, but every plugin's
``on_response`` still runs.

.. warning::

   Hooks run on worker threads, concurrently. A plugin that keeps mutable state on
   ``self`` must protect it with a lock, or better, keep per-request data in
   ``request.state``.

Request and Response
--------------------

``Request`` exposes ``method``, ``path``, ``query``, ``headers`` (a
case-insensitive mapping) and ``state`` (a dict for plugins). ``Response`` has
``status``, ``headers`` and ``body``, plus the constructors
``Response.redirect(location, status=302)`` and ``Response.text(body, status=200)``.

.. versionadded:: 0.8

Style
-----

Plugin code in the lumen repository follows `PEP 8`_ and is type-checked with
`mypy`_.

.. _PEP 8: https://peps.python.org/pep-0008/
.. _mypy: https://mypy.readthedocs.io/
""",
    "admin/index.rst": """\
Administration
==============

These pages are for people who run lumen for others: logging, security and
upgrades.

.. toctree::
   :maxdepth: 1

   logging
   security
   upgrading

The on-call runbook is kept as plain text in ``admin/runbook.txt`` so that it can
be read over SSH without a browser.
""",
    "admin/logging.rst": """\
.. _admin-logging:

Logging
=======

lumen writes two kinds of log records: *access* records, one per request, and
*event* records for everything else (start-up, reloads, errors).

Formats
-------

``format = "text"`` (the default) writes one line per record::

   2024-06-04T10:15:02Z info    access GET /guides/ 200 5123B 1.80ms
   2024-06-04T10:15:07Z warning event  slow plugin request-id took 120ms

``format = "json"`` writes one JSON object per line, which log shippers parse
without extra configuration:

.. code-block:: json

   {"ts": "2024-06-04T10:15:02Z", "level": "info", "kind": "access", "status": 200}

Levels
------

=======  ================================================
Level    Used for
=======  ================================================
debug    cache hits and misses, plugin timings
info     access records, start-up and shutdown
warning  slow plugins, requests rejected as malformed
error    unreadable files, plugin exceptions
=======  ================================================

Sending logs to a file
----------------------

By default logs go to standard error, which the systemd journal captures. To write
to a file instead, set ``file`` in ``[log]``. lumen reopens the file on
``SIGUSR1``, so ``logrotate`` can use a ``postrotate`` script:

.. code-block:: text

   /var/log/lumen/*.log {
       daily
       rotate 14
       compress
       postrotate
           systemctl kill -s USR1 lumen.service
       endscript
   }

.. versionadded:: 1.1
   The ``file`` setting and reopening the log file on ``SIGUSR1``.
""",
    "admin/security.rst": """\
.. _admin-security:

Security
========

lumen serves files; it never executes them. Most of its attack surface is path
handling and the plugins you enable.

What lumen guarantees
---------------------

* Requests cannot escape the site root: ``..`` segments, encoded slashes and
  symbolic links that point outside the root are all rejected.
* Hidden files and directories (names starting with a dot) are not served,
  except ``/.well-known/``.
* Directory listings are never generated.

.. warning::

   Symbolic links *inside* the root are followed. If untrusted users can create
   files in the site root, set ``follow_symlinks = false`` in ``[server]``.

Recommended headers
-------------------

Enable HSTS and the ``headers`` plugin for public sites:

+-------------------------------+--------------------------+---------------+
| Header                        | Value                    | Set by        |
+===============================+==========================+===============+
| ``Strict-Transport-Security`` | ``max-age=31536000``     | ``hsts`` in   |
|                               |                          | ``[tls]``     |
+-------------------------------+--------------------------+---------------+
| ``X-Content-Type-Options``    | ``nosniff``              | always        |
+-------------------------------+--------------------------+---------------+
| ``Content-Security-Policy``   | ``default-src 'self'``   | ``headers``   |
|                               |                          | plugin        |
+-------------------------------+--------------------------+---------------+

Reporting a vulnerability
-------------------------

Please do not open a public issue. Email security@lumen-server.org with a
description and, if possible, a way to reproduce the problem. We answer within
three working days. The `security policy`_ lists the supported versions.

.. _security policy: https://github.com/lumen-server/lumen/security/policy
""",
    "admin/upgrading.rst": """\
.. _admin-upgrading:

Upgrading
=========

lumen follows semantic versioning from 1.0 on. This page lists what to change when
you upgrade; the full history is in ``CHANGES.txt``.

Before you upgrade
------------------

#. Read the section for every version between yours and the target.
#. Run ``lumen check`` and ``lumen config show`` with the new version against a
   copy of your configuration.
#. Upgrade, then restart the service; a reload is not enough.

.. code-block:: bash

   pipx install --force "lumen-server==1.1.*"
   lumen config show --format toml > /tmp/lumen-new.toml
   sudo systemctl restart lumen

From 1.0 to 1.1
---------------

Nothing to change. New in 1.1: a shared-memory cache backend (see
:ref:`api-cache`) and the ``file`` setting in ``[log]``.

From 0.9 to 1.0
---------------

Configuration
~~~~~~~~~~~~~

* ``ttl`` in ``[cache]`` was renamed to ``max_age``. The old name is still
  accepted with a warning and will be removed in 2.0.
* ``threads`` in ``[server]`` was renamed to ``workers``.

.. deprecated:: 1.0
   ``ttl`` in ``[cache]``; use ``max_age``.

Command line
~~~~~~~~~~~~

``lumen run`` is now ``lumen serve``. ``lumen run`` still works and prints a
deprecation warning.

From 0.8 to 0.9
---------------

The default bind address changed from ``0.0.0.0`` to ``127.0.0.1``. If lumen must
be reachable from other hosts without a proxy, set ``host = "0.0.0.0"``
explicitly.
""",
}


_TEXT: dict[str, str] = {
    "CHANGES.txt": """\
lumen release history
=====================

1.1.0 (2024-06-04)
------------------

- New shared-memory cache backend for hosts that run several lumen processes.
- New "file" setting in [log]; the log file is reopened on SIGUSR1.
- lumen check --external verifies https:// links (off by default).
- Fixed: Range requests past the end of a file return 416 instead of 500.
- Fixed: "lumen config show --format json" printed sizes as strings.

1.0.0 (2024-03-12)
------------------

- First stable release. The configuration file format and the Python API now
  follow semantic versioning.
- Renamed "ttl" in [cache] to "max_age" and "threads" in [server] to "workers".
  The old names are still accepted, with a warning.
- Renamed "lumen run" to "lumen serve".
- Redirect rules support named captures such as :version.
- New command: lumen tls selfsigned.

0.9.0 (2023-12-05)
------------------

- The default bind address is now 127.0.0.1 instead of 0.0.0.0.
- Server(port=0) picks a free port; Server.url reports it.
- Weak ETags and If-None-Match support.

0.8.0 (2023-09-19)
------------------

- Plugins: on_request and on_response hooks, loaded from entry points.
- New bundled plugins: gzip and headers.

0.7.0 (2023-06-27)
------------------

- First public release: serves a directory, index.html for directories and a
  custom 404 page.
""",
    "NOTES.txt": """\
Maintainer notes
================

Release checklist
-----------------

1. Move the "Unreleased" entries in CHANGES.txt under the new version and date.
2. Bump the version in pyproject.toml and src/lumen/__init__.py.
3. Run the full test suite on Linux, macOS and Windows (CI does this on tags too).
4. Tag the release: git tag -s v1.1.0 -m "lumen 1.1.0"
5. Push the tag. The release workflow builds the wheel, uploads it to PyPI and
   publishes the container image.
6. Announce the release on the blog and on the mailing list.

Things we decided not to do
---------------------------

- Directory listings. Too easy to leak files by accident; use a generator that
  writes an index page instead.
- Server-side includes or templating. lumen serves files as they are.
- HTTP/2 in the core, for now. Revisit when the h2 package is stable enough.

Benchmarks
----------

Measured on a 4-core laptop with wrk, 64 connections, a 12 KiB HTML page:

    workers=4, cache on     21,400 req/s   p99  6.1 ms
    workers=4, cache off     9,800 req/s   p99 14.0 ms
    workers=8, cache on     23,100 req/s   p99  7.9 ms

Above 8 workers the GIL dominates; run more processes instead and share the cache
between them with the shared-memory backend.
""",
    "FAQ.txt": """\
lumen FAQ
=========

Q: Does lumen build my site from Markdown?
A: No. lumen serves files that already exist. Build your site with Sphinx, MkDocs,
   Hugo or anything else, then point lumen at the output directory.

Q: Why is the package called lumen-server on PyPI?
A: The name "lumen" was taken by an unrelated project. The command is still lumen.

Q: Can lumen serve several sites from one process?
A: Not yet. Run one process per site and put a proxy in front that routes by
   host name.

Q: How do I make URLs without .html work, like /guide instead of /guide.html?
A: Set pretty_urls = true in [server]. lumen then tries PATH.html when PATH is
   not found.

Q: The theme of the lumen website looks nice. Can I use it?
A: That is the "saffron" theme. It is a single CSS file in the website's
   repository and carries the same Apache-2.0 license as lumen.

Q: Is Windows supported?
A: Yes, lumen's tests run on Windows in CI. The systemd examples in the
   deployment guide do not apply there; use a service wrapper such as NSSM, or
   run lumen in a container.

Q: Where do I report a security problem?
A: By email to security@lumen-server.org, not in a public issue. See the
   security page in the administration docs.
""",
    "admin/runbook.txt": """\
lumen on-call runbook
=====================

Service: docs.example.org, served by lumen behind nginx on web-1 and web-2.

ALERT: LumenDown (health check failing)
  1. ssh web-1; systemctl status lumen
  2. If the unit has failed: journalctl -u lumen -n 100 --no-pager
     - "Address already in use": an old lumen process is still running.
       Find it with ss -ltnp, stop it, then systemctl start lumen.
     - "root directory not found": the last deploy did not finish.
       Re-run the deploy job; do not create the directory by hand.
  3. If the unit is running but /_lumen/health fails, restart it and open an
     issue with the log excerpt.

ALERT: LumenQueueHigh (lumen_requests_queued > 0 for 10 minutes)
  1. Check traffic on the dashboard. A crawler? Block it at nginx.
  2. If traffic is normal, look for "slow plugin" warnings in the log.
  3. Temporary relief: raise workers in /srv/docs/lumen.toml and restart.

ALERT: CertificateExpiresSoon
  1. certbot renew --dry-run on the affected host.
  2. After renewal: systemctl reload lumen (SIGHUP re-reads the certificate).

Escalation: the #docs-infra channel, then the platform team's on-call phone.
""",
}


_HIDDEN: dict[str, str] = {
    ".drafts/roadmap.md": """\
---
title: Roadmap (draft)
---

# Roadmap for lumen 1.2 — draft, do not publish

- HTTP/2 through the `h2` package, behind a flag.
- `lumen check --fix` to add missing trailing slashes to internal links.
- Replace the thread pool with asyncio? Needs a benchmark first.

Open question: do we keep Python 3.10 support? Its security support ends in
October 2026.
""",
}


def _html_page(title: str, description: str, content: str) -> str:
    """A full page of the lumen website: head, header and nav, ``content``, footer."""
    return f"""\
<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="description" content="{description}">
  <title>{title} · lumen</title>
  <link rel="stylesheet" href="/assets/site.css">
  <script>
    document.documentElement.dataset.theme = localStorage.getItem("lumen-theme") || "light";
  </script>
</head>
<body>
  <header class="site-header">
    <a class="logo" href="/index.html">lumen</a>
    <nav aria-label="Main">
      <ul>
        <li><a href="/index.html">Home</a></li>
        <li><a href="/features.html">Features</a></li>
        <li><a href="/download.html">Download</a></li>
        <li><a href="/deploy.html">Deploy</a></li>
        <li><a href="/community.html">Community</a></li>
        <li><a href="https://github.com/lumen-server/lumen">GitHub</a></li>
      </ul>
    </nav>
  </header>
{content}
  <footer class="site-footer">
    <p>© 2024 The lumen authors. Released under the Apache License 2.0.</p>
    <p><a href="/blog/lumen-1-0-released.html">Blog</a> ·
       <a href="https://github.com/lumen-server/lumen/issues">Report an issue</a></p>
  </footer>
  <script src="/assets/theme-toggle.js" defer></script>
</body>
</html>
"""


def _html_files() -> dict[str, str]:
    """The pages of the lumen website under ``site/``."""
    return {
        "site/index.html": _html_page(
            "Home",
            "lumen is a small static site server for documentation sets.",
            """\
  <main id="content">
    <h1>Serve your docs. Nothing else.</h1>
    <p class="lead">lumen is a small static site server for documentation sets: one
    command, one configuration file and sensible caching out of the box.</p>
    <pre><code>pipx install lumen-server
lumen serve ./public</code></pre>
    <h2>Why lumen?</h2>
    <ul>
      <li><strong>Small.</strong> A pure-Python package with no compiled dependencies.</li>
      <li><strong>Fast enough.</strong> Over 20,000 requests per second for cached
      pages on a laptop.</li>
      <li><strong>Safe defaults.</strong> Binds to localhost, never lists directories
      and never serves hidden files.</li>
    </ul>
    <h2>Latest release</h2>
    <p>lumen 1.1.0 adds a shared-memory cache backend and log files that play well with
    logrotate. <a href="download.html">Download it</a>, read the
    <a href="blog/lumen-1-0-released.html">1.0 announcement</a> or go straight to the
    <a href="deploy.html">deployment notes</a>.</p>
  </main>""",
        ),
        "site/features.html": _html_page(
            "Features",
            "What lumen does, and what it deliberately leaves out.",
            """\
  <main id="content" class="features">
    <h1>Features</h1>
    <p>lumen does one job: it serves a directory of files that a documentation
    generator has already built. Everything it does supports that job.</p>
    <h2>Serving</h2>
    <h3>Directories and missing pages</h3>
    <p>A request for a directory gets its <code>index.html</code>; a request for a
    missing file gets your <code>404.html</code> with status 404.</p>
    <h3>Redirects</h3>
    <p>Rules in <code>lumen.toml</code> redirect old URLs after a reorganisation,
    with captures such as <code>:splat</code> and <code>:version</code>.</p>
    <h2>Caching</h2>
    <p>Small files are served from memory, and browsers get <code>ETag</code> and
    <code>Cache-Control</code> headers so they can skip downloads entirely.</p>
    <h2>How lumen compares</h2>
    <table>
      <thead>
        <tr><th>Feature</th><th>lumen</th><th>python -m http.server</th><th>nginx</th></tr>
      </thead>
      <tbody>
        <tr><td>Index pages and 404 page</td><td>yes</td><td>index only</td><td>yes</td></tr>
        <tr><td>Conditional requests</td><td>yes</td><td>partly</td><td>yes</td></tr>
        <tr><td>Redirect rules</td><td>yes</td><td>no</td><td>yes</td></tr>
        <tr><td>TLS</td><td>yes</td><td>no</td><td>yes</td></tr>
        <tr><td>Plugins in Python</td><td>yes</td><td>no</td><td>no</td></tr>
        <tr><td>HTTP/2</td><td>no</td><td>no</td><td>yes</td></tr>
      </tbody>
    </table>
    <h2>Not included</h2>
    <ul>
      <li>Building sites: use Sphinx, MkDocs or Hugo.</li>
      <li>Directory listings: too easy to leak files by accident.</li>
      <li>Server-side templating: lumen serves files as they are.</li>
    </ul>
  </main>""",
        ),
        "site/deploy.html": _html_page(
            "Deploy",
            "Running lumen in production: systemd, containers and hosting platforms.",
            """\
  <div role="main" class="content">
    <h1>Deploying lumen</h1>
    <p>lumen runs anywhere Python runs. These notes cover the set-ups our users
    report most often; the full guide is in the documentation.</p>
    <h2>On a Linux server</h2>
    <p>Install lumen with pipx, write a <code>lumen.toml</code> next to the site and
    run it as a systemd service:</p>
    <pre><code class="language-bash">sudo systemctl enable --now lumen
journalctl -u lumen -f</code></pre>
    <h2>In a container</h2>
    <pre><code class="language-bash">docker run --rm -p 8080:8080 \\
  -v "$PWD/public:/site:ro" ghcr.io/lumen-server/lumen:1.1</code></pre>
    <h2>On a hosting platform</h2>
    <h3>Tamarind Hosting</h3>
    <p>Tamarind Hosting passes the port to listen on in the <code>PORT</code>
    variable. Use <code>LUMEN_HOST=0.0.0.0 LUMEN_PORT=$PORT lumen serve</code> as the
    start command, and point the Tamarind health check at
    <code>/_lumen/health</code>.</p>
    <h3>Any platform with a Procfile</h3>
    <pre><code>web: lumen --config lumen.toml serve --host 0.0.0.0 --port $PORT</code></pre>
    <h2>Checklist</h2>
    <ul>
      <li>Run <code>lumen check</code> on the built site before every deploy.</li>
      <li>Set <code>trust_proxy = true</code> when a proxy sits in front.</li>
      <li>Keep <code>max_age</code> short for HTML and long for hashed assets.</li>
    </ul>
  </div>""",
        ),
        "site/download.html": _html_page(
            "Download",
            "Download lumen and check which Python versions each release supports.",
            """\
  <main id="content">
    <h1>Download lumen</h1>
    <p>lumen is published on PyPI as <code>lumen-server</code>. The recommended way to
    install the command is pipx:</p>
    <pre><code>pipx install lumen-server</code></pre>
    <h2>Releases</h2>
    <table class="releases">
      <tr><th>Version</th><th>Released</th><th>Python</th><th>Status</th></tr>
      <tr><td>1.1.0</td><td>2024-06-04</td><td>3.10 to 3.13</td><td>current</td></tr>
      <tr><td>1.0.0</td><td>2024-03-12</td><td>3.10 to 3.12</td><td>security fixes</td></tr>
      <tr><td>0.9.0</td><td>2023-12-05</td><td>3.9 to 3.12</td><td>unsupported</td></tr>
    </table>
    <h2>Container image</h2>
    <p>Images are tagged with the full version and with the minor version, so
    <code>ghcr.io/lumen-server/lumen:1.1</code> always points at the newest 1.1.x.</p>
    <h2>Verifying a download</h2>
    <p>Wheels on PyPI are published from CI with trusted publishing; see the
    <a href="https://docs.pypi.org/trusted-publishers/">PyPI documentation</a> for how
    to check where a file came from.</p>
  </main>""",
        ),
        "site/community.html": _html_page(
            "Community",
            "Where to ask questions about lumen and how to contribute.",
            """\
  <main id="content">
    <h1>Community</h1>
    <p>lumen is maintained by a handful of volunteers. Questions, bug reports and
    patches are all welcome.</p>
    <h2>Getting help</h2>
    <ul>
      <li><a href="https://github.com/lumen-server/lumen/discussions">Discussions</a>
      for questions and ideas.</li>
      <li><a href="https://github.com/lumen-server/lumen/issues">Issues</a> for bugs;
      please include the output of <code>lumen version</code>.</li>
      <li>The <code>#lumen:matrix.org</code> chat room for quick questions.</li>
    </ul>
    <h2>Contributing</h2>
    <p>Read the contributing guide in the repository before opening a large pull
    request. Small fixes to the documentation can go straight to a pull request.</p>
    <h3>Code of conduct</h3>
    <p>Everyone taking part in the project follows the
    <a href="https://www.contributor-covenant.org/">Contributor Covenant</a>.</p>
  </main>""",
        ),
        "site/blog/lumen-1-0-released.html": _html_page(
            "lumen 1.0 released",
            "lumen 1.0 is out: a stable configuration format and Python API.",
            """\
  <div class="layout">
    <article class="post">
      <h1>lumen 1.0 released</h1>
      <p class="meta">Posted on <time datetime="2024-03-12">12 March 2024</time></p>
      <p>After nine months of 0.x releases, lumen 1.0 is out. From now on, the
      configuration file format and the Python API follow semantic versioning: they
      only change incompatibly in a new major version.</p>
      <h2>What changed since 0.9</h2>
      <ul>
        <li><code>lumen run</code> is now <code>lumen serve</code>.</li>
        <li><code>ttl</code> is now <code>max_age</code> and <code>threads</code> is
        now <code>workers</code>. The old names still work, with a warning.</li>
        <li>Redirect rules support named captures.</li>
        <li><code>lumen tls selfsigned</code> writes a certificate for development.</li>
      </ul>
      <h2>Upgrading</h2>
      <pre><code>pipx upgrade lumen-server
lumen config show --format toml</code></pre>
      <p>The second command shows any deprecated keys your configuration still uses.</p>
      <h3>Thank you</h3>
      <p>Twenty-three people contributed to this release. See the
      <a href="../download.html">download page</a> for the supported Python versions.</p>
    </article>
    <aside class="sidebar">
      <h2>Other posts</h2>
      <ul>
        <li><a href="/blog/">All posts</a></li>
      </ul>
    </aside>
  </div>""",
        ),
    }


def _latin1_markdown() -> bytes:
    """A German translation of a guide, encoded in Latin-1 (not valid UTF-8)."""
    text = """\
# Erste Schritte mit lumen

Diese Übersetzung der Anleitung »Getting started« stammt von Amélie und Jürgen.
Sie beschreibt, wie man eine Website mit lumen ausliefert.

## Größe des Caches

Der Standardwert für `max_entries` ist 2048. Für große Websites empfiehlt sich
ein höherer Wert; Dateien über 1 MiB werden nie im Speicher gehalten.

## Grüße

Vielen Dank an das Team in der Hauptstraße für die Korrekturen. Café und Kuchen
gehen auf uns!
"""
    return text.encode("latin-1")


def _png_image() -> bytes:
    """A valid 2x2 RGB PNG image.

    The image data uses a stored (uncompressed) deflate block, so the bytes do not
    depend on the zlib version.
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    width, height = 2, 2
    rows = (bytes([255, 200, 0, 0, 120, 255]), bytes([0, 0, 0, 255, 255, 255]))
    raw = b"".join(b"\x00" + row for row in rows)
    stored = b"\x01" + struct.pack("<HH", len(raw), len(raw) ^ 0xFFFF) + raw
    idat = b"\x78\x01" + stored + struct.pack(">I", zlib.adler32(raw))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _huge_access_log(size: int = _HUGE_FILE_SIZE) -> str:
    """A deterministic lumen access log of at least ``size`` bytes."""
    paths = (
        "/",
        "/guides/",
        "/guides/getting-started.html",
        "/guides/configuration.html",
        "/guides/deployment.html",
        "/reference/cli.html",
        "/reference/config-file.html",
        "/api/server.html",
        "/api/routing.html",
        "/_static/site.3f9a1c.css",
        "/_static/search.js",
        "/favicon.ico",
        "/docs/old/intro.html",
    )
    lines = ["# lumen access log, web-1, 2024-06-04 (excerpt kept for size tests)"]
    total = len(lines[0]) + 1
    i = 0
    while total < size:
        seconds = i * 7
        stamp = f"2024-06-04T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}Z"
        client = f"10.0.{i * 37 % 256}.{i * 101 % 254 + 1}"
        path = paths[(i * 7 + i // 5) % len(paths)]
        if path == "/docs/old/intro.html":
            status, body = 301, 0
        elif i % 53 == 0:
            status, body = 404, 1873
        elif i % 9 == 0:
            status, body = 304, 0
        else:
            status, body = 200, 512 + i * 7919 % 40_000
        hundredths = 20 + i * 31 % 997
        duration = f"{hundredths // 100}.{hundredths % 100:02d}ms"
        line = f'{stamp} info    access {client} "GET {path} HTTP/1.1" {status} {body}B {duration}'
        lines.append(line)
        total += len(line) + 1
        i += 1
    return "\n".join(lines) + "\n"


def _broken_files() -> dict[str, bytes]:
    """The files in ``broken/``, each with the problem ``BAD_FILES`` names."""
    return {
        "broken/empty.md": b"",
        "broken/latin1.md": _latin1_markdown(),
        "broken/image.md": _png_image(),
        "broken/huge.txt": _huge_access_log().encode("utf-8"),
    }


@cache
def _build_files() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    text_groups = (_MARKDOWN, _RST, _html_files(), _TEXT, _HIDDEN)
    for group in (*(_encode(g) for g in text_groups), _broken_files()):
        for path, data in group.items():
            if path in files:
                raise ValueError(f"sample file {path!r} is defined twice")
            files[path] = data
    return dict(sorted(files.items()))


def _encode(texts: dict[str, str]) -> dict[str, bytes]:
    return {path: text.encode("utf-8") for path, text in texts.items()}


def sample_files() -> dict[str, bytes]:
    """All files of the sample tree.

    Returns:
        Relative POSIX path -> file content, sorted by path. Text files are UTF-8
        with ``\\n`` line endings, except the deliberately bad ones in ``broken/``.
    """
    return dict(_build_files())


def _refuse_dangerous_delete(dest: Path) -> None:
    """Raise ValueError if deleting ``dest`` would remove a root, home or working directory."""
    target = dest.resolve()
    cwd = Path.cwd().resolve()
    protected = {cwd, *cwd.parents, Path(target.anchor)}
    try:
        protected.add(Path.home().resolve())
    except RuntimeError:
        pass
    if target in protected:
        raise ValueError(
            f"refusing to delete {dest}: it is the filesystem root, the home directory "
            "or contains the current directory; choose a dedicated directory"
        )


def write_sample_tree(dest: str | Path, *, overwrite: bool = False) -> Path:
    """Write the sample tree (``sample_files()``) into ``dest``.

    Args:
        dest: Directory to write; created if missing. It must be empty unless
            ``overwrite`` is true.
        overwrite: Delete a non-empty ``dest`` and everything in it first.

    Returns:
        ``dest`` as a ``Path``.

    Raises:
        FileExistsError: ``dest`` is not a directory, or is not empty and
            ``overwrite`` is false.
        ValueError: ``overwrite`` would delete the filesystem root, the home
            directory or a directory containing the current directory.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise FileExistsError(f"{dest} exists and is not a directory")
    if dest.is_dir() and any(dest.iterdir()):
        if not overwrite:
            raise FileExistsError(f"{dest} is not empty; use overwrite=True (--overwrite) to replace it")
        _refuse_dangerous_delete(dest)
        shutil.rmtree(dest)
    for relpath, data in sample_files().items():
        path = dest.joinpath(*relpath.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return dest


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m docbatch.sample DEST [--overwrite]``.

    Returns:
        0 when the tree was written, 2 on error (with a one-line message on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m docbatch.sample",
        description="Write docbatch's sample documentation tree into DEST.",
    )
    parser.add_argument("dest", metavar="DEST", help="directory to write (created if missing)")
    parser.add_argument("--overwrite", action="store_true", help="delete DEST first if it is not empty")
    args = parser.parse_args(argv)
    try:
        written = write_sample_tree(args.dest, overwrite=args.overwrite)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {len(sample_files())} files to {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
