"""The canonical row hash (docs/FORMAT.md).

row_hash = lowercase hex MD5 of the UTF-8 bytes of the row's CSV record exactly as written:
the cells of every exported column in column order, encoded by `encode.py` (NULL as the null
marker, text quoted), joined by commas, without the row_hash cell and without the line end.
The PostgreSQL dialect builds the same text in SQL for database-side hashing.
"""

from __future__ import annotations

import hashlib
from binascii import hexlify
from collections.abc import Iterable, Sequence
from itertools import chain, repeat
from typing import Any

ROW_HASH_COLUMN = "row_hash"
ALGORITHM = "md5"


def row_hash(record: bytes) -> str:
    """The hash of one CSV record (bytes without the trailing newline)."""
    return hashlib.md5(record, usedforsecurity=False).hexdigest()


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


def hashed_lines(lines: Sequence[bytes]) -> bytes | memoryview:
    """Encoded CSV lines (each ending in a newline) with `,<row_hash>` inserted before the
    newline of each, joined. Only the MD5 runs per line in Python (over a view of the line
    without its newline); cutting and joining are done by Arrow, which halves the cost of
    everything around the MD5."""
    import pyarrow as pa
    import pyarrow.compute as pc

    md5 = hashlib.md5
    digests = hexlify(
        b"".join([md5(memoryview(line)[:-1], usedforsecurity=False).digest() for line in lines])
    )
    records = pc.binary_slice(pa.array(lines, pa.binary()), 0, -1)
    return arrow_hashed_lines(records, digests)


def arrow_hashed_lines(records: Any, digests: bytes) -> memoryview:
    """Arrow binary or string `records` joined as `record,<hash>\n` lines, given their
    concatenated hex digests (`hex_digests`): a view of Arrow's buffer, nothing copied."""
    import pyarrow as pa
    import pyarrow.compute as pc

    binary = pa.types.is_binary(records.type)
    hex_type = pa.binary() if binary else pa.string()
    comma, newline, empty = (b",", b"\n", b"") if binary else (",", "\n", "")
    hexes = pa.Array.from_buffers(pa.binary(32), len(records), [None, pa.py_buffer(digests)])
    joined = pc.binary_join_element_wise(records, hexes.cast(hex_type), pa.scalar(comma, hex_type))
    return buffer_view(
        pc.binary_join_element_wise(
            joined, pa.scalar(empty, hex_type), pa.scalar(newline, hex_type)
        )
    )


def buffer_view(array: Any) -> memoryview:
    """The concatenated values of an Arrow string or binary array, as a view of its buffer."""
    _validity, offsets, data = array.buffers()
    if data is None or len(array) == 0:
        return memoryview(b"")
    bounds = memoryview(offsets).cast("i")  # int32 offsets
    view = memoryview(data).cast("B")  # unsigned bytes, so that it compares equal to bytes
    return view[bounds[array.offset] : bounds[array.offset + len(array)]]


def hex_digests(records: Iterable[bytes]) -> bytes:
    """The row hashes of `records` (bytes without line ends), concatenated: 32 lowercase hex
    characters each, in order. One hexlify for the batch instead of one per record."""
    md5 = hashlib.md5
    return hexlify(b"".join([md5(r, usedforsecurity=False).digest() for r in records]))


def hashed_records(records: Sequence[bytes]) -> bytes:
    """Encoded CSV records (without line ends), each followed by `,<row_hash>` and a newline,
    joined."""
    md5 = hashlib.md5
    hashes = [hexlify(md5(r, usedforsecurity=False).digest()) for r in records]
    return b"".join(chain.from_iterable(zip(records, repeat(b","), hashes, repeat(b"\n"))))
