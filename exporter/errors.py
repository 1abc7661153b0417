"""User-facing errors: a numbered catalogue of message templates, after python-oracledb's
errors.py. Every error a user can meet has a number; `error(number, **fields)` fills in its
template (and its hint, the likely fix) and returns an exception whose class and exit code
follow from the number's range:

    0xxx  internal: a bug                       ExporterError      exit 1
    1xxx  the config or the command line       ConfigError        exit 2
    2xxx  the source database                   SourceError        exit 2
    30xx  writing the output                    OutputError        exit 1
    31xx  what is on disk contradicts the plan  PlanMismatch       exit 1
    32xx  a value that cannot be written        DataError          exit 1
    4xxx  the files do not match the source     ValidationFailed   exit 1
    5xxx  the comparator                        CompareError       exit 2

A printed error is one line: `error EXP-3201: <message> (fix: <hint>)`. The hint tables of the
databases' own codes (ORA-, SQLSTATE) live beside each engine (Dialect.error_hints).
`cli.main` is the only place these become exit codes; everything else raises.
"""

from __future__ import annotations

from typing import Any, ClassVar

EXIT_OK = 0
EXIT_TABLE_FAILED = 1
EXIT_USAGE = 2

# -- 0xxx: internal ---------------------------------------------------------------------------
ERR_UNEXPECTED = 1
# -- 1xxx: config and command line --------------------------------------------------------------
ERR_SETTING = 1001  # any invalid value of the config file, named by its key
ERR_CONFIG_FILE_MISSING = 1002
ERR_CONFIG_FILE_UNREADABLE = 1003
ERR_CONFIG_NOT_YAML = 1004
ERR_TABLE_NOT_SELECTED = 1010
ERR_NO_TABLE_MATCHES = 1011
ERR_ENGINE_UNKNOWN = 1012
ERR_NOT_AVAILABLE = 1013
ERR_USAGE = 1014  # command-line options that do not go together
ERR_SCHEMA_NOT_FOUND = 1015  # a schema of {block}.schemas with no table visible
ERR_PATTERN_MATCHES_NOTHING = 1016  # an include pattern that matches no table
ERR_SCHEDULER_UNREACHABLE = 1017  # executor.address: no Dask scheduler there, or no worker
ERR_OUTPUT_UNREACHABLE = 1018  # export.output_dir in a store: not there, not ours, no login
# -- 2xxx: source -------------------------------------------------------------------------------
ERR_DATABASE = 2001  # what the database or its driver reported, with its own code
ERR_DATABASE_FILE_MISSING = 2002
ERR_SNAPSHOT = 2003
# -- 30xx: output -------------------------------------------------------------------------------
ERR_WRITE = 3001
ERR_STRAY_CHUNK_FILES = 3002
ERR_CHUNKS_MISSING = 3003
# -- 31xx: plan mismatch ------------------------------------------------------------------------
ERR_COLUMNS_CHANGED = 3101
ERR_FORMAT_CHANGED = 3102
ERR_PLAN_MISSING = 3103
ERR_PARTITIONS_CHANGED = 3104
# -- 32xx: data ---------------------------------------------------------------------------------
ERR_VALUE_IS_NULL_MARKER = 3201
ERR_VALUE_NOT_WRITABLE = 3202
ERR_ROW_HASH_COLUMN_TAKEN = 3203
ERR_COLUMN_TYPE_UNSUPPORTED = 3204
ERR_BATCH_WIDTH = 3205
ERR_TIME_IN_DATE = 3206
ERR_ZONE_IN_DATETIME = 3207
ERR_BELOW_MICROSECOND = 3208
ERR_OUT_OF_RANGE = 3209
ERR_TEXT_NOT_A_NUMBER = 3210
# -- 4xxx: validation ---------------------------------------------------------------------------
ERR_FILE_UNREADABLE = 4001
ERR_RECORD_TOO_LONG = 4002
ERR_HEADER_MISMATCH = 4003
ERR_CELL_NOT_A_NUMBER = 4004
ERR_FIELD_COUNT = 4005
# -- 5xxx: comparator ---------------------------------------------------------------------------
ERR_COMPARE_TABLE = 5001
ERR_SESSION_UNKNOWN = 5002
ERR_SESSION_AMBIGUOUS = 5003
ERR_SESSION_BUSY = 5004
ERR_SESSION_CONFIG_CHANGED = 5005
ERR_KEY_NOT_UNIQUE = 5006
ERR_COMPARE_COLUMNS_CHANGED = 5007
ERR_SESSION_UNREADABLE = 5008

