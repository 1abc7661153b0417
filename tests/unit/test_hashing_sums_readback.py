"""canonical/rowhash.py, validation/sums.py and validation/readback.py (with export/writer.py)."""

from __future__ import annotations

import decimal
import gzip
import hashlib
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporter.canonical.cells import header_record
from exporter.canonical.rowhash import ROW_HASH_COLUMN, csv_lines, hashed_lines, row_hash
from exporter.canonical.rows import BatchEncoder
from exporter.errors import ValidationFailed
from exporter.export.writer import CsvGzipWriter
from exporter.model import (
    Column,
    ColumnKind,
    TablePlan,
)
from exporter.validation import readback_scan
from exporter.validation.float_sum import float_total
from exporter.validation.readback import read_chunk_figures
from exporter.validation.sums import ColumnSums
from tests.plans import whole_plan

MARKER = "\\N"
BIG = Decimal("9" * 38)  # NUMBER(38) at its maximum
TINY = Decimal("0." + "0" * 37 + "1")  # NUMBER(38, 38) at its smallest step

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER, nullable=False),
    Column("amount", "numeric", ColumnKind.DECIMAL, precision=38, scale=2),
    Column("ratio", "float8", ColumnKind.FLOAT),
    Column('note, "quoted"', "text", ColumnKind.STRING),
    Column("n38", "numeric", ColumnKind.DECIMAL),
)


def make_plan(columns: tuple[Column, ...] = COLUMNS, *, row_hash: bool = True) -> TablePlan:
    return whole_plan(columns, marker=MARKER, row_hash=row_hash)


def exact_sum(values: list[Any]) -> Decimal:
    """Reference sum through Fractions (no Decimal context involved), back to Decimal."""
    total = sum((Fraction(v) for v in values if v is not None), Fraction(0))
    with decimal.localcontext() as ctx:
        ctx.prec = 400
        return Decimal(total.numerator) / Decimal(total.denominator)


# -- hashing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        (b"", "d41d8cd98f00b204e9800998ecf8427e"),  # RFC 1321 test vectors
        (b"abc", "900150983cd24fb0d6963f7d28e17f72"),
        (b"message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
    ],
)
def test_row_hash_is_lowercase_hex_md5(record: bytes, expected: str) -> None:
    assert row_hash(record) == expected


@given(st.lists(st.text(), max_size=5), st.booleans())
def test_csv_lines_append_md5_of_the_utf8_record(records: list[str], with_hash: bool) -> None:
    try:
        encoded = [r.encode("utf-8") for r in records]
    except UnicodeEncodeError:  # lone surrogates cannot be written either
        return
    data = csv_lines(records, with_hash)
    want = b"".join(
        r + (b"," + hashlib.md5(r).hexdigest().encode() if with_hash else b"") + b"\n"
        for r in encoded
    )
    assert data == want
    if with_hash:
        assert hashed_lines([r + b"\n" for r in encoded]) == want


def test_row_hash_of_an_encoded_row_covers_exactly_the_record() -> None:
    (record,) = BatchEncoder(COLUMNS, MARKER).encode([(1, Decimal("2.50"), None, 'é"', BIG)])
    assert record == f'1,2.50,\\N,"é""",{BIG}'
    line = csv_lines([record], with_hash=True)
    assert line == (record + "," + hashlib.md5(record.encode("utf-8")).hexdigest() + "\n").encode()


# -- sums -----------------------------------------------------------------------------------


def test_sums_of_38_digit_decimals_are_exact() -> None:
    amounts = [BIG, BIG, Decimal(1), TINY, -TINY, TINY, Decimal("-0.5")]
    sums = ColumnSums([Column("n", "numeric", ColumnKind.DECIMAL)])
    sums.add_rows([(v,) for v in amounts])
    expected = "1" + "9" * 37 + "8" + ".5" + "0" * 36 + "1"  # 39 digits . 38 digits
    assert sums.exact_json() == {"n": expected}
    assert Decimal(expected) == exact_sum(amounts)
    # The default context (28 digits) would have rounded this: the test means something.
    assert sum(amounts, Decimal(0)) != Decimal(expected)


