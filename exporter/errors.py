"""User-facing errors: a catalogue of codes, one-line messages with a likely fix, and exit codes.

Codes: EXP-1xxx config, 2xxx source, 3xxx output, 4xxx validation, 5xxx compare.
`cli.main` is the only place these become exit codes; everything else raises.
"""

from __future__ import annotations

from typing import ClassVar

EXIT_OK = 0
EXIT_TABLE_FAILED = 1
EXIT_USAGE = 2


class ExporterError(Exception):
    """An error a user can act on: what went wrong, where, and the likely fix."""

    code: ClassVar[str] = "EXP-0000"
    exit_code: ClassVar[int] = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The message as printed: `error EXP-1001: ... (fix: ...)`, on a single line."""
        text = f"error {self.code}: {self.message}"
        if self.hint:
            text += f" (fix: {self.hint})"
        return " ".join(text.split())


class ConfigError(ExporterError):
    """The config file or the command line is wrong; `key` names the offending setting."""

    code = "EXP-1001"

    def __init__(self, message: str, *, key: str | None = None, hint: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message, hint=hint)
        self.key = key


class SourceError(ExporterError):
    """The database refused or failed: connection, login, missing table, driver problem."""

    code = "EXP-2001"

    def __init__(
        self, message: str, *, db_code: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(f"{db_code}: {message}" if db_code else message, hint=hint)
        self.db_code = db_code


class OutputError(ExporterError):
    """Writing failed (disk full, permissions), or what is on disk contradicts the plan."""

    code = "EXP-3001"
    exit_code = EXIT_TABLE_FAILED


class PlanMismatch(OutputError):
    """A table changed shape (or the file format changed) since its plan was frozen."""

    code = "EXP-3002"


class DataError(OutputError):
    """A value cannot be written faithfully (e.g. a string equal to the NULL marker)."""

    code = "EXP-3003"


class ValidationFailed(ExporterError):
    """The written files do not match the source's figures."""

    code = "EXP-4001"
    exit_code = EXIT_TABLE_FAILED


class CompareError(ExporterError):
    """The comparator could not run or resume a session."""

    code = "EXP-5001"


# Oracle error codes users meet most, with the fix we suggest. Sources: python-oracledb
# doc/src/user_guide/troubleshooting.rst and exception_handling.rst;
# https://docs.oracle.com/en/database/oracle/oracle-database/19/errmg/
ORACLE_HINTS: dict[str, str] = {
    "DPI-1047": "thick mode could not load the Oracle Client libraries: check source.lib_dir "
    "(on Linux run through run.sh, which puts it on LD_LIBRARY_PATH), or set "
    "thick_mode: false to use thin mode",
    "DPY-3010": "the database is older than 12.1: set source.thick_mode: true",
    "DPY-3015": "the account only has a 10G password verifier: set source.thick_mode: true "
    "or reset the password",
    "DPY-6001": "the service name is not registered with the listener: check source.service",
    "DPY-6005": "cannot reach the database: check source.host and source.port (or source.dsn)"
    " and that the listener is up",
    "ORA-01031": "insufficient privileges: the export user needs SELECT on the tables",
    "ORA-08181": "the snapshot SCN is not valid here: set export.consistent_snapshot: false",
    "ORA-08185": "SYS cannot use flashback: export as another user, or set "
    "export.consistent_snapshot: false",
    "ORA-12514": "the service name is not registered with the listener: check source.service",
    "ORA-12541": "no listener at that host and port: check source.host and source.port",
    "ORA-01017": "user name or password is wrong: check source.user and the password variable",
    "ORA-00942": "the table or view is not visible: check grants or export.schemas",
    "ORA-01555": "snapshot too old: use smaller chunks (export.chunk_size_mb) or more undo",
    "ORA-01466": "the table was changed by DDL after the snapshot: re-run the export",
    "ORA-08180": "the snapshot is older than undo retention: set consistent_snapshot: false",
}

# PostgreSQL SQLSTATEs users meet most. Source:
# https://www.postgresql.org/docs/current/errcodes-appendix.html
POSTGRES_HINTS: dict[str, str] = {
    "28P01": "password authentication failed: check source.user and the password variable",
    "28000": "the server rejected this login: check source.user and pg_hba.conf",
    "3D000": "the database does not exist: check source.database",
    "42P01": "the table is not visible: check grants or export.schemas",
    "42501": "permission denied: GRANT SELECT on the table to the export user",
    "08001": "no server answered: check source.host and source.port",
    "08006": "the connection was lost: check the server and re-run to resume",
}