_REEXPORT = "delete the file and re-run to export the chunk again"
_RESTART_TABLE = "delete {folder}/ to re-export the table"

# number -> (message template, hint template or None); fields are filled in by `error()`.
MESSAGES: dict[int, tuple[str, str | None]] = {
    ERR_UNEXPECTED: (
        "unexpected {kind}: {detail}",
        "re-run with --debug for the traceback and report it",
    ),
    ERR_SETTING: ("{problem}", None),
    ERR_CONFIG_FILE_MISSING: ("config file {path} not found", "check the --config path"),
    ERR_CONFIG_FILE_UNREADABLE: ("cannot read config file {path}: {reason}", None),
    ERR_CONFIG_NOT_YAML: ("{path} is not valid YAML{where}", None),
    ERR_TABLE_NOT_SELECTED: (
        "table {name} is not among the selected tables",
        "check the name (SCHEMA.TABLE) and {block}.schemas/include/exclude",
    ),
    ERR_NO_TABLE_MATCHES: (
        "no table matches: {why}",
        "check {block}.schemas, include and exclude against the catalog",
    ),
    ERR_ENGINE_UNKNOWN: (
        "engine {engine!r} is not supported yet by this version",
        "use one of: {known}",
    ),
    ERR_NOT_AVAILABLE: ("{what} is not available in this version yet", None),
    ERR_USAGE: ("{problem}", None),
    ERR_SCHEMA_NOT_FOUND: (
        "schema {schema!r} does not exist or has no table this user can see (schemas with"
        " tables: {present})",
        "check the name and its case, and the user's SELECT privileges on its tables",
    ),
    ERR_PATTERN_MATCHES_NOTHING: (
        "pattern {pattern!r} matches no table ({present})",
        "patterns are case-insensitive globs on SCHEMA.TABLE, such as sales.order*",
    ),
    ERR_SCHEDULER_UNREACHABLE: (
        "cannot use the Dask scheduler at {address}: {reason}",
        "start `dask scheduler` and workers there (docs/SCALE_OUT.md), or fix the address",
    ),
    ERR_OUTPUT_UNREACHABLE: ("cannot use {url}: {reason}", None),
    ERR_DATABASE: ("{target}: {detail}", None),
    ERR_DATABASE_FILE_MISSING: ("database file {path} not found", "check source.path"),
    ERR_SNAPSHOT: ("reading at one snapshot: {detail}", None),
    ERR_WRITE: (
        "cannot write {path}: {reason}",
        "free disk space or fix export.output_dir's permissions, then re-run to resume",
    ),
    ERR_STRAY_CHUNK_FILES: (
        "{table}: chunk files {indexes} are not in the frozen plan",
        _RESTART_TABLE,
    ),
    ERR_CHUNKS_MISSING: ("chunks {indexes} were not written", None),
    ERR_COLUMNS_CHANGED: (
        "{table}: columns changed since {plan_file} was frozen ({changes})",
        _RESTART_TABLE,
    ),
    ERR_FORMAT_CHANGED: (
        "{table}: export.null_marker or enable_row_hash differs from {plan_file}",
        "restore the old settings, or delete the table folder to re-export it",
    ),
    ERR_PLAN_MISSING: (
        "{table}: chunk files exist but {plan_file} is missing, so they cannot be trusted",
        _RESTART_TABLE,
    ),
    ERR_PARTITIONS_CHANGED: (
        "{table}: partitions changed since {plan_file} was frozen ({changes}); the plan "
        "would miss or repeat their rows",
        _RESTART_TABLE,
    ),
    ERR_VALUE_IS_NULL_MARKER: (
        "column {column!r} holds a value written as {marker!r}, which is the null marker",
        "set export.null_marker to a string that no value equals (and delete the table's"
        " folder if some of its chunks were already written)",
    ),
    ERR_VALUE_NOT_WRITABLE: (
        "column {column!r} ({native_type}) holds a {value_type} value, which cannot be written"
        " as {kind}{why}",
        "fix the value or cast the column in the source",
    ),
    ERR_ROW_HASH_COLUMN_TAKEN: (
        "{table} already has a column named {name}",
        "set export.enable_row_hash: false or exclude the table",
    ),
    ERR_COLUMN_TYPE_UNSUPPORTED: (
        "{table}: column {column!r} is of type {native_type}, which has no CSV form here",
        "exclude the table (export.exclude), or export a view that converts the column to text",
    ),
    ERR_BATCH_WIDTH: ("expected {expected} columns, got {got}", None),
    ERR_TIME_IN_DATE: (
        "column {column!r} ({native_type}) holds a time of day in a date",
        "cast the column to a date, or export it as a timestamp",
    ),
    ERR_ZONE_IN_DATETIME: (
        "column {column!r} ({native_type}) holds values with a time zone",
        "cast the column to a timestamp without time zone in the source",
    ),
    ERR_BELOW_MICROSECOND: (
        "column {column!r} ({native_type}) holds a value that microseconds cannot express"
        " (a fraction of a microsecond, or a year far outside 1-9999)",
        "round the column to microseconds in the source (e.g. CAST AS TIMESTAMP(6))",
    ),
    ERR_OUT_OF_RANGE: (
        "column {column!r} ({native_type}) holds a value {what}, which BigQuery cannot hold",
        "filter or fix such values in the source (infinities, dates before year 1, times of"
        " 24:00:00)",
    ),
    ERR_TEXT_NOT_A_NUMBER: (
        "column {column!r} ({native_type}) holds text that is not a number",
        None,
    ),
    ERR_FILE_UNREADABLE: ("{path}: unreadable ({reason})", _REEXPORT),
    ERR_RECORD_TOO_LONG: (
        "{path}: a record is longer than {limit_mib} MiB",
        "BigQuery does not load CSV rows that long either: exclude the table or its largest"
        " columns",
    ),
    ERR_HEADER_MISMATCH: (
        "{path}: the header does not match the plan's columns ({detail})",
        _REEXPORT,
    ),
    ERR_CELL_NOT_A_NUMBER: (
        "{path}: column {column!r} holds a cell that is not a number",
        _REEXPORT,
    ),
    ERR_FIELD_COUNT: (
        "{path}: a record after data row {rows} has {actual} fields, expected {expected}",
        _REEXPORT,
    ),
    ERR_COMPARE_TABLE: ("{table}: {problem}", None),
    ERR_SESSION_UNKNOWN: (
        "no comparison session {prefix} in {state_dir}",
        "list the sessions with --list-sessions",
    ),
    ERR_SESSION_AMBIGUOUS: (
        "session id {prefix} is ambiguous: it begins {matches}",
        "give more characters of the id",
    ),
    ERR_SESSION_BUSY: (
        "session {session} is being run by process {pid}",
        "wait for that run to end, or stop it (it can be resumed)",
    ),
    ERR_SESSION_CONFIG_CHANGED: (
        "the config differs from the one session {session} was started with ({changes})",
        "restore those settings, or start a new session (without --resume)",
    ),
    ERR_KEY_NOT_UNIQUE: (
        "{table}: the key {value} is held by more than one row on the {side}",
        "name a unique key for the table in compare.key_columns",
    ),
    ERR_COMPARE_COLUMNS_CHANGED: (
        "{table}: the columns changed since the session planned it ({changes})",
        "compare the table in a new session (without --resume)",
    ),
    ERR_SESSION_UNREADABLE: (
        "{path} is not a session file this version can read ({reason})",
        "delete it, or list the readable sessions with --list-sessions",
    ),
}


