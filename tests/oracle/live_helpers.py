"""What the live Oracle suite (tests/oracle/test_live*.py) shares: the environment it reads,
unique object names, connections that create and drop the suite's own objects, configs, the
CLI (in this process or as a child that can be killed), and readers of what a run wrote.

Every SQL statement the suite sends is text from a `statements(names)` function (here and in
each test_live_*.py module), so that tests/sql/test_live_sql.py parses all of them offline
with sqlglot's Oracle dialect. Setup connections mirror the exporter's choice of thin or
thick mode: python-oracledb allows one mode per process, and init_oracle_client() only a
second call with the very same arguments (src/oracledb/impl/thick/utils.pyx).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.csvcheck import parse_quoted

REPO = Path(__file__).resolve().parents[2]
DSN = os.environ.get("EXPORTER_TEST_ORACLE_DSN")
USER = os.environ.get("EXPORTER_TEST_ORACLE_USER", "exporter_test")
PASSWORD_ENV = "EXPORTER_TEST_ORACLE_PASSWORD"
LIB_DIR = os.environ.get("EXPORTER_TEST_ORACLE_LIB_DIR")
ADMIN_DSN = os.environ.get("EXPORTER_TEST_ORACLE_ADMIN_DSN") or DSN
ADMIN_USER = os.environ.get("EXPORTER_TEST_ORACLE_ADMIN_USER")
ADMIN_PASSWORD_ENV = "EXPORTER_TEST_ORACLE_ADMIN_PASSWORD"
READER_PASSWORD_ENV = "EXPORTER_TEST_ORACLE_READER_PASSWORD"  # set by the tests themselves
CHILD_TIMEOUT = 240

needs_oracle = pytest.mark.skipif(
    not DSN,
    reason="EXPORTER_TEST_ORACLE_DSN is not set: the live Oracle suite is opt-in "
    "(docs/ORACLE.md, 'The live suite')",
)
NO_ADMIN = (
    "EXPORTER_TEST_ORACLE_ADMIN_USER and EXPORTER_TEST_ORACLE_ADMIN_PASSWORD are not set: "
    "creating users and granting on SYS.DBMS_FLASHBACK needs a DBA connection (SYS or SYSTEM)"
)


@dataclass(frozen=True)
class Names:
    """Object names unique to one run of the suite (tables, users, types), so that two runs
    against one database, or a run after a crashed one, never meet."""

    run: str
    owner: str
    tablespace: str = "USERS"

    def table(self, role: str) -> str:
        """EXP<run>_<ROLE>, at most 30 bytes (the limit before 12.2)."""
        return f"EXP{self.run}_{role}"

    @property
    def reader(self) -> str:
        """A user with CREATE SESSION and SELECT on one table: no DBA views, no flashback."""
        return f"EXP{self.run}_READER"

    @property
    def mixed(self) -> str:
        """A schema whose name needs quotes: mixed case and a space."""
        return f"Exp Mixed {self.run}"


def new_run_id() -> str:
    return secrets.token_hex(3).upper()


def q(name: str) -> str:
    """An Oracle quoted identifier (no identifier may hold a double quote: DIA-25716)."""
    assert '"' not in name and "\x00" not in name, name
    return f'"{name}"'


def qq(schema: str, name: str) -> str:
    return f"{q(schema)}.{q(name)}"


def insert_sql(schema: str, table: str, columns: Sequence[str]) -> str:
    """INSERT with one named bind per column (:v1, :v2 ...): sqlglot reads no `:1`."""
    marks = ", ".join(f":v{i + 1}" for i in range(len(columns)))
    names = ", ".join(q(c) for c in columns)
    return f"INSERT INTO {qq(schema, table)} ({names}) VALUES ({marks})"


def bind_rows(rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """Rows as executemany binds them to insert_sql's :v1, :v2 ..."""
    return [{f"v{i + 1}": value for i, value in enumerate(row)} for row in rows]


def statements(n: Names) -> dict[str, str]:
    """The statements every module uses."""
    return {
        "whoami": "SELECT USER, (SELECT default_tablespace FROM user_users) FROM DUAL",
        "can_read_dba_extents": "SELECT COUNT(*) FROM dba_extents WHERE ROWNUM = 1",
    }


def drop_table(schema: str, table: str) -> str:
    return f"DROP TABLE {qq(schema, table)} PURGE"


def drop_type(schema: str, name: str) -> str:
    return f"DROP TYPE {qq(schema, name)} FORCE"


def drop_user(name: str) -> str:
    return f"DROP USER {q(name)} CASCADE"


def _init_mode() -> None:
    """Thick mode exactly as the exporter enables it (OracleSource._init_mode)."""
    if LIB_DIR:
        import oracledb

        oracledb.init_oracle_client(lib_dir=str(Path(LIB_DIR)), config_dir=None)


def connect(user: str, password: str, dsn: str, *, sysdba: bool = False) -> Any:
    import oracledb

    _init_mode()
    mode = oracledb.AUTH_MODE_SYSDBA if sysdba else oracledb.AUTH_MODE_DEFAULT
    return oracledb.connect(user=user, password=password, dsn=dsn, mode=mode)


