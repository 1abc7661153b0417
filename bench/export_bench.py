"""Export benchmark: the exporter against `psql \\copy | pigz -1` and `| gzip -6`, same table.

Run it from the repository root with the project's virtualenv (PostgreSQL must be reachable):

    .venv/bin/python bench/export_bench.py                       # 3M rows, 2 repeats
    .venv/bin/python bench/export_bench.py --rows 300000 --repeats 3
    .venv/bin/python bench/export_bench.py --variants tool-bulk,psql-pigz1 --keep-table
    .venv/bin/python bench/export_bench.py --variants tool-rows,psql-pigz1 --chunk-threshold-gb 1

What it does:

1. Creates `bench.t` (schema `bench`) with `--rows` rows generated server-side by
   generate_series: bigint key, numeric(38,10), integer, double, varchar with awkward text
   (commas, quotes, CR/LF, backslashes, `\\N` inside text, multi-byte characters, '' and NULL),
   date, timestamp, timestamptz, boolean, a small bytea and a ~200-character text. The table is
   reused when it already holds the expected rows (same generator version), else recreated; it
   is dropped at the end unless `--keep-table`.
2. Reads the table once through `psql \\copy ... | wc -c` (untimed): warms the cache and gives
   the size of the plain CSV, the basis of every MB/s figure.
3. Copies exporter/ to bench/out/code/ and runs the tool from there (`-m exporter` in that
   directory), so the whole run measures one version even if the working tree changes
   meanwhile; the commit and whether exporter/ had uncommitted changes are recorded. Writes
   one exporter config per tool variant into bench/out/configs/ (chunk_threshold_gb low and
   chunk_size_mb = table size / `--chunks`, so the table is split into several chunks;
   `--chunk-threshold-gb` and `--chunk-size-mb` set them instead: `--chunk-threshold-gb 1`
   leaves the 980 MB table whole, `--chunk-threshold-gb 0.5 --chunk-size-mb 256` cuts it in 4).
4. Runs every variant `--repeats` times, round-robin (the order rotates each repeat), deleting
   the output after each run. Wall time is measured around the whole command; the process tree
   is polled every 50 ms through /proc, recording each process's peak RSS (VmHWM, the kernel's
   own high-water mark, so short peaks between polls are not missed) and CPU time. The
   PostgreSQL backends serving those processes (matched by client TCP port) are tracked the
   same way: their CPU is the "server CPU" column.
5. Prints a table of median wall seconds, ratio to `psql|pigz -1` (medians of this run; and
   each repeat's ratio to the baseline of the same repeat, with `nproc`),
   MB/s of CSV, output size, CPU seconds (client processes, from RUSAGE_CHILDREN; server
   backends, from /proc) and their ratio to the baseline's (steadier than wall time on a busy
   machine), peak RSS per role, and the per-process detail; writes everything to
   bench/out/results-ROWS.json.

Variants (`--variants`, comma-separated; default: the first six):
  tool-bulk           exporter, COPY path, `--no-validate`
  tool-bulk-validate  exporter, COPY path, validation on
  tool-batch          exporter, `fetch_path: batch` (Arrow batches via ADBC), `--no-validate`
  tool-rows           exporter, `fetch_path: rows`: Python rows (psycopg; Oracle's path),
                      `--no-validate`
  psql-pigz1          psql -c "\\copy (SELECT * FROM bench.t) TO STDOUT csv" | pigz -1 > file
  psql-gzip6          the same | gzip -6 > file
  tool-bulk-nohash    (extra) COPY path, enable_row_hash: false, `--no-validate`
  tool-batch-nohash   (extra) batch path, enable_row_hash: false, `--no-validate`
  tool-batch-validate (extra) batch path, validation on
  psql-gzip1          (extra) psql | gzip -1 > file
  tool-rows-nohash    (extra) rows path, enable_row_hash: false, `--no-validate`
  tool-bulk-dbhash    (extra) COPY path, `use_client_hash: false` (MD5 in PostgreSQL)

`--baseline-code DIR` also runs every tool variant with another version of the exporter, as
`<variant>@base`, in the same round-robin: DIR is a checkout whose `exporter/` imports (its
C extension built, e.g. by its own `./run.sh --version`), copied to bench/out/code-base/.
Both versions run in this virtualenv, so compare versions whose dependencies agree.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import datetime as dt
import hashlib
import json
import math
import os
import platform
import re
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
CODE = OUT / "code"
BASE_CODE = OUT / "code-base"
BASE_SUFFIX = "@base"
SCHEMA = "bench"
TABLE = "t"
QUALIFIED = f"{SCHEMA}.{TABLE}"
GENERATOR_VERSION = 1  # bump when the table definition or the generator changes
POLL_SECONDS = 0.05
BASELINE = "psql-pigz1"
MB = 1024 * 1024
TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

CREATE_SQL = f"""
CREATE TABLE {QUALIFIED} (
    id bigint PRIMARY KEY,
    amount numeric(38, 10),
    qty integer,
    ratio double precision,
    label varchar(200),
    day date,
    created timestamp,
    updated timestamptz,
    flag boolean,
    blob bytea,
    note text
)
"""

# One statement per slice of keys [__LO__, __HI__] (integers substituted, no parameters, so `%`
# is SQL modulo); every value is a function of g, so reruns match.
INSERT_SQL = """
INSERT INTO bench.t
SELECT
    g,
    CASE WHEN g % 97 = 0 THEN NULL
         WHEN g % 1000 = 1 THEN (g::numeric * 1e15 + 0.0123456789) * (1 - 2 * (g % 2))
         ELSE ((g * 1000003) % 2000000007 - 1000000000)::numeric * 1000 + (g % 9973)::numeric / 9973
    END,
    CASE WHEN g % 89 = 0 THEN NULL ELSE ((g * 2654435761) % 2147483647 - 1073741823)::integer END,
    CASE WHEN g % 83 = 0 THEN NULL
         WHEN g % 100003 = 5 THEN 'NaN'::float8
         WHEN g % 100003 = 6 THEN '-Infinity'::float8
         ELSE sin(g::float8) * power(10::float8, (g % 40) - 20)
    END,
    CASE g % 9
        WHEN 0 THEN 'plain ' || g
        WHEN 1 THEN 'comma, "quoted", ' || g || ', ""double""'
        WHEN 2 THEN 'multi' || chr(10) || 'line' || chr(13) || chr(10) || 'crlf ' || g
        WHEN 3 THEN 'ünïcödé 日本語 ' || g || ' 😀 ' || chr(9) || 'tab'
        WHEN 4 THEN ''
        WHEN 5 THEN '  leading and trailing spaces ' || g || '  '
        WHEN 6 THEN 'back\\slash \\N is not null ' || g
        WHEN 7 THEN 'NULL'
        ELSE NULL
    END,
    CASE WHEN g % 71 = 0 THEN NULL ELSE DATE '1970-01-01' + (g % 40000)::integer END,
    CASE WHEN g % 67 = 0 THEN NULL
         ELSE TIMESTAMP '2000-01-01' + g * INTERVAL '1 second 123457 microseconds' END,
    CASE WHEN g % 61 = 0 THEN NULL
         ELSE TIMESTAMPTZ '1999-12-31 23:00:00+00' + g * INTERVAL '37.5 seconds' END,
    CASE g % 3 WHEN 0 THEN true WHEN 1 THEN false ELSE NULL END,
    CASE WHEN g % 59 = 0 THEN NULL
         ELSE decode(substr(md5(g::text) || md5((g + 1)::text), 1, (8 + 2 * (g % 17))::integer),
                     'hex') END,
    left(repeat(md5(g::text) || ' lorem ipsum, dolor "sit" amet; ', 4), 190 + (g % 21)::integer)
