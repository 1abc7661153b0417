"""The read-back's Arrow reader: what `validation/readback.py` parses a chunk file with where
the C scanner (`validation/_csvscan.c`) was not built.

Arrow's streaming CSV reader (C++, a block at a time, so memory stays flat) parses every
field of every record (quoted newlines allowed, blank lines not skipped: a blank line is a
damaged record, not nothing), but only the numeric columns are converted, as text with no
NULL recognition, and summed exactly, mostly inside Arrow.
https://arrow.apache.org/docs/python/generated/pyarrow.csv.open_csv.html
"""

from __future__ import annotations

import io
from typing import IO, Any

from exporter.canonical.arrow_scalars import scalar
from exporter.validation.sums import ColumnSums, arrow_exact_sum


def arrow_batches(
    raw: IO[bytes] | io.RawIOBase, width: int, wanted: list[int], bad_rows: list[Any], block: int
) -> Any:
    """Batches of the `wanted` columns (as text; at least one column, for the row count).
    Every field of every record is still parsed, so a record with a wrong field count or
    broken quoting fails; only the other columns' text is never copied out."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(width)]
    include = [names[i] for i in wanted] or names[:1]

    def invalid(row: Any) -> str:
        bad_rows.append(row)  # reported without its text: it is the user's data
        return "error"

    return pacsv.open_csv(
        raw,
        # One thread: validation already runs one reader process per core.
        read_options=pacsv.ReadOptions(column_names=names, block_size=block, use_threads=False),
        parse_options=pacsv.ParseOptions(
            newlines_in_values=True, ignore_empty_lines=False, invalid_row_handler=invalid
        ),
        convert_options=pacsv.ConvertOptions(
            include_columns=include,
            column_types={n: pa.string() for n in include},
            null_values=[],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )


# What the writer writes in an exact and in a floating column (docs/FORMAT.md): a cell
# Arrow's cast refuses is checked against these before Python converts it, since Decimal()
# and float() also take blanks, underscores and non-ASCII digits. NaN is taken in an exact
# column so that its sum says NaN (the source's never does).
_EXACT_TEXT = r"^(?:-?[0-9]+(?:\.[0-9]+)?|NaN)$"
_FLOAT_TEXT = r"^(?:-?(?:[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?|Infinity)|NaN)$"


def add_arrow_column(
    sums: ColumnSums,
    position: int,
    name: str,
    is_float: bool,
    exact_type: Any,
    cells: Any,
    marker: str,
) -> None:
    """Add one batch's cells of a numeric column. Exact columns of a known scale are parsed
    and summed inside Arrow (`arrow_exact_sum`: 64-bit integers in two exact halves, others
    in 76-digit decimals), doubles are parsed by Arrow and summed exactly across batches
    (`ColumnSums.add_arrow_floats`); any batch Arrow refuses (NaN in a decimal, a cell that is not
    a number) is checked against the writer's number forms and goes through Python."""
    import pyarrow as pa
    import pyarrow.compute as pc

    present = pc.filter(cells, pc.not_equal(cells, scalar(marker, "string")))
    if exact_type is not None or is_float:
        try:
            if is_float:
                # Arrow parses doubles correctly rounded (and NaN, Infinity), as float() does.
                sums.add_arrow_floats(name, pc.cast(present, pa.float64()))
            else:
                sums.add_exact(name, arrow_exact_sum(present, exact_type))
            return
        except pa.ArrowInvalid:
            pass
    pattern = _FLOAT_TEXT if is_float else _EXACT_TEXT
    if pc.all(pc.match_substring_regex(present, pattern)).as_py() is False:
        raise ValueError(f"a cell of {name} is not written as the writer writes numbers")
    sums.add_texts(position, name, present.to_pylist(), is_float)
