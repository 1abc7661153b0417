"""Every large PostgreSQL table splits (issue 17): a declaratively partitioned table is planned
per leaf partition (the DEFAULT partition included), and a table keyed only by text splits on
its key in the column's own collation.

What is checked, with small thresholds: the plan's size is the leaves' and it names every
leaf; chunks are near the chunk size; every row is written exactly once and validation
SUCCEEDS; a partition attached or detached after the plan was frozen stops the re-run with the
change named, leaving the written chunk files as they were. kill -9 and resume of the same
tables: test_kill_resume.py.
"""

from __future__ import annotations

import collections
import csv
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter.layout import ExportLayout
from exporter.model import TablePlan, TableRef
from tests.conftest import pg_source
from tests.sqlite.helpers import export, file_state, summary

pytestmark = pytest.mark.postgres

ROWS = 120_000
MONTHS = 6  # partitions for 2024-01 .. 2024-06; later rows land in the DEFAULT partition


def create_events(pg: Any, schema: str, rows: int = ROWS) -> list[TableRef]:
    """A table partitioned by month plus a DEFAULT partition, with a primary key of two
    columns that includes the partition key; returns its leaves."""
    s = f'"{schema}"'
    pg.execute(
        f"CREATE TABLE {s}.events (id bigint, occurred_at timestamptz NOT NULL, "
        "payload text, amount numeric(12, 2), PRIMARY KEY (id, occurred_at)) "
        "PARTITION BY RANGE (occurred_at)"
    )
    leaves = []
    for month in range(1, MONTHS + 1):
        name = f"events_2024_{month:02d}"
        pg.execute(
            f"CREATE TABLE {s}.{name} PARTITION OF {s}.events FOR VALUES "
            f"FROM ('2024-{month:02d}-01') TO ('2024-{month + 1:02d}-01')"
        )
        leaves.append(TableRef(schema, name))
    pg.execute(f"CREATE TABLE {s}.events_default PARTITION OF {s}.events DEFAULT")
    leaves.append(TableRef(schema, "events_default"))
    # One row every 150 s from 2024-01-01: rows past June (about an eighth) go to DEFAULT.
    pg.execute(
        f"INSERT INTO {s}.events SELECT g, timestamptz '2024-01-01 00:00:00+00' "
        "+ g * interval '150 seconds', repeat(md5(g::text), 2), g / 100.0 "
        f"FROM generate_series(1, {rows}) AS g"
    )
    pg.execute(f"ANALYZE {s}.events")
    return sorted(leaves)


def write_config(tmp_path: Path, schema: str, **export: Any) -> Path:
    config = {
        "source": pg_source(),
        "export": {
            "schemas": [schema],
            "output_dir": str(tmp_path / "out"),
            "chunk_threshold_gb": 0.001,
            "workers": 2,
            **export,
        },
        "validation": {"enabled": True},
    }
    path = tmp_path / "export.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def chunk_rows(layout: ExportLayout, ref: TableRef, key: str) -> list[collections.Counter[str]]:
    """Per chunk file, in chunk order: how often each value of column `key` appears."""
    per_chunk = []
    for _, path in sorted(layout.existing_chunk_files(ref).items()):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, strict=True)
            at = next(reader).index(key)
            per_chunk.append(collections.Counter(record[at] for record in reader))
    return per_chunk