FROM generate_series(__LO__::bigint, __HI__::bigint) AS g
"""


# ----------------------------------------------------------------------------------------------
# Variants


@dataclass(frozen=True)
class Variant:
    """One way of exporting the table."""

    name: str
    kind: str  # "tool" or "shell"
    fetch_path: str = "auto"
    validate: bool = False
    row_hash: bool = True
    client_hash: bool = True
    compressor: tuple[str, ...] = ()
    baseline: bool = False  # run with the --baseline-code snapshot

    @property
    def config_name(self) -> str:
        """The config file's name: a baseline variant uses its variant's config."""
        return self.name.removesuffix(BASE_SUFFIX)


ALL_VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("tool-bulk", "tool"),
        Variant("tool-bulk-validate", "tool", validate=True),
        Variant("tool-batch", "tool", fetch_path="batch"),
        Variant("tool-rows", "tool", fetch_path="rows"),
        Variant(BASELINE, "shell", compressor=("pigz", "-1")),
        Variant("psql-gzip6", "shell", compressor=("gzip", "-6")),
        Variant("tool-bulk-nohash", "tool", row_hash=False),
        Variant("tool-batch-nohash", "tool", fetch_path="batch", row_hash=False),
        Variant("tool-batch-validate", "tool", fetch_path="batch", validate=True),
        Variant("psql-gzip1", "shell", compressor=("gzip", "-1")),
        Variant("tool-rows-nohash", "tool", fetch_path="rows", row_hash=False),
        Variant("tool-bulk-dbhash", "tool", client_hash=False),
    )
}
DEFAULT_VARIANTS = list(ALL_VARIANTS)[:6]


# ----------------------------------------------------------------------------------------------
# Process-tree sampling through /proc


@dataclass
class ProcSample:
    """What was seen of one process during a run."""

    pid: int
    role: str
    command: str
    peak_rss_kb: int = 0
    cpu_ticks: int = 0


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(comm, ppid, utime+stime ticks) of a live process."""
    text = _read(f"/proc/{pid}/stat")
    if text is None:
        return None
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    # fields[0] is state (field 3 of stat(5)); ppid is field 4, utime 14, stime 15.
    return comm, int(fields[1]), int(fields[11]) + int(fields[12])


