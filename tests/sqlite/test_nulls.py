"""NULL and the empty string stay apart in SQLite exports (NULL -> \\N unquoted, '' -> ""),
and a text value equal to the null marker fails its table instead of becoming NULL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from exporter.layout import CHUNK_FILE_PATTERN
from tests.csvcheck import read_chunk
from tests.sqlite.helpers import (
    chunk_files,
    export,
    exported_rows,
    source_rows,
    summary,
    table_dir,
    unzipped,
    write_config,
)

MARKER = "\\N"


def _make_db(path: Path, tables: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> Path:
    con = sqlite3.connect(path)
    for name, (columns, rows) in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({columns})')
        holes = ", ".join("?" * len(rows[0]))
        con.executemany(f'INSERT INTO "{name}" VALUES ({holes})', rows)
    con.commit()
    con.close()
    return path


MIXED_ROWS = [
    (1, None, None, None, None),
    (2, "", "", b"", ""),
    (3, "x", " ", b"\x00", "0"),
    (4, "\\n", '""', None, None),
    (5, "NULL", "\\", b"\xff", "\\N\\N"),
]


def test_null_and_empty_string_round_trip(tmp_path: Path, capsys: object) -> None:
    db = _make_db(
        tmp_path / "n.sqlite",
        {"mixed": ("id INTEGER PRIMARY KEY, s TEXT, v VARCHAR(5), b BLOB, u", MIXED_ROWS)},
    )
    out = tmp_path / "out"
    config = write_config(tmp_path, db, out, workers=2)

    result = export(config, capsys)

    assert result.code == 0, result.err
    assert summary(out)["mixed"]["status"] == "SUCCEEDED"
    header, records = read_chunk(chunk_files(out, "mixed")[0])
    assert header == ["id", "s", "v", "b", "u", "row_hash"]
    cells = {int(r[0][0]): r[1:5] for r in records}
    null = (MARKER, False)
    empty = ("", True)
    assert cells[1] == [null, null, null, null]
    assert cells[2][:2] == [empty, empty]
    assert cells[2][3] == empty
    assert cells[4][0] == ("\\n", True) and cells[4][1] == ('""', True)
    assert cells[5][0] == ("NULL", True) and cells[5][3] == ("\\N\\N", True)
    # The raw text too: NULL is the bare marker, '' is a quoted empty field. (Column s is all
    # text, so it takes the whole-column fast path, canonical/columns.py: this line fails if
    # that path writes '' unquoted; checked by planting that bug.)
    lines = unzipped(chunk_files(out, "mixed")[0]).decode("utf-8").splitlines()
    assert lines[1].startswith("1,\\N,\\N,\\N,\\N,")
    assert lines[2].startswith('2,"","",,"",')
    assert exported_rows(out, "mixed") == source_rows(db, "mixed")


@pytest.mark.parametrize("declared", ["TEXT", "VARCHAR(20)", ""])
def test_null_marker_collision_fails_the_table(
    tmp_path: Path, capsys: object, declared: str
) -> None:
    # fetch_rows 3 puts the collision in the third batch: two batches are already written to
    # the temp file when it is found, and none of it may survive as a chunk file.
    clash = [(i, MARKER if i == 8 else f"row {i}") for i in range(1, 11)]
    fine = [(i, "" if i % 2 else None) for i in range(1, 6)]
    db = _make_db(
        tmp_path / "c.sqlite",
        {
            "clash": (f"id INTEGER PRIMARY KEY, body {declared}".rstrip(), clash),
            "fine": ("id INTEGER PRIMARY KEY, body TEXT", fine),
        },
    )
    out = tmp_path / "out"
    config = write_config(tmp_path, db, out, workers=2, fetch_rows=3)

    result = export(config, capsys)

    assert result.code == 1
    assert "Traceback" not in result.err
    tables = summary(out)
    assert tables["clash"]["status"] == "FAILED"
    error = tables["clash"]["error"]
    assert "'body'" in error and "null marker" in error
    assert tables["clash"]["rows_exported"] == 0
    assert tables["fine"]["status"] == "SUCCEEDED", tables["fine"]["errors"]
    assert exported_rows(out, "fine") == source_rows(db, "fine")
    folder = table_dir(out, "clash")
    leftovers = [p.name for p in folder.rglob("*") if p.is_file() and "data_chunk" in p.name]
    assert leftovers == [], "no chunk file, temp file or sidecar of the failed chunk"
    assert not [p for p in folder.rglob("*") if CHUNK_FILE_PATTERN.match(p.name)]

    # Re-running does not turn the failure into a success.
    again = export(config, capsys)
    assert again.code == 1
    assert summary(out)["clash"]["status"] == "FAILED"
    assert chunk_files(out, "clash") == {}

    # Following the hint (another marker) works without deleting anything: no chunk file was
    # written under the old plan, so the table is simply planned again.
    if declared == "TEXT":
        fixed = write_config(
            tmp_path, db, out, workers=2, fetch_rows=3, null_marker="<null>", include=["main.clash"]
        )  # `fine` keeps its frozen plan
        assert export(fixed, capsys).code == 0
        assert summary(out)["clash"]["status"] == "SUCCEEDED"
        assert exported_rows(out, "clash") == source_rows(db, "clash")  # marker from the plan


def test_other_marker_keeps_backslash_n_as_text(tmp_path: Path, capsys: object) -> None:
    rows = [(1, MARKER), (2, None), (3, "")]
    db = _make_db(tmp_path / "m.sqlite", {"t": ("id INTEGER PRIMARY KEY, body TEXT", rows)})
    out = tmp_path / "out"
    config = write_config(tmp_path, db, out, workers=1, null_marker="NULL")

    result = export(config, capsys)

    assert result.code == 0, result.err
    _, records = read_chunk(chunk_files(out, "t")[0])
    assert [r[1] for r in records] == [(MARKER, True), ("NULL", False), ("", True)]
    assert exported_rows(out, "t") == source_rows(db, "t")
