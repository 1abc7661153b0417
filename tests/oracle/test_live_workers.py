"""Live Oracle: a real run as a DBA starts it, `python -m exporter` in a fresh interpreter with
two worker processes (forked from a server that imported oracledb once), in thin mode and in
thick mode (when EXPORTER_TEST_ORACLE_LIB_DIR names an Oracle Instant Client; each worker
initialises the client itself, DESIGN.md section 8). `check` says which mode the driver runs in.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.oracle.live_helpers import (
    LIB_DIR,
    Live,
    Names,
    cli_child,
    differences,
    drop_table,
    needs_oracle,
    plan_json,
    qq,
    records,
    source,
    summary,
    write_config,
)

pytestmark = [needs_oracle, pytest.mark.slow]

ROWS = 50_000


def statements(n: Names) -> dict[str, str]:
    t = qq(n.owner, n.table("POOL"))
    return {
        "create": f"CREATE TABLE {t} (id NUMBER(10) PRIMARY KEY, label VARCHAR2(60), "
        "amount NUMBER(12, 2))",
        "fill": f"INSERT INTO {t} (id, label, amount) "
        "SELECT LEVEL, 'pool ' || LEVEL, LEVEL + 0.25 FROM DUAL CONNECT BY LEVEL <= :rows",
        "drop": drop_table(n.owner, n.table("POOL")),
    }


@pytest.fixture(scope="module")
def pool_table(live: Live) -> Iterator[str]:
    sql = statements(live.names)
    live.create(sql["create"], sql["drop"])
    live.run(sql["fill"], {"rows": ROWS})
    live.gather_stats(live.names.owner, live.names.table("POOL"))
    yield live.names.table("POOL")


@pytest.mark.parametrize("mode", ["thin", "thick"])
def test_worker_processes_export_every_row_once(
    live: Live, pool_table: str, tmp_path: Path, mode: str
) -> None:
    if mode == "thick" and not LIB_DIR:
        pytest.skip("EXPORTER_TEST_ORACLE_LIB_DIR is not set: no Oracle Client for thick mode")
    n = live.names
    out = tmp_path / "out"
    config = write_config(
        tmp_path,
        source(thick=mode == "thick"),
        out,
        schemas=[n.owner],
        include=[f"{n.owner}.{pool_table}"],
        chunk_threshold_gb=0,
        chunk_size_mb=0.25,
        workers=2,
        fetch_rows=1000,
    )

    checked = cli_child(["check", "--config", str(config)])
    ran = cli_child(["export", "--config", str(config), "--no-progress"])

    assert checked.code == 0, checked
    assert f"{mode} mode" in checked.out, checked.out
    assert ran.code == 0, ran
    report = summary(out)
    assert report["workers"] == 2
    (entry,) = report["tables"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["chunks_planned"] == len(plan_json(out, n.owner, pool_table)["chunks"]) > 2
    assert entry["validation"]["source_row_count"] == ROWS
    want = [[(str(i), False), (f"pool {i}", True), (f"{i}.25", False)] for i in range(1, ROWS + 1)]
    got = [r[:3] for r in records(out, n.owner, pool_table)]  # the row_hash cell dropped
    assert not differences(got, want)