def read_plan(layout: ExportLayout, ref: TableRef) -> TablePlan:
    return TablePlan.from_json(json.loads(layout.plan_file(ref).read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("chunk_mb", "shape"),
    [(0.75, "leaves split in physical ranges"), (5.0, "small leaves grouped")],
)
def test_partitioned_table_is_read_per_leaf(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object, chunk_mb: float, shape: str
) -> None:
    leaves = create_events(pg, pg_schema)
    ((leaf_bytes,),) = pg.execute(
        "SELECT CAST(sum(pg_table_size(relid)) AS bigint) FROM pg_partition_tree(%s) WHERE isleaf",
        (f'"{pg_schema}".events',),
    ).fetchall()
    config = write_config(tmp_path, pg_schema, chunk_size_mb=chunk_mb)
    layout, ref = ExportLayout(tmp_path / "out"), TableRef(pg_schema, "events")

    result = export(config, capsys)

    assert result.code == 0, result.err
    entry = summary(tmp_path / "out")["events"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    assert entry["validation"]["row_count_match"] is True
    assert not entry["validation"]["failures"]
    plan = read_plan(layout, ref)
    assert plan.size_bytes == leaf_bytes > 0  # the parent itself stores nothing
    assert plan.strategy == "partitions"
    assert f"{len(leaves)} partitions" in plan.reason
    assert list(plan.partitions) == leaves  # every leaf, DEFAULT included, frozen in the plan
    assert all(c.bounds.partitions for c in plan.chunks)
    if shape == "small leaves grouped":
        assert all(c.bounds.kind == "whole" for c in plan.chunks)
        assert max(len(c.bounds.partitions) for c in plan.chunks) > 1
    else:
        assert all(len(c.bounds.partitions) == 1 for c in plan.chunks)
        assert sum(c.bounds.kind == "physical" for c in plan.chunks) > len(leaves)

    per_chunk = chunk_rows(layout, ref, "id")
    seen = sum(per_chunk, collections.Counter())
    assert sorted(int(k) for k in seen) == list(range(1, ROWS + 1))
    assert set(seen.values()) == {1}, "a row was written twice"
    # Chunks near the chunk size: none more than a third over it, and as many as the size asks.
    row_bytes = leaf_bytes / ROWS
    chunk_bytes = chunk_mb * 1024 * 1024
    sizes = [sum(c.values()) * row_bytes for c in per_chunk]
    assert max(sizes) <= 1.34 * chunk_bytes, [round(s / chunk_bytes, 2) for s in sizes]
    assert len(per_chunk) >= leaf_bytes / chunk_bytes


def test_partitions_attached_or_detached_after_planning_stop_the_rerun(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object
) -> None:
    create_events(pg, pg_schema, rows=30_000)
    config = write_config(tmp_path, pg_schema, chunk_size_mb=0.5)
    out = tmp_path / "out"
    layout, ref = ExportLayout(out), TableRef(pg_schema, "events")
    assert export(config, capsys).code == 0
    written = {i: file_state(p) for i, p in layout.existing_chunk_files(ref).items()}
    s = f'"{pg_schema}"'

    pg.execute(
        f"CREATE TABLE {s}.events_2030 PARTITION OF {s}.events "
        "FOR VALUES FROM ('2030-01-01') TO ('2031-01-01')"
    )
    pg.execute(f"INSERT INTO {s}.events VALUES (-1, '2030-06-01', 'new', 1)")
    attached = export(config, capsys)

    assert attached.code != 0
    assert f"attached {pg_schema}.events_2030" in attached.err
    assert "EXP-3104" in attached.err and "Traceback" not in attached.err
    assert {i: file_state(p) for i, p in layout.existing_chunk_files(ref).items()} == written

    pg.execute(f"ALTER TABLE {s}.events DETACH PARTITION {s}.events_2030")
    assert export(config, capsys).code == 0  # the plan's leaves again: nothing to redo
    assert summary(out)["events"]["chunks_skipped"] == len(written)

    pg.execute(f"ALTER TABLE {s}.events DETACH PARTITION {s}.events_2024_03")
    detached = export(config, capsys)

    assert detached.code != 0
    assert f"detached {pg_schema}.events_2024_03" in detached.err
    assert {i: file_state(p) for i, p in layout.existing_chunk_files(ref).items()} == written


def _collation(pg: Any) -> str:
    """A collation whose order is not byte order ('B' after 'a'), where the server has one."""
    for name in ("und-x-icu", "en_US.utf8", "en_US.UTF-8"):
        rows = pg.execute("SELECT 1 FROM pg_collation WHERE collname = %s", (name,)).fetchall()
        if rows:
            return f'COLLATE "{name}"'
    return ""


def test_text_keyed_table_splits_on_its_key_in_its_own_collation(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object
) -> None:
    s = f'"{pg_schema}"'
    pg.execute(f"CREATE TABLE {s}.words (code text {_collation(pg)} PRIMARY KEY, note text)")
    # Upper and lower case, accents and digits: orders differ between collations.
    pg.execute(
        f"INSERT INTO {s}.words SELECT CASE g % 4 WHEN 0 THEN upper(md5(g::text)) "
        "WHEN 1 THEN md5(g::text) WHEN 2 THEN 'é' || md5(g::text) ELSE 'Z' || g END, "
        "repeat('n', 40 + g % 30) FROM generate_series(1, 80000) AS g"
    )
    pg.execute(f"ANALYZE {s}.words")
    config = write_config(tmp_path, pg_schema, chunk_size_mb=1, chunk_strategy="key")
    layout, ref = ExportLayout(tmp_path / "out"), TableRef(pg_schema, "words")

    result = export(config, capsys)

    assert result.code == 0, result.err
    entry = summary(tmp_path / "out")["words"]
    assert entry["status"] == "SUCCEEDED", entry["errors"]
    plan = read_plan(layout, ref)
    assert (plan.strategy, plan.split_columns) == ("key", ("code",))
    per_chunk = chunk_rows(layout, ref, "code")
    assert len(per_chunk) >= 5
    seen = sum(per_chunk, collections.Counter())
    with pg.cursor() as cur:
        cur.execute(f"SELECT code FROM {s}.words")
        source = {code for (code,) in cur}
    assert set(seen) == source and set(seen.values()) == {1}
    share = len(source) / len(per_chunk)
    counts = [sum(c.values()) for c in per_chunk]
    assert all(0.5 * share <= n <= 1.6 * share for n in counts), counts


def test_a_table_without_primary_key_splits_on_a_not_null_unique_key(
    pg: Any, pg_schema: str, tmp_path: Path, capsys: object
) -> None:
    s = f'"{pg_schema}"'
    # A nullable unique column is no key to range over (a NULL is in no range); the NOT NULL
    # composite unique key is, and every row, the NULLs' included, is written once.
    pg.execute(
        f"CREATE TABLE {s}.stock (maybe int UNIQUE, site text NOT NULL, sku bigint NOT NULL, "
        "qty int, UNIQUE (site, sku))"
    )
    pg.execute(
        f"INSERT INTO {s}.stock SELECT CASE WHEN g % 3 = 0 THEN g END, 'site' || (g % 7), g, "
        "g % 100 FROM generate_series(1, 60000) AS g"
    )
    pg.execute(f"ANALYZE {s}.stock")
    config = write_config(tmp_path, pg_schema, chunk_size_mb=0.5, chunk_strategy="key")
    layout, ref = ExportLayout(tmp_path / "out"), TableRef(pg_schema, "stock")

    result = export(config, capsys)

    assert result.code == 0, result.err
    plan = read_plan(layout, ref)
    assert plan.strategy == "key" and plan.split_columns == ("site", "sku")
    assert "ranges of unique key stock_site_sku_key (site, sku) cut at a sample" in plan.reason
    assert len(plan.chunks) >= 3
    seen = sum(chunk_rows(layout, ref, "sku"), collections.Counter())
    assert sorted(int(k) for k in seen) == list(range(1, 60001)) and set(seen.values()) == {1}
    assert summary(tmp_path / "out")["stock"]["status"] == "SUCCEEDED"
