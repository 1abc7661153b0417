"""Oracle's column types: which types a column may have and the kind each is written as, how
the driver fetches each select-list item (as Python rows; on the batch path, how a NUMBER is
read: batch_number), and how an empty LOB survives being read inline.

- A built-in type is matched exactly, by the name ALL_TAB_COLUMNS gives it with its
  DATA_TYPE_OWNER NULL (OracleDialect.table_columns writes any other type as `OWNER.NAME`),
  so a user type called NUMBER_TAB or TIMESTAMP_LIST is an object type, refused by name.
  XMLTYPE is the one owned type read (its owner is SYS).
  https://docs.oracle.com/en/database/oracle/oracle-database/19/refrn/ALL_TAB_COLUMNS.html
  https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/Data-Types.html
- The output type handler never lets a NUMBER become a double and reads LOBs inline (as
  LONG / LONG RAW variables, not as locators). python-oracledb: user_guide/sql_execution.html
  (output type handlers, fetch_decimals), user_guide/lob_data.html (LOBs as str and bytes).
- Inline, an empty LOB (EMPTY_CLOB(), EMPTY_BLOB()) arrives as None, exactly like NULL: the
  thin driver reads a zero-length value as NULL (src/oracledb/impl/base/buffer.pyx,
  read_raw_bytes_and_length), and an output converter is never called for None. So a chunk
  query also selects, per LOB column, whether the value is NULL, and `restore_empty_lobs`
  turns a None whose column is not NULL back into '' or b''.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from exporter.model import Column, ColumnKind
from exporter.sources.query import Query

MAX_INTEGER_DIGITS = 18
"""NUMBER(p, 0) up to 18 digits fits an int64 (BigQuery INT64); wider integers are DECIMAL."""
MAX_DECIMAL128_DIGITS = 38
"""The precision of Arrow's decimal128 type: NUMBER(p, s) up to it is read as one on the batch
path (oracle_arrow.py), a wider or unconstrained NUMBER as its text."""

# data_type (as ALL_TAB_COLUMNS spells it, without the "(n)" of timestamps) -> kind.
_KINDS: dict[str, ColumnKind] = {
    "BINARY_FLOAT": ColumnKind.FLOAT,
    "BINARY_DOUBLE": ColumnKind.FLOAT,
    "FLOAT": ColumnKind.DECIMAL,  # a NUMBER with binary precision: exact decimal digits
    "DATE": ColumnKind.DATETIME,  # Oracle's DATE has a time of day
    "RAW": ColumnKind.BYTES,
    "LONG RAW": ColumnKind.BYTES,
    "BLOB": ColumnKind.BYTES,
    "BOOLEAN": ColumnKind.BOOLEAN,  # 23ai
    "JSON": ColumnKind.JSON,  # 21c
}

# Types read as the driver's text (python-oracledb returns str for each): character types,
# ROWID and UROWID; XMLTYPE is serialized to a CLOB in the query.
TEXT_TYPES = frozenset(
    {
        "VARCHAR2",
        "CHAR",
        "NVARCHAR2",
        "NCHAR",
        "CLOB",
        "NCLOB",
        "LONG",
        "XMLTYPE",
        "ROWID",
        "UROWID",
    }
)
INTERVAL_TYPES = frozenset({"INTERVAL YEAR TO MONTH", "INTERVAL DAY TO SECOND"})  # by TO_CHAR
ZONED_TYPES = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH LOCAL TIME ZONE"})
BUILT_IN_TYPES = frozenset(
    {"NUMBER", "TIMESTAMP", *_KINDS, *TEXT_TYPES, *INTERVAL_TYPES, *ZONED_TYPES}
)
"""Every type whose values can be written, without its "(n)"s."""

LOB_EMPTY_VALUES: dict[str, str | bytes] = {"CLOB": "", "NCLOB": "", "BLOB": b""}
"""The LOB types read inline, and the value an empty one of each stands for."""

# The "(n)" of TIMESTAMP(n), INTERVAL YEAR(n), INTERVAL DAY(n) TO SECOND(n): one digit, 0-9.
_PRECISION = re.compile(r"\(\d\)")


def base_type(data_type: str) -> str:
    """`TIMESTAMP(6) WITH TIME ZONE` -> `TIMESTAMP WITH TIME ZONE`,
    `INTERVAL DAY(2) TO SECOND(6)` -> `INTERVAL DAY TO SECOND`; any other name unchanged."""
    return _PRECISION.sub("", data_type)


def supports(native_type: str) -> bool:
    """Whether values of this type can be written: the built-in types above, exactly. Not
    BFILE, VECTOR, object types, collections or REFs (`OWNER.NAME`, from table_columns): the
    driver returns objects for them, which have no CSV form here."""
    return base_type(native_type) in BUILT_IN_TYPES


def column_kind(native_type: str, precision: int | None, scale: int | None) -> ColumnKind:
    """The kind a column of this type is written as (STRING for text and intervals)."""
    native = base_type(native_type)
    if native == "NUMBER":
        whole = scale == 0 and precision is not None and precision <= MAX_INTEGER_DIGITS
        return ColumnKind.INTEGER if whole else ColumnKind.DECIMAL
    if native == "TIMESTAMP":
        return ColumnKind.DATETIME
    if native in ZONED_TYPES:
        return ColumnKind.TIMESTAMP
    return _KINDS.get(native, ColumnKind.STRING)


_TEXT = ("DB_TYPE_CHAR", "DB_TYPE_VARCHAR", "DB_TYPE_LONG", "DB_TYPE_CLOB")
_NATIONAL_TEXT = ("DB_TYPE_NCHAR", "DB_TYPE_NVARCHAR", "DB_TYPE_NCLOB")


def fetch_type(
    type_name: str, precision: int | None, scale: int | None, is_json: bool = False
) -> str | None:
    """How one select-list item is fetched, by its driver type name: "int", "decimal",
    "text" / "ntext" (read inline as a str: LOBs and IS JSON columns), "bytes" (a BLOB read
    inline) or None (the driver's default)."""
    if type_name == "DB_TYPE_NUMBER":
        if scale == 0 and precision and precision <= MAX_INTEGER_DIGITS:
            return "int"
        return "decimal"  # unconstrained NUMBER, FLOAT(b), NUMBER(p, s): never a double
    # A LOB is read inline, and a column with an IS JSON constraint as its text: returning a
    # variable of our own skips the driver's JSON-to-Python conversion (python-oracledb 2.0+;
    # user_guide/json_data_type.html, issue 271).
    if type_name == "DB_TYPE_CLOB" or (is_json and type_name in _TEXT):
        return "text"
    if type_name == "DB_TYPE_NCLOB" or (is_json and type_name in _NATIONAL_TEXT):
        return "ntext"
    if type_name == "DB_TYPE_BLOB":
        return "bytes"
    return None


def output_type_handler(cursor: Any, metadata: Any) -> Any:
    """The connection's output type handler: a variable of the type `fetch_type` names."""
    import oracledb

    is_json = bool(getattr(metadata, "is_json", False) or getattr(metadata, "is_oson", False))
    wanted = fetch_type(metadata.type_code.name, metadata.precision, metadata.scale, is_json)
    variable_type: Any = {
        "decimal": decimal.Decimal,
        "int": int,
        "text": oracledb.DB_TYPE_LONG,
        "ntext": oracledb.DB_TYPE_LONG_NVARCHAR,
        "bytes": oracledb.DB_TYPE_LONG_RAW,
    }.get(wanted or "")
    if variable_type is None:
        return None
    return cursor.var(variable_type, arraysize=cursor.arraysize)


def batch_number(column: Column) -> str | None:
    """How the batch path (oracle_arrow.py) reads a NUMBER or FLOAT column: "int64" (the
    INTEGER kind, NUMBER(p<=18, 0)), "decimal128" (NUMBER(p, s) with 0 <= s <= p <= 38:
    every value the column can hold fits), or "text" (unconstrained NUMBER, NUMBER(*, s),
    FLOAT(b), a negative scale or one above the precision: read as TO_CHAR's text, every
    digit, where no Arrow decimal holds every value); None for the other types."""
    native = base_type(column.native_type)
    if native not in ("NUMBER", "FLOAT"):
        return None
    if column.kind is ColumnKind.INTEGER:
        return "int64"
    precision, scale = column.precision, column.scale
    if native == "NUMBER" and precision is not None and scale is not None:
        if 0 <= scale <= precision <= MAX_DECIMAL128_DIGITS:
            return "decimal128"
    return "text"


@dataclass(frozen=True)
class ChunkSelect(Query):
    """A chunk's query (`sql`, read as Python rows), with the batch path's statement of the
    same rows (`batch_sql`: the same FROM, WHERE and bound values, each column read as the
    Arrow type oracle_arrow.py asks for wants it) and the `columns` both read, in order."""

    batch_sql: str = ""
    columns: tuple[Column, ...] = ()


@dataclass(frozen=True)
class ChunkQuery(ChunkSelect):
    """A chunk's query whose select list ends, after the `width` exported columns, with one
    flag per LOB column (`lobs`: its position and the value an empty one stands for), not NULL
    where the LOB is not NULL. OracleConn.stream drops the flags (`restore_empty_lobs`), and so
    does the batch path (oracle_arrow.restore_empty)."""

    width: int = 0
    lobs: tuple[tuple[int, str | bytes], ...] = ()


def restore_empty_lobs(
    batch: Sequence[tuple[Any, ...]], width: int, lobs: Sequence[tuple[int, str | bytes]]
) -> list[tuple[Any, ...]]:
    """The batch's rows without the flags, an empty LOB ('' or b'', read as None) restored
    where its flag says the column is not NULL."""
    rows = []
    for row in batch:
        values = row[:width]
        for flag, (position, empty) in enumerate(lobs, start=width):
            if values[position] is None and row[flag] is not None:
                values = (*values[:position], empty, *values[position + 1 :])
        rows.append(values)
    return rows
