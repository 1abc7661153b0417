"""The ALTER SESSION statements every Oracle connection runs (sources/oracle_conn.py).

sqlglot has no grammar for ALTER SESSION (it keeps the statement as a Command, which accepts
anything), so each statement is checked against Oracle's syntax by its tokens instead:
`ALTER SESSION SET parameter = value`, a parameter Oracle documents for ALTER SESSION, and a
value that is one string literal or one word, as sqlglot's Oracle tokenizer reads it.
https://docs.oracle.com/en/database/oracle/oracle-database/19/sqlrf/ALTER-SESSION.html
"""

from __future__ import annotations

import re

import pytest
from sqlglot.dialects.oracle import Oracle
from sqlglot.tokens import TokenType

from exporter.sources.oracle_conn import SESSION_SETTINGS

# The parameters the statements set, each from ALTER SESSION's documentation above (TIME_ZONE
# is a clause of its own there; the NLS parameters are in the Database Reference:
# https://docs.oracle.com/en/database/oracle/oracle-database/19/refrn/NLS_SORT.html etc.)
DOCUMENTED = {
    "TIME_ZONE",
    "NLS_NUMERIC_CHARACTERS",
    "NLS_DATE_FORMAT",
    "NLS_TIMESTAMP_FORMAT",
    "NLS_TIMESTAMP_TZ_FORMAT",
    "NLS_SORT",
    "NLS_COMP",
}


@pytest.mark.parametrize("statement", SESSION_SETTINGS)
def test_each_session_setting_is_one_documented_parameter_set_to_one_value(
    statement: str,
) -> None:
    tokens = Oracle().tokenize(statement)
    words = [t.text.upper() for t in tokens[:3]]
    assert words == ["ALTER", "SESSION", "SET"], statement
    name, equals, *value = tokens[3:]
    assert name.text.upper() in DOCUMENTED, name.text
    assert equals.token_type is TokenType.EQ
    assert len(value) == 1, value  # one literal or one word: no stray quote or clause
    (literal,) = value
    # a quoted string, or one bare word (BINARY is a keyword token to sqlglot)
    word = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", literal.text) is not None
    assert literal.token_type is TokenType.STRING or word, literal


def test_the_settings_pin_what_the_exported_text_depends_on() -> None:
    settings = {
        re.match(r"ALTER SESSION SET (\w+) = (.+)$", s).group(1): s.split(" = ", 1)[1]  # type: ignore[union-attr]
        for s in SESSION_SETTINGS
    }
    assert settings["TIME_ZONE"] == "'+00:00'"  # TIMESTAMP WITH LOCAL TIME ZONE as UTC
    assert settings["NLS_NUMERIC_CHARACTERS"] == "'.,'"  # a point for decimals
    assert settings["NLS_SORT"] == settings["NLS_COMP"] == "BINARY"  # byte order for keys
