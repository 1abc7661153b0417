"""The canonical row hash (docs/FORMAT.md).

row_hash = lowercase hex MD5 of the UTF-8 bytes of the row's CSV record exactly as written:
the cells of every exported column in column order, encoded by `encode.py` (NULL as the null
marker, text quoted), joined by commas, without the row_hash cell and without the line end.
The PostgreSQL dialect builds the same text in SQL for database-side hashing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

ROW_HASH_COLUMN = "row_hash"
ALGORITHM = "md5"


def row_hash(record: bytes) -> str:
    """The hash of one CSV record (bytes without the trailing newline)."""
    return hashlib.md5(record, usedforsecurity=False).hexdigest()


def with_hashes(records: Iterable[str]) -> list[str]:
    """Each record with `,<row_hash>` appended."""
    md5 = hashlib.md5
    return [f"{r},{md5(r.encode('utf-8'), usedforsecurity=False).hexdigest()}" for r in records]