def test_integer_sums_exceed_64_bits_exactly() -> None:
    values = [2**63 - 1] * 5 + [None, -(2**63)]
    sums = ColumnSums([Column("i", "int8", ColumnKind.INTEGER)])
    sums.add_rows([(v,) for v in values[:3]])
    sums.add_rows([(v,) for v in values[3:]])
    assert sums.exact_json() == {"i": str(5 * (2**63 - 1) - 2**63)}


def test_only_numeric_columns_are_summed_and_nulls_skipped() -> None:
    sums = ColumnSums(COLUMNS)
    sums.add_rows(
        [
            (1, None, 1e16, "x", None),
            (2, Decimal("1.25"), 1.0, None, None),
            (3, Decimal("-0.05"), -1e16, "y", TINY),
        ]
    )
    sums.add_rows([])
    assert sums.exact_json() == {"id": "6", "amount": "1.20", "n38": format(TINY, "f")}
    assert sums.float_json() == {"ratio": 1.0}  # fsum: a naive float sum gives 0.0


@given(
    st.lists(
        st.one_of(
            st.none(),
            st.decimals(allow_nan=False, allow_infinity=False, places=10),
            st.builds(
                lambda d, s: Decimal((0, tuple(map(int, str(d))), -s)),
                st.integers(0, 10**38 - 1),
                st.integers(0, 38),
            ),
        ),
        max_size=30,
    ),
    st.integers(1, 5),
)
def test_exact_sums_equal_fraction_sums_however_batched(values: list[Any], step: int) -> None:
    sums = ColumnSums([Column("n", "numeric", ColumnKind.DECIMAL)])
    for i in range(0, len(values), step):
        sums.add_rows([(v,) for v in values[i : i + step]])
    text = sums.exact_json()["n"]
    assert "E" not in text and "e" not in text
    assert Fraction(Decimal(text)) == sum(
        (Fraction(v) for v in values if v is not None), Fraction(0)
    )
    # Reading the same values back as text gives the same figure.
    texts = ColumnSums([Column("n", "numeric", ColumnKind.DECIMAL)])
    texts.add_texts(0, "n", (format(v, "f") for v in values if v is not None), False)
    assert Fraction(Decimal(texts.exact_json()["n"])) == Fraction(Decimal(text))


# -- read-back of written files -------------------------------------------------------------


