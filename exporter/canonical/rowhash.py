"""The canonical row hash (docs/FORMAT.md).

row_hash = lowercase hex MD5 of the UTF-8 bytes of the row's CSV record exactly as written:
the cells of every exported column in column order, encoded by `cells.py` (NULL as the null
marker, text quoted), joined by commas, without the row_hash cell and without the line end.
A dialect may build the same text in SQL for database-side hashing (use_client_hash: false).
"""

from __future__ import annotations

import hashlib
from binascii import hexlify
from collections.abc import Callable, Sequence
from itertools import chain, repeat
from typing import Any, Protocol

ROW_HASH_COLUMN = "row_hash"
ALGORITHM = "md5"

# CPython's own MD5 (the module hashlib falls back to): for records of a few hundred bytes
# it costs about 550 ns against 640 for hashlib.md5, whose OpenSSL context is set up and torn
# down per call (docs/BENCHMARKS.md). Same digest, of course.
_new_md5: Callable[..., Any]
try:
    import _md5  # type: ignore[import-not-found,unused-ignore]

    _md5.md5(b"", usedforsecurity=False)  # older or other Pythons may lack the keyword
    _new_md5 = _md5.md5
except (ImportError, TypeError, ValueError):  # built without it (some FIPS builds), or unlike
    _new_md5 = hashlib.md5


def implementation() -> str:
    """Which code computes row hashes here, for `check` to show."""
    if _lanes is not None:
        return "C extension exporter.canonical._rowhash (16 records at once in SIMD lanes)"
    return (
        "hashlib (the C extension exporter.canonical._rowhash is not built, about 6x slower:"
        " reinstall with a C compiler and the Python headers, e.g. delete .venv and run"
        " ./run.sh again)"
    )


def row_hash(record: bytes) -> str:
    """The hash of one CSV record (bytes without the trailing newline)."""
    return str(_new_md5(record, usedforsecurity=False).hexdigest())


def csv_lines(records: Sequence[str], with_hash: bool) -> bytes:
    """The UTF-8 lines of `records` (CSV records without line ends), each followed by
    `,<row_hash>` when `with_hash`, and by a newline.

    Each record is encoded once and hashed as bytes; the lines are joined as bytes, because
    joining the str records would widen the whole batch to 4 bytes per character as soon as
    one record holds a character outside the BMP (an emoji)."""
    encoded = list(map(str.encode, records))
    if not with_hash:
        return b"\n".join(encoded) + b"\n" if encoded else b""
    return hashed_records(encoded)


def hashed_records(records: Sequence[bytes]) -> bytes:
    """Encoded CSV records (without line ends), each followed by `,<row_hash>` and a newline,
    joined."""
    if _lanes is not None:
        return _lanes.hashed_records(records)
    return _py_hashed_records(records)


def hashed_lines(lines: Sequence[bytes]) -> bytes:
    """Encoded CSV lines (each ending in a newline) with `,<row_hash>` inserted before the
    newline of each, joined."""
    if _lanes is not None:
        return _lanes.hashed_lines(lines)
    for i, line in enumerate(lines):  # as the extension refuses them
        if not line.endswith(b"\n"):
            raise ValueError(f"line {i} does not end in a newline")
    return _py_hashed_records([line[:-1] for line in lines])


def packed_hashed_lines(data: Any, offsets: Any, start: int, count: int) -> bytes:
    """Records packed as Arrow packs a string array (`data`, and `offsets` as int32 buffer
    bytes, `count` + 1 of them from index `start`), each followed by `,<row_hash>` and a
    newline, joined."""
    if count == 0:
        return b""
    if _lanes is not None:
        return _lanes.packed_hashed_lines(data, offsets, start, count)
    every = memoryview(offsets).cast("i")
    if start < 0 or count < 0 or start + count >= len(every):  # as the extension refuses them
        raise ValueError("offsets do not cover the records")
    bounds, view = every[start : start + count + 1], memoryview(data)
    ends = list(zip(bounds[:-1], bounds[1:], strict=True))
    if any(not 0 <= a <= b <= len(view) for a, b in ends):
        raise ValueError("a record lies outside the data")
    return _py_hashed_records([bytes(view[a:b]) for a, b in ends])


class _Lanes(Protocol):
    """What hashing takes from the C extension (its stub: `_rowhash.pyi`)."""

    def hashed_records(self, records: Sequence[bytes], /) -> bytes: ...
    def hashed_lines(self, lines: Sequence[bytes], /) -> bytes: ...
    def packed_hashed_lines(self, data: Any, offsets: Any, start: int, count: int, /) -> bytes: ...


def _py_hashed_records(records: Sequence[bytes]) -> bytes:
    """`hashed_records` in Python (hashlib), where the extension is not there."""
    md5 = _new_md5
    digests = hexlify(b"".join([md5(r, usedforsecurity=False).digest() for r in records]))
    hashes = [digests[i : i + 32] for i in range(0, len(digests), 32)]
    return b"".join(chain.from_iterable(zip(records, repeat(b","), hashes, repeat(b"\n"))))


def _load_lanes() -> _Lanes | None:
    """The C extension `exporter.canonical._rowhash` (MD5 of many records at once in SIMD
    lanes, 6-10x faster than the code above, docs/BENCHMARKS.md) if it was built and gives hashlib's
    digests on records that cover every way a message ends (1 or 2 padding blocks, whole
    blocks, empty); None otherwise, and the Python code is used."""
    try:
        from exporter.canonical import _rowhash
    except ImportError:  # not compiled: a platform without a C compiler at install time
        return None
    probe = [bytes(range(n)) for n in range(130)]
    expected = b"".join(row_hash(r).encode() for r in probe)
    try:
        ok = _rowhash.hex_digests(probe) == expected
    except Exception:  # any failure means: do not trust it
        ok = False
    return _rowhash if ok else None


_lanes = _load_lanes()
