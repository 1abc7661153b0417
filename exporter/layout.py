"""Every output path, computed in one place.

The export (ExportLayout):
export_data/summary_report.json
export_data/HR/EMPLOYEES/data_chunk_0.csv.gz
export_data/HR/EMPLOYEES/config/plan.json
export_data/HR/EMPLOYEES/config/chunks/data_chunk_0.json      (per-chunk statistics)
export_data/HR/EMPLOYEES/config/metadata.json
export_data/HR/EMPLOYEES/config/proof.json                    (a passed validation's evidence)
export_data/HR/EMPLOYEES/config/validation.sql
export_data/HR/EMPLOYEES/config/schema.json
export_data/HR/EMPLOYEES/config/load_command.sh

The comparator (CompareLayout; the three folders are compare.state_dir, checkpoint_dir and
report_dir):
oracle_comparison_state/oracle_session_<id>.json          (the session)
oracle_comparison_state/oracle_session_<id>.lock          (the pid of the run holding it)
oracle_comparison_state/plans/<id>_HR_EMPLOYEES.json      (a table's frozen key ranges)
oracle_checkpoints/<id>_HR_EMPLOYEES_chunk_3.json          (one finished chunk)
comparison_reports/<id>/HR_EMPLOYEES.json and .csv        (a table's differences)
comparison_reports/<id>/summary.json                      (the run summary)

The export's root may be an fsspec URL (storage.py): gs://bucket/run1/HR/EMPLOYEES/... then,
with the same names below it.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import TypeVar

from exporter.model import TableRef
from exporter.storage import RemotePath, StorePath, StoreSpec, cloud_storage_url, list_names

CHUNK_FILE_PATTERN = re.compile(r"^data_chunk_(\d+)\.csv\.gz$")
TEMP_SUFFIX = ".tmp"
# .<final name>.<pid>-<token>.tmp, as temp_path writes (and .<name>.<pid>.tmp, as it wrote).
_TEMP_NAME = re.compile(r"^\..+\.(\d+)(-[0-9a-f]{8})?\.tmp$")  # group 1: the writer's pid
# Chosen once per process: with the pid, a temp name no other process, on any machine
# writing to a shared folder, can have (a Dask task run twice cannot collide).
_PROCESS_TOKEN = secrets.token_hex(4)
UPLOADS_DIR = "exporter-uploads"  # in the local temp folder: chunks on their way to a store

# Characters that cannot appear in a path component as they are (or would hide it); in a
# store's URL also those fsspec and `bq load` read as query, fragment or wildcard.
_UNSAFE = re.compile(r"[/\\%\x00-\x1f\x7f]|^\.")
_UNSAFE_IN_URL = re.compile(r"[/\\%\x00-\x1f\x7f#?*\[\]]|^\.")
P = TypeVar("P", Path, RemotePath)


def safe_component(name: str, unsafe: re.Pattern[str] = _UNSAFE) -> str:
    """A catalog name as a directory name: '/', '\\', '%', control characters and a leading
    '.' are percent-encoded (`a/b` -> `a%2Fb`), so every name maps to one folder, reversibly.
    The empty name (some engines allow it) becomes a lone '%', which no encoded name can be."""
    if not name:
        return "%"
    return unsafe.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), name)


class ExportLayout:
    """Paths under one output root; nothing else in the package builds output paths. The
    root is a local folder (a Path) or a folder in a store (storage.RemotePath); `spec` is
    the same root as plain data, for tasks to open it where they run."""

    def __init__(self, root: StorePath | str, spec: StoreSpec | None = None) -> None:
        self.root: StorePath = root if isinstance(root, RemotePath) else Path(root)
        self.spec = spec or StoreSpec(str(self.root))
        self._unsafe = _UNSAFE if isinstance(self.root, Path) else _UNSAFE_IN_URL

    @classmethod
    def at(cls, spec: StoreSpec) -> ExportLayout:
        """The layout under `spec`'s root, its store opened (in this process)."""
        return cls(spec.open(), spec)

    def summary_report(self) -> StorePath:
        """export_data/summary_report.json"""
        return self.root / "summary_report.json"

    def write_probe(self) -> StorePath:
        """export_data/.write_check.<pid>-<token>.tmp: written and deleted before a run whose
        root is in a store (a temp name: swept if ever left)."""
        return self.root / temp_name("write_check")

    def _folder(self, table: TableRef) -> str:
        """HR/EMPLOYEES: the table's folder below the root."""
        schema, name = (safe_component(n, self._unsafe) for n in (table.schema, table.name))
        return f"{schema}/{name}"

    def table_dir(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES"""
        schema, name = self._folder(table).split("/")
        return self.root / schema / name

    def chunk_file(self, table: TableRef, index: int) -> StorePath:
        """export_data/HR/EMPLOYEES/data_chunk_3.csv.gz"""
        return self.table_dir(table) / f"data_chunk_{index}.csv.gz"

    def chunk_wildcard(self, table: TableRef) -> str:
        """HR/EMPLOYEES/data_chunk_*.csv.gz, relative to the root (for load commands)."""
        return f"{self._folder(table)}/data_chunk_*.csv.gz"

    def chunk_uris(self, table: TableRef) -> str | None:
        """gs://bucket/run1/HR/EMPLOYEES/data_chunk_*.csv.gz where the root is in Cloud
        Storage (what `bq load` reads), else None."""
        root = cloud_storage_url(self.root)
        return f"{root}/{self.chunk_wildcard(table)}" if root else None

    def existing_chunk_files(self, table: TableRef) -> dict[int, StorePath]:
        """Completed chunk files in the table's folder, by index (temp files never match)."""
        found: dict[int, StorePath] = {}
        folder = self.table_dir(table)
        for name in list_names(folder):
            match = CHUNK_FILE_PATTERN.match(name)
            if match:
                found[int(match.group(1))] = folder / name
        return found

    def config_dir(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config"""
        return self.table_dir(table) / "config"

    def plan_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/plan.json"""
        return self.config_dir(table) / "plan.json"

    def chunk_stats_file(self, table: TableRef, index: int) -> StorePath:
        """export_data/HR/EMPLOYEES/config/chunks/data_chunk_3.json"""
        return self.config_dir(table) / "chunks" / f"data_chunk_{index}.json"

    def proof_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/proof.json (what a passed validation was proved on)"""
        return self.config_dir(table) / "proof.json"

    def metadata_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/metadata.json"""
        return self.config_dir(table) / "metadata.json"

    def validation_sql_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/validation.sql"""
        return self.config_dir(table) / "validation.sql"

    def schema_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/schema.json"""
        return self.config_dir(table) / "schema.json"

    def load_command_file(self, table: TableRef) -> StorePath:
        """export_data/HR/EMPLOYEES/config/load_command.sh"""
        return self.config_dir(table) / "load_command.sh"


SESSION_PREFIX = "oracle_session_"
_SESSION_FILE = re.compile(r"^oracle_session_(.+)\.json$")


class CompareLayout:
    """Paths of the comparator's sessions, checkpoints and reports."""

    def __init__(self, state_dir: Path, checkpoint_dir: Path, report_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.checkpoint_dir = Path(checkpoint_dir)
        self.report_dir = Path(report_dir)

    @staticmethod
    def table_part(table: TableRef) -> str:
        """HR_EMPLOYEES: a table in file names (each part made safe)."""
        return f"{safe_component(table.schema)}_{safe_component(table.name)}"

    def session_file(self, session_id: str) -> Path:
        """oracle_comparison_state/oracle_session_<id>.json"""
        return self.state_dir / f"{SESSION_PREFIX}{session_id}.json"

    def lock_file(self, session_id: str) -> Path:
        """oracle_comparison_state/oracle_session_<id>.lock"""
        return self.state_dir / f"{SESSION_PREFIX}{session_id}.lock"

    def session_ids(self) -> list[str]:
        """The ids of every session file in the state folder."""
        if not self.state_dir.is_dir():
            return []
        found = (_SESSION_FILE.match(entry.name) for entry in self.state_dir.iterdir())
        return sorted(match.group(1) for match in found if match)

    def plan_file(self, session_id: str, table: TableRef) -> Path:
        """oracle_comparison_state/plans/<id>_HR_EMPLOYEES.json"""
        return self.state_dir / "plans" / f"{session_id}_{self.table_part(table)}.json"

    def checkpoint_prefix(self, session_id: str, table: TableRef) -> str:
        """<id>_HR_EMPLOYEES_chunk_: what every checkpoint name of the table starts with."""
        return f"{session_id}_{self.table_part(table)}_chunk_"

    def checkpoint_file(self, session_id: str, table: TableRef, index: int) -> Path:
        """oracle_checkpoints/<id>_HR_EMPLOYEES_chunk_3.json"""
        return self.checkpoint_dir / f"{self.checkpoint_prefix(session_id, table)}{index}.json"

    def session_files(self, session_id: str) -> list[Path]:
        """Every file a session owns outside its report folder: session, lock, plans and
        checkpoints (names that start with the id and an underscore)."""
        owned = [self.session_file(session_id), self.lock_file(session_id)]
        for folder in (self.state_dir / "plans", self.checkpoint_dir):
            if folder.is_dir():
                owned += [f for f in folder.iterdir() if f.name.startswith(f"{session_id}_")]
        return [path for path in owned if path.exists()]

    def reports(self, session_id: str) -> Path:
        """comparison_reports/<id>"""
        return self.report_dir / session_id

    def table_report(self, session_id: str, table: TableRef, suffix: str) -> Path:
        """comparison_reports/<id>/HR_EMPLOYEES.json (or .csv)"""
        return self.reports(session_id) / f"{self.table_part(table)}{suffix}"

    def summary(self, session_id: str) -> Path:
        """comparison_reports/<id>/summary.json"""
        return self.reports(session_id) / "summary.json"


def temp_name(name: str) -> str:
    """data_chunk_3.csv.gz -> .data_chunk_3.csv.gz.<pid>-<token>.tmp"""
    return f".{name}.{os.getpid()}-{_PROCESS_TOKEN}{TEMP_SUFFIX}"


def temp_path(final: P) -> P:
    """The private name a file is written under before it is published:
    data_chunk_3.csv.gz -> .data_chunk_3.csv.gz.<pid>-<token>.tmp, in the same folder (same
    filesystem, so the rename is atomic)."""
    return final.with_name(temp_name(final.name))


def staging_path(final: RemotePath) -> Path:
    """Where a file bound for a store is written first, on this machine, a new name each time
    (two threads of a process may write chunk 3 of two tables at once):
    $TMPDIR/exporter-uploads/.<random>-data_chunk_3.csv.gz.<pid>-<token>.tmp"""
    unique = f"{secrets.token_hex(6)}-{final.name}"
    return temp_path(Path(tempfile.gettempdir()) / UPLOADS_DIR / unique)


def is_temp_file(path: StorePath) -> bool:
    """True for names made by `temp_path` (and only those)."""
    return _TEMP_NAME.match(path.name) is not None


def temp_files_of(final: Path) -> list[tuple[Path, int]]:
    """The temp files `temp_path` names for `final` in its folder now, each with the pid of
    the process writing it (the read-back follows a chunk file as it is written)."""
    found = []
    for path in final.parent.glob(f".{glob.escape(final.name)}.*{TEMP_SUFFIX}"):
        if named := _TEMP_NAME.match(path.name):
            found.append((path, int(named.group(1))))
    return found
