"""validation/_csvscan.c (through readback_scan.py): the same figures as Arrow's reader on what
the writer writes, however the bytes are cut into blocks, and refusal of what it never writes."""

from __future__ import annotations

import gzip
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import header_record
from exporter.canonical.rowhash import csv_lines
from exporter.canonical.rows import BatchEncoder
from exporter.errors import ValidationFailed
from exporter.export.writer import CsvGzipWriter
from exporter.model import Column, ColumnKind, TablePlan
from exporter.validation import readback, readback_scan
from exporter.validation.sums import ColumnSums
from tests.plans import whole_plan

pytestmark = pytest.mark.skipif(
    not readback_scan.C_SCAN, reason="the C extension _csvscan is not built (no C compiler)"
)

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER),
    Column("amount", "numeric", ColumnKind.DECIMAL, precision=38, scale=10),
    Column("n", "numeric", ColumnKind.DECIMAL),  # unconstrained: any scale, NaN, 39 digits
    Column("ratio", "float8", ColumnKind.FLOAT),
    Column("label", "text", ColumnKind.STRING),
    Column("blob", "bytea", ColumnKind.BYTES),
)
BIGNUMERIC_EDGE = Decimal("578960446186320283373362303350917342579.75")  # 39 integer digits

texts = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)
doubles = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e-5, 1e15, 0.1]
)
rows_strategy = st.lists(
    st.tuples(
        st.none() | st.integers(-(2**63), 2**63 - 1),
        # NUMERIC(38, 10) values written with 0-10 decimals (an Oracle NUMBER(38, 10) 1.5
        # arrives as Decimal('1.5')): the sum still reads at the column's scale.
        st.none()
        | st.builds(
            lambda i, s: Decimal(f"{i}e-{s}"), st.integers(-(10**27), 10**27), st.integers(0, 10)
        ),
        st.none()
        | st.builds(
            lambda i, s: Decimal(f"{i}e-{s}"), st.integers(-(10**38), 10**38), st.integers(0, 38)
        )
        | st.just(BIGNUMERIC_EDGE),
        st.none() | doubles,
        st.none() | texts,
        st.none() | st.binary(max_size=6),
    ),
    max_size=40,
)


def _write(path: Path, plan: TablePlan, rows: list[tuple[Any, ...]]) -> None:
    names = [c.name for c in plan.columns]
    encoder = BatchEncoder(plan.columns, plan.file_format.null_marker)
    with CsvGzipWriter(path, header_record(names), level=None) as writer:
        for start in range(0, len(rows), 7):
            records = encoder.encode(rows[start : start + 7])
            writer.write_bytes(csv_lines(records, plan.file_format.row_hash), len(records))
        writer.commit()


def _arrow_figures(path: Path, plan: TablePlan) -> readback.FileFigures:
    return readback._read_figures(path, plan, readback.READ_BLOCK_BYTES)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, marker=st.sampled_from(["\\N", "", "NULL"]))
