"""Bad input on the command line: exit code 2 and exactly one readable stderr line naming
what is wrong, never a traceback (run as a real subprocess, so stderr is exactly what a user
sees)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.sqlite.conftest import DEMO_EXPORT, Demo
from tests.sqlite.helpers import Result, run_subprocess, write_config


def _one_error_line(result: Result) -> str:
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    assert len(result.err_lines) == 1, result.err
    line = result.err_lines[0]
    assert line.startswith("error EXP-"), line
    return line


@pytest.mark.parametrize(
    ("section", "key", "named"),
    [
        ("export", "chunk_sise_mb", "export.chunk_sise_mb"),
        ("source", "pathh", "source.pathh"),
        ("bigquery", "projekt", "bigquery.projekt"),
        (None, "exprot", "exprot"),
    ],
)
def test_unknown_config_key(demo: Demo, section: str | None, key: str, named: str) -> None:
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    if section is None:
        data[key] = {"workers": 1}
    else:
        data.setdefault(section, {})[key] = 1
    demo.config.write_text(yaml.safe_dump(data), encoding="utf-8")

    result = run_subprocess(["--config", str(demo.config)], cwd=demo.root)

    line = _one_error_line(result)
    assert named in line
    assert "unknown key" in line
    assert result.out == ""
    assert not demo.out.exists()


def test_bad_config_value_names_the_key(demo: Demo) -> None:
    data = yaml.safe_load(demo.config.read_text(encoding="utf-8"))
    data["export"]["workers"] = 0
    demo.config.write_text(yaml.safe_dump(data), encoding="utf-8")

    line = _one_error_line(run_subprocess(["export", "--config", str(demo.config)], demo.root))

    assert "export.workers" in line
    assert not demo.out.exists()


def test_unknown_table(demo: Demo) -> None:
    result = run_subprocess(
        ["export", "--config", str(demo.config), "--table", "main.no_such_table"], demo.root
    )

    line = _one_error_line(result)
    assert "main.no_such_table" in line
    assert "--table" in line
    assert not demo.out.exists()  # rejected before any folder is made


def test_missing_config_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "config.yaml"

    line = _one_error_line(run_subprocess(["--config", str(missing)], tmp_path))

    assert str(missing) in line
    assert "not found" in line


def test_config_that_is_not_yaml(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("source: {engine: sqlite\nexport: [", encoding="utf-8")

    line = _one_error_line(run_subprocess(["--config", str(config)], tmp_path))

    assert str(config) in line and "YAML" in line


def test_missing_sqlite_database(tmp_path: Path) -> None:
    db = tmp_path / "absent.sqlite"
    out = tmp_path / "out"
    config = write_config(tmp_path, db, out, **DEMO_EXPORT)

    line = _one_error_line(run_subprocess(["export", "--config", str(config)], tmp_path))

    assert str(db) in line
    assert not db.exists(), "a missing database must not be created without create_demo"


def test_compare_with_an_export_config_names_what_is_missing(demo: Demo) -> None:
    # The comparator has arrived (it was "not available" before): an export config, which has
    # no target, is refused in one line naming the key.
    line = _one_error_line(run_subprocess(["compare", "--config", str(demo.config)], demo.root))

    assert line.startswith("error EXP-1001: ") and "target" in line


def test_unknown_option_is_usage_error(demo: Demo) -> None:
    result = run_subprocess(["export", "--config", str(demo.config), "--wrokers", "2"], demo.root)

    assert result.code == 2
    assert "Traceback" not in result.err
    assert "--wrokers" in result.err
    assert not demo.out.exists()