def _peak_rss_kb(pid: int) -> int:
    text = _read(f"/proc/{pid}/status")
    if text is None:
        return 0
    for line in text.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _command(pid: int) -> str:
    raw = _read(f"/proc/{pid}/cmdline") or ""
    return " ".join(part for part in raw.split("\0") if part)


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets `pid` holds open."""
    found: set[str] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _tcp_ports_by_inode() -> dict[str, int]:
    """Socket inode -> local TCP port, from /proc/net/tcp and tcp6."""
    ports: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in (_read(table) or "").splitlines()[1:]:
            parts = line.split()
            if len(parts) > 9:
                ports[parts[9]] = int(parts[1].rsplit(":", 1)[1], 16)
    return ports


def _backend_port(command: str) -> int | None:
    """The client port in a backend's title: `postgres: 15/main: user db 127.0.0.1(54321) ...`."""
    match = re.search(r"\((\d+)\)", command)
    return int(match.group(1)) if match else None


def _role(command: str, is_root: bool, kind: str) -> str:
    if kind == "tool":
        if is_root:
            return "coordinator"
        if "resource_tracker" in command:
            return "resource_tracker"
        if "spawn_main" in command or "multiprocessing" in command:
            return "worker"
        return "other"
    if is_root:
        return "shell"
    exe = os.path.basename(command.split(" ", 1)[0]) if command else "?"
    return exe


class TreeMonitor(threading.Thread):
    """Polls the process tree under `root`, and the PostgreSQL backends serving it (matched by
    the client's TCP port in the backend's process title), until stopped."""

    def __init__(self, root: int, kind: str) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.kind = kind
        self.samples: dict[int, ProcSample] = {}
        self.backends: dict[int, ProcSample] = {}
        self._stop_event = threading.Event()

    def stop(self) -> None:
        """Take a last sample and end the thread."""
        self._stop_event.set()
        self.join()

    def run(self) -> None:
        while True:
            self._sample()
            if self._stop_event.wait(POLL_SECONDS):
                return

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        info: dict[int, tuple[str, int, int]] = {}
        for pid in _all_pids():
            stat = _stat(pid)
            if stat is not None:
                info[pid] = stat
                parents[pid] = stat[1]
        tree = {self.root} if self.root in info else set()
        grew = True
        while grew:
            grew = False
            for pid, ppid in parents.items():
                if ppid in tree and pid not in tree:
                    tree.add(pid)
                    grew = True
        for pid in tree:
            self._record(self.samples, pid, info[pid][2], pid == self.root)
        inodes = set().union(*(_socket_inodes(pid) for pid in tree)) if tree else set()
        if not inodes:
            return
        ports = {port for inode, port in _tcp_ports_by_inode().items() if inode in inodes}
        for pid, (comm, _ppid, ticks) in info.items():
            if comm == "postgres" and (
                pid in self.backends or _backend_port(_command(pid)) in ports
            ):
                self._record(self.backends, pid, ticks, False, role="backend")

    def _record(
        self,
        into: dict[int, ProcSample],
        pid: int,
        ticks: int,
        is_root: bool,
        role: str | None = None,
    ) -> None:
        sample = into.get(pid)
        if sample is None:
            sample = ProcSample(pid, role or "?", "")
            into[pid] = sample
        if role is None:
            # Re-read each time: a process seen between fork and exec (or through a wrapper
            # such as Debian's psql, a Perl script that execs the real psql) changes command.
            # exec starts a new address space, so the peak seen before it (the parent's, which
            # fork copies) is dropped.
            command = _command(pid) or sample.command
            if sample.command and command != sample.command:
                sample.peak_rss_kb = 0
            sample.command = command
            sample.role = _role(command, is_root, self.kind)
        elif not sample.command:
            sample.command = _command(pid)
        rss = _peak_rss_kb(pid)
        if rss:
            sample.peak_rss_kb = max(sample.peak_rss_kb, rss)
        sample.cpu_ticks = max(sample.cpu_ticks, ticks)


