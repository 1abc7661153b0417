"""Test helpers: read chunk files back cell by cell, telling NULL (unquoted marker) from text."""

from __future__ import annotations

import base64
import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from typing import Any

from exporter.model import Column, ColumnKind


def parse_quoted(text: str) -> list[list[tuple[str, bool]]]:
    """RFC 4180 records separated by '\\n': each field as (value, was_quoted).

    Strict: a quote inside an unquoted field, a CR outside quotes, or anything but a comma or
    a line end after a closing quote is an error, so malformed output cannot slip through.
    """
    records: list[list[tuple[str, bool]]] = []
    record: list[tuple[str, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            parts, j = [], i + 1
            while True:
                k = text.index('"', j)  # ValueError: unterminated quoted field
                parts.append(text[j:k])
                if k + 1 < n and text[k + 1] == '"':
                    parts.append('"')
                    j = k + 2
                else:
                    i = k + 1
                    break
            record.append(("".join(parts), True))
        else:
            k = i
            while k < n and text[k] not in ",\n":
                k += 1
            field = text[i:k]
            assert '"' not in field and "\r" not in field, f"bad unquoted field {field!r}"
            record.append((field, False))
            i = k
        assert i < n, "the last record has no line end"
        if text[i] == ",":
            i += 1
        elif text[i] == "\n":
            records.append(record)
            record = []
            i += 1
        else:
            raise AssertionError(f"junk after a quoted field at offset {i}: {text[i : i + 10]!r}")
    assert not record
    return records


def read_chunk(path: Path) -> tuple[list[str], list[list[tuple[str, bool]]]]:
    """(header names, records) of one gzip CSV chunk file."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        records = parse_quoted(handle.read())
    return [name for name, _ in records[0]], records[1:]


def decode_cell(cell: tuple[str, bool], column: Column, marker: str) -> Any:
    """The Python value a cell stands for (None for NULL), as the source would return it."""
    text, quoted = cell
    if not quoted and text == marker:
        return None
    kind = column.kind
    if kind.is_text:
        assert quoted, f"text cell {text!r} of {column.name} is not quoted"
        return text
    if kind is ColumnKind.INTEGER:
        return int(text)
    if kind is ColumnKind.DECIMAL:
        return Decimal(text)
    if kind is ColumnKind.FLOAT:
        return float({"Infinity": "inf", "-Infinity": "-inf"}.get(text, text))
    if kind is ColumnKind.BOOLEAN:
        return {"true": True, "false": False}[text]
    if kind is ColumnKind.DATE:
        return dt.date.fromisoformat(text)
    if kind is ColumnKind.DATETIME:
        return dt.datetime.fromisoformat(text)
    if kind is ColumnKind.TIMESTAMP:
        assert text.endswith("+00:00"), text
        return dt.datetime.fromisoformat(text)
    if kind is ColumnKind.TIME:
        return dt.time.fromisoformat(text)
    if kind is ColumnKind.BYTES:
        return base64.b64decode(text, validate=True)
    raise AssertionError(kind)


def table_rows(
    out: Path,
    schema: str,
    table: str,
    columns: list[Column],
    marker: str,
) -> list[tuple[Any, ...]]:
    """Every row of every chunk file of a table, decoded (row_hash dropped)."""
    from exporter.layout import ExportLayout
    from exporter.model import TableRef

    rows = []
    for path in sorted(ExportLayout(out).existing_chunk_files(TableRef(schema, table)).values()):
        header, records = read_chunk(path)
        assert header[: len(columns)] == [c.name for c in columns]
        for record in records:
            assert len(record) == len(header), record
            cells = zip(record[: len(columns)], columns, strict=True)
            rows.append(tuple(decode_cell(c, col, marker) for c, col in cells))
    return rows