@pytest.fixture(params=["C scanner", "Arrow reader"])
def reader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each read-back test runs on both readers: the C scanner where it was built, and the
    Arrow reader that stands in where it was not (validation/readback.py)."""
    if request.param == "C scanner" and not readback_scan.C_SCAN:
        pytest.skip("the C extension _csvscan is not built (no C compiler)")
    if request.param == "Arrow reader":
        monkeypatch.setattr(readback_scan, "C_SCAN", False)
    return str(request.param)


def rows_fixture() -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    for i in range(1, 301):
        rows.append(
            (
                i,
                None if i % 7 == 0 else Decimal(i) / Decimal(100),
                None if i % 5 == 0 else i * 0.1,
                # Embedded line ends and commas: a record is not a line.
                None if i % 11 == 0 else f'row {i},\r\nwith "quotes"\n' if i % 3 else "",
                BIG if i % 2 else -TINY,
            )
        )
    return rows


def write_chunk(
    path: Path, plan: TablePlan, rows: list[tuple[Any, ...]], level: int | None
) -> None:
    hashed = plan.file_format.row_hash
    names = [c.name for c in plan.columns] + ([ROW_HASH_COLUMN] if hashed else [])
    encoder = BatchEncoder(plan.columns, plan.file_format.null_marker)
    with CsvGzipWriter(path, header_record(names), level=level) as writer:
        for start in range(0, len(rows), 64):
            records = encoder.encode(rows[start : start + 64])
            writer.write_bytes(csv_lines(records, plan.file_format.row_hash), len(records))
        writer.commit()


@pytest.mark.parametrize("level", [None, 0, 3, 6, 9])
@pytest.mark.parametrize("hashed", [True, False])
@pytest.mark.usefixtures("reader")
def test_read_chunk_figures_matches_what_was_written(
    tmp_path: Path, level: int | None, hashed: bool
) -> None:
    plan = make_plan(row_hash=hashed)
    rows = rows_fixture()
    path = tmp_path / "S" / "T" / "data_chunk_0.csv.gz"
    write_chunk(path, plan, rows, level)
    assert sorted(p.name for p in path.parent.iterdir()) == ["data_chunk_0.csv.gz"]

    figures = read_chunk_figures(path, plan)
    expected = ColumnSums(plan.columns)
    expected.add_rows(rows)
    assert figures.rows == len(rows)
    assert figures.sums == expected.exact_json()
    assert figures.sums["id"] == str(300 * 301 // 2)
    assert Decimal(figures.sums["n38"]) == exact_sum([r[4] for r in rows])
    assert figures.float_sums["ratio"] == pytest.approx(
        math.fsum(r[2] for r in rows if r[2] is not None), rel=1e-15
    )


@pytest.mark.usefixtures("reader")
def test_empty_chunk_reads_as_zero_rows(tmp_path: Path) -> None:
    plan = make_plan()
    path = tmp_path / "data_chunk_0.csv.gz"
    write_chunk(path, plan, [], None)
    figures = read_chunk_figures(path, plan)
    assert figures.rows == 0
    assert figures.sums == {"id": "0", "amount": "0", "n38": "0"}


@pytest.mark.usefixtures("reader")
def test_truncated_gzip_file_fails_validation(tmp_path: Path) -> None:
    plan = make_plan()
    path = tmp_path / "data_chunk_0.csv.gz"
    write_chunk(path, plan, rows_fixture() * 5, None)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 4):
        path.write_bytes(data[:cut])
        with pytest.raises(ValidationFailed) as info:
            read_chunk_figures(path, plan)
        assert "unreadable" in info.value.one_line()


@pytest.mark.usefixtures("reader")
def test_file_that_is_not_gzip_fails_validation(tmp_path: Path) -> None:
    path = tmp_path / "data_chunk_0.csv.gz"
    path.write_bytes(b"id,amount\n1,2\n")
    with pytest.raises(ValidationFailed):
        read_chunk_figures(path, make_plan())


@pytest.mark.usefixtures("reader")
def test_header_not_matching_the_plan_fails_validation(tmp_path: Path) -> None:
    path = tmp_path / "data_chunk_0.csv.gz"
    write_chunk(path, make_plan(row_hash=False), rows_fixture()[:3], None)
    with pytest.raises(ValidationFailed) as info:
        read_chunk_figures(path, make_plan(row_hash=True))  # expects a row_hash column
    assert "header" in info.value.one_line()


@pytest.mark.usefixtures("reader")
def test_record_with_wrong_field_count_fails_validation(tmp_path: Path) -> None:
    plan = make_plan(row_hash=False)
    path = tmp_path / "data_chunk_0.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header_record([c.name for c in COLUMNS]).encode() + b"\n")
        handle.write(b'1,2.00,0.5,"a",1\n2,3.00\n')
    with pytest.raises(ValidationFailed) as info:
        read_chunk_figures(path, plan)
    line = info.value.one_line()
    assert "has 2 fields, expected 5" in line
    assert "3.00" not in line  # the record's text is user data: never in the message


def test_writer_publishes_only_on_commit(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    with pytest.raises(RuntimeError):
        with CsvGzipWriter(final, "a", level=None) as writer:
            writer.write_bytes(b"1\n", 1)
            assert not final.exists()
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []  # the temp file was removed too
    with CsvGzipWriter(final, "a", level=None) as writer:
        writer.write_bytes(b"1\n2\n", 2)
        writer.commit()
    assert gzip.decompress(final.read_bytes()) == b"a\n1\n2\n"
    assert writer.rows == 2
    assert list(tmp_path.iterdir()) == [final]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'1,2.00,0.5,"a",1\n\n2,3.00,0.5,"b",1\n', "'id' holds a cell that is not"),  # blank
        (b'1,2.00,0.5,"\xff\xfe",1\n', "unreadable"),  # not UTF-8
        (b'1,2.00,0.5,"a",x1\n', "'n38' holds a cell that is not a number"),  # edited
        (b'1,2.00,0.5,"a\n', "has 4 fields, expected 5"),  # a quote never closed
    ],
    ids=["blank line", "bad utf-8", "not a number", "open quote"],
)
@pytest.mark.usefixtures("reader")
def test_damaged_records_fail_validation(tmp_path: Path, body: bytes, words: str) -> None:
    path = tmp_path / "data_chunk_0.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header_record([c.name for c in COLUMNS]).encode() + b"\n" + body)
    with pytest.raises(ValidationFailed) as info:
        read_chunk_figures(path, make_plan(row_hash=False))
    assert words in info.value.one_line()


@pytest.mark.usefixtures("reader")
def test_quoted_newlines_and_commas_are_one_record(tmp_path: Path) -> None:
    path = tmp_path / "data_chunk_0.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header_record([c.name for c in COLUMNS]).encode() + b"\n")
        handle.write(b'1,2.50,0.5,"a\nb,c\r\n""d""",\\N\n2,\\N,\\N,"",7\n')
    figures = read_chunk_figures(path, make_plan(row_hash=False))
    assert figures.rows == 2
    assert figures.sums == {"id": "3", "amount": "2.50", "n38": "7"}