# ----------------------------------------------------------------------------------------------
# Runs


@dataclass
class RunResult:
    """One timed run of one variant."""

    variant: str
    repeat: int
    seconds: float
    output_bytes: int
    client_cpu_seconds: float
    server_cpu_seconds: float
    load_before: float
    processes: list[ProcSample] = field(default_factory=list)
    backends: list[ProcSample] = field(default_factory=list)
    files: int = 1  # chunk files written (the tool), or 1 (a shell pipeline)

    def peak_mb(self, role: str) -> float:
        """Largest peak RSS among this run's processes with `role` (0 when none)."""
        peaks = [p.peak_rss_kb for p in self.processes if p.role == role]
        return max(peaks, default=0) / 1024


@dataclass(frozen=True)
class Settings:
    """What the command line asked for, resolved."""

    rows: int
    repeats: int
    conninfo: str
    variants: list[Variant]
    workers: int | None
    chunks: int
    keep_table: bool
    tag: str
    baseline_code: Path | None = None
    chunk_threshold_gb: float = 0.001  # low: the table is cut into `chunks` pieces
    chunk_size_mb: float | None = None  # None: table size / `chunks`


def _tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*.csv.gz") if p.is_file())


def _file_count(path: Path) -> int:
    return 1 if path.is_file() else sum(1 for p in path.rglob("*.csv.gz") if p.is_file())


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _psql_copy(conninfo: str) -> list[str]:
    copy = f"\\copy (SELECT * FROM {QUALIFIED}) TO STDOUT csv"
    return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", copy]


def snapshot_code(source: Path = REPO, code: Path = CODE) -> dict[str, Any]:
    """Copy `source`/exporter/ to `code`/ (tool runs import it from there, so edits made to
    the working tree while the benchmark runs cannot mix two versions); returns what was
    copied."""
    dest = code / "exporter"
    _remove(code)
    shutil.copytree(source / "exporter", dest, ignore=shutil.ignore_patterns("__pycache__"))
    # Compiled once here, as pip compiles an installed package: with PYTHONDONTWRITEBYTECODE
    # set (some shells and containers set it) every process of every run would compile every
    # module it imports from source, some 0.1-0.2 CPU-s each, which no installation pays.
    compileall.compile_dir(dest, quiet=1, workers=1)
    digest = hashlib.sha256()
    for path in sorted([*dest.rglob("*.py"), *dest.rglob("*.c")]):
        digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes())

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=source, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else "?"

    # The hash module's home moved in the package reshaping (exporter.hashing before); the
    # rows encoder's C extension came later (rows.implementation()).
    probe = (
        "import importlib, json, exporter\n"
        "try:\n    h = importlib.import_module('exporter.canonical.rowhash')\n"
        "except ImportError:\n    h = importlib.import_module('exporter.hashing')\n"
        "r = importlib.import_module('exporter.canonical.rows')\n"
        "rows = r.implementation() if hasattr(r, 'implementation') else 'Python'\n"
        "print(json.dumps([exporter.__file__, h._lanes is not None, rows]))"
    )
    where, lanes, rows_encoder = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], cwd=code, capture_output=True, text=True, check=True
        ).stdout
    )
    if not Path(where).resolve().is_relative_to(code.resolve()):
        raise SystemExit(f"the snapshot is not what runs: exporter imports from {where}")
    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "exporter_uncommitted_changes": git("status", "--porcelain", "--", "exporter") != "",
        "sha256": digest.hexdigest()[:16],
        # Whether the row hashes come from the C extension (canonical/_rowhash.c) or hashlib.
        "rowhash_extension": lanes,
        "rows_encoder": rows_encoder,
    }


