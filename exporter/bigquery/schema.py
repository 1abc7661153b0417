"""BigQuery types and names for a table's CSV columns, and schema.json.

schema.json is the JSON list `bq load --schema` reads: one {name, type, mode, description}
per CSV column, in file order (https://cloud.google.com/bigquery/docs/schemas#specifying_a_json_schema_file).
CSV columns are matched to it by position, so the BigQuery column names may differ from the
header: a source name that BigQuery would refuse is rewritten (see `bigquery_column_names`),
and metadata.json records both names.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

from exporter.canonical.cells import BIGNUMERIC_MAX, BIGNUMERIC_MIN, MAX_FRACTION_DIGITS
from exporter.canonical.rowhash import ROW_HASH_COLUMN
from exporter.config.models import BigQuerySettings
from exporter.model import Column, ColumnKind, TablePlan, TableRef

# Decimal types, https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#decimal_types:
# NUMERIC is 38 digits with a fixed scale of 9 (at most 29 integer digits and 9 fractional);
# BIGNUMERIC is 76.76 digits with scale 38: -2^255 * 10^-38 <= x <= (2^255 - 1) * 10^-38.
NUMERIC_MAX_SCALE = 9
NUMERIC_MAX_INTEGER_DIGITS = 29
BIGNUMERIC_MAX_SCALE = MAX_FRACTION_DIGITS
# INT64 tops out at 9223372036854775807: every 18-digit number fits, not every 19-digit one.
INT64_SAFE_DIGITS = 18

PROJECT_PLACEHOLDER = "YOUR_PROJECT"
DATASET_PLACEHOLDER = "YOUR_DATASET"

_SIMPLE_TYPES: dict[ColumnKind, str] = {
    ColumnKind.INTEGER: "INT64",
    ColumnKind.FLOAT: "FLOAT64",
    ColumnKind.BOOLEAN: "BOOL",
    ColumnKind.STRING: "STRING",
    ColumnKind.JSON: "JSON",
    ColumnKind.DATE: "DATE",
    ColumnKind.DATETIME: "DATETIME",
    ColumnKind.TIMESTAMP: "TIMESTAMP",
    ColumnKind.TIME: "TIME",
    ColumnKind.BYTES: "BYTES",
}

# Column names, https://cloud.google.com/bigquery/docs/schemas#column_names: letters, digits and
# underscores, starting with a letter or underscore, at most 300 characters, unique ignoring
# case, and none of these prefixes.
COLUMN_NAME_MAX = 300
RESERVED_PREFIXES = (
    "_TABLE_", "_FILE_", "_PARTITION", "_ROW_TIMESTAMP", "__ROOT__", "_COLIDENTIFIER",
    "_CHANGE_SEQUENCE_NUMBER", "_CHANGE_TYPE", "_CHANGE_TIMESTAMP",
)  # fmt: skip
# Table names, https://cloud.google.com/bigquery/docs/tables#table_naming: up to 1024 UTF-8
# bytes of letters, marks, numbers, connectors (_) and dashes (spaces too, which we replace).
TABLE_NAME_MAX_BYTES = 1024
_TABLE_CATEGORIES = ("L", "M", "N", "Pc", "Pd")


def decimal_type(precision: int | None, scale: int | None) -> str:
    """NUMERIC when every value of NUMBER(precision, scale) fits it, else BIGNUMERIC (which is
    also the answer for an unconstrained type: precision or scale unknown)."""
    if precision is None or scale is None:
        return "BIGNUMERIC"
    if scale <= NUMERIC_MAX_SCALE and precision - scale <= NUMERIC_MAX_INTEGER_DIGITS:
        return "NUMERIC"
    return "BIGNUMERIC"


def bigquery_type(column: Column) -> str:
    """The BigQuery type a column is loaded as."""
    if column.kind is ColumnKind.DECIMAL:
        return decimal_type(column.precision, column.scale)
    if (
        column.kind is ColumnKind.INTEGER
        and column.precision is not None
        and column.precision > INT64_SAFE_DIGITS
    ):
        # e.g. NUMBER(38): integers, but wider than INT64.
        return decimal_type(column.precision, 0)
    return _SIMPLE_TYPES[column.kind]


def fits_bignumeric(value: Decimal) -> bool:
    """True when `value` is a valid BIGNUMERIC literal (range and 38 fractional digits)."""
    exponent = value.as_tuple().exponent
    frac_ok = not isinstance(exponent, int) or -exponent <= BIGNUMERIC_MAX_SCALE
    # Compared exactly: no arithmetic, so no rounding to the context's 28 digits.
    return value.is_finite() and frac_ok and BIGNUMERIC_MIN <= value <= BIGNUMERIC_MAX


def _column_name(name: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if text[0].isdigit() or text.upper().startswith(RESERVED_PREFIXES):
        text = "_" + text if text[0].isdigit() else "c" + text
    return text[:COLUMN_NAME_MAX]


def bigquery_column_names(plan: TablePlan) -> list[str]:
    """One BigQuery column name per CSV column (the row_hash column last, when written).

    Names that are already valid stay as they are; any other character becomes `_`, a leading
    digit gets a `_` in front, a reserved prefix a `c`; a name equal (ignoring case) to an
    earlier one gets `_2`, `_3`, ... (`a b` and `a_b` -> `a_b`, `a_b_2`).
    """
    wanted = [c.name for c in plan.columns]
    if plan.file_format.row_hash:
        wanted = [ROW_HASH_COLUMN, *wanted]  # row_hash keeps its name; a source column yields
    taken: set[str] = set()
    names: list[str] = []
    for source_name in wanted:
        base = _column_name(source_name)
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            suffix = f"_{n}"
            name = base[: COLUMN_NAME_MAX - len(suffix)] + suffix
        taken.add(name.lower())
        names.append(name)
    return names[1:] + names[:1] if plan.file_format.row_hash else names


def schema_fields(plan: TablePlan) -> list[dict[str, Any]]:
    """The content of schema.json: {name, type, mode, description} per CSV column."""
    names = bigquery_column_names(plan)
    fields = [
        {
            "name": name,
            "type": bigquery_type(column),
            "mode": "NULLABLE" if column.nullable else "REQUIRED",
            "description": f"source column {column.name!r}, {column.native_type}",
        }
        for name, column in zip(names, plan.columns, strict=False)
    ]
    if plan.file_format.row_hash:
        fields.append(
            {
                "name": names[-1],
                "type": "STRING",
                "mode": "REQUIRED",
                "description": "MD5 of the row's CSV text (exporter row hash)",
            }
        )
    return fields


def bigquery_table_name(settings: BigQuerySettings, table: TableRef) -> str:
    """The destination table: `bigquery.table_name` with {schema} and {table} replaced, and
    every character BigQuery does not allow in a table name replaced by `_`."""
    raw = settings.table_name.replace("{schema}", table.schema).replace("{table}", table.name)
    allowed = "".join(
        ch if unicodedata.category(ch).startswith(_TABLE_CATEGORIES) else "_" for ch in raw
    )
    data = (allowed or "_").encode("utf-8")[:TABLE_NAME_MAX_BYTES]
    return data.decode("utf-8", errors="ignore")


def destination(settings: BigQuerySettings, table: TableRef) -> tuple[str, str, str]:
    """(project, dataset, table), with placeholders for what the config leaves unset."""
    return (
        settings.project or PROJECT_PLACEHOLDER,
        settings.dataset or DATASET_PLACEHOLDER,
        bigquery_table_name(settings, table),
    )
