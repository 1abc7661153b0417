"""Whether a batch of CSV lines holds a byte string: the bulk path's test, on each batch of
lines the database formatted, for a value equal to the null marker (export/read_paths.py).

Python's `in` costs about 1 CPU-second per 3M rows of the benchmark table on the default
probe, the marker quoted (`"\\N"`), whose search compares wherever its last byte, a quote,
occurs, which in lines of quoted text is everywhere. The C extension (`_marker.c`, part of
`_rowtext`) scans with memchr for the probe's first byte that is not a quote and compares
the whole probe only there (docs/BENCHMARKS.md). Python's `in` stays the reference and the
fallback where the extension was not built: both give the same answer for any bytes.
"""

from __future__ import annotations

from collections.abc import Callable

_c_holds: Callable[[bytes, bytes], bool] | None
try:
    from exporter.canonical._rowtext import holds as _c_holds
except ImportError:  # built without a C compiler
    _c_holds = None


def holds(data: bytes, probe: bytes) -> bool:
    """`probe in data`, in C where the extension was built."""
    if _c_holds is not None:
        return _c_holds(data, probe)
    return probe in data