def _command_for(variant: Variant, settings: Settings) -> tuple[list[str], Path]:
    """The argv to time and the output path it writes."""
    if variant.kind == "tool":
        output = OUT / "data" / variant.config_name
        argv = [
            sys.executable,
            "-m",
            "exporter",
            "export",
            "--config",
            str(OUT / "configs" / f"{variant.config_name}.yaml"),
            "--no-progress",
        ]
        if not variant.validate:
            argv.append("--no-validate")
        return argv, output
    output = OUT / "data" / f"{variant.name}.csv.gz"
    pipeline = (
        f"{shlex.join(_psql_copy(settings.conninfo))} | {shlex.join(variant.compressor)} "
        f"> {shlex.quote(str(output))}"
    )
    return ["bash", "-o", "pipefail", "-c", pipeline], output


def run_once(variant: Variant, settings: Settings, repeat: int) -> RunResult:
    """Run one variant once: time it, sample its processes, check it succeeded, clean up."""
    argv, output = _command_for(variant, settings)
    _remove(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    log_path = OUT / "logs" / f"{variant.name}-{repeat}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(log_path, "wb") as log:
        started = time.monotonic()
        # Tool runs start in bench/out/code, so `-m exporter` imports the snapshot.
        cwd = (BASE_CODE if variant.baseline else CODE) if variant.kind == "tool" else REPO
        proc = subprocess.Popen(argv, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        monitor = TreeMonitor(proc.pid, variant.kind)
        monitor.start()
        code = proc.wait()
        seconds = time.monotonic() - started
        monitor.stop()
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
        raise SystemExit(f"{variant.name} failed with exit code {code} ({log_path}):\n{tail}")
    size, files = _tree_size(output), _file_count(output)
    if size == 0:
        raise SystemExit(f"{variant.name} wrote nothing to {output}")
    _remove(output)
    client_cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (
        cpu_after.ru_stime - cpu_before.ru_stime
    )
    server_cpu = sum(b.cpu_ticks for b in monitor.backends.values()) / TICKS
    return RunResult(
        variant.name,
        repeat,
        round(seconds, 3),
        size,
        round(client_cpu, 2),
        round(server_cpu, 2),
        round(load_before, 2),
        sorted(monitor.samples.values(), key=lambda p: p.pid),
        sorted(monitor.backends.values(), key=lambda p: p.pid),
        files,
    )


# ----------------------------------------------------------------------------------------------
# Table and configs


def ensure_table(conninfo: str, rows: int) -> tuple[int, bool]:
    """Create (or reuse) bench.t with `rows` rows; returns (pg_table_size, reused)."""
    marker = f"export_bench v{GENERATOR_VERSION} rows={rows}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        found = conn.execute(
            "SELECT obj_description(to_regclass(%s), 'pg_class')", (QUALIFIED,)
        ).fetchone()
        if found and found[0] == marker:
            count = conn.execute(f"SELECT count(*) FROM {QUALIFIED}").fetchone()
            if count and count[0] == rows:
                size = conn.execute("SELECT pg_table_size(%s::regclass)", (QUALIFIED,)).fetchone()
                assert size is not None
                return int(size[0]), True
        print(f"creating {QUALIFIED} with {rows:,} rows ...", flush=True)
        started = time.monotonic()
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.execute(f"DROP TABLE IF EXISTS {QUALIFIED}")
        conn.execute(CREATE_SQL)
        step = 500_000
        for lo in range(1, rows + 1, step):
            hi = min(rows, lo + step - 1)
            conn.execute(INSERT_SQL.replace("__LO__", str(lo)).replace("__HI__", str(hi)))
        # Set hint bits and the visibility map now, so no timed run pays for them.
        conn.execute(f"VACUUM (FREEZE, ANALYZE) {QUALIFIED}")
        conn.execute(
            sql.SQL("COMMENT ON TABLE {} IS {}").format(
                sql.Identifier(SCHEMA, TABLE), sql.Literal(marker)
            )
        )
        size = conn.execute("SELECT pg_table_size(%s::regclass)", (QUALIFIED,)).fetchone()
        assert size is not None
        print(f"created in {time.monotonic() - started:.1f} s", flush=True)
        return int(size[0]), False


def drop_table(conninfo: str) -> None:
    """Drop bench.t (and the schema when it is empty)."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {QUALIFIED}")
        left = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s",
            (SCHEMA,),
        ).fetchone()
        if left and left[0] == 0:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA}")


def csv_bytes(conninfo: str) -> int:
    """Size of the table as plain CSV from psql (an untimed pass that also warms the cache)."""
    copy = subprocess.Popen(_psql_copy(conninfo), stdout=subprocess.PIPE)
    assert copy.stdout is not None
    total = 0
    while chunk := copy.stdout.read(1 << 20):
        total += len(chunk)
    if copy.wait() != 0:
        raise SystemExit("psql \\copy failed: check the connection settings")
    return total


def write_configs(settings: Settings, table_bytes: int) -> float:
    """One exporter config per tool variant; returns the chunk_size_mb used."""
    params = conninfo_to_dict(settings.conninfo)
    # Rounded up to 3 decimals, so ceil(size / chunk size) in the planner gives `chunks`.
    chunk_mb = settings.chunk_size_mb or max(
        0.001, math.ceil(table_bytes / settings.chunks / MB * 1000) / 1000
    )
    source: dict[str, Any] = {
        "engine": "postgresql",
        "host": str(params.get("host", "127.0.0.1")),
        "port": int(params.get("port", 5432) or 5432),
        "database": str(params.get("dbname", "test")),
        "user": str(params.get("user", "postgres")),
    }
    if params.get("password"):
        source["password_env"] = "PGPASSWORD"
        os.environ["PGPASSWORD"] = str(params["password"])
    (OUT / "configs").mkdir(parents=True, exist_ok=True)
    for variant in settings.variants:
        if variant.kind != "tool" or variant.baseline:
            continue
        export: dict[str, Any] = {
            "schemas": [SCHEMA],
            "include": [QUALIFIED],
            "output_dir": str(OUT / "data" / variant.name),
            "chunk_threshold_gb": settings.chunk_threshold_gb,
            "chunk_size_mb": chunk_mb,
            "chunk_strategy": "auto",
            "cpu_percent": 50,
            "enable_row_hash": variant.row_hash,
            "use_client_hash": variant.client_hash,
            "fetch_path": variant.fetch_path,
        }
        if settings.workers is not None:
            export["workers"] = settings.workers
        config = {
            "source": source,
            "export": export,
            "validation": {"enabled": variant.validate},
        }
        path = OUT / "configs" / f"{variant.name}.yaml"
        path.write_text(
            f"# written by bench/export_bench.py for --rows {settings.rows}\n"
            + yaml.safe_dump(config, sort_keys=False),
            encoding="utf-8",
        )
    return chunk_mb


# ----------------------------------------------------------------------------------------------
# Report


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarise(
    results: list[RunResult], variants: list[Variant], csv_size: int
) -> list[dict[str, Any]]:
    """One row per variant: medians and peaks across repeats."""
    by_name = {v.name: [r for r in results if r.variant == v.name] for v in variants}
    base = _median([r.seconds for r in by_name.get(BASELINE, [])])
    base_cpu = _median(
        [r.client_cpu_seconds + r.server_cpu_seconds for r in by_name.get(BASELINE, [])]
    )
    base_by_repeat = {r.repeat: r.seconds for r in by_name.get(BASELINE, [])}
    rows = []
    for variant in variants:
        runs = by_name[variant.name]
        median = _median([r.seconds for r in runs])
        # Each repeat against the baseline of the same repeat (the machine's load drifts).
        by_repeat = [
            round(r.seconds / base_by_repeat[r.repeat], 2)
            for r in sorted(runs, key=lambda r: r.repeat)
            if base_by_repeat.get(r.repeat)
        ]
        roles = sorted({p.role for r in runs for p in r.processes})
        cpu = _median([r.client_cpu_seconds + r.server_cpu_seconds for r in runs])
        rows.append(
            {
                "variant": variant.name,
                "runs": len(runs),
                "median_s": round(median, 2),
                "min_s": round(min(r.seconds for r in runs), 2),
                "max_s": round(max(r.seconds for r in runs), 2),
                "ratio": round(median / base, 2) if base else None,
                "csv_mb_s": round(csv_size / MB / median, 1) if median else None,
                "output_mb": round(_median([r.output_bytes for r in runs]) / MB, 1),
                "client_cpu_s": round(_median([r.client_cpu_seconds for r in runs]), 1),
                "server_cpu_s": round(_median([r.server_cpu_seconds for r in runs]), 1),
                "cpu_ratio": round(cpu / base_cpu, 2) if base_cpu else None,
                "peak_rss_mb": {
                    role: round(max(r.peak_mb(role) for r in runs), 1) for role in roles
                },
                "backend_peak_rss_mb": round(
                    max((b.peak_rss_kb for r in runs for b in r.backends), default=0) / 1024, 1
                ),
                "processes": max(len(r.processes) for r in runs),
                "chunk_files": max(r.files for r in runs),
                "ratio_by_repeat": by_repeat,
                "ratio_by_repeat_median": round(_median(by_repeat), 2) if by_repeat else None,
            }
        )
    return rows


def _rss_text(peaks: dict[str, float], kind: str) -> tuple[str, str]:
    if kind == "tool":
        return f"{peaks.get('coordinator', 0):.0f}", f"{peaks.get('worker', 0):.0f}"
    main = ", ".join(f"{k} {v:.0f}" for k, v in peaks.items() if k != "shell")
    return f"{peaks.get('shell', 0):.0f}", main


def print_report(summary: list[dict[str, Any]], variants: list[Variant]) -> None:
    """The results table as Markdown (pasted into docs/BENCHMARKS.md), then each variant's
    ratio to the baseline repeat by repeat."""
    kinds = {v.name: v.kind for v in variants}
    print(f"\nnproc {os.cpu_count()}")
    print()
    print(
        "| variant | median s | min-max s | ratio vs psql\\|pigz -1 | CSV MB/s | output MB "
        "| client CPU s | server CPU s | CPU ratio | peak RSS MB: coordinator / shell "
        "| peak RSS MB: max worker / pipeline |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in summary:
        first, second = _rss_text(row["peak_rss_mb"], kinds[row["variant"]])
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        cpu_ratio = "-" if row["cpu_ratio"] is None else f"{row['cpu_ratio']:.2f}x"
        print(
            f"| {row['variant']} | {row['median_s']:.2f} | {row['min_s']:.2f}-{row['max_s']:.2f} "
            f"| {ratio} | {row['csv_mb_s']} | {row['output_mb']} | {row['client_cpu_s']} "
            f"| {row['server_cpu_s']} | {cpu_ratio} | {first} | {second} |"
        )
    print()
    print("ratio to the same repeat's psql|pigz -1, repeat by repeat (median); chunk files:")
    for row in summary:
        ratios = ", ".join(f"{r:.2f}x" for r in row["ratio_by_repeat"])
        middle = row["ratio_by_repeat_median"]
        print(
            f"  {row['variant']:<22} {ratios} ({'-' if middle is None else f'{middle:.2f}x'});"
            f" {row['chunk_files']} file(s)"
        )
    print()


def print_processes(results: list[RunResult]) -> None:
    """Every process seen, per run: role, peak RSS, CPU."""
    print("per-process peak RSS (every run; load = 1-min load average before the run):")
    for r in results:
        parts = [f"{p.role}[{p.pid}] {p.peak_rss_kb / 1024:.0f}MB" for p in r.processes]
        backends = ", ".join(
            f"{b.peak_rss_kb / 1024:.0f}MB/{b.cpu_ticks / TICKS:.1f}s" for b in r.backends
        )
        print(
            f"  {r.variant:<20} #{r.repeat} {r.seconds:7.2f}s load {r.load_before:4.1f}  "
            + "; ".join(parts)
            + (f"  | backends {backends}" if backends else "")
        )


# ----------------------------------------------------------------------------------------------
# Main


def _parse(argv: Sequence[str] | None) -> Settings:
    parser = argparse.ArgumentParser(
        description="Time the exporter against psql \\copy | pigz -1 and | gzip -6.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=3_000_000, help="rows in bench.t")
    parser.add_argument("--repeats", type=int, default=2, help="timed runs per variant")
    parser.add_argument("--dsn", help="libpq connection string (overrides host/port/db/user)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5432)
    parser.add_argument("--db", default="test")
    parser.add_argument("--user", default="postgres")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="exporter workers; 0 = the config default (cpu_percent 50)",
    )
    parser.add_argument("--chunks", type=int, default=8, help="chunks the table is split into")
    parser.add_argument(
        "--chunk-threshold-gb",
        type=float,
        default=0.001,
        help="the configs' chunk_threshold_gb (1: bench.t stays one chunk, as by default)",
    )
    parser.add_argument(
        "--chunk-size-mb",
        type=float,
        help="the configs' chunk_size_mb (default: table size / --chunks)",
    )
    parser.add_argument(
        "--variants",
        default=",".join(DEFAULT_VARIANTS),
        help=f"comma-separated, from: {', '.join(ALL_VARIANTS)}",
    )
    parser.add_argument("--keep-table", action="store_true", help="do not drop bench.t at the end")
    parser.add_argument(
        "--baseline-code",
        type=Path,
        help="a checkout of another version: its tool variants run too, as <variant>@base",
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.variants.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_VARIANTS]
    if unknown or not names:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(ALL_VARIANTS)}")
    if args.rows < 1 or args.repeats < 1 or args.chunks < 1:
        parser.error("--rows, --repeats and --chunks must be positive")
    conninfo = args.dsn or make_conninfo(
        host=args.host, port=str(args.port), dbname=args.db, user=args.user
    )
    variants = [ALL_VARIANTS[n] for n in names]
    if args.baseline_code is not None:
        if not (args.baseline_code / "exporter").is_dir():
            parser.error(f"--baseline-code: {args.baseline_code}/exporter is not a folder")
        variants += [
            dataclasses.replace(v, name=v.name + BASE_SUFFIX, baseline=True)
            for v in variants
            if v.kind == "tool"
        ]
    return Settings(
        rows=args.rows,
        repeats=args.repeats,
        conninfo=conninfo,
        variants=variants,
        workers=args.workers or None,
        chunks=args.chunks,
        keep_table=args.keep_table,
        tag=dt.datetime.now().strftime("%Y%m%d-%H%M%S"),
        baseline_code=args.baseline_code,
        chunk_threshold_gb=args.chunk_threshold_gb,
        chunk_size_mb=args.chunk_size_mb,
    )


def _check_tools(variants: list[Variant]) -> None:
    needed = {"psql", "bash"} | {v.compressor[0] for v in variants if v.compressor}
    missing = sorted(tool for tool in needed if shutil.which(tool) is None)
    if missing:
        raise SystemExit(f"missing on PATH: {', '.join(missing)} (e.g. apt-get install pigz)")


def main(argv: Sequence[str] | None = None) -> int:
    """Create the table, run the variants round-robin, print and save the results."""
    settings = _parse(argv)
    _check_tools(settings.variants)
    OUT.mkdir(parents=True, exist_ok=True)
    code = snapshot_code()
    base_code = snapshot_code(settings.baseline_code, BASE_CODE) if settings.baseline_code else None
    table_bytes, reused = ensure_table(settings.conninfo, settings.rows)
    csv_size = csv_bytes(settings.conninfo)
    chunk_mb = write_configs(settings, table_bytes)
    print(
        f"{QUALIFIED}: {settings.rows:,} rows, table {table_bytes / MB:.1f} MB"
        f"{' (reused)' if reused else ''}, CSV {csv_size / MB:.1f} MB; "
        f"chunk_threshold_gb {settings.chunk_threshold_gb}, chunk_size_mb {chunk_mb}, "
        f"workers {settings.workers or 'config default (cpu_percent 50)'}, "
        f"nproc {os.cpu_count()}, repeats {settings.repeats}; exporter at {code['commit']}"
        f"{' + uncommitted changes' if code['exporter_uncommitted_changes'] else ''}"
        f" (snapshot {code['sha256']} in {CODE}); row hashes by "
        f"{'the C extension' if code['rowhash_extension'] else 'hashlib'}, rows encoded by "
        f"{code['rows_encoder'].split(' (')[0]}"
        + (
            f"; baseline ({BASE_SUFFIX}) at {base_code['commit']} (snapshot "
            f"{base_code['sha256']}, row hashes by "
            f"{'the C extension' if base_code['rowhash_extension'] else 'hashlib'})"
            if base_code
            else ""
        ),
        flush=True,
    )
    results: list[RunResult] = []
    names = settings.variants
    try:
        for repeat in range(settings.repeats):
            shift = repeat % len(names)
            for variant in names[shift:] + names[:shift]:
                result = run_once(variant, settings, repeat)
                results.append(result)
                print(
                    f"  repeat {repeat + 1}/{settings.repeats} {variant.name:<20} "
                    f"{result.seconds:8.2f} s  out {result.output_bytes / MB:7.1f} MB  "
                    + " ".join(f"{p.role}={p.peak_rss_kb / 1024:.0f}MB" for p in result.processes),
                    flush=True,
                )
    finally:
        if not settings.keep_table:
            drop_table(settings.conninfo)
    summary = summarise(results, names, csv_size)
    print_report(summary, names)
    print_processes(results)
    saved = OUT / f"results-{settings.rows}.json"
    saved.write_text(
        json.dumps(
            {
                "when": settings.tag,
                "command": " ".join(shlex.quote(a) for a in sys.argv),
                "nproc": os.cpu_count(),
                "exporter": code,
                "baseline_exporter": base_code,
                "machine": platform.platform(),
                "rows": settings.rows,
                "table_bytes": table_bytes,
                "csv_bytes": csv_size,
                "chunk_size_mb": chunk_mb,
                "workers": settings.workers,
                "summary": summary,
                "runs": [asdict(r) for r in results],
            },
            indent=2,
        ),
        encoding="utf-8",
    )
    print(f"\nsaved {saved}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
