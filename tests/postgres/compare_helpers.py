"""Two throwaway databases on the test server, and comparator configs pointing at them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg

from exporter.config.compare import CompareConfig
from exporter.config.loader import parse_compare_config
from tests.conftest import PG


def connect(database: str) -> Any:
    return psycopg.connect(**{**PG, "dbname": database}, autocommit=True)


def pg_block(database: str) -> dict[str, Any]:
    return {
        "engine": "postgresql",
        "host": PG["host"],
        "port": PG["port"],
        "database": database,
        "user": PG["user"],
    }


def compare_config(
    source: dict[str, Any], target: dict[str, Any], folder: Path, **compare: Any
) -> dict[str, Any]:
    """A comparator config as YAML data, its three folders under `folder`."""
    return {
        "source": source,
        "target": target,
        "compare": {
            "state_dir": str(folder / "state"),
            "checkpoint_dir": str(folder / "checkpoints"),
            "report_dir": str(folder / "reports"),
            **compare,
        },
    }


def parsed(data: dict[str, Any]) -> CompareConfig:
    return parse_compare_config(data)