def _chunk(tmp_path: Path, body: bytes) -> Path:
    path = tmp_path / "data_chunk_0.csv.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(header_record([c.name for c in COLUMNS]).encode() + b"\n" + body)
    return path


@pytest.mark.usefixtures("reader")
def test_fixed_scale_sums_are_exact_at_38_digits(tmp_path: Path) -> None:
    # `amount` is numeric(38,2) and `id` int8: summed in Arrow's 76-digit decimals.
    big = "9" * 36 + ".99"
    body = f'9223372036854775807,{big},1,"a",1\n9223372036854775807,{big},1,"b",\\N\n'
    figures = read_chunk_figures(_chunk(tmp_path, body.encode()), make_plan(row_hash=False))
    assert figures.sums["id"] == str(2 * (2**63 - 1))
    assert figures.sums["amount"] == "1" + "9" * 36 + ".98"
    assert figures.sums["n38"] == "1"


@pytest.mark.usefixtures("reader")
def test_nan_in_a_fixed_scale_column_is_summed_by_python(tmp_path: Path) -> None:
    body = b'1,1.25,1,"a",1\n2,NaN,1,"b",1\n'
    figures = read_chunk_figures(_chunk(tmp_path, body), make_plan(row_hash=False))
    assert figures.sums["amount"] == "NaN" and figures.sums["id"] == "3"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.decimals(min_value=-(10**36) + 1, max_value=10**36 - 1, places=2),
        min_size=1,
        max_size=30,
    )
)
def test_arrow_sums_equal_python_decimal_sums(values: list[Decimal]) -> None:
    import tempfile

    body = "".join(f'{n},{v},1,"t",\\N\n' for n, v in enumerate(values)).encode()
    with tempfile.TemporaryDirectory() as folder:
        figures = read_chunk_figures(_chunk(Path(folder), body), make_plan(row_hash=False))
    with decimal.localcontext(decimal.Context(prec=100)):  # exact for these values
        assert Decimal(figures.sums["amount"]) == sum(values, Decimal(0))
    assert figures.sums["id"] == str(sum(range(len(values))))


def test_float_total_survives_what_fsum_refuses() -> None:
    assert math.isnan(float_total([math.inf, -math.inf]))
    assert float_total([1e308, 1e308]) == math.inf
    assert float_total([1e308, 1e308, -1e308]) == 1e308  # exact, rounded once
    assert float_total([0.1] * 10) == 1.0


