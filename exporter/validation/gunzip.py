"""The read-back's gzip reader: isal decompressing on a thread of its own, without the early
end of isal's own threaded reader.

isal's `igzip_threaded` reader (1.6 to 1.9 at least) waits 10 ms at a time for the next
block from its thread, and when a wait times out and the thread is then found dead, takes
the stream to have ended: `readinto` returns 0. But the thread may have queued its last
blocks, and the end marker, and ended between the time-out and the look: those blocks are
then lost. A whole chunk was once read back as empty that way ("the header does not match
the plan's columns (0 fields, expected 6)", in tests/sqlite/test_interrupt.py on a busy
machine); a longer file would have lost its last block, so that a good file failed its
check. Reproduced outside the exporter in about one read in 1,000 to 2,000 of small files
followed at nice 19 on a loaded machine.

A thread found dead queues nothing more, so one more look at the queue after such an end is
conclusive: what the thread queued, or the true end. (It never made a bad file pass: a read
that ends early counts fewer rows, or stops inside a record.)
"""

from __future__ import annotations

import io
from typing import IO, Any

from isal import igzip_threaded


class _ThreadedGzipReader(igzip_threaded._ThreadedGzipReader):
    """isal's threaded gzip reader, whose end of stream is taken only when it is sure."""

    def readinto(self, b: Any) -> int:
        got: int = super().readinto(b)  # type: ignore[no-untyped-call]
        if got == 0 and not getattr(self, "eof", False) and len(memoryview(b)):
            # What the thread queued before it ended, or the end.
            got = super().readinto(b)  # type: ignore[no-untyped-call]
        return got


def open_threaded(handle: IO[bytes] | io.RawIOBase) -> io.BufferedReader:
    """A buffered reader of the gzip stream in `handle` (a binary file object), decompressed
    by a thread of its own, as isal's `igzip_threaded.open(handle, "rb")` gives."""
    return io.BufferedReader(_ThreadedGzipReader(handle))  # type: ignore[no-untyped-call]
