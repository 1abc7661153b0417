"""`check` on SQLite, end to end: the library, the file, what the session may do, and per
table the strategy `plan` would choose with the same reason, without cutting a chunk and
without writing anything."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from exporter.canonical import rows as row_encoder
from exporter.sources.base import Source
from exporter.sources.sqlite import SqliteSource
from exporter.validation import readback_scan
from tests.sqlite.conftest import Demo
from tests.sqlite.helpers import (
    Result,
    export,
    run_inprocess,
    run_subprocess,
    tree_state,
    write_config,
)

CUTTING = ("physical_ranges", "physical_split", "key_ranges", "sample_boundaries", "estimate_rows")


def _probes(out: str) -> dict[str, str]:
    lines = out.splitlines()
    start = lines.index("privileges:") + 1
    found = {}
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        status, rest = line.split(None, 1)
        name, detail = rest.split(": ", 1)
        found[name] = f"{status} {detail}"
    return found


def _rows(out: str) -> dict[str, list[str]]:
    """The table part (check's or plan's): name -> [size, strategy, chunks, reason]."""
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("TABLE "))
    return {
        line.split()[0]: line.split(None, 4)[1:] for line in lines[header + 1 :] if line.strip()
    }


@pytest.fixture()
def no_cutting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Every way a source cuts chunks, counted (and refused) for SQLite sources."""
    calls = dict.fromkeys(CUTTING, 0)
    for name in CUTTING:

        def refuse(self: Source, *args: Any, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            raise AssertionError(f"check called {_name}")

        monkeypatch.setattr(SqliteSource, name, refuse)
    return calls


def test_check_the_demo_in_a_fresh_interpreter(demo: Demo) -> None:
    result = run_subprocess(["check", "--config", str(demo.config)], demo.root)

    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    lines = result.out.splitlines()
    assert lines[0] == f"connected to sqlite {demo.db}: SQLite {sqlite3.sqlite_version}"
    assert lines[1] == f"client: Python's sqlite3 module, SQLite library {sqlite3.sqlite_version}"
    assert lines[2].startswith("row hashes by ")
    assert lines[3] == f"Python rows encoded by {row_encoder.implementation()}"
    assert lines[3].startswith("Python rows encoded by C extension")  # built by run.sh
    assert lines[4] == f"chunk files read back by {readback_scan.implementation()}"
    assert lines[4].startswith("chunk files read back by C extension")
    probes = _probes(result.out)
    assert probes[f"file {demo.db}"] == (
        f"ok {demo.db.stat().st_size} bytes, read-only (mode=ro): never written"
    )
    for table in ("customers", "notes", "orders", "products"):
        assert probes[f"SELECT on main.{table}"] == "ok its rows can be read"
    assert probes["dbstat"] == "ok table sizes from the pages each table holds"
    assert probes["one snapshot for every chunk"].startswith("missing not on this engine")
    rows = _rows(result.out)
    assert sorted(rows) == ["main.customers", "main.notes", "main.orders", "main.products"]
    size, strategy, chunks, reason = rows["main.orders"]
    assert (strategy, chunks) == ("physical", f"~{-(-int(size) // 2**20)}")
    assert reason.endswith("> 1.0 MB threshold, physical ranges")
    for name in ("main.customers", "main.notes", "main.products"):
        assert rows[name][1:3] == ["whole", "1"]
    assert not demo.out.exists()


def test_check_cuts_nothing_and_agrees_with_plan(
    demo: Demo, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {}
    with monkeypatch.context() as patched:
        for name in CUTTING:

            def refuse(self: Source, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls[_name] = calls.get(_name, 0) + 1
                raise AssertionError(f"check called {_name}")

            patched.setattr(SqliteSource, name, refuse)
        checked = run_inprocess(["check", "--config", str(demo.config)], capsys)
    planned = run_inprocess(["plan", "--config", str(demo.config)], capsys)

    assert calls == {}
    assert checked.code == planned.code == 0, checked.err + planned.err
    told, cut = _rows(checked.out), _rows(planned.out)
    assert told.keys() == cut.keys()
    for name in told:
        size, strategy, chunks, reason = told[name]
        assert [size, strategy, reason] == [cut[name][0], cut[name][1], cut[name][3]], name
        assert chunks.lstrip("~") == cut[name][2], name  # the count aimed at is the count cut


def test_tables_without_rowid_ranges_get_key_ranges_as_plan_cuts_them(
    tmp_path: Path, capsys: Any, no_cutting: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "shapes.sqlite"
    con = sqlite3.connect(db)
    pad = "p" * 60
    con.execute(
        "CREATE TABLE keyed (a TEXT, b INTEGER, pad TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID"
    )
    con.execute("CREATE TABLE shadowed (rowid INTEGER PRIMARY KEY, oid INT, _rowid_ INT, pad TEXT)")
    con.executemany(
        "INSERT INTO keyed VALUES (?, ?, ?)", [(f"k{i % 97}", i, pad) for i in range(6000)]
    )
    con.executemany(
        "INSERT INTO shadowed VALUES (?, ?, ?, ?)", [(i, i, i, pad) for i in range(6000)]
    )
    con.commit()
    con.close()
    config = write_config(
        tmp_path, db, tmp_path / "out", chunk_threshold_gb=0.0001, chunk_size_mb=0.2
    )

    checked = run_inprocess(["check", "--config", str(config)], capsys)
    assert no_cutting == dict.fromkeys(CUTTING, 0)
    monkeypatch.undo()
    planned = run_inprocess(["plan", "--config", str(config)], capsys)

    assert checked.code == planned.code == 0, checked.err + planned.err
    told, cut = _rows(checked.out), _rows(planned.out)
    assert told["main.keyed"][1] == cut["main.keyed"][1] == "key"
    assert told["main.keyed"][3].endswith("ranges of primary key (a, b) cut at a sample")
    assert told["main.shadowed"][1] == cut["main.shadowed"][1] == "key"
    assert told["main.shadowed"][3].endswith("ranges of integer primary key rowid")
    for name in told:
        assert told[name][3] == cut[name][3], name


def test_check_shows_a_frozen_plan_and_changes_nothing(demo: Demo, capsys: Any) -> None:
    assert export(demo.config, capsys, "--table", "main.orders").code == 0
    before = tree_state(demo.out)

    result: Result = run_inprocess(["check", "--config", str(demo.config)], capsys)

    assert result.code == 0, result.err
    assert tree_state(demo.out) == before
    orders = next(line for line in result.out.splitlines() if line.startswith("main.orders "))
    assert orders.endswith("(frozen plan reused)")
    chunks = orders.split()[3]
    assert chunks.isdigit() and int(chunks) == len(
        list((demo.out / "main" / "orders").glob("*.csv.gz"))
    )


def test_a_probe_that_breaks_is_printed_and_the_tables_still_shown(
    demo: Demo, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Source, conn: Any, tables: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(SqliteSource, "probe_privileges", broken)
    result = run_inprocess(["check", "--config", str(demo.config)], capsys)

    assert result.code == 0, result.err
    (line,) = _probes(result.out).items()
    assert line[0] == "privileges" and line[1].startswith("missing could not be probed: ")
    assert line[1].endswith(f"{demo.db}: disk I/O error")
    assert _rows(result.out)["main.orders"][1] == "physical"
