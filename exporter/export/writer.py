"""CsvGzipWriter: one chunk file, written under a temp name and published only when complete
(renamed into place on a local disk, uploaded in one put to an object store: fsutil.py).

Compression uses ISA-L (python-isal) for levels 0-3, with compression in a helper thread so
that fetching and compressing overlap; levels 4-9 use zlib. The default, ISA-L level 1, was
chosen by measurement (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import gzip
import os
from pathlib import Path
from typing import IO

from isal import igzip_threaded

from exporter.export.writeback import WrittenBehind
from exporter.fsutil import publish, staging_file
from exporter.storage import StorePath

DEFAULT_LEVEL = 1
ISAL_MAX_LEVEL = 3


def open_gzip(raw: WrittenBehind, level: int | None) -> IO[bytes]:
    """A gzip writer over `raw` at `level` (None = DEFAULT_LEVEL)."""
    level = DEFAULT_LEVEL if level is None else level
    if level <= ISAL_MAX_LEVEL:
        return igzip_threaded.open(raw, "wb", compresslevel=level, threads=1)  # type: ignore[no-untyped-call,no-any-return]
    return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=level, mtime=0)  # type: ignore[return-value]


class CsvGzipWriter:
    """Writes CSV records to `final_path` through a temp file; nothing appears there until
    `commit()`, and `abort()` (or leaving the `with` block on an error) deletes the temp file."""

    def __init__(self, final_path: StorePath, header: str, *, level: int | None) -> None:
        self.final_path = final_path
        self.tmp_path: Path = staging_file(final_path)
        self._raw = open(self.tmp_path, "wb")  # noqa: SIM115 - closed in commit/abort
        # Its pages start for the disk as they are written: the fsync in finish() then has
        # little left to write (writeback.py).
        self._gz = open_gzip(WrittenBehind(self._raw), level)
        self.rows = 0
        self.uncompressed_bytes = 0
        self._gz.write(header.encode("utf-8") + b"\n")

    def write_bytes(self, data: bytes | memoryview, rows: int) -> None:
        """Append already encoded CSV lines (each ending in a newline), `rows` of them."""
        self._gz.write(data)
        self.rows += rows
        self.uncompressed_bytes += len(data)

    def finish(self) -> int:
        """Finish the gzip stream and fsync the temp file; returns its size in bytes."""
        self._gz.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        return self.tmp_path.stat().st_size

    def publish(self) -> None:
        """Make the finished temp file appear under the final name (atomic, durable)."""
        publish(self.tmp_path, self.final_path)

    def commit(self) -> int:
        """finish() then publish(); returns the file size."""
        size = self.finish()
        self.publish()
        return size

    def abort(self) -> None:
        """Drop everything written so far."""
        with contextlib.suppress(Exception):
            self._gz.close()
        with contextlib.suppress(Exception):
            self._raw.close()
        with contextlib.suppress(FileNotFoundError):
            self.tmp_path.unlink()

    def __enter__(self) -> CsvGzipWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()
