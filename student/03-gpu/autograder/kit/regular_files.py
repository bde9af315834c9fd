"""Reading a file the student controls: a submission handed in, or a file written by the
student's process. Never through a symbolic link, never blocking (a FIFO or a device is
refused before a byte is read), never more than a cap, and checked on the open descriptor, so
a link or a swap made between two steps changes nothing.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotARegularFile(ValueError):
    """The path is a link, not a regular file, or over the cap; ``str()`` says which."""


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def read_regular_file(path: Path | str, limit: int) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes, or
    ``NotARegularFile``. ``OSError`` for what the system refuses (missing, no permission)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:  # O_NOFOLLOW: the path's last part is a link
            raise NotARegularFile("it is a symbolic link, not the file itself") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile("it is not a regular file")
        if info.st_size > limit:
            raise NotARegularFile(f"it is larger than {_megabytes(limit)}")
        data = handle.read(limit + 1)
    if len(data) > limit:  # it grew while being read
        raise NotARegularFile(f"it is larger than {_megabytes(limit)}")
    return data
