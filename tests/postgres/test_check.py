"""`check` on PostgreSQL, as a DBA runs it before a first export: a role that may read some
tables and not others, a partitioned table one of whose leaves it may not read. Every probe
says ok or missing with what follows from it, the table the role cannot read is the only
error (exit 1), and no chunk is cut: the strategies and reasons are `plan`'s."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from exporter import api
from exporter.sources.base import Source
from exporter.sources.postgres import PostgresSource
from tests.conftest import make_config, pg_source
from tests.sqlite.helpers import run_subprocess

CUTTING = ("physical_ranges", "physical_split", "key_ranges", "sample_boundaries", "estimate_rows")
SPLIT = {"chunk_threshold_gb": 0.0005, "chunk_size_mb": 1}  # 512 KB threshold, 1 MB chunks


@dataclass
class Shop:
    """A schema with three tables, and a login role granted only some of them."""

    schema: str
    role: str


@pytest.fixture()
def shop(pg: Any, pg_schema: str) -> Iterator[Shop]:
    s = pg_schema
    role = f"exp_check_{uuid.uuid4().hex[:8]}"
    pg.execute(f'CREATE TABLE "{s}".big (id int PRIMARY KEY, pad text)')
    pg.execute(
        f"INSERT INTO \"{s}\".big SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g"
    )
    pg.execute(f'CREATE TABLE "{s}".secret (id int PRIMARY KEY)')
    pg.execute(f'CREATE TABLE "{s}".events (id int, at date) PARTITION BY RANGE (at)')
    for year in (2024, 2025):
        pg.execute(
            f'CREATE TABLE "{s}".events_{year} PARTITION OF "{s}".events '
            f"FOR VALUES FROM ('{year}-01-01') TO ('{year + 1}-01-01')"
        )
    pg.execute(
        f"INSERT INTO \"{s}\".events SELECT g, date '2024-06-01' + (g % 400) "
        "FROM generate_series(1, 30000) g"
    )
    pg.execute(f'ANALYZE "{s}".big')
    pg.execute(f'CREATE ROLE "{role}" LOGIN')
    pg.execute(f'GRANT USAGE ON SCHEMA "{s}" TO "{role}"')
    pg.execute(f'GRANT SELECT ON "{s}".big, "{s}".events, "{s}".events_2024 TO "{role}"')
    try:
        yield Shop(s, role)
    finally:
        pg.execute(f'DROP OWNED BY "{role}"')
        pg.execute(f'DROP ROLE "{role}"')


def _config(tmp_path: Path, user: str, schema: str, **settings: Any) -> Path:
    data = {
        "source": {**pg_source(), "user": user},
        "export": {
            "schemas": [schema],
            "output_dir": str(tmp_path / "out"),
            **SPLIT,
            **settings,
        },
    }
    path = tmp_path / "check.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _probes(out: str) -> dict[str, str]:
    lines = out.splitlines()
    found = {}
    for line in lines[lines.index("privileges:") + 1 :]:
        if not line.startswith("  "):
            break
        status, rest = line.split(None, 1)
        name, detail = rest.split(": ", 1)
        found[name] = f"{status} {detail}"
    return found


def test_check_for_a_role_that_may_not_read_everything(shop: Shop, tmp_path: Path) -> None:
    s = shop.schema
    result = run_subprocess(["check", "--config", str(_config(tmp_path, shop.role, s))], tmp_path)

    # Errors: the table the role may not read, and the one whose leaf it may not read, which
    # an export reads per partition (each leaf directly).
    assert result.code == 1, result.err
    assert "Traceback" not in result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"connected to postgresql {shop.role}@") and "PostgreSQL" in lines[0]
    assert lines[1].startswith("client: psycopg 3.") and ", libpq " in lines[1]
    assert lines[1].endswith("; COPY rows read in C")  # the extension is built wherever tests run
    probes = _probes(result.out)
    assert probes[f"SELECT on {s}.big"] == "ok its rows can be read"
    assert probes[f"SELECT on {s}.secret"].startswith("missing 42501: ")
    assert "permission denied for table secret" in probes[f"SELECT on {s}.secret"]
    leaves = probes[f"SELECT on the 2 leaf partition(s) of {s}.events"]
    assert leaves.startswith(f"missing refused on {s}.events_2025: ")
    assert probes["pg_export_snapshot (REPEATABLE READ)"].startswith("ok every chunk imports")
    assert probes["pg_class"].startswith("ok sizes, leaf partitions and row estimates")
    assert f"never analyzed: {s}.events" in probes["pg_class"]  # big was analyzed

    rows = {line.split()[0]: line for line in lines if line.startswith(f"{s}.")}
    assert rows[f"{s}.big"].split()[2] == "physical"
    assert rows[f"{s}.big"].endswith("threshold, physical ranges")
    assert rows[f"{s}.events"].split()[1] == "ERROR"
    assert "permission denied for table events_2025" in rows[f"{s}.events"]
    assert rows[f"{s}.secret"].split()[1] == "ERROR"
    assert "permission denied for table secret" in rows[f"{s}.secret"]
    assert not (tmp_path / "out").exists()


def test_a_refused_leaf_is_no_error_where_the_parent_is_read(shop: Shop, tmp_path: Path) -> None:
    s = shop.schema
    config = _config(tmp_path, shop.role, s, chunk_strategy="key")
    result = run_subprocess(["check", "--config", str(config)], tmp_path)

    assert result.code == 1, result.err  # secret still
    rows = {line.split()[0]: line for line in result.out.splitlines() if line.startswith(f"{s}.")}
    assert rows[f"{s}.secret"].split()[1] == "ERROR"
    assert rows[f"{s}.events"].split()[1] != "ERROR", rows[f"{s}.events"]
    assert "partitions" not in rows[f"{s}.events"].split()[2]


def test_check_cuts_nothing_and_agrees_with_plan(
    shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(pg_source(), tmp_path / "out", schemas=[shop.schema], **SPLIT)
    calls: dict[str, int] = {}
    with monkeypatch.context() as patched:
        for name in CUTTING:

            def refuse(self: Source, *args: Any, _name: str = name, **kwargs: Any) -> Any:
                calls[_name] = calls.get(_name, 0) + 1
                raise AssertionError(f"check called {_name}")

            patched.setattr(PostgresSource, name, refuse)
        report = api.check(config)
    planned = api.plan(config)

    assert calls == {}
    assert all(p.ok for p in report.probes), [p for p in report.probes if not p.ok]
    told = {t.table: t for t in report.tables}
    assert len(told) == len(planned) == 3
    for item in planned:
        assert item.plan is not None and item.error is None
        outline = told[item.table]
        assert outline.error is None
        assert (outline.strategy, outline.reason) == (item.plan.strategy, item.plan.reason)
        assert outline.size_bytes == item.plan.size_bytes
        assert outline.chunks == len(item.plan.chunks)
    assert {t.strategy for t in told.values()} == {"physical", "partitions", "whole"}
