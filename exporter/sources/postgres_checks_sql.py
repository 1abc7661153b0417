"""The runtime checks of PostgreSQL's bulk COPY query: a cell BigQuery could not load (a
numeric it cannot hold, a date outside years 1-9999) fails the query with an error naming the
column and the value, rather than failing the load later. SQL text only, no I/O; parsed with
sqlglot by tests/sql like the rest of postgres_sql.py, which uses these."""

from __future__ import annotations

from exporter.canonical.cells import BIGNUMERIC_MAX, BIGNUMERIC_MIN, SAFE_INTEGER_DIGITS
from exporter.model import Column


def unbounded(column: Column) -> bool:
    """True when the column's type allows values beyond BIGNUMERIC's range: an unconstrained
    numeric, or one of more than 38 integer digits (numeric(50, 0))."""
    if column.precision is None or column.scale is None:
        return True
    return column.precision - column.scale > SAFE_INTEGER_DIGITS


def decimal_checked(col: str, position: int, *, as_text: bool, ranged: bool) -> str:
    """The numeric (as text when `as_text`), or a runtime error naming the column (the
    bound `column_<position>`) for a value BigQuery cannot hold: one written with more
    than 38 fractional digits (BIGNUMERIC's scale; `scale()` is the display scale, the
    digits numeric's text has, trailing zeros included, as canonical/cells.py counts them),
    NaN and (PostgreSQL 14+) the infinities, and where `ranged` (a type that allows more
    than 38 integer digits) one beyond BIGNUMERIC's range. `scale()` is NULL for exactly
    the special values (numeric_scale returns NULL for NaN, and since 14 for every special value:
    src/backend/utils/adt/numeric.c), so one call finds them on every version, where the
    literal 'Infinity' is no numeric before 14. It costs 0.03 us a row, against 0.05 for
    two comparisons and 0.08 for an IN list of the three (3M rows, docs/BENCHMARKS.md).
    Same runtime-error device as `within_years`.
    https://www.postgresql.org/docs/current/functions-math.html
    https://www.postgresql.org/docs/current/datatype-numeric.html"""
    label, text = f"%(column_{position})s", f"CAST({col} AS text)"
    too_long = f"CAST({label} || ': more than 38 fractional digits, which BigQuery "
    too_long += f"BIGNUMERIC cannot hold: ' || {text} AS numeric)"
    not_number = f"CAST({label} || ': not a number BigQuery holds: ' || {text} AS numeric)"
    too_big = f"CAST({label} || ': outside the range of BigQuery BIGNUMERIC (about 5.79e38): '"
    too_big += f" || {text} AS numeric)"
    value = col
    if as_text:
        value, too_long, not_number, too_big = (
            text,
            f"CAST({too_long} AS text)",
            f"CAST({not_number} AS text)",
            f"CAST({too_big} AS text)",
        )
    scale = f"scale({col})"
    within = f"{scale} <= 38"
    out_of_range = ""
    if ranged:
        # Only for such types: the comparisons cost every row. A special value passes no
        # BETWEEN (NaN sorts above every number, the infinities beyond any bound); the
        # literals are canonical/cells' BIGNUMERIC_MIN and BIGNUMERIC_MAX, every digit.
        within += f" AND {col} BETWEEN {BIGNUMERIC_MIN} AND {BIGNUMERIC_MAX}"
        out_of_range = f"WHEN {scale} <= 38 THEN {too_big} "
    return (
        f"CASE WHEN {within} THEN {value} {out_of_range}"
        f"WHEN {scale} IS NOT NULL THEN {too_long} "
        f"WHEN {col} IS NOT NULL THEN {not_number} END"
    )


def within_years(col: str, sql_type: str, text: str, *, as_text: bool = True) -> str:
    """`text` for values in years 1-9999 (BigQuery's range, and Python's, which the batch
    path has), else a runtime error naming the value: PostgreSQL also holds infinity,
    BC dates and years up to 294276, which BigQuery would refuse at load time. The error
    is a failed cast of a string built from the row, so that it can only be raised by
    such a row, never folded into a constant when the query is planned.
    https://www.postgresql.org/docs/current/datatype-datetime.html"""
    zone = "+00" if sql_type == "timestamptz" else ""
    low = f"CAST('0001-01-01 00:00:00{zone}' AS {sql_type})"
    high = (
        f"CAST('10000-01-01 00:00:00{zone}' AS {sql_type})"
        if sql_type != "date"
        else ("CAST('9999-12-31' AS date)")
    )
    below_high = f"{col} < {high}" if sql_type != "date" else f"{col} <= {high}"
    failure = (
        f"CAST('outside years 1-9999, which BigQuery holds: ' || CAST({col} AS text) AS {sql_type})"
    )
    if as_text:  # else `text` is the value itself, of type sql_type
        failure = f"CAST({failure} AS text)"
    return (
        f"CASE WHEN {col} >= {low} AND {below_high} THEN {text} "
        f"WHEN {col} IS NOT NULL THEN {failure} END"
    )