class ExporterError(Exception):
    """An error a user can act on: what went wrong, where, and the likely fix. Made by
    `error()`, which picks the subclass from the number."""

    exit_code: ClassVar[int] = EXIT_TABLE_FAILED

    def __init__(
        self,
        number: int,
        message: str,
        *,
        hint: str | None = None,
        key: str | None = None,
        db_code: str | None = None,
    ) -> None:
        super().__init__(number, message)
        self.number = number
        self.key = key
        """The config key (or command-line option) that is wrong, when one is."""
        self.db_code = db_code
        """The database's own code (ORA-01017, a SQLSTATE), when it gave one."""
        prefix = key or db_code
        self.message = f"{prefix}: {message}" if prefix else message
        self.hint = hint

    @property
    def code(self) -> str:
        """`EXP-` and the number, as printed."""
        return f"EXP-{self.number:04d}"

    def one_line(self) -> str:
        """The message as printed: `error EXP-1001: ... (fix: ...)`, on a single line."""
        text = f"error {self.code}: {self.message}"
        if self.hint:
            text += f" (fix: {self.hint})"
        return " ".join(text.split())

    def within(self, context: str) -> ExporterError:
        """The same error, its message prefixed with where it happened (`context: ...`)."""
        copy = type(self)(self.number, f"{context}: {self.message}", hint=self.hint)
        copy.key, copy.db_code = self.key, self.db_code
        return copy

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt as made, so that it crosses from a worker process intact.
        state = (self.number, self.message, self.hint, self.key, self.db_code)
        return (_rebuild, (type(self), *state))


