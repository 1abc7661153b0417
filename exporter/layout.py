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
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from exporter.model import TableRef

CHUNK_FILE_PATTERN = re.compile(r"^data_chunk_(\d+)\.csv\.gz$")
TEMP_SUFFIX = ".tmp"
_TEMP_NAME = re.compile(r"^\..+\.\d+\.tmp$")  # .<final name>.<pid>.tmp, as temp_path writes

# Characters that cannot appear in a path component as they are (or would hide it).
_UNSAFE = re.compile(r"[/\\%\x00-\x1f\x7f]|^\.")


def safe_component(name: str) -> str:
    """A catalog name as a directory name: '/', '\\', '%', control characters and a leading
    '.' are percent-encoded (`a/b` -> `a%2Fb`), so every name maps to one folder, reversibly.
    The empty name (some engines allow it) becomes a lone '%', which no encoded name can be."""
    if not name:
        return "%"
    return _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group(0).encode()), name)


class ExportLayout:
    """Paths under one output root; nothing else in the package builds output paths."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def summary_report(self) -> Path:
        """export_data/summary_report.json"""
        return self.root / "summary_report.json"

    def table_dir(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES"""
        return self.root / safe_component(table.schema) / safe_component(table.name)

    def chunk_file(self, table: TableRef, index: int) -> Path:
        """export_data/HR/EMPLOYEES/data_chunk_3.csv.gz"""
        return self.table_dir(table) / f"data_chunk_{index}.csv.gz"

    def chunk_wildcard(self, table: TableRef) -> str:
        """HR/EMPLOYEES/data_chunk_*.csv.gz, relative to the root (for load commands)."""
        return f"{safe_component(table.schema)}/{safe_component(table.name)}/data_chunk_*.csv.gz"

    def existing_chunk_files(self, table: TableRef) -> dict[int, Path]:
        """Completed chunk files on disk, by index (temp files never match)."""
        found: dict[int, Path] = {}
        folder = self.table_dir(table)
        if folder.is_dir():
            for entry in folder.iterdir():
                match = CHUNK_FILE_PATTERN.match(entry.name)
                if match:
                    found[int(match.group(1))] = entry
        return found

    def config_dir(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config"""
        return self.table_dir(table) / "config"

    def plan_file(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config/plan.json"""
        return self.config_dir(table) / "plan.json"

    def chunk_stats_file(self, table: TableRef, index: int) -> Path:
        """export_data/HR/EMPLOYEES/config/chunks/data_chunk_3.json"""
        return self.config_dir(table) / "chunks" / f"data_chunk_{index}.json"

    def proof_file(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config/proof.json (what a passed validation was proved on)"""
        return self.config_dir(table) / "proof.json"

    def metadata_file(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config/metadata.json"""
        return self.config_dir(table) / "metadata.json"

    def validation_sql_file(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config/validation.sql"""
        return self.config_dir(table) / "validation.sql"

    def schema_file(self, table: TableRef) -> Path:
        """export_data/HR/EMPLOYEES/config/schema.json"""
        return self.config_dir(table) / "schema.json"

    def load_command_file(self, table: TableRef) -> Path:
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


def temp_path(final: Path) -> Path:
    """The private name a file is written under before it is published:
    data_chunk_3.csv.gz -> .data_chunk_3.csv.gz.<pid>.tmp, in the same folder (same filesystem,
    so the rename is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}{TEMP_SUFFIX}")


def is_temp_file(path: Path) -> bool:
    """True for names made by `temp_path` (and only those)."""
    return _TEMP_NAME.match(path.name) is not None
