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
