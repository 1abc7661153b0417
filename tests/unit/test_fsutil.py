"""exporter/fsutil.py: atomic writes and the sweep of partial files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from exporter.fsutil import read_json, sweep_partials, write_atomic, write_json
from exporter.layout import temp_path


def test_write_atomic_writes_the_content_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "er" / "plan.json"  # parents are created
    write_atomic(target, "first é\n")
    assert target.read_text(encoding="utf-8") == "first é\n"
    assert os.listdir(target.parent) == ["plan.json"]
    write_atomic(target, b"\x00second")  # bytes are written as they are; old content replaced
    assert target.read_bytes() == b"\x00second"
    assert os.listdir(target.parent) == ["plan.json"]


def test_write_atomic_failure_keeps_old_content_and_removes_temp(tmp_path: Path) -> None:
    # The final name is a non-empty directory: the rename fails after the temp file was written.
    target = tmp_path / "plan.json"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert sorted(os.listdir(tmp_path)) == ["plan.json"]
    assert (target / "keep").read_text() == "x"


def test_write_json_round_trips(tmp_path: Path) -> None:
    data = {"b": [1, "é", None], "a": {"nested": True}, "when": Path("x")}
    path = tmp_path / "m.json"
    write_json(path, data)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    assert list(read_json(path)) == ["b", "a", "when"]  # insertion order kept
    assert read_json(path) == {"b": [1, "é", None], "a": {"nested": True}, "when": "x"}


def test_sweep_partials_removes_only_temp_files(tmp_path: Path) -> None:
    table = tmp_path / "HR" / "EMPLOYEES"
    (table / "config" / "chunks").mkdir(parents=True)
    temps = [
        temp_path(table / "data_chunk_0.csv.gz"),
        temp_path(table / "config" / "plan.json"),
        temp_path(table / "config" / "chunks" / "data_chunk_0.json"),
        table / ".data_chunk_1.csv.gz.99999.tmp",  # left by another (dead) process
    ]
    keep = [
        table / "data_chunk_0.csv.gz",
        table / "config" / "plan.json",
        table / "notes.tmp",
        table / ".gitkeep",
        table / ".x.tmp",
        tmp_path / "summary_report.json",
    ]
    for path in temps + keep:
        path.write_bytes(b"x")
    assert sweep_partials(tmp_path) == len(temps)
    assert not any(p.exists() for p in temps)
    assert all(p.exists() for p in keep)
    assert sweep_partials(tmp_path) == 0


def test_sweep_partials_of_missing_root_is_zero(tmp_path: Path) -> None:
    assert sweep_partials(tmp_path / "nope") == 0


def test_sweep_partials_keeps_user_hidden_tmp_files(tmp_path: Path) -> None:
    user_file = tmp_path / "HR" / ".notes.old.tmp"
    user_file.parent.mkdir()
    user_file.write_text("mine")
    sweep_partials(tmp_path)
    assert user_file.exists()
