"""What an Oracle error means for this exporter: the hint table (DPY-, DPI- and ORA- codes ->
the config key or action that fixes them) and the rule that picks, among every code an error
carries, the one whose hint is most specific. Pure: no driver import, no I/O.

Why every code: python-oracledb puts its own code in front and the cause after it, on the
next line. Thin mode wraps whatever failed while reaching the database (refused TCP, a
listener's refusal, the server version or network-encryption check) in DPY-6005, e.g.

    DPY-6005: cannot connect to database (CONNECTION_ID=...).
    DPY-6001: Service "X" is not registered with the listener at host "h" port 1521. (Simi...

where the second line ends "(Similar to ORA-12514)". In the driver's source:
impl/thin/connection.pyx `_connect_with_address` raises ERR_CONNECTION_FAILED with the cause;
errors.py `_create_err` appends the cause's text, and `_Error` puts a DPY- code in front of
the ORA- and DPI- messages it cross-references (ERR_ORACLE_ERROR_XREF, e.g. ORA-03113 ->
DPY-4011).

Precedence (`pick`), among the codes that have a hint, first wins:
1. ORA- codes: the database's or the listener's own account of the cause;
2. other DPY- and DPI- codes: the driver naming a cause (DPY-3010, DPY-6001, DPI-1047 ...);
3. the wrappers, which only say that something underneath failed: DPY-6005 (cannot connect),
   DPY-6000 (the listener refused; its ORA- number follows) and DPY-4011 (connection closed).
Within one rank the code written last wins: the driver writes the wrapper first and the cause
after it.

Sources: python-oracledb doc/src/user_guide/troubleshooting.rst (DPI-1047, DPY-3001, DPY-3010,
DPY-3015, DPY-4011, DPY-4027) and exception_handling.rst, https://python-oracledb.readthedocs.io/
en/latest/user_guide/troubleshooting.html ; the message templates in src/oracledb/errors.py
(ERR_MESSAGE_FORMATS); Oracle's error help, https://docs.oracle.com/error-help/db/ora-NNNNN/
(the address thin mode appends to each ORA- message), e.g. .../ora-01555/ .
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# The codes in a message: ORA- (database, listener), DPY- (python-oracledb), DPI- (ODPI-C, thick
# mode). Upper case only: the "Help: .../error-help/db/ora-01017/" link repeats the code.
CODE = re.compile(r"\b(?:ORA|DPY|DPI)-\d{4,5}\b")

# Codes that only wrap another failure (errors.py: ERR_CONNECTION_FAILED,
# ERR_LISTENER_REFUSED_CONNECTION, ERR_CONNECTION_CLOSED): their hints are the fallback.
WRAPPERS = frozenset({"DPY-6005", "DPY-6000", "DPY-4011"})

_THICK = "set source.thick_mode: true (it needs an Oracle Instant Client: source.lib_dir names it)"
_ADDRESS = "or give source.host, source.port and source.service instead of an alias"
_SERVICE = (
    "the listener does not know that service: check source.service (a service name such as "
    "ORCLPDB1, not a SID; `lsnrctl services` on the server lists them) or source.dsn"
)
_SID = (
    "the listener does not know that SID: source.service takes a service name, not a SID; "
    "for a SID give source.dsn as a descriptor with (CONNECT_DATA=(SID=...))"
)
# Every chunk of a table is read at the one SCN stored in its plan (config/plan.json), so a
# smaller chunk does not help; undo must reach back to that SCN for the table's whole export.
_NEW_SCN = (
    "delete the table's folder (export_data/SCHEMA/TABLE, under export.output_dir) and "
    "re-run: the table is planned again and all its chunks are read at a new SCN"
)
_UNDO = (
    "undo no longer reaches the SCN that every chunk of this table is read at: ask the DBA "
    "for UNDO_RETENTION (seconds) longer than the table's export, RETENTION GUARANTEE on "
    "the undo tablespace and an undo tablespace large enough to hold that much undo; then "
)

# code -> the fix, naming the config key or the grant. Oracle texts: the error help pages above.
ERROR_HINTS: dict[str, str] = {
    # -- thick mode and what only thick mode can do (troubleshooting.rst) ----------------------
    "DPI-1047": "thick mode could not load the Oracle Client libraries: check source.lib_dir "
    "(on Linux run through run.sh, which puts it on LD_LIBRARY_PATH), or set "
    "source.thick_mode: false to use thin mode",
    # "Native Network Encryption and Data Integrity is only supported in ... thick mode"
    "DPY-3001": "thin mode cannot do this (e.g. the database requires Oracle Native Network "
    f"Encryption or checksumming): {_THICK}, or ask the DBA for TLS (tcps) instead",
    "DPY-3010": f"the database is older than 12.1, which thin mode cannot reach: {_THICK}",
    "DPY-3015": "the account has only a 10G password verifier, which thin mode cannot use: "
    f"{_THICK}, or have the DBA reset the password (ALTER USER ... IDENTIFIED BY ...)",
    # -- connect strings and tnsnames.ora -----------------------------------------------------
    "DPY-4000": "the alias in source.dsn is not in tnsnames.ora: check it and source.config_dir, "
    + _ADDRESS,
    "DPY-4026": "tnsnames.ora is missing or unreadable: point source.config_dir at the "
    f"directory that holds it, {_ADDRESS}",
    "DPY-4027": "source.dsn is a TNS alias but no directory with tnsnames.ora is known: set "
    f"source.config_dir (or TNS_ADMIN), {_ADDRESS}",
    "ORA-12154": "the connect identifier could not be resolved: check the alias in source.dsn "
    f"against tnsnames.ora in source.config_dir (thick mode: TNS_ADMIN), {_ADDRESS}",
    # -- the listener ---------------------------------------------------------------------------
    "DPY-6005": "cannot reach the database: check source.host and source.port (or source.dsn), "
    "that the listener is up and that no firewall blocks the port",
    "DPY-6000": "the listener refused the connection: check source.service or source.dsn; the "
    "ORA- number in the message says why",
    "DPY-6001": _SERVICE,
    "ORA-12514": _SERVICE,
    "DPY-6003": _SID,
    "ORA-12505": _SID,
    "ORA-12541": "no listener at that address: check source.host and source.port (or "
    "source.dsn) and that the listener is up (`lsnrctl status`)",
    "DPY-4011": "the database or network closed the connection: re-run to resume (chunks "
    "already written are kept); on connecting it can mean that the database requires network "
    f"encryption: {_THICK}",
    # -- logging in -----------------------------------------------------------------------------
    "ORA-01017": "user name or password is wrong: check source.user and the password in "
    "source.password_env or source.password_file",
    "ORA-28000": "the account source.user is locked (often by failed logins: check the "
    "password first): ask the DBA for ALTER USER ... ACCOUNT UNLOCK",
    "ORA-28001": "the password of source.user has expired: set a new one (ALTER USER ... "
    "IDENTIFIED BY ...) and put it where source.password_env or source.password_file reads",
    # -- privileges -----------------------------------------------------------------------------
    "ORA-00942": "the table or view does not exist or source.user may not see it: grant "
    "SELECT on it to the export user, or check export.schemas, include and exclude",
    "ORA-01031": "insufficient privileges: grant source.user SELECT on the tables (and FLASHBACK "
    "on them or EXECUTE ON DBMS_FLASHBACK for export.consistent_snapshot); docs/ORACLE.md "
    "lists each privilege",
    # -- space, undo and the table's SCN -------------------------------------------------------
    "ORA-01652": "the TEMP tablespace is full (a query's sort or hash): ask the DBA to add "
    "space to the export user's temporary tablespace (ALTER TABLESPACE ... ADD TEMPFILE)",
    "ORA-01555": "snapshot too old: " + _UNDO + _NEW_SCN,
    "ORA-08180": "no snapshot at the table's SCN any more: " + _UNDO + _NEW_SCN,
    "ORA-08181": "the SCN stored in the table's plan is not valid in this database (another "
    f"database, or restored or flashed back since): {_NEW_SCN}",
    "ORA-08185": "SYS cannot use flashback: export as another user, or set "
    "export.consistent_snapshot: false",
    "ORA-01466": "the table's definition changed (DDL, TRUNCATE, partition maintenance) after "
    f"the SCN stored in its plan: {_NEW_SCN}",
}


def error_text(exc: BaseException) -> str:
    """The driver's message: its `_Error.message` (exc.args[0]) when there is one, else str()."""
    detail = exc.args[0] if exc.args else None
    return str(getattr(detail, "message", None) or exc)


def codes_in(exc: BaseException) -> list[str]:
    """Every DPY-/DPI-/ORA- code the error carries, each once, outermost first: the `_Error`'s
    full_code, then the codes of its message in the order written."""
    detail = exc.args[0] if exc.args else None
    full_code = str(getattr(detail, "full_code", None) or "")
    found = [full_code] if CODE.fullmatch(full_code) else []
    for code in CODE.findall(error_text(exc)):
        if code not in found:
            found.append(code)
    return found


def _rank(code: str) -> int:
    if code in WRAPPERS:
        return 0
    return 2 if code.startswith("ORA-") else 1


def pick(exc: BaseException, hints: Mapping[str, str] = ERROR_HINTS) -> tuple[str, str] | None:
    """(code, hint) of the most specific code with a hint (see the module docstring), or None."""
    known = [(position, code) for position, code in enumerate(codes_in(exc)) if code in hints]
    if not known:
        return None
    _, code = max(known, key=lambda item: (_rank(item[1]), item[0]))
    return code, hints[code]


def hint_for(exc: BaseException, hints: Mapping[str, str] = ERROR_HINTS) -> str | None:
    """The hint of `pick`, or None when no code the error carries has one."""
    chosen = pick(exc, hints)
    return chosen[1] if chosen else None
