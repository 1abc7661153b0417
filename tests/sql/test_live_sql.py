"""Every statement the live Oracle suite sends (tests/oracle/test_live*.py, built by each
module's `statements(names)`) parses with sqlglot's Oracle dialect, so that a typo in a DDL
the suite needs is found here, where no Oracle server runs, not by the DBA who runs it.

sqlglot 30 does not know every piece of Oracle's DDL. Those statements are listed in
UNPARSED with the reason and the Oracle reference that shows the syntax is valid; each must
still tokenize (quotes and literals closed), and where sqlglot lacks one clause only, the
statement without that clause must parse (its column list is checked). An exception that
sqlglot learns to parse fails the test, so that the list stays true. A last test makes sure
the live modules send no SQL that escaped their `statements`: no string literal or f-string
is ever passed to execute(), run() and the like.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from tests.oracle.live_helpers import Names

ORACLE_DIR = Path(__file__).resolve().parents[1] / "oracle"
MODULES = [
    "live_helpers",
    "test_live",
    "test_live_snapshot",
    "test_live_privileges",
    "test_live_shapes",
    "test_live_types",
    "test_live_workers",
]
# Names as a run makes them, and a schema name that needs quotes.
NAMES = Names(run="0FF11E", owner="EXPORTER_TEST", tablespace="USERS")
SQLRF = "https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf"
_CMD = "sqlglot 30 keeps it as an opaque Command"
_PARTITIONS = re.compile(r" PARTITION BY .*$", re.S)
_IOT = re.compile(r" ORGANIZATION INDEX$")
_LOB_AND_PARTITIONS = re.compile(r" LOB \(body\) STORE AS .*$", re.S)

# (module, key) -> (why sqlglot cannot parse it, with the reference that shows it valid;
# a rewrite that leaves what sqlglot can parse, or None)
UNPARSED: dict[tuple[str, str], tuple[str, tuple[re.Pattern[str], str] | None]] = {
    ("test_live_privileges", "create_reader"): (f"{_CMD}: {SQLRF}/CREATE-USER.html", None),
    ("test_live_privileges", "create_mixed_user"): (f"{_CMD}: {SQLRF}/CREATE-USER.html", None),
    ("test_live_privileges", "drop_reader"): (f"{_CMD}: {SQLRF}/DROP-USER.html", None),
    ("test_live_privileges", "drop_mixed_user"): (f"{_CMD}: {SQLRF}/DROP-USER.html", None),
    ("test_live_privileges", "reader_session"): (
        f"a system privilege grant: {_CMD}: {SQLRF}/GRANT.html",
        None,
    ),
    ("test_live_shapes", "create_RANGE"): (
        f"range partitioning is a parse error: {SQLRF}/CREATE-TABLE.html (range_partitions)",
        (_PARTITIONS, ""),
    ),
    ("test_live_shapes", "create_RHASH"): (
        f"composite range-hash partitioning: {_CMD}: {SQLRF}/CREATE-TABLE.html "
        "(composite_range_partitions)",
        (_PARTITIONS, ""),
    ),
    ("test_live_shapes", "create_LOBPART"): (
        f"LOB storage and range partitioning are parse errors: {SQLRF}/CREATE-TABLE.html "
        "(LOB_storage_clause, range_partitions)",
        (_LOB_AND_PARTITIONS, ""),
    ),
    ("test_live_shapes", "create_IOT"): (
        f"ORGANIZATION INDEX: {_CMD}: {SQLRF}/CREATE-TABLE.html (physical_properties)",
        (_IOT, ""),
    ),
    ("test_live_shapes", "create_WIDE"): (
        f"ORGANIZATION INDEX: {_CMD}: {SQLRF}/CREATE-TABLE.html (physical_properties)",
        (_IOT, ""),
    ),
    ("test_live_types", "create_LRAW"): (
        f"the LONG RAW type is a parse error: {SQLRF}/Data-Types.html (LONG RAW)",
        (re.compile(r"LONG RAW"), "RAW(2000)"),
    ),
    **{
        ("test_live_types", f"create_type_{i}"): (
            f"object and VARRAY types: {_CMD}: https://docs.oracle.com/en/database/oracle/"
            "oracle-database/19/lnpls/CREATE-TYPE-statement.html",
            None,
        )
        for i in range(3)
    },
    **{
        ("test_live_types", f"drop_type_{i}"): (
            f"{_CMD}: https://docs.oracle.com/en/database/oracle/oracle-database/19/lnpls/"
            "DROP-TYPE-statement.html",
            None,
        )
        for i in range(3)
    },
}


def _statements() -> list[tuple[str, str, str]]:
    found = []
    for module in MODULES:
        built = importlib.import_module(f"tests.oracle.{module}").statements(NAMES)
        found += [(module, key, sql) for key, sql in built.items()]
    return found


STATEMENTS = _statements()


def _parsed(sql: str) -> exp.Expr | None:
    """The tree, or None where sqlglot cannot parse the statement (an error, or its
    Command fallback anywhere in the tree)."""
    try:
        tree = sqlglot.parse_one(sql, read="oracle")
    except sqlglot.errors.ParseError:
        return None
    if isinstance(tree, exp.Command) or any(True for _ in tree.find_all(exp.Command)):
        return None
    return tree


@pytest.mark.parametrize(
    ("module", "key", "sql"), [pytest.param(*s, id=f"{s[0]}.{s[1]}") for s in STATEMENTS]
)
def test_live_statement_parses(module: str, key: str, sql: str) -> None:
    tree = _parsed(sql)
    if (module, key) not in UNPARSED:
        assert tree is not None, f"{module}.{key} does not parse: {sql}"
        kinds = (exp.Create, exp.Drop, exp.Grant, exp.Insert, exp.Update, exp.Delete, exp.Select)
        assert isinstance(tree, kinds), type(tree)
        return
    reason, rewrite = UNPARSED[(module, key)]
    assert tree is None, f"sqlglot now parses {module}.{key}: drop its exception ({reason})"
    sqlglot.tokenize(sql, read="oracle")  # quotes, strings and identifiers all closed
    assert sql.count("(") == sql.count(")"), sql
    if rewrite is not None:
        pattern, replacement = rewrite
        shorter = pattern.sub(replacement, sql)
        assert shorter != sql, (pattern, sql)
        assert isinstance(_parsed(shorter), exp.Create), shorter


def test_every_exception_names_a_statement_the_suite_sends() -> None:
    sent = {(module, key) for module, key, _ in STATEMENTS}
    assert set(UNPARSED) <= sent, set(UNPARSED) - sent


def test_names_reach_the_sql_only_as_quoted_identifiers() -> None:
    for module, key, sql in STATEMENTS:
        unquoted = re.sub(r'"[^"]*"', "", sql)
        for name in (NAMES.owner, NAMES.reader, NAMES.mixed, NAMES.table("")):
            assert name not in unquoted, (module, key, sql)


_SENDS = {"execute", "executemany", "run", "run_many", "query", "create"}


@pytest.mark.parametrize(
    "path",
    sorted([*ORACLE_DIR.glob("test_live*.py"), ORACLE_DIR / "live_helpers.py"])
    + [ORACLE_DIR / "conftest.py"],
    ids=lambda p: p.name,
)
def test_live_modules_send_only_statements_they_declare(path: Path) -> None:
    # A literal or f-string handed to execute() would be SQL this test never parsed.
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            first = node.args[0]
            literal = isinstance(first, ast.JoinedStr | ast.BinOp) or (
                isinstance(first, ast.Constant) and isinstance(first.value, str)
            )
            assert not (node.func.attr in _SENDS and literal), (
                f"{path.name}:{node.lineno}: SQL text outside statements()"
            )