def test_the_scanner_and_arrow_read_the_same_figures(
    rows: list[tuple[Any, ...]], marker: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # A text equal to the marker is refused by the writer (tests/unit/test_encode.py).
    assume(all(row[4] != marker for row in rows))
    plan = whole_plan(COLUMNS, marker=marker, row_hash=False)
    path = tmp_path_factory.mktemp("scan") / "data_chunk_0.csv.gz"
    _write(path, plan, rows)
    scanned = readback.read_chunk_figures(path, plan)
    assert scanned == _arrow_figures(path, plan)
    # and both are the worker's own figures of the rows it wrote
    expected = ColumnSums(plan.columns)
    expected.add_rows(rows)
    assert scanned.rows == len(rows)
    assert {k: Decimal(v) for k, v in scanned.sums.items()} == {
        k: Decimal(v) for k, v in expected.exact_json().items()
    }
    want, got = expected.float_json()["ratio"], scanned.float_sums["ratio"]
    assert got == want or (math.isnan(want) and math.isnan(got))


def _scan(data: bytes, cuts: list[int], width: int = 3, modes: dict[int, int] | None = None) -> Any:
    from exporter.validation._csvscan import Scanner

    scanner = Scanner(width, {0: 1, 1: 2} if modes is None else modes, b"\\N")
    at = 0
    for cut in sorted(cuts) + [len(data)]:
        scanner.feed(data[at:cut])
        at = max(at, cut)
    scanner.finish()
    return scanner.rows, scanner.sums(), scanner.texts()


@settings(max_examples=200, deadline=None)
@given(
    cells=st.lists(
        st.tuples(
            st.integers(-(10**40), 10**40).map(str) | st.just("\\N"),
            st.floats(allow_nan=False).map(repr).map(lambda r: r.replace("inf", "Infinity")),
            texts,
        ),
        min_size=1,
        max_size=20,
    ),
    data=st.data(),
)
def test_blocks_cut_anywhere_give_the_same_figures(cells: list[Any], data: Any) -> None:
    # Cuts fall inside numbers, quotes, doubled quotes and multi-byte characters.
    body = "".join(f'{a},{b},"{c.replace(chr(34), chr(34) * 2)}"\n' for a, b, c in cells).encode()
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    assert _scan(body, cuts) == _scan(body, [])


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b'1,2.5,"a"b"\n', "csv"),  # text after a closing quote
        (b'1,2.5,a"b\n', "csv"),  # a quote inside an unquoted field
        (b'1,2.5,"a"\r\n', "csv"),  # a carriage return outside quotes
        (b'1,2.5,"a"\n2,3.5\n', "fields"),
        (b'1,2.5,"a"\n\n', "number"),  # a blank line: one empty cell, not a number
        (b'1,2.5,"a",\n', "fields"),
        (b'"1",2.5,"a"\n', "number"),  # the writer never quotes a number
        (b' 1,2.5,"a"\n', "number"),
        (b'+1,2.5,"a"\n', "number"),
        (b'1_0,2.5,"a"\n', "number"),
        (b'1.,2.5,"a"\n', "number"),
        (b'.5,2.5,"a"\n', "number"),
        (b'1e5,2.5,"a"\n', "number"),
        (b'\xd9\xa5,2.5,"a"\n', "number"),  # a non-ASCII digit
        (b',2.5,"a"\n', "number"),  # empty is not the marker here
        (b'1,inf,"a"\n', "number"),
        (b'1,1E5,"a"\n', "number"),
        (b'1,0x1p3,"a"\n', "number"),
        (b'1,-NaN,"a"\n', "number"),
        (b'1,2.5,"\xc0\x80"\n', "utf8"),  # an overlong NUL
        (b'1,2.5,"\xed\xa0\x80"\n', "utf8"),  # a surrogate
        (b'1,2.5,"\xf4\x90\x80\x80"\n', "utf8"),  # past U+10FFFF
        (b'1,2.5,"\xe6\x97"', "utf8"),  # the file ends inside a character
        (b'1,2.5,"abc', "csv"),  # a quote never closed, the field count right
    ],
)
def test_what_the_writer_never_writes_is_refused(body: bytes, kind: str) -> None:
    from exporter.validation._csvscan import ScanError

    for cuts in ([], list(range(len(body)))):  # whole, and one byte at a time
        with pytest.raises(ScanError) as info:
            _scan(body, cuts)
        assert info.value.args[0] == kind, (body, cuts)


@pytest.mark.parametrize(
    ("body", "rows", "id_sum", "ratio"),
    [
        (b'-0,-0,"a"\n', 1, "0", -0.0),
        (b'007,1e+308,"a"\n', 1, "7", 1e308),
        (b'\\N,-Infinity,"a\n,""b"""\n', 1, None, -math.inf),  # NULL; a quoted line break
        (b'1,NaN,"a"\n2,5e-324,"b"', 2, "3", math.nan),  # the last record without its \n
        (b'1,2.5,"\xf0\x9f\x98\x80"\n', 1, "1", 2.5),
        (b'1.50,2.5,""\n2,-2.5,""\n', 2, "3.50", 0.0),
    ],
)
def test_what_the_writer_writes_is_read(
    body: bytes, rows: int, id_sum: str | None, ratio: float
) -> None:
    from exporter.validation.float_sum import ExactFloatSum

    read, (exact, floats), _ = _scan(body, [])
    assert read == rows
    total = sum((Decimal(f"{n}e-{d}") for d, n in exact[0]), Decimal(0)) if exact[0] else None
    assert (None if total is None else str(total)) == id_sum
    got = ExactFloatSum()
    got.add_scaled(*floats[1])
    assert got.total() == ratio or (math.isnan(ratio) and math.isnan(got.total()))


def test_numbers_beyond_38_digits_and_nan_go_to_python_as_text() -> None:
    body = b'99999999999999999999999999999999999999,1,"a"\n'  # 38 digits: summed in C
    body += b'100000000000000000000000000000000000000,1,"a"\n'  # 39 digits
    body += b'NaN,1,"a"\n0.000000000000000000000000000000000000001,1,"a"\n'  # 39 decimals
    rows, (exact, _), left = _scan(body, [], modes={0: 1})
    assert rows == 4
    assert exact[0] == [(0, 10**38 - 1)]
    assert left == {0: ["100000000000000000000000000000000000000", "NaN", "0." + "0" * 38 + "1"]}


def test_exact_sums_do_not_overflow_128_bits(tmp_path: Path) -> None:
    # 38-digit values near 2**127 / 10: their sum passes 2**128 within a few thousand rows.
    big = 10**38 - 1
    body = b"".join(f'{big},1,"a"\n{-big + 1},1,"b"\n{big},1,"c"\n'.encode() for _ in range(3000))
    _, (exact, _), _ = _scan(body, [4096, 100_000])
    assert exact[0] == [(0, 3000 * (2 * big - big + 1))]


@pytest.mark.parametrize("marker", ["\\N", ""])
def test_damaged_files_fail_validation_saying_what_and_where(tmp_path: Path, marker: str) -> None:
    plan = whole_plan(COLUMNS[:4], marker=marker, row_hash=False)
    head = header_record([c.name for c in plan.columns]).encode() + b"\n"
    for body, words in [
        (b"1,2.5,3,0.5\n2,x,3,0.5\n", "'amount' holds a cell that is not a number"),
        (b"1,2.5,3,0.5\n2,2.5\n", "a record after data row 1 has 2 fields, expected 4"),
        (b'1,2.5,3,"\xff"\n', "unreadable"),
    ]:
        path = tmp_path / "data_chunk_0.csv.gz"
        path.write_bytes(gzip.compress(head + body))
        with pytest.raises(ValidationFailed) as info:
            readback.read_chunk_figures(path, plan)
        assert words in info.value.one_line(), body


def test_a_last_record_without_its_line_break_is_summed_whole() -> None:
    body = b'1,1,"a"\n100000000000000000000000000000000000000,1,"b"'  # 39 digits, no \n
    rows, (exact, _), left = _scan(body, [], modes={0: 1})
    assert rows == 2 and exact[0] == [(0, 1)]
    assert left == {0: ["100000000000000000000000000000000000000"]}  # left after finish()


def test_an_unclosed_quote_names_the_record_it_opens() -> None:
    from exporter.validation._csvscan import ScanError

    with pytest.raises(ScanError) as info:
        _scan(b'1,2.5,"a"\n2,2.5,"abc', [])
    assert info.value.args == ("csv", 1, "a quoted field never closed")


def test_a_scanner_whose_init_fails_holds_nothing_to_misread() -> None:
    from exporter.validation._csvscan import ScanError, Scanner

    scanner = Scanner(5, {3: 1, 4: 1}, b"\\N")
    scanner.feed(b"1,2,3,")  # midway through a record: at its fourth field, a numeric one
    with pytest.raises(ValueError):
        scanner.__init__(1, {3: 1}, b"\\N")  # a field beyond the width
    with pytest.raises(ScanError):
        scanner.feed(b"4,5\n")  # no field is read through the freed columns
    with pytest.raises(TypeError):
        Scanner(2, {"a": 1}, b"\\N")


def test_a_marker_longer_than_any_number_is_read_by_arrow(tmp_path: Path) -> None:
    marker = "N" * 300
    plan = whole_plan(COLUMNS[:1], marker=marker, row_hash=False)
    path = tmp_path / "data_chunk_0.csv.gz"
    path.write_bytes(gzip.compress(f"id\n1\n{marker}\n2\n".encode()))
    assert not readback_scan.can_scan(marker)
    figures = readback.read_chunk_figures(path, plan)
    assert (figures.rows, figures.sums) == (3, {"id": "3"})


def test_a_long_number_in_a_last_record_without_its_line_break_is_summed(
    tmp_path: Path,
) -> None:
    plan = whole_plan(COLUMNS[2:3], marker="\\N", row_hash=False)  # n: unconstrained
    path = tmp_path / "data_chunk_0.csv.gz"
    big = "1" + "0" * 38  # 39 digits: summed by Python, after the scanner's finish()
    path.write_bytes(gzip.compress(f"n\n1\n{big}".encode()))
    figures = readback.read_chunk_figures(path, plan)
    assert (figures.rows, figures.sums) == (2, {"n": str(int(big) + 1)})


def test_a_record_longer_than_the_limit_fails_at_its_end_or_as_it_grows() -> None:
    from exporter.validation._csvscan import ScanError, Scanner

    record = b'1,2.5,"' + b"x" * 20 + b'"\n'  # 30 bytes
    at_limit = Scanner(3, {0: 1, 1: 2}, b"\\N", max_record=len(record))
    at_limit.feed(record * 3)  # a record of exactly the limit is taken
    assert at_limit.rows == 3
    over = Scanner(3, {0: 1, 1: 2}, b"\\N", max_record=len(record) - 1)
    with pytest.raises(ScanError) as info:
        over.feed(record * 3)
    assert info.value.args == ("too_long", 0, len(record) - 1)
    growing = Scanner(3, {0: 1, 1: 2}, b"\\N", max_record=100)
    growing.feed(record)
    with pytest.raises(ScanError) as info:  # said as the block ends, not when (if) it ends
        growing.feed(b'2,2.5,"' + b"y" * 200)
    assert info.value.args == ("too_long", 1, 100)


def test_a_record_too_long_fails_validation_naming_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(readback_scan, "MAX_RECORD_BYTES", 2 << 20)
    plan = whole_plan(COLUMNS[4:5], marker="\\N", row_hash=False)  # label: text
    path = tmp_path / "data_chunk_0.csv.gz"
    path.write_bytes(gzip.compress(b'label\n"short"\n"' + b"z" * (3 << 20) + b'"\n'))
    with pytest.raises(ValidationFailed) as info:
        readback.read_chunk_figures(path, plan)
    assert "a record is longer than 2 MiB" in info.value.one_line()
