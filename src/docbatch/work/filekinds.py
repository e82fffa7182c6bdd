"""What a path is, when it is not a regular file: the reason of its ``skipped`` row.

Shared by the inventory (a FIFO, socket or device found by the walk) and the worker (one
put in place of a file after the walk), so both say the same thing.
"""

from __future__ import annotations

import stat

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a directory",
}


def not_regular_reason(mode: int) -> str:
    """The reason for a path of ``mode`` that is not a regular file.

    >>> import stat
    >>> not_regular_reason(stat.S_IFIFO | 0o644)
    'not a regular file: a FIFO (named pipe); never read'
    """
    return f"not a regular file: {_KINDS.get(stat.S_IFMT(mode), 'of an unknown kind')}; never read"
