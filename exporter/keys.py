"""Key values as chunk ranges store and order them, for both pipelines: the exporter's key
ranges and the comparator's.

Chunk boundaries are real key values taken from the source and bound back into queries, on
later runs too, so they are stored in JSON with their Python type: `encode_key` and
`decode_key` round-trip int, Decimal, str, bytes, bool, float, date, datetime (naive or with
a fixed offset), time and UUID exactly. Python orders them as the sources' key ranges do (numbers by
value, text by code point, which is the byte order of UTF-8 that every source is told to use
for keys). Source.sample_boundaries (sources/base.py) takes cut points from a sample.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

KeyValues = tuple[Any, ...]


def _encode(value: Any) -> list[Any]:
    # bool before int (a bool is an int), datetime before date (a datetime is a date).
    if value is None:
        return ["null"]
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", str(value)]  # text: JSON readers may round integers beyond 2**53
    if isinstance(value, Decimal):
        return ["decimal", str(value)]
    if isinstance(value, float):
        return ["float", value.hex()]
    if isinstance(value, str):
        return ["str", value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return ["bytes", base64.b64encode(bytes(value)).decode("ascii")]
    if isinstance(value, dt.datetime):
        offset = value.utcoffset()
        if offset is None:
            return ["datetime", value.isoformat()]
        # The offset apart, in microseconds: Python 3.11's fromisoformat drops the fraction
        # of an offset such as +00:00:00.000001.
        naive = value.replace(tzinfo=None).isoformat()
        return ["datetime", naive, offset // dt.timedelta(microseconds=1)]
    if isinstance(value, dt.date):
        return ["date", value.isoformat()]
    if isinstance(value, dt.time):
        return ["time", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["uuid", str(value)]
    raise TypeError(f"a key value of type {type(value).__name__} cannot be stored")


def _decode(item: Sequence[Any]) -> Any:
    tag = item[0]
    if tag == "null":
        return None
    value = item[1]
    if tag == "datetime" and len(item) == 3:
        offset = dt.timezone(dt.timedelta(microseconds=item[2]))
        return dt.datetime.fromisoformat(value).replace(tzinfo=offset)
    decoders: dict[str, Any] = {
        "bool": bool,
        "int": int,
        "decimal": Decimal,
        "float": float.fromhex,
        "str": str,
        "bytes": base64.b64decode,
        "datetime": dt.datetime.fromisoformat,
        "date": dt.date.fromisoformat,
        "time": dt.time.fromisoformat,
        "uuid": uuid.UUID,
    }
    return decoders[tag](value)


def encode_key(values: Sequence[Any]) -> list[list[Any]]:
    """A key as JSON data: one [type, value] pair per column ([type, value, offset in
    microseconds] for a datetime with an offset)."""
    return [_encode(value) for value in values]


def decode_key(data: Sequence[Sequence[Any]]) -> KeyValues:
    """The key `encode_key` stored, with its Python types."""
    return tuple(_decode(item) for item in data)


def sort_keys(keys: Sequence[KeyValues]) -> list[KeyValues]:
    """Distinct keys in key order; TypeError for values no order relates (a text and a number
    in one SQLite column)."""
    return sorted(set(keys))
