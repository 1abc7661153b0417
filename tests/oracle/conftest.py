"""Fixtures of the live Oracle suite (live_helpers.py has the rest): a setup connection of
the test user that drops what it created, and an optional DBA connection. Both are opened
only by the live tests, which skip before asking for them when EXPORTER_TEST_ORACLE_DSN is
unset; the offline tests of this folder use neither."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.oracle.live_helpers import (
    ADMIN_DSN,
    ADMIN_PASSWORD_ENV,
    ADMIN_USER,
    DSN,
    NO_ADMIN,
    PASSWORD_ENV,
    USER,
    Live,
    Names,
    connect,
    new_run_id,
    statements,
)


@pytest.fixture(scope="module")
def live() -> Iterator[Live]:
    """The test user's connection and this module's unique names; every object made through
    `live.create` is dropped when the module's tests are done."""
    assert DSN, "live tests must skip when EXPORTER_TEST_ORACLE_DSN is unset"
    conn = connect(USER, os.environ.get(PASSWORD_ENV, ""), DSN)
    with conn.cursor() as cur:
        cur.execute(statements(Names("", ""))["whoami"])
        owner, tablespace = cur.fetchone()
    session = Live(conn, Names(new_run_id(), str(owner), str(tablespace or "USERS")))
    try:
        yield session
    finally:
        session.close()


@pytest.fixture(scope="module")
def admin(live: Live) -> Iterator[Live]:
    """A DBA connection (SYS as SYSDBA, or SYSTEM) sharing `live`'s names; skips the test
    with the reason when EXPORTER_TEST_ORACLE_ADMIN_USER / _PASSWORD are unset."""
    password = os.environ.get(ADMIN_PASSWORD_ENV)
    if not ADMIN_USER or not password or not ADMIN_DSN:
        pytest.skip(NO_ADMIN)
    conn = connect(ADMIN_USER, password, ADMIN_DSN, sysdba=ADMIN_USER.upper() == "SYS")
    session = Live(conn, live.names)
    try:
        yield session
    finally:
        session.close()
