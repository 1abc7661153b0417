"""The comparison form of a row and its 60-bit digest (docs/FORMAT.md, "Comparison form"): the
reference the comparator's SQL must match, and the code that renders values where a database
cannot (an engine without md5, the cells shown in reports).

It differs from the export's CSV text (cells.py) where equal values may be stored differently:
numbers lose trailing zeros (1.50 and 1.5 are one value), timestamps always carry six
fractional digits in UTC (the same instant written in another time zone is the same value).

- NULL is `\\N`, unquoted; text and JSON are quoted with `"` doubled (so '' is `""`, never NULL,
  and no text can end a cell early); no other cell holds a comma, a quote or a backslash, so
  the record `cell,cell,...` reads back one way only.
- INTEGER, DECIMAL: every digit, no exponent, no trailing fractional zeros (`-0` is `0`).
- FLOAT: shortest round-trip digits, laid out as cells.format_float writes them.
- BOOLEAN `true`/`false`; DATE `YYYY-MM-DD`; DATETIME and TIMESTAMP `YYYY-MM-DD HH:MM:SS.ffffff`
  (TIMESTAMP in UTC); TIME `HH:MM:SS.ffffff`; BYTES standard base64.

The digest is the last 15 hex digits (60 bits) of the MD5 of the record's UTF-8 bytes, as an
integer: a chunk's figure is the count of its rows and the exact sum of their digests, which no
row order changes.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from exporter.canonical.cells import format_float
from exporter.model import ColumnKind

NULL_CELL = "\\N"
DIGEST_HEX_DIGITS = 15  # 60 bits: a sum of 2**31 of them still fits any engine's exact SUM
_UTC = dt.timezone.utc


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _number(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite():
        return str(number)  # NaN, Infinity: as the database prints them
    if number == 0:
        return "0"
    # Trailing fractional zeros dropped by hand: Decimal.normalize() rounds to its context's
    # precision (28 digits), which would change a 38-digit number.
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    while exponent < 0 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return format(Decimal((sign, digits, exponent)), "f")


def _instant(value: Any) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(_UTC).replace(tzinfo=None)
    return str(value.isoformat(sep=" ", timespec="microseconds"))


def compare_cell(kind: ColumnKind, value: Any) -> str | None:
    """The comparison form of one value (None for NULL); TypeError or ValueError where the
    value has none (a value of another type than its column's)."""
    if value is None:
        return None
    if kind.is_text:
        if isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError("bytes in a text column")
        if kind is ColumnKind.JSON and not isinstance(value, str):
            return _quoted(json.dumps(value, ensure_ascii=False))  # a driver's parsed JSON
        return _quoted(value if isinstance(value, str) else str(value))
    if kind in (ColumnKind.INTEGER, ColumnKind.DECIMAL):
        return _number(value)
    if kind is ColumnKind.FLOAT:
        return format_float(float(value))
    if kind is ColumnKind.BOOLEAN:
        return "true" if value else "false"
    if kind is ColumnKind.DATE:
        if isinstance(value, dt.datetime):
            raise TypeError("a date and time in a date column")
        return str(value.isoformat())
    if kind in (ColumnKind.DATETIME, ColumnKind.TIMESTAMP):
        return _instant(value)
    if kind is ColumnKind.TIME:
        return str(value.isoformat(timespec="microseconds"))
    if kind is ColumnKind.BYTES:
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"no comparison form for {kind}")


def compare_record(kinds: Sequence[ColumnKind], values: Sequence[Any]) -> str:
    """The comparison form of a row: its cells joined by commas, NULL as `\\N`."""
    cells = (compare_cell(kind, value) for kind, value in zip(kinds, values, strict=True))
    return ",".join(NULL_CELL if cell is None else cell for cell in cells)


def digest60(record: str) -> int:
    """The 60-bit digest of a record: the last 15 hex digits of its MD5, as an integer."""
    hexdigest = hashlib.md5(record.encode("utf-8"), usedforsecurity=False).hexdigest()
    return int(hexdigest[-DIGEST_HEX_DIGITS:], 16)
