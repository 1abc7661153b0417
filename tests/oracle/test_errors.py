"""Oracle errors say the right thing: every code of issue 14, as python-oracledb's own exception
objects (built by the driver's constructors), gives the most specific hint, naming the config
key or the fix; wrapped errors (DPY-6005 carrying DPY-6001, ORA-12514, DPY-3010 ...) give the
inner hint. Where the real driver can fail offline, it does: a closed loopback port, a
loopback "listener" answering the driver's CONNECT packet with a TNS REFUSE or ACCEPT packet,
and tnsnames.ora lookups. No Oracle server is needed.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from exporter.errors import SourceError
from exporter.sources import get_source
from exporter.sources.oracle import OracleSource
from exporter.sources.oracle_errors import ERROR_HINTS, codes_in, hint_for, pick

oracledb = pytest.importorskip("oracledb")
driver: Any = pytest.importorskip("oracledb.errors")  # the driver's catalogue and constructors

# The codes issue 14 names: each must have a hint.
ISSUE_CODES = (
    "DPI-1047 DPY-3001 DPY-3010 DPY-3015 DPY-4026 DPY-4027 DPY-6001 DPY-6005 ORA-12154 "
    "ORA-12505 ORA-12514 ORA-12541 ORA-01017 ORA-28000 ORA-28001 ORA-00942 ORA-01031 "
    "ORA-01652 ORA-01555 ORA-08180 ORA-08181 ORA-08185"
).split()


# -- the driver's own ways of building an error -----------------------------------------------


def dpy(number: int, cause: BaseException | None = None, **args: object) -> BaseException:
    """A DPY- error as the driver raises it: errors._create_exception (the message template of
    ERR_MESSAGE_FORMATS, the cause's text on the next line, the class from the number)."""
    exc: BaseException = driver._create_exception(number, cause=cause, **args)
    return exc


def server(message: str) -> BaseException:
    """An ORA- error as thin mode raises it (messages/base.pyx _check_and_raise_exception:
    `_Error(message, code=number)`, then its exc_type), the error-help link appended."""
    err = driver._Error(message, code=int(message[4:9]))
    exc: BaseException = err.exc_type(err)
    return exc


def odpi(message: str) -> BaseException:
    """A DPI- error as thick mode raises it (an _Error of ODPI-C's message, code 0)."""
    err = driver._Error(message)
    exc: BaseException = err.exc_type(err)
    return exc


def connection_failed(cause: BaseException) -> BaseException:
    """Thin mode's wrapper for anything that failed while reaching the database
    (impl/thin/connection.pyx _connect_with_address)."""
    return dpy(driver.ERR_CONNECTION_FAILED, cause=cause, connection_id="x1")


SERVICE = "DPY-6001"  # the hints shared by the DPY- code and the ORA- code it is similar to
SID = "DPY-6003"
UNDO = ("UNDO_RETENTION", "RETENTION GUARANTEE", "undo tablespace", "export_data/SCHEMA/TABLE")
NEW_SCN = ("export_data/SCHEMA/TABLE", "export.output_dir", "new SCN")

# (the error, the code whose hint is given, words the hint must contain)
CASES: dict[str, tuple[Callable[[], BaseException], str, tuple[str, ...]]] = {
    "DPI-1047": (
        lambda: odpi(
            'DPI-1047: Cannot locate a 64-bit Oracle Client library: "libclntsh.so: cannot '
            'open shared object file: No such file or directory". See https://python-oracledb'
            ".readthedocs.io/en/latest/user_guide/initialization.html for help"
        ),
        "DPI-1047",
        ("source.lib_dir", "source.thick_mode: false"),
    ),
    "DPY-3001": (
        lambda: dpy(
            driver.ERR_FEATURE_NOT_SUPPORTED,
            feature="Native Network Encryption and Data Integrity",
            driver_type="thick",
        ),
        "DPY-3001",
        ("source.thick_mode: true", "source.lib_dir", "Network Encryption"),
    ),
    "DPY-3010": (
        lambda: dpy(driver.ERR_SERVER_VERSION_NOT_SUPPORTED),
        "DPY-3010",
        ("12.1", "source.thick_mode: true"),
    ),
    "DPY-3015": (
        lambda: dpy(driver.ERR_UNSUPPORTED_VERIFIER_TYPE, verifier_type=0x939),
        "DPY-3015",
        ("10G password verifier", "source.thick_mode: true", "ALTER USER"),
    ),
    "DPY-4026": (
        lambda: dpy(driver.ERR_MISSING_FILE, file_name="/opt/tns/tnsnames.ora"),
        "DPY-4026",
        ("tnsnames.ora", "source.config_dir", "source.host"),
    ),
    "DPY-4027": (
        lambda: dpy(driver.ERR_NO_CONFIG_DIR),
        "DPY-4027",
        ("source.dsn", "source.config_dir", "TNS_ADMIN", "source.service"),
    ),
    # DPY-6001's own text says "(Similar to ORA-12514)": the ORA- code ranks first, same hint.
    "DPY-6001": (
        lambda: dpy(driver.ERR_INVALID_SERVICE_NAME, service_name="PDB1", host="db", port=1521),
        "ORA-12514",
        ("source.service", "not a SID"),
    ),
    "DPY-6005": (
        lambda: connection_failed(ConnectionRefusedError(111, "Connection refused")),
        "DPY-6005",
        ("source.host", "source.port", "source.dsn", "listener"),
    ),
    "ORA-12154": (
        lambda: server("ORA-12154: TNS:could not resolve the connect identifier specified"),
        "ORA-12154",
        ("source.dsn", "tnsnames.ora", "source.config_dir"),
    ),
    "ORA-12505": (
        lambda: server(
            "ORA-12505: TNS:listener does not currently know of SID given in connect descriptor"
        ),
        "ORA-12505",
        ("SID", "source.service", "source.dsn"),
    ),
    "ORA-12514": (
        lambda: server(
            "ORA-12514: TNS:listener does not currently know of service requested in connect "
            "descriptor"
        ),
        "ORA-12514",
        ("source.service",),
    ),
    "ORA-12541": (
        lambda: server("ORA-12541: TNS:no listener"),
        "ORA-12541",
        ("source.host", "source.port", "listener"),
    ),
    "ORA-01017": (
        lambda: server("ORA-01017: invalid username/password; logon denied"),
        "ORA-01017",
        ("source.user", "source.password_env", "source.password_file"),
    ),
    "ORA-28000": (
        lambda: server("ORA-28000: The account is locked."),
        "ORA-28000",
        ("locked", "source.user", "ACCOUNT UNLOCK"),
    ),
    "ORA-28001": (
        lambda: server("ORA-28001: the password has expired"),
        "ORA-28001",
        ("expired", "IDENTIFIED BY", "source.password_env"),
    ),
    "ORA-00942": (
        lambda: server("ORA-00942: table or view does not exist"),
        "ORA-00942",
        ("grant SELECT", "export.schemas"),
    ),
    "ORA-01031": (
        lambda: server("ORA-01031: insufficient privileges"),
        "ORA-01031",
        ("grant", "SELECT", "DBMS_FLASHBACK"),
    ),
    "ORA-01652": (
        lambda: server("ORA-01652: unable to extend temp segment by 128 in tablespace TEMP"),
        "ORA-01652",
        ("TEMP tablespace", "ADD TEMPFILE"),
    ),
    "ORA-01555": (
        lambda: server(
            "ORA-01555: snapshot too old: rollback segment number 10 with name "
            '"_SYSSMU10_1197734989$" too small'
        ),
        "ORA-01555",
        UNDO + NEW_SCN,
    ),
    "ORA-08180": (
        lambda: server("ORA-08180: no snapshot found based on specified time"),
        "ORA-08180",
        UNDO + NEW_SCN,
    ),
    "ORA-08181": (
        lambda: server("ORA-08181: specified number is not a valid system change number"),
        "ORA-08181",
        NEW_SCN,
    ),
    "ORA-08185": (
        lambda: server("ORA-08185: Flashback not supported for user SYS"),
        "ORA-08185",
        ("SYS", "export.consistent_snapshot: false"),
    ),
}


def test_every_code_of_the_issue_has_a_hint_and_a_case() -> None:
    assert set(ISSUE_CODES) <= set(ERROR_HINTS)
    assert set(ISSUE_CODES) == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_the_drivers_error_gets_the_hint_of_its_most_specific_code(code: str) -> None:
    make, expected, words = CASES[code]
    exc = make()
    assert isinstance(exc, oracledb.Error)
    assert exc.args[0].full_code == code  # the driver's own classification, unchanged
    assert pick(exc) == (expected, ERROR_HINTS[expected])
    hint = ERROR_HINTS[expected]
    missing = [word for word in words if word not in hint]
    assert not missing, (missing, hint)


@pytest.mark.parametrize("code", ["ORA-01555", "ORA-08180"])
def test_undo_hints_are_about_undo_at_one_scn_not_chunk_size(code: str) -> None:
    hint = ERROR_HINTS[code]
    assert "chunk_size" not in hint and "consistent_snapshot" not in hint
    assert "SCN" in hint and "delete the table's folder" in hint


def test_the_help_link_thin_mode_appends_does_not_count_twice() -> None:
    exc = server("ORA-01017: invalid username/password; logon denied")
    assert "error-help/db/ora-01017" in str(exc)  # thin mode's link, lower case
    assert codes_in(exc) == ["ORA-01017"]


# -- wrapped errors: the inner code's hint -------------------------------------------------------


def _service_refused() -> BaseException:
    return dpy(driver.ERR_INVALID_SERVICE_NAME, service_name="PDB1", host="db", port=1521)


WRAPPED: dict[str, tuple[Callable[[], BaseException], str, str, str]] = {
    # id: (the error, its full_code, the code picked, whose hint it is)
    "6005>6001": (lambda: connection_failed(_service_refused()), "DPY-6005", "ORA-12514", SERVICE),
    "6005>ORA-12514": (
        lambda: connection_failed(
            server("ORA-12514: TNS:listener does not currently know of service requested")
        ),
        "DPY-6005",
        "ORA-12514",
        SERVICE,
    ),
    "6005>6003": (
        lambda: connection_failed(dpy(driver.ERR_INVALID_SID, sid="ORCL", host="db", port=1521)),
        "DPY-6005",
        "ORA-12505",
        SID,
    ),
    "6005>3010": (
        lambda: connection_failed(dpy(driver.ERR_SERVER_VERSION_NOT_SUPPORTED)),
        "DPY-6005",
        "DPY-3010",
        "DPY-3010",
    ),
    "6005>3001": (
        lambda: connection_failed(
            dpy(
                driver.ERR_FEATURE_NOT_SUPPORTED,
                feature="Native Network Encryption and Data Integrity",
                driver_type="thick",
            )
        ),
        "DPY-6005",
        "DPY-3001",
        "DPY-3001",
    ),
    # A refusal whose ORA- number has no hint of its own: the listener wrapper's hint.
    "6005>6000": (
        lambda: connection_failed(dpy(driver.ERR_LISTENER_REFUSED_CONNECTION, error_code="12516")),
        "DPY-6005",
        "DPY-6000",
        "DPY-6000",
    ),
    # The driver turns ORA-03113 into DPY-4011 itself (errors.py ERR_ORACLE_ERROR_XREF).
    "4011>ORA-03113": (
        lambda: server("ORA-03113: end-of-file on communication channel"),
        "DPY-4011",
        "DPY-4011",
        "DPY-4011",
    ),
    # A server error stack: the generic recursive-SQL line first, the cause after it.
    "ORA-00604>ORA-01652": (
        lambda: server(
            "ORA-00604: error occurred at recursive SQL level 1\n"
            "ORA-01652: unable to extend temp segment by 128 in tablespace TEMP"
        ),
        "ORA-00604",
        "ORA-01652",
        "ORA-01652",
    ),
    "ORA-12801>ORA-01555": (
        lambda: server(
            "ORA-12801: error signaled in parallel query server P001\n"
            'ORA-01555: snapshot too old: rollback segment number 3 with name "_SYSSMU3$" '
            "too small"
        ),
        "ORA-12801",
        "ORA-01555",
        "ORA-01555",
    ),
}


@pytest.mark.parametrize("case", sorted(WRAPPED))
def test_a_wrapped_error_gives_the_inner_hint(case: str) -> None:
    make, outer, expected, hint_of = WRAPPED[case]
    exc = make()
    assert exc.args[0].full_code == outer  # what the driver put in front
    assert pick(exc) == (expected, ERROR_HINTS[hint_of])
    assert hint_for(exc) == ERROR_HINTS[hint_of]


def test_the_precedence_ora_then_driver_codes_then_wrappers_then_position() -> None:
    exc = connection_failed(_service_refused())
    assert codes_in(exc) == ["DPY-6005", "DPY-6001", "ORA-12514"]
    hints = {"DPY-6005": "outer", "DPY-6001": "driver", "ORA-12514": "server"}
    assert pick(exc, hints) == ("ORA-12514", "server")
    assert pick(exc, {"DPY-6005": "outer", "DPY-6001": "driver"}) == ("DPY-6001", "driver")
    assert pick(exc, {"DPY-6005": "outer"}) == ("DPY-6005", "outer")
    # two wrappers: the inner one (written later) wins
    closed = connection_failed(dpy(driver.ERR_CONNECTION_CLOSED))
    assert pick(closed) == ("DPY-4011", ERROR_HINTS["DPY-4011"])


def test_errors_without_a_known_code_have_no_hint() -> None:
    assert pick(server("ORA-99999: something new")) is None
    assert pick(ValueError("no code here")) is None
    assert pick(RuntimeError("ORA-01031: insufficient privileges")) == (
        "ORA-01031",
        ERROR_HINTS["ORA-01031"],
    )


def _source(**block: object) -> OracleSource:
    from exporter.config.loader import parse_config

    source_block = {"engine": "oracle", "host": "db", "service": "PDB1", "user": "U", **block}
    source = get_source(parse_config({"source": source_block}).source)
    assert isinstance(source, OracleSource)
    return source


def test_the_printed_line_keeps_the_drivers_words_and_gives_the_inner_hint() -> None:
    line = _source().explain_error(connection_failed(_service_refused())).one_line()
    assert line == (
        "error EXP-2001: DPY-6005: oracle U@db:1521/PDB1: cannot connect to database "
        '(CONNECTION_ID=x1). DPY-6001: Service "PDB1" is not registered with the listener at '
        'host "db" port 1521. (Similar to ORA-12514) (fix: ' + ERROR_HINTS[SERVICE] + ")"
    )


# -- the real driver, offline ---------------------------------------------------------------------
#
# Before the ACCEPT packet a thin-mode packet is an 8-byte header, a 2-byte big-endian length,
# 2 bytes of checksum, the type and flags bytes and a 2-byte header checksum
# (impl/thin/transport.pyx extract_packet; packet.pyx PACKET_HEADER_SIZE).
_CONNECT, _ACCEPT, _REFUSE = 1, 2, 4  # impl/thin/constants.pxi TNS_PACKET_TYPE_*
_NSI_NA_REQUIRED = 0x10  # TNS_NSI_NA_REQUIRED: the server requires Native Network Encryption


def _packet(packet_type: int, body: bytes) -> bytes:
    return struct.pack(">HHBBH", 8 + len(body), 0, packet_type, 0, 0) + body


def refuse(ora: int) -> bytes:
    """A listener's REFUSE: user and system reason bytes, the length of its text, the text
    (protocol.pyx _receive_packet); the driver reads the number after "(ERR="
    (messages/connect.pyx ConnectMessage.process)."""
    text = (
        f"(DESCRIPTION=(TMP=)(VSNNUM=318767104)(ERR={ora})"
        f"(ERROR_STACK=(ERROR=(CODE={ora})(EMFI=4))))"
    ).encode()
    return _packet(_REFUSE, bytes([0x22, 0]) + struct.pack(">H", len(text)) + text)


def accept(version: int, nsi_flags: int = 0) -> bytes:
    """An ACCEPT: protocol version and options, 10 bytes, NSI flags, 9 bytes, the SDU, then
    5 bytes and the second flags word (messages/connect.pyx ConnectMessage.process)."""
    body = (
        struct.pack(">HH", version, 0)
        + bytes(10)
        + bytes([nsi_flags])
        + bytes(9)
        + struct.pack(">I", 8192)
        + bytes(5)
        + struct.pack(">I", 0)
    )
    return _packet(_ACCEPT, body)


class Listener:
    """A loopback TCP server that reads the driver's CONNECT packet and answers with one
    prepared packet, for every connection, until closed."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.packet_types: list[int] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        head = b""
        while len(head) < 8:
            chunk = conn.recv(8 - len(head))
            if not chunk:
                return
            head += chunk
        self.packet_types.append(head[4])
        left = struct.unpack(">H", head[:2])[0] - 8
        while left > 0:
            left -= len(conn.recv(left))
        conn.settimeout(0.2)  # a long connect string follows in a DATA packet: read it too
        try:
            while conn.recv(4096):
                pass
        except OSError:
            pass
        conn.sendall(self.reply)
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(5)
        try:  # until the driver closes, so that it reads the reply before any reset
            while conn.recv(4096):
                pass
        except OSError:
            pass

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Callable[[bytes], Listener]]:
    started: list[Listener] = []

    def start(reply: bytes) -> Listener:
        started.append(Listener(reply))
        return started[-1]

    yield start
    for server_ in started:
        server_.close()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPORTER_TEST_ORA_PASSWORD", "tiger-secret-1")


def _failure(source: OracleSource) -> tuple[str, BaseException]:
    """The one line the real connect attempt ends in, and the driver's exception under it."""
    with pytest.raises(SourceError) as raised:
        source.open()
    cause = raised.value.__cause__
    assert isinstance(cause, oracledb.Error)
    line = raised.value.one_line()
    assert "tiger-secret-1" not in line
    return line, cause


def _on(port: int, **block: object) -> OracleSource:
    fields: dict[str, object] = {"host": "127.0.0.1", "port": port, "service": "NOSUCH"}
    fields.update(block)
    return _source(password_env="EXPORTER_TEST_ORA_PASSWORD", **fields)


def test_a_closed_port(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    line, cause = _failure(_on(port))
    assert cause.args[0].full_code == "DPY-6005"
    assert codes_in(cause) == ["DPY-6005"]
    assert line.startswith(f"error EXP-2001: DPY-6005: oracle U@127.0.0.1:{port}/NOSUCH: ")
    assert "Connection refused" in line
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-6005']})")


def test_the_listener_does_not_know_the_service(listener: Callable[[bytes], Listener]) -> None:
    server_ = listener(refuse(12514))
    line, cause = _failure(_on(server_.port))
    assert server_.packet_types == [_CONNECT]
    assert codes_in(cause) == ["DPY-6005", "DPY-6001", "ORA-12514"]
    assert 'DPY-6001: Service "NOSUCH" is not registered with the listener at host ' in line
    assert line.endswith(f"(fix: {ERROR_HINTS[SERVICE]})")
    assert "source.service" in line.rpartition("(fix: ")[2]


def test_the_listener_does_not_know_the_sid(listener: Callable[[bytes], Listener]) -> None:
    server_ = listener(refuse(12505))
    dsn = (
        "(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=127.0.0.1)"
        f"(PORT={server_.port}))(CONNECT_DATA=(SID=NOSID)))"
    )
    line, cause = _failure(_source(dsn=dsn, password_env="EXPORTER_TEST_ORA_PASSWORD"))
    assert codes_in(cause) == ["DPY-6005", "DPY-6003", "ORA-12505"]
    assert 'SID "NOSID" is not registered' in line
    assert line.endswith(f"(fix: {ERROR_HINTS[SID]})")


def test_a_refusal_without_a_hint_of_its_own(listener: Callable[[bytes], Listener]) -> None:
    # ORA-12516: the listener found no free handler; the listener wrapper's hint, not 6005's
    server_ = listener(refuse(12516))
    line, cause = _failure(_on(server_.port))
    assert codes_in(cause) == ["DPY-6005", "DPY-6000", "ORA-12516"]
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-6000']})")


def test_a_database_older_than_12_1_needs_thick_mode(
    listener: Callable[[bytes], Listener],
) -> None:
    server_ = listener(accept(314))  # 11.2's protocol version; thin mode takes 315 (12.1) up
    line, cause = _failure(_on(server_.port))
    assert codes_in(cause) == ["DPY-6005", "DPY-3010"]
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-3010']})")
    assert "source.thick_mode: true" in line


def test_network_encryption_needs_thick_mode(listener: Callable[[bytes], Listener]) -> None:
    server_ = listener(accept(319, _NSI_NA_REQUIRED))
    line, cause = _failure(_on(server_.port))
    assert codes_in(cause) == ["DPY-6005", "DPY-3001"]
    assert "Native Network Encryption and Data Integrity is only supported" in line
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-3001']})")


def test_an_alias_without_tnsnames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    line, cause = _failure(_source(dsn="PRODDB", config_dir=str(tmp_path)))
    assert codes_in(cause) == ["DPY-4026"]
    assert str(tmp_path / "tnsnames.ora") in line
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-4026']})")

    monkeypatch.setattr(oracledb.defaults, "config_dir", None)  # no TNS_ADMIN either
    line, cause = _failure(_source(dsn="PRODDB"))
    assert codes_in(cause) == ["DPY-4027"]
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-4027']})")


def test_an_alias_missing_from_tnsnames(tmp_path: Path) -> None:
    (tmp_path / "tnsnames.ora").write_text(
        "OTHERDB = (DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST=db)(PORT=1521))"
        "(CONNECT_DATA=(SERVICE_NAME=PDB1)))\n",
        encoding="utf-8",
    )
    line, cause = _failure(_source(dsn="PRODDB", config_dir=str(tmp_path)))
    assert codes_in(cause) == ["DPY-4000"]
    assert line.endswith(f"(fix: {ERROR_HINTS['DPY-4000']})")
