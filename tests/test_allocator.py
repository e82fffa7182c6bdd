"""The ``docbatch`` command has polars' allocator hand freed memory back at once."""

from __future__ import annotations

import os
import subprocess
import sys

CHILD = """
import os, sys
import docbatch.cli
assert "polars" in sys.modules
import polars as pl, psutil
proc = psutil.Process()
before = proc.memory_info().rss
frame = pl.DataFrame({"x": pl.int_range(0, 30_000_000, eager=True)})  # 240 MB
grown = proc.memory_info().rss - before
del frame
left = proc.memory_info().rss - before
print(os.environ["_RJEM_MALLOC_CONF"], grown // 2**20, left // 2**20)
"""


def _child(**env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=base | env, capture_output=True, text=True, timeout=60, check=True
    )
    return proc.stdout.split()


def test_a_frame_freed_by_the_command_leaves_the_process() -> None:
    conf, grown, left = _child()
    assert conf.endswith(",dirty_decay_ms:0,muzzy_decay_ms:0")  # after polars' own defaults
    assert int(grown) > 200
    assert int(left) < 40  # polars' default keeps it for a while


def test_the_users_own_allocator_settings_are_kept() -> None:
    conf, _, left = _child(_RJEM_MALLOC_CONF="dirty_decay_ms:10000")
    assert conf.endswith(",dirty_decay_ms:10000")
    assert int(left) > 200  # the default behaviour, which the first test would see without the setting
