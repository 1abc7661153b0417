"""Rows-encoder benchmark: exporter/canonical/rows.py's C extension (_rowtext.c) against its
Python encoder, on in-memory rows shaped like export_bench.py's bench.t (no database needed).

    .venv/bin/python bench/rows_bench.py                  # 200,000 rows, best of 5
    .venv/bin/python bench/rows_bench.py --rows 50000 --repeats 3

The rows are what psycopg returns for bench.t (same formulas as export_bench.INSERT_SQL, computed
in Python): int, Decimal (numeric(38, 10): ten fractional digits), int, float (exponents 1e-20
to 1e19, NaN, -Infinity), str with awkward text, date, naive datetime, datetime in UTC, bool,
bytes and a ~200-character str, with the same NULLs. Batches of 10,000 rows, as fetch_rows.

Prints, in microseconds a row (best of --repeats), each column alone through each encoder (the
Python encoder's cells, the extension's lines without row hashes), and
the whole batch through the calls the row read path can make: the Python encoder's records
and rowhash.csv_lines (before the extension), the extension's records and csv_lines (what
export/read_paths.py calls), and BatchEncoder.lines (records, row hashes and line ends in one
call) on columns or on rows; with the transposition `zip(*batch)` for scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import math
import time
from collections.abc import Callable, Sequence
from decimal import Context, Decimal
from typing import Any

from exporter.canonical import rows
from exporter.canonical.rowhash import csv_lines
from exporter.canonical.rows import BatchEncoder
from exporter.model import Column, ColumnKind

BATCH_ROWS = 10_000
COLUMNS = [
    Column("id", "bigint", ColumnKind.INTEGER),
    Column("amount", "numeric", ColumnKind.DECIMAL, precision=38, scale=10),
    Column("qty", "integer", ColumnKind.INTEGER),
    Column("ratio", "double precision", ColumnKind.FLOAT),
    Column("label", "varchar", ColumnKind.STRING),
    Column("day", "date", ColumnKind.DATE),
    Column("created", "timestamp", ColumnKind.DATETIME),
    Column("updated", "timestamptz", ColumnKind.TIMESTAMP),
    Column("flag", "boolean", ColumnKind.BOOLEAN),
    Column("blob", "bytea", ColumnKind.BYTES),
    Column("note", "text", ColumnKind.STRING),
]
_UTC = dt.timezone.utc
_WIDE = Context(prec=60)  # numeric(38, 10) values of up to 38 digits, computed without rounding
_TEN_PLACES = Decimal("1e-10")
_LABELS = [
    "plain {g}",
    'comma, "quoted", {g}, ""double""',
    "multi\nline\r\ncrlf {g}",
    "ünïcödé 日本語 {g} 😀 \ttab",
    "",
    "  leading and trailing spaces {g}  ",
    "back\\slash \\N is not null {g}",
    "NULL",
]


def _md5(g: int) -> str:
    return hashlib.md5(str(g).encode()).hexdigest()


def bench_row(g: int) -> tuple[Any, ...]:
    """Row `g` of bench.t as psycopg returns it (export_bench.INSERT_SQL in Python)."""
    amount: Decimal | None = None
    if g % 97 == 0:
        amount = None
    elif g % 1000 == 1:
        amount = _WIDE.multiply(
            _WIDE.add(_WIDE.multiply(Decimal(g), Decimal("1e15")), Decimal("0.0123456789")),
            Decimal(1 - 2 * (g % 2)),
        )
    else:
        whole = Decimal((g * 1000003) % 2000000007 - 1000000000) * 1000
        amount = _WIDE.add(whole, _WIDE.divide(Decimal(g % 9973), Decimal(9973)))
    if g % 83 == 0:
        ratio = None
    elif g % 100003 in (5, 6):
        ratio = float("nan") if g % 100003 == 5 else float("-inf")
    else:
        ratio = math.sin(g) * 10.0 ** (g % 40 - 20)
    label = None if g % 9 == 8 else _LABELS[g % 9].format(g=g)
    blob = None if g % 59 == 0 else bytes.fromhex((_md5(g) + _md5(g + 1))[: 8 + 2 * (g % 17)])
    return (
        g,
        None if amount is None else amount.quantize(_TEN_PLACES, context=_WIDE),
        None if g % 89 == 0 else (g * 2654435761) % 2147483647 - 1073741823,
        ratio,
        label,
        None if g % 71 == 0 else dt.date(1970, 1, 1) + dt.timedelta(days=g % 40000),
        None
        if g % 67 == 0
        else dt.datetime(2000, 1, 1) + g * dt.timedelta(seconds=1, microseconds=123457),
        None
        if g % 61 == 0
        else dt.datetime(1999, 12, 31, 23, tzinfo=_UTC) + g * dt.timedelta(seconds=37.5),
        (True, False, None)[g % 3],
        blob,
        ((_md5(g) + ' lorem ipsum, dolor "sit" amet; ') * 4)[: 190 + g % 21],
    )


def _best(fn: Callable[[], object], rows_count: int, repeats: int) -> float:
    best = math.inf
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best / rows_count * 1e6


def _python(fn: Callable[[], object]) -> Callable[[], object]:
    """`fn` with the extension switched off: the Python encoder."""

    def call() -> object:
        native, rows._c_encode = rows._c_encode, None
        try:
            return fn()
        finally:
            rows._c_encode = native

    return call


def main(argv: Sequence[str] | None = None) -> int:
    """Build the rows, time every way, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    if rows._c_encode is None:
        raise SystemExit(f"the extension is not in use: {rows.implementation()}")
    data = [bench_row(g) for g in range(1, args.rows + 1)]
    batches = [data[i : i + BATCH_ROWS] for i in range(0, len(data), BATCH_ROWS)]
    transposed = [list(zip(*b, strict=True)) for b in batches]
    encoder = BatchEncoder(COLUMNS, "\\N")
    n, k = args.rows, args.repeats

    print(f"{n:,} rows of bench.t in batches of {BATCH_ROWS:,}; best of {k}; us a row")
    print("\n| column | kind | Python encoder | C extension | speed-up |\n|---|---|---:|---:|---:|")
    for i, column in enumerate(COLUMNS):
        alone = BatchEncoder([column], "\\N")

        # The Python encoder's cells, against the extension's bytes (no object per cell).
        def cells(position: int = i, enc: BatchEncoder = alone) -> object:
            return [enc.encode_columns([c[position]]) for c in transposed]

        def text(position: int = i, enc: BatchEncoder = alone) -> object:
            return [enc.lines([c[position]], False) for c in transposed]

        python, native = _best(_python(cells), n, k), _best(text, n, k)
        print(
            f"| {column.name} | {column.kind.value} | {python:.3f} | {native:.3f} "
            f"| {python / native:.1f}x |"
        )

    def records_then_lines() -> object:
        return [csv_lines(encoder.encode_columns(c), True) for c in transposed]

    def python_before() -> object:
        return _python(records_then_lines)()

    ways: list[tuple[str, Callable[[], object]]] = [
        (
            "transposition, `zip(*batch)` (for scale)",
            lambda: [list(zip(*b, strict=True)) for b in batches],
        ),
        ("Python encoder: records, then `csv_lines` (before)", python_before),
        ("C: records, then `csv_lines` (read_paths.py today)", records_then_lines),
        ("C: `lines(columns, True)`", lambda: [encoder.lines(c, True) for c in transposed]),
        ("C: `row_lines(rows, True)`", lambda: [encoder.row_lines(b, True) for b in batches]),
        (
            "C: `lines(columns, False)`, no row hash",
            lambda: [encoder.lines(c, False) for c in transposed],
        ),
    ]
    want = records_then_lines()
    assert [encoder.lines(c, True) for c in transposed] == want
    assert _python(records_then_lines)() == want
    print("\n| whole batch, hashed lines | us a row |\n|---|---:|")
    for name, fn in ways:
        print(f"| {name} | {_best(fn, n, k):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
