"""A cached Oracle connection idle for a while is pinged before it is reused
(oracle_conn.PING_AFTER_IDLE_SECONDS): `is_healthy()` is a local check that does not see a
session the server ended (a profile's IDLE_TIME, ORA-02396) or a dropped connection.

Offline: the decision, on a stand-in for python-oracledb's connection that records what it
is asked. Live (EXPORTER_TEST_ORACLE_DSN): the ping on a real session."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from exporter.sources import get_source
from exporter.sources.oracle_conn import PING_AFTER_IDLE_SECONDS, PING_TIMEOUT_MS, OracleConn
from tests.conftest import make_config
from tests.oracle.live_helpers import needs_oracle, source


class _Session:
    """What OracleConn asks of python-oracledb's Connection, and a session that may have
    been ended by the server."""

    def __init__(self, *, ended: bool = False, healthy: bool = True) -> None:
        self.ended, self.healthy = ended, healthy
        self.call_timeout = 0
        self.pings: list[int] = []  # the call_timeout in force at each ping

    def is_healthy(self) -> bool:
        return self.healthy

    def ping(self) -> None:
        self.pings.append(self.call_timeout)
        if self.ended:
            raise RuntimeError("ORA-02396: exceeded maximum idle time, please connect again")


def _idle(conn: OracleConn, seconds: float) -> None:
    conn.last_used = time.monotonic() - seconds


def test_a_connection_used_lately_is_reused_without_a_round_trip() -> None:
    session = _Session(ended=True)  # it would fail a ping: none is made
    conn = OracleConn(session)
    _idle(conn, PING_AFTER_IDLE_SECONDS - 5)
    assert conn.reusable()
    assert session.pings == []


def test_an_idle_connection_that_answers_is_reused_once_pinged() -> None:
    session = _Session()
    session.call_timeout = 123
    conn = OracleConn(session)
    _idle(conn, PING_AFTER_IDLE_SECONDS + 1)
    assert conn.reusable()
    assert session.pings == [PING_TIMEOUT_MS]  # the ping had its own timeout
    assert session.call_timeout == 123  # and the session's was put back
    assert conn.reusable()  # it counts as used now: no second ping
    assert len(session.pings) == 1


def test_an_idle_connection_the_server_ended_is_not_reused() -> None:
    session = _Session(ended=True)
    session.call_timeout = 77
    conn = OracleConn(session)
    _idle(conn, PING_AFTER_IDLE_SECONDS + 1)
    assert not conn.reusable()
    assert session.pings == [PING_TIMEOUT_MS]
    assert session.call_timeout == 77


class _OldClientSession(_Session):
    """Thick mode on an Oracle Client before 18c: call_timeout cannot be read or set."""

    def __init__(self, *, ended: bool = False) -> None:
        self.ended, self.healthy = ended, True
        self.pings: list[int] = []

    @property  # type: ignore[override]
    def call_timeout(self) -> int:
        raise RuntimeError("DPI-1050: Oracle Client library is at version 12.2 but 18.1 needed")

    @call_timeout.setter
    def call_timeout(self, value: int) -> None:
        raise RuntimeError("DPI-1050: Oracle Client library is at version 12.2 but 18.1 needed")

    def ping(self) -> None:
        self.pings.append(-1)
        if self.ended:
            raise RuntimeError("ORA-02396: exceeded maximum idle time, please connect again")


@pytest.mark.parametrize("ended", [False, True])
def test_without_a_call_timeout_the_ping_still_decides(ended: bool) -> None:
    session = _OldClientSession(ended=ended)
    conn = OracleConn(session)
    _idle(conn, PING_AFTER_IDLE_SECONDS + 1)
    assert conn.reusable() is not ended
    assert session.pings == [-1]


@pytest.mark.parametrize("state", ["unhealthy", "in_flashback"])
def test_the_local_verdicts_come_first(state: str) -> None:
    session = _Session(healthy=state != "unhealthy")
    conn = OracleConn(session)
    conn.in_flashback = state == "in_flashback"
    _idle(conn, PING_AFTER_IDLE_SECONDS + 1)
    assert not conn.reusable()
    assert session.pings == []


@needs_oracle
def test_live_an_idle_session_is_pinged_and_kept(tmp_path: Path) -> None:
    config = make_config(source(), tmp_path / "out")
    conn = get_source(config.source).open()
    try:
        assert isinstance(conn, OracleConn)
        _idle(conn, PING_AFTER_IDLE_SECONDS + 1)
        before = conn.last_used
        assert conn.reusable()  # a real round trip
        assert conn.last_used > before
        assert conn.raw.call_timeout == 0  # python-oracledb's default, put back
    finally:
        conn.close()