def _rebuild(
    cls: type[ExporterError],
    number: int,
    message: str,
    hint: str | None,
    key: str | None,
    db_code: str | None,
) -> ExporterError:
    made = cls(number, message, hint=hint)
    made.key, made.db_code = key, db_code
    return made


class ConfigError(ExporterError):
    """The config file or the command line is wrong; `key` names the offending setting."""

    exit_code = EXIT_USAGE


class SourceError(ExporterError):
    """The database refused or failed: connection, login, missing table, driver problem."""

    exit_code = EXIT_USAGE


class OutputError(ExporterError):
    """Writing failed (disk full, permissions), or what is on disk contradicts the plan."""


class PlanMismatch(OutputError):
    """A table changed shape (or the file format changed) since its plan was frozen."""


class DataError(OutputError):
    """A value cannot be written faithfully (e.g. a string equal to the NULL marker)."""


class ValidationFailed(ExporterError):
    """The written files do not match the source's figures."""


class CompareError(ExporterError):
    """The comparator could not run or resume a session."""

    exit_code = EXIT_USAGE


def error_class(number: int) -> type[ExporterError]:
    """The class of an error number, by its range."""
    if 1000 <= number < 2000:
        return ConfigError
    if 2000 <= number < 3000:
        return SourceError
    if 3100 <= number < 3200:
        return PlanMismatch
    if 3200 <= number < 3300:
        return DataError
    if 3000 <= number < 4000:
        return OutputError
    if 4000 <= number < 5000:
        return ValidationFailed
    if 5000 <= number < 6000:
        return CompareError
    return ExporterError


def error(
    number: int,
    *,
    key: str | None = None,
    db_code: str | None = None,
    hint: str | None = None,
    **fields: object,
) -> ExporterError:
    """The error `number` with its template filled in from `fields`; `hint` replaces the
    catalogue's hint (the database's own hint for its code, say). `key` (a config key) or
    `db_code` (the database's code) is put in front of the message."""
    template, hint_template = MESSAGES[number]
    if hint is None and hint_template is not None:
        hint = hint_template.format(**fields)
    return error_class(number)(
        number, template.format(**fields), hint=hint, key=key, db_code=db_code
    )