def test_extreme_doubles_export_and_validate(tmp_path: Path) -> None:
    import sqlite3

    from exporter.config import parse_config
    from exporter.export.run import run_export

    db = tmp_path / "f.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE f (id INTEGER PRIMARY KEY, x REAL)")
    con.executemany(
        "INSERT INTO f VALUES (?, ?)",
        [(1, math.inf), (2, -math.inf), (3, 1e308), (4, 1e308), (5, None)],
    )
    con.commit()
    con.close()
    config = parse_config(
        {
            "source": {"engine": "sqlite", "path": str(db)},
            "export": {"output_dir": str(tmp_path / "out")},
        }
    )
    run = run_export(config, inline=True, show_progress=False)
    assert run.ok, run.results[0].errors


@pytest.mark.usefixtures("reader")
def test_a_record_longer_than_arrows_block_is_read(tmp_path: Path) -> None:
    long_text = "x" * (3 << 20)  # 3 MiB: three of the default 1 MiB blocks
    body = f'1,2.00,0.5,"{long_text}",7\n2,1.00,\\N,"short",\\N\n'.encode()
    figures = read_chunk_figures(_chunk(tmp_path, body), make_plan(row_hash=False))
    assert figures.rows == 2 and figures.sums["n38"] == "7"


@pytest.mark.usefixtures("reader")
def test_a_lost_header_is_reported_without_the_data_it_shows(tmp_path: Path) -> None:
    path = tmp_path / "data_chunk_0.csv.gz"
    with gzip.open(path, "wb") as handle:  # the header line is gone: the first record shows
        handle.write(b'1,2.00,0.5,"secret value",7\n')
    with pytest.raises(ValidationFailed) as info:
        read_chunk_figures(path, make_plan(row_hash=False))
    line = info.value.one_line()
    assert "header" in line and "field 1 is not 'id'" in line
    assert "secret" not in line


@pytest.mark.parametrize("block", [200, 1 << 20])
def test_multibyte_text_across_read_blocks_is_valid_and_bad_bytes_are_not(
    tmp_path: Path, block: int
) -> None:
    """Only numeric columns are converted on read-back; the text of the others is checked as
    UTF-8 block by block, with characters split between blocks (200-byte blocks here)."""
    from exporter.validation.readback import _read_figures

    names = header_record([c.name for c in COLUMNS]).encode() + b"\n"
    rows = [f'{i},1.00,0.5,"{"é日😀" * (i % 7)}",{i}\n'.encode() for i in range(300)]
    path = tmp_path / "data_chunk_0.csv.gz"
    path.write_bytes(gzip.compress(names + b"".join(rows)))
    figures = _read_figures(path, make_plan(row_hash=False), block)
    assert figures.rows == 300
    assert figures.sums["id"] == str(sum(range(300)))
    # the same file with the last byte of one character replaced, far from the start
    broken = list(rows)
    broken[250] = broken[250].replace("😀".encode(), b"\xf0\x9f\x98\x28", 1)
    assert broken[250] != rows[250]
    path.write_bytes(gzip.compress(names + b"".join(broken)))
    with pytest.raises(ValidationFailed, match="unreadable"):
        _read_figures(path, make_plan(row_hash=False), block)


@pytest.mark.parametrize(
    ("block", "end"),
    [
        (b"abc", 3),
        ("aé".encode(), 3),
        ("aé".encode()[:2], 1),  # é cut after its lead byte
        ("a😀".encode()[:4], 1),  # a 4-byte character cut after 3 bytes
        ("a😀".encode(), 5),
        (b"", 0),
    ],
)
def test_complete_utf8_end_keeps_cut_characters_for_the_next_block(block: bytes, end: int) -> None:
    from exporter.validation.utf8_check import complete_utf8_end as _complete_utf8_end

    assert _complete_utf8_end(block) == end


@given(st.lists(st.binary(max_size=5000), max_size=20))
def test_row_hashes_are_md5_whichever_implementation_computes_them(records: list[bytes]) -> None:
    from exporter.canonical.rowhash import hashed_records

    expected = [hashlib.md5(r).hexdigest() for r in records]
    assert [row_hash(r) for r in records] == expected
    want = b"".join(r + b"," + h.encode() + b"\n" for r, h in zip(records, expected, strict=True))
    assert hashed_records(records) == want