@dataclass
class Live:
    """One setup connection and what it created, undone in reverse order by close()."""

    conn: Any
    names: Names
    undo_stack: list[str] = field(default_factory=list)

    def run(self, sql: str, params: Any = None, sizes: dict[str, Any] | None = None) -> None:
        with self.conn.cursor() as cur:
            if sizes:
                cur.setinputsizes(**sizes)
            cur.execute(sql, params or {})
        self.conn.commit()

    def run_many(self, sql: str, rows: Sequence[dict[str, Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql, list(rows))
        self.conn.commit()

    def query(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(sql, params or {})
            return list(cur.fetchall())

    def create(self, sql: str, undo: str) -> None:
        """Run a CREATE and remember the DROP that undoes it."""
        self.run(sql)
        self.undo_stack.append(undo)

    def gather_stats(self, schema: str, table: str) -> None:
        # A PL/SQL call, not SQL text. DBMS_STATS upper-cases a name unless it is quoted.
        with self.conn.cursor() as cur:
            cur.callproc("DBMS_STATS.GATHER_TABLE_STATS", [q(schema), q(table)])

    def server_major(self) -> int:
        return int(str(self.conn.version).split(".")[0])

    def close(self) -> None:
        while self.undo_stack:
            undo = self.undo_stack.pop()
            try:
                self.run(undo)
            except Exception as exc:  # noqa: BLE001 - left behind, but say which
                warnings.warn(f"live suite cleanup failed: {undo}: {exc}", stacklevel=1)
        self.conn.close()


def source(
    user: str | None = None, password_env: str = PASSWORD_ENV, *, thick: bool | None = None
) -> dict[str, Any]:
    """A `source:` block; thick mode when EXPORTER_TEST_ORACLE_LIB_DIR is set (or `thick`)."""
    block: dict[str, Any] = {
        "engine": "oracle",
        "dsn": DSN,
        "user": user or USER,
        "password_env": password_env,
    }
    if (LIB_DIR is not None) if thick is None else thick:
        block.update(thick_mode=True, lib_dir=LIB_DIR)
    return block


def write_config(
    folder: Path, block: dict[str, Any], out: Path, name: str = "config.yaml", **export: Any
) -> Path:
    data = {"source": block, "export": {"output_dir": str(out), **export}}
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Ran:
    code: int
    out: str
    err: str


def cli(args: Sequence[str], capsys: Any) -> Ran:
    """`exporter.cli.main(args)` in this process (a pool of worker processes all the same)."""
    from exporter.cli import main

    code = main([*args])
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def child_env() -> dict[str, str]:
    """The environment of a child run: run.sh's LD_LIBRARY_PATH for thick mode on Linux."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if LIB_DIR:
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (LIB_DIR, env.get("LD_LIBRARY_PATH")) if p
        )
    return env


def cli_child(args: Sequence[str]) -> Ran:
    """`python -m exporter ARGS` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    return Ran(done.returncode, done.stdout, done.stderr)


def records(out: Path, schema: str, table: str, by: int = 0) -> list[list[tuple[str, bool]]]:
    """Every record of the table's chunk files as (text, was_quoted) cells, headers checked
    equal and dropped, sorted by cell `by` read as an integer."""
    found: list[list[tuple[str, bool]]] = []
    headers = set()
    for path in ExportLayout(out).existing_chunk_files(TableRef(schema, table)).values():
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            head, *rows = parse_quoted(handle.read())
        headers.add(tuple(head))
        found.extend(rows)
    assert len(headers) <= 1, headers
    return sorted(found, key=lambda r: int(r[by][0]))


def differences(got: Sequence[Any], want: Sequence[Any]) -> list[Any]:
    """The first few records that differ, and the counts when they differ (pytest's own diff
    of two lists of a hundred thousand records would take minutes)."""
    found: list[Any] = [(g, w) for g, w in zip(got, want, strict=False) if g != w][:3]
    if len(got) != len(want):
        found.append(("records", len(got), "expected", len(want)))
    return found


def header(out: Path, schema: str, table: str) -> list[tuple[str, bool]]:
    path = ExportLayout(out).chunk_file(TableRef(schema, table), 0)
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return parse_quoted(handle.readline())[0]


def plan_json(out: Path, schema: str, table: str) -> dict[str, Any]:
    path = ExportLayout(out).plan_file(TableRef(schema, table))
    return dict(json.loads(path.read_text(encoding="utf-8")))


def metadata_json(out: Path, schema: str, table: str) -> dict[str, Any]:
    path = ExportLayout(out).metadata_file(TableRef(schema, table))
    return dict(json.loads(path.read_text(encoding="utf-8")))


def summary(out: Path) -> dict[str, Any]:
    """summary_report.json, its tables by `SCHEMA.TABLE` under "by_table"."""
    report = json.loads((out / "summary_report.json").read_text(encoding="utf-8"))
    report["by_table"] = {f"{t['schema']}.{t['table']}": t for t in report["tables"]}
    return dict(report)


def plan_line(stdout: str, schema: str, table: str) -> str:
    """The line `plan` or `check` printed for a table (it starts with SCHEMA.TABLE)."""
    lines = [line for line in stdout.splitlines() if line.startswith(f"{schema}.{table} ")]
    assert len(lines) == 1, (schema, table, stdout)
    return lines[0]
