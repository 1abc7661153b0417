"""exporter/errors.py: the numbered catalogue, classes and exit codes by range, and that every
error the package raises comes from it."""

from __future__ import annotations

import ast
import pickle
import string
from pathlib import Path

import pytest

from exporter import errors
from exporter.errors import (
    EXIT_TABLE_FAILED,
    EXIT_USAGE,
    MESSAGES,
    ConfigError,
    DataError,
    ExporterError,
    OutputError,
    PlanMismatch,
    SourceError,
    ValidationFailed,
    error,
)

PACKAGE = Path(errors.__file__).parent
NUMBERS = {name: value for name, value in vars(errors).items() if name.startswith("ERR_")}


def _fields(template: str | None) -> set[str]:
    if template is None:
        return set()
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_number_has_one_template_and_every_template_a_number() -> None:
    assert sorted(NUMBERS.values()) == sorted(MESSAGES)
    assert len(set(NUMBERS.values())) == len(NUMBERS), "two names share a number"


@pytest.mark.parametrize(
    ("number", "cls", "exit_code"),
    [
        (errors.ERR_UNEXPECTED, ExporterError, EXIT_TABLE_FAILED),
        (errors.ERR_SETTING, ConfigError, EXIT_USAGE),
        (errors.ERR_DATABASE, SourceError, EXIT_USAGE),
        (errors.ERR_WRITE, OutputError, EXIT_TABLE_FAILED),
        (errors.ERR_COLUMNS_CHANGED, PlanMismatch, EXIT_TABLE_FAILED),
        (errors.ERR_VALUE_IS_NULL_MARKER, DataError, EXIT_TABLE_FAILED),
        (errors.ERR_FILE_UNREADABLE, ValidationFailed, EXIT_TABLE_FAILED),
    ],
)
def test_class_and_exit_code_follow_the_range(
    number: int, cls: type[ExporterError], exit_code: int
) -> None:
    template, hint = MESSAGES[number]
    made = error(number, **dict.fromkeys(_fields(template) | _fields(hint), "x"))
    assert type(made) is cls and made.exit_code == exit_code
    assert made.code == f"EXP-{number:04d}"


@pytest.mark.parametrize("number", sorted(MESSAGES))
def test_every_template_fills_in_to_one_line(number: int) -> None:
    template, hint = MESSAGES[number]
    fields = {name: f"<{name}>" for name in _fields(template) | _fields(hint)}
    line = error(number, **fields).one_line()
    assert line.startswith(f"error EXP-{number:04d}: ") and "\n" not in line
    assert all(value in line for value in fields.values())


def test_key_and_database_code_go_in_front_and_a_hint_can_be_replaced() -> None:
    made = error(errors.ERR_SETTING, key="export.cpu_percent", problem="must be at least 1")
    assert made.one_line() == "error EXP-1001: export.cpu_percent: must be at least 1"
    made = error(errors.ERR_DATABASE, db_code="28P01", target="db", detail="no", hint="fix it")
    assert made.one_line() == "error EXP-2001: 28P01: db: no (fix: fix it)"


def test_an_error_crosses_a_process_boundary_intact() -> None:
    made = error(errors.ERR_DATABASE, db_code="08006", target="pg", detail="lost").within("t c0")
    back = pickle.loads(pickle.dumps(made))
    assert type(back) is SourceError
    assert (back.number, back.message, back.hint, back.db_code) == (
        made.number,
        made.message,
        made.hint,
        made.db_code,
    )
    assert back.one_line() == made.one_line() == "error EXP-2001: t c0: 08006: pg: lost"


def test_no_module_builds_an_error_outside_the_catalogue() -> None:
    """Errors are made by `error(number, ...)`: calling an error class directly anywhere but
    errors.py would bring back messages without a number of their own."""
    classes = {name for name, value in vars(errors).items() if isinstance(value, type)}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "errors.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in classes:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == []
