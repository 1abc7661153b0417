"""Live Oracle: one image of a table across a kill -9 and a resume (issue 14, "One image of
the database, across resumes"), with rows changed by another session in between.

The contract (being built with this suite): with export.consistent_snapshot true (the
default), a table's frozen plan, export_data/SCHEMA/TABLE/config/plan.json, stores the SCN
under "snapshot" when the table is first planned; every chunk of the table is read at that
SCN, after a kill and resume too; metadata.json's "snapshot" is that SCN; deleting the
table's folder plans it again at a new SCN. Expected cells are literals (docs/FORMAT.md:
INTEGER and DECIMAL unquoted, every digit as stored; text always quoted).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exporter.layout import ExportLayout
from exporter.model import TableRef
from tests.oracle.live_helpers import (
    CHILD_TIMEOUT,
    Live,
    Names,
    child_env,
    cli_child,
    differences,
    drop_table,
    metadata_json,
    needs_oracle,
    plan_json,
    qq,
    records,
    source,
    summary,
    write_config,
)

pytestmark = [needs_oracle, pytest.mark.slow]

ROWS = 200_000  # about 30 MB of heap: ~30 chunks of 1 MB, so a kill lands early
PAD = "x" * 100


def statements(n: Names) -> dict[str, str]:
    t = qq(n.owner, n.table("SNAP"))
    return {
        "create": f"CREATE TABLE {t} (id NUMBER(10) PRIMARY KEY, "
        "label VARCHAR2(120) NOT NULL, amount NUMBER(12, 2) NOT NULL)",
        # 'row <id> ' and 100 x's, and <id>.5: the image the SCN holds, row by row.
        "fill": f"INSERT INTO {t} (id, label, amount) "
        "SELECT LEVEL, 'row ' || LEVEL || ' ' || RPAD('x', 100, 'x'), LEVEL + 0.5 "
        "FROM DUAL CONNECT BY LEVEL <= :rows",
        # What another session commits while the export is down: an update at the start,
        # middle and end of the table, deletes beside them, and a row appended.
        "update": f"UPDATE {t} SET label = 'changed', amount = -1 WHERE id IN (1, 100000, 200000)",
        "delete": f"DELETE FROM {t} WHERE id IN (2, 100001, 199999)",
        "insert": f"INSERT INTO {t} (id, label, amount) VALUES (200001, 'inserted', 0.25)",
        "drop": drop_table(n.owner, n.table("SNAP")),
    }


def old_row(i: int) -> list[tuple[str, bool]]:
    """Row i as the fill wrote it: `i`, "row i xxx...x", `i.5`."""
    return [(str(i), False), (f"row {i} {PAD}", True), (f"{i}.5", False)]


# The rows the other session touched, as the plan's SCN saw them ...
OLD_IMAGE = {
    1: [("1", False), ("row 1 " + PAD, True), ("1.5", False)],
    2: [("2", False), ("row 2 " + PAD, True), ("2.5", False)],
    100000: [("100000", False), ("row 100000 " + PAD, True), ("100000.5", False)],
    100001: [("100001", False), ("row 100001 " + PAD, True), ("100001.5", False)],
    199999: [("199999", False), ("row 199999 " + PAD, True), ("199999.5", False)],
    200000: [("200000", False), ("row 200000 " + PAD, True), ("200000.5", False)],
}
# ... and as a later SCN sees them (None: deleted).
NEW_IMAGE = {
    1: [("1", False), ("changed", True), ("-1", False)],
    2: None,
    100000: [("100000", False), ("changed", True), ("-1", False)],
    100001: None,
    199999: None,
    200000: [("200000", False), ("changed", True), ("-1", False)],
    200001: [("200001", False), ("inserted", True), ("0.25", False)],
}


def _kill_after_first_chunk(config: Path, out: Path, table: TableRef) -> int:
    """Start `export` in its own process group, SIGKILL the whole group as soon as the
    table's first chunk file is published, and return the exit status (-9 when killed)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "exporter", "export", "--config", str(config), "--no-progress"],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    layout = ExportLayout(out)
    deadline = time.monotonic() + CHILD_TIMEOUT
    try:
        while not layout.existing_chunk_files(table) and proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError("no chunk file appeared")
            time.sleep(0.005)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _file_states(out: Path, ref: TableRef) -> dict[int, tuple[int, int, int]]:
    states = {}
    for index, path in ExportLayout(out).existing_chunk_files(ref).items():
        st = path.stat()
        states[index] = (st.st_ino, st.st_mtime_ns, st.st_size)
    return states


def _by_id(rows: list[list[tuple[str, bool]]]) -> dict[int, list[tuple[str, bool]]]:
    return {int(r[0][0]): r for r in rows}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and kill -9")
def test_kill_and_resume_reads_every_chunk_at_the_plans_scn(live: Live, tmp_path: Path) -> None:
    n = live.names
    sql = statements(n)
    table = n.table("SNAP")
    ref = TableRef(n.owner, table)
    live.create(sql["create"], sql["drop"])
    live.run(sql["fill"], {"rows": ROWS})
    out = tmp_path / "out"
    config = write_config(
        tmp_path,
        source(),
        out,
        schemas=[n.owner],
        include=[f"{n.owner}.{table}"],
        chunk_threshold_gb=0,
        chunk_size_mb=1,
        workers=2,
        fetch_rows=500,
        enable_row_hash=False,
        consistent_snapshot=True,
    )

    status = _kill_after_first_chunk(config, out, ref)

    assert status == -signal.SIGKILL, f"the export ended ({status}) before it could be killed"
    scn = str(plan_json(out, n.owner, table)["snapshot"])
    assert scn.isdigit(), scn
    survivors = _file_states(out, ref)
    planned = len(plan_json(out, n.owner, table)["chunks"])
    assert 0 < len(survivors) < planned, (len(survivors), planned)

    # Another session changes rows of chunks not yet written, and commits.
    for step in ("update", "delete", "insert"):
        live.run(sql[step])

    resumed = cli_child(["export", "--config", str(config), "--no-progress"])

    assert resumed.code == 0, resumed.err
    assert str(plan_json(out, n.owner, table)["snapshot"]) == scn
    meta = metadata_json(out, n.owner, table)
    assert str(meta["snapshot"]) == scn
    assert {str(c["snapshot"]) for c in meta["chunks"]} == {scn}
    # COUNT(*) at the SCN: the image's 200000 rows, not today's 199998.
    assert (meta["source_row_count"], meta["exported_row_count"]) == (ROWS, ROWS)
    entry = summary(out)["by_table"][f"{n.owner}.{table}"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["chunks_skipped"] == len(survivors)
    now = _file_states(out, ref)
    assert {i: now[i] for i in survivors} == survivors  # not rewritten
    got = records(out, n.owner, table)
    by_id = _by_id(got)
    assert {i: by_id.get(i) for i in OLD_IMAGE} == OLD_IMAGE
    assert 200001 not in by_id
    assert not differences(got, [old_row(i) for i in range(1, ROWS + 1)])

    # Deleting the table's folder plans it again, at a new SCN: today's image.
    shutil.rmtree(ExportLayout(out).table_dir(ref))
    again = cli_child(["export", "--config", str(config), "--no-progress"])

    assert again.code == 0, again.err
    new_scn = str(plan_json(out, n.owner, table)["snapshot"])
    assert new_scn.isdigit() and int(new_scn) > int(scn), (scn, new_scn)
    meta = metadata_json(out, n.owner, table)
    assert str(meta["snapshot"]) == new_scn
    assert meta["source_row_count"] == ROWS - 2
    by_id = _by_id(records(out, n.owner, table))
    assert len(by_id) == ROWS - 2
    assert {i: by_id.get(i) for i in NEW_IMAGE} == NEW_IMAGE
    assert by_id[3] == old_row(3) and by_id[199998] == old_row(199998)
