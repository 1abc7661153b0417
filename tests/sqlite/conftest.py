"""Fixtures for the SQLite end-to-end tests: the demo database (built once per session and
copied into each test's tmp_path) and a demo config whose `orders` table splits."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from exporter.sources.sqlite_demo import build_demo_database
from tests.sqlite.helpers import write_config

# As config/demo.yaml: a 1 MB threshold and 1 MB chunks split `orders` (about 3 MB).
DEMO_EXPORT = {
    "schemas": ["main"],
    "chunk_threshold_gb": 0.001,
    "chunk_size_mb": 1,
    "chunk_strategy": "auto",
    "workers": 2,
    "fetch_rows": 5000,
}


@dataclass
class Demo:
    """A demo database, its output folder (not yet created) and a config file for both."""

    root: Path
    db: Path
    out: Path
    config: Path


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo_template") / "demo.sqlite"
    build_demo_database(path)
    return path


@pytest.fixture()
def demo(tmp_path: Path, demo_db_template: Path) -> Demo:
    """A private copy of the demo database and a demo config, all under tmp_path."""
    db = tmp_path / "demo_data" / "demo.sqlite"
    db.parent.mkdir()
    shutil.copyfile(demo_db_template, db)
    out = tmp_path / "export_data"
    return Demo(tmp_path, db, out, write_config(tmp_path, db, out, **DEMO_EXPORT))
