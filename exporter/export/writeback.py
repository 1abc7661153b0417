"""A chunk's temp file whose pages start on their way to disk as they are written.

A chunk is published only after `os.fsync` of its temp file (writer.py): the file must be
whole on disk before its name appears. With the kernel's default thresholds nothing of a
few hundred megabytes is written back before that call (background writeback starts at 10 %
of memory dirty, or after 30 s), so the fsync wrote the whole file while the worker waited:
0.16 s for the 343 MB file of bench.t's one chunk, all of it after the export's last row
(docs/BENCHMARKS.md). Here every `WRITE_BEHIND_BYTES` written are handed to the disk at
once with `sync_file_range(SYNC_FILE_RANGE_WRITE)`, which starts the writeback and returns
without waiting; the fsync then finds most pages clean. It is a hint only: durability still
rests on the fsync. Linux only (elsewhere the file is written as before).
https://man7.org/linux/man-pages/man2/sync_file_range.2.html
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable
from typing import IO

WRITE_BEHIND_BYTES = 32 * 1024 * 1024
SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>


@functools.cache
def _sync_file_range() -> Callable[[int, int, int, int], int] | None:
    """libc's sync_file_range, or None where there is none (not Linux, no glibc symbol)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols, libc's among them (ctypes.util.find_library would run
        # ldconfig in a subprocess to find the same library).
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


class WrittenBehind:
    """The binary file `raw`, for the gzip writer to write to (write and flush: neither isal's
    writer nor GzipFile closes a file object it was given): every WRITE_BEHIND_BYTES, the
    part written since the last time is handed to the disk. The caller flushes, fsyncs and
    closes `raw` itself."""

    def __init__(self, raw: IO[bytes], every: int | None = None) -> None:
        self._raw = raw
        self._every = every or WRITE_BEHIND_BYTES
        self._start = _sync_file_range()
        self._written = 0  # bytes written to `raw` so far
        self._handed = 0  # bytes handed to the disk so far

    def write(self, data: bytes | memoryview) -> int:
        written = self._raw.write(data)
        self._written += written
        if self._start is not None and self._written - self._handed >= self._every:
            self._raw.flush()  # the bytes reach the kernel before their range is handed on
            # A failure is no error of the file's (the fsync reports real ones): no more hints.
            length = self._written - self._handed
            if self._start(self._raw.fileno(), self._handed, length, SYNC_FILE_RANGE_WRITE):
                self._start = None
            self._handed = self._written
        return written

    def flush(self) -> None:
        self._raw.flush()

    @property
    def handed(self) -> int:
        """Bytes handed to the disk so far."""
        return self._handed
