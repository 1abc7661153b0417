"""Every output path, computed in one place.

export_data/summary_report.json
export_data/HR/EMPLOYEES/data_chunk_0.csv.gz
export_data/HR/EMPLOYEES/config/plan.json
export_data/HR/EMPLOYEES/config/chunks/data_chunk_0.json      (per-chunk statistics)
export_data/HR/EMPLOYEES/config/metadata.json
export_data/HR/EMPLOYEES/config/validation.sql
export_data/HR/EMPLOYEES/config/schema.json
export_data/HR/EMPLOYEES/config/load_command.sh
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


def temp_path(final: Path) -> Path:
    """The private name a file is written under before it is published:
    data_chunk_3.csv.gz -> .data_chunk_3.csv.gz.<pid>.tmp, in the same folder (same filesystem,
    so the rename is atomic)."""
    return final.with_name(f".{final.name}.{os.getpid()}{TEMP_SUFFIX}")


def is_temp_file(path: Path) -> bool:
    """True for names made by `temp_path` (and only those)."""
    return _TEMP_NAME.match(path.name) is not None
