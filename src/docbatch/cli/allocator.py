"""Settings of polars' memory allocator for the ``docbatch`` command, imported before polars.

polars allocates with jemalloc, which it sets to keep the pages a process frees for up to
half a second (more while the process allocates nothing) before handing them back to the
system. A run frees frames all along (each slice's passages, the inventory's parts, the
plan's intermediates), and its resident size was its live data plus what it had freed
lately: 336 MB instead of 258 MB for the driver of a 100,000-file ingest, 218 MB instead
of 158 MB for its unchanged re-run. It costs time where a run frees and allocates most: an
unchanged re-run of a million files takes 6.9 s instead of 5.8 s (206 MB instead of 236
with pages kept 100 ms, 276 with 1 s). The command asks jemalloc to hand pages
back at once (polars reads ``_RJEM_MALLOC_CONF`` when it is imported and puts its own
defaults before it); worker processes inherit the setting. A value the user set is kept;
a program that imports docbatch itself keeps its own settings.
"""

from __future__ import annotations

import os

JEMALLOC_CONF = "dirty_decay_ms:0,muzzy_decay_ms:0"

os.environ.setdefault("_RJEM_MALLOC_CONF", JEMALLOC_CONF)
