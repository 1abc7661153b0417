"""Every awkward PostgreSQL value comes back from the files, value for value, on both paths
(bulk COPY and the generic batch path), and the two paths write byte-identical files."""

from __future__ import annotations

import gzip
import json
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exporter.canonical.cells import BIGNUMERIC_MIN
from exporter.export.planner import plan_export
from exporter.export.run import run_export
from exporter.layout import ExportLayout
from exporter.model import ColumnKind, TableRef
from exporter.sources import get_source
from tests.conftest import make_config, pg_source
from tests.csvcheck import table_rows

pytestmark = pytest.mark.postgres

AWKWARD_DDL = """
CREATE TABLE {s}.awkward (
    id integer PRIMARY KEY,
    txt text, vc varchar(20), ch char(3),
    n38 numeric(38,0), n3810 numeric(38,10), nfree numeric,
    f8 double precision, f4 real,
    i2 smallint, i8 bigint,
    d date, ts timestamp, tstz timestamptz, tm time,
    b boolean, by bytea, jb jsonb, js json, u uuid
);
"""

TEXTS = [
    "",
    "plain",
    'say "hi"',
    "a,b",
    "line\nbreak",
    "cr\r\nlf",
    "\r",
    "tab\there",
    "back\\slash",
    "x\\N ",
    "N",
    "héllo",
    "東京",
    "emoji 🎉",
    " padded ",
    '"',
    '""',
    ",",
]

ROWS = [
    # id, txt, vc, ch, n38, n3810, nfree, f8, f4, i2, i8, d, ts, tstz, tm, b, by, jb, js, u
    (1, *(None,) * 19),  # every column NULL
    (
        2,
        "",
        "",
        "",
        "99999999999999999999999999999999999999",
        "9999999999999999999999999999.9999999999",
        "0.123456789012345678901234567",
        0.0,
        0.0,
        32767,
        9223372036854775807,
        "0001-01-01",
        "0001-01-01 00:00:00",
        "2000-01-01 00:00:00+00",
        "00:00:00",
        True,
        b"",
        "{}",
        "[]",
        "00000000-0000-0000-0000-000000000000",
    ),
    (
        3,
        "x",
        "y",
        "z",
        "-99999999999999999999999999999999999999",
        "-0.0000000001",
        "-123456789012345678901234567890.12345678901234567890123",
        -0.0,
        -0.0,
        -32768,
        -9223372036854775808,
        "9999-12-31",
        "9999-12-31 23:59:59.999999",
        "2024-06-30 23:59:59.123456-07:00",
        "23:59:59.999999",
        False,
        b"\x00\x00\xff\x00",
        '{"a": [1, 2.5, "x\\"y"], "b": null}',
        '{"keep":  "spacing"}',
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    ),
    (
        4,
        "snowman ☃",
        "v",
        "c",
        "0",
        "0.0000000000",
        "1e-20",
        1e308,
        3.4e38,
        0,
        0,
        "2024-02-29",
        "2024-02-29 12:34:56.5",
        "2024-02-29 12:34:56.5+05:30",
        "12:34:56.5",
        True,
        bytes(range(256)),
        '{"unicode": "é🎉"}',
        '"string"',
        None,
    ),
    (
        5,
        "x",
        None,
        None,
        "1",
        "1.5",
        "-1e-38",  # the smallest BIGNUMERIC step: more digits fail the table
        -1e-308,
        1e-45,
        1,
        1,
        "1970-01-01",
        "1970-01-01 00:00:00.000001",
        "1969-12-31 23:59:59.999999+00",
        "00:00:00.000001",
        None,
        b'\n\r,"',
        "null",
        "1",
        None,
    ),
    (6, *(None,) * 6, float("inf"), float("-inf"), *(None,) * 11),
    (7, *(None,) * 6, float("nan"), 0.1, *(None,) * 11),
    *[
        (
            100 + i,
            t,
            t[:20],
            t[:3],
            str(i),
            f"{i}.{i}",
            f"{i}e-{i}",
            i / 7,
            i / 3,
            i,
            i * 10**15,
            "2001-01-01",
            "2001-01-01 01:01:01",
            "2001-01-01 01:01:01+01",
            "01:01:01",
            bool(i % 2),
            t.encode(),
            json.dumps({"t": t}),
            json.dumps(t),
            None,
        )
        for i, t in enumerate(TEXTS)
    ],
]


def _create(pg: Any, schema: str) -> None:
    pg.execute(AWKWARD_DDL.format(s=f'"{schema}"'))
    with pg.cursor() as cur:
        cur.executemany(f'INSERT INTO "{schema}".awkward VALUES ({", ".join(["%s"] * 20)})', ROWS)
    pg.execute(f'CREATE TABLE "{schema}".nokey (a text, b numeric)')
    pg.execute(f"INSERT INTO \"{schema}\".nokey VALUES ('x', 1), ('x', 1), (NULL, NULL), ('', 2.5)")
    pg.execute(f'CREATE TABLE "{schema}"."select" ("from" int, "my col" text, "a""b" text)')
    pg.execute(f"""INSERT INTO "{schema}"."select" VALUES (1, 'one', 'q"q'), (2, NULL, '')""")
    pg.execute(f'CREATE TABLE "{schema}"."my % table" (id int PRIMARY KEY, "Mixed % Case" text)')
    pg.execute(f"""INSERT INTO "{schema}"."my % table" VALUES (1, 'v')""")
    pg.execute(f'CREATE TABLE "{schema}".empty (id int PRIMARY KEY, v text)')


def _source_rows(pg: Any, schema: str, table: str, columns: list[Any]) -> list[tuple[Any, ...]]:
    # What the database holds, in the Python types the file cells decode to (floats widened to
    # double precision, text-like types as their text output).
    exprs = []
    for c in columns:
        name = '"' + c.name.replace('"', '""') + '"'
        if c.kind.is_text:
            exprs.append(f"{name}::text")
        elif c.kind is ColumnKind.FLOAT:
            exprs.append(f"{name}::float8")
        else:
            exprs.append(name)
    pg.execute("SET TimeZone = 'UTC'")
    sql = f'SELECT {", ".join(exprs)} FROM "{schema}"."{table}"'
    return list(pg.execute(sql).fetchall())


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return (a.is_nan() and b.is_nan()) or (str(a) == str(b))
    if isinstance(a, memoryview):
        a = bytes(a)
    return bool(a == b)


def _key(row: tuple[Any, ...]) -> str:
    return repr(row[0]) + repr(row[1:])


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_every_awkward_value_round_trips(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    _create(pg, pg_schema)
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    run = run_export(config, inline=True, show_progress=False)
    statuses = {r.table.name: (r.status, r.errors) for r in run.results}
    assert statuses == {
        t: ("SUCCEEDED", []) for t in ("awkward", "nokey", "select", "my % table", "empty")
    }
    source = get_source(config.source)
    for result in run.results:
        plan = result.plan
        assert plan is not None
        columns = list(plan.columns)
        got = table_rows(out, pg_schema, plan.table.name, columns, "\\N")
        want = _source_rows(pg, pg_schema, plan.table.name, columns)
        assert len(got) == len(want), plan.table
        for g, w in zip(sorted(got, key=_key), sorted(want, key=_key), strict=True):
            assert len(g) == len(w)
            for col, gv, wv in zip(columns, g, w, strict=True):
                assert _same(gv, wv), (plan.table.name, col.name, gv, wv)
    del source


@pytest.mark.parametrize("row_hash", [True, False])
def test_bulk_arrow_and_row_paths_write_identical_bytes(
    pg: Any, pg_schema: str, tmp_path: Path, row_hash: bool
) -> None:
    _create(pg, pg_schema)
    outs = {}
    for path in ("auto", "batch", "rows"):  # COPY, Arrow batches, Python rows
        outs[path] = tmp_path / path
        config = make_config(
            pg_source(),
            outs[path],
            schemas=[pg_schema],
            include=[f"{pg_schema}.awkward", f"{pg_schema}.select"],
            fetch_path=path,
            enable_row_hash=row_hash,
        )
        assert run_export(config, inline=True, show_progress=False).ok
    for table in ("awkward", "select"):
        ref = TableRef(pg_schema, table)
        bulk = gzip.decompress(ExportLayout(outs["auto"]).chunk_file(ref, 0).read_bytes())
        for path, used in (("auto", "bulk"), ("batch", "arrow"), ("rows", "rows")):
            stats = json.loads(ExportLayout(outs[path]).chunk_stats_file(ref, 0).read_text())
            assert stats["path"] == used, (path, stats["path"])
        for other in ("batch", "rows"):
            data = gzip.decompress(ExportLayout(outs[other]).chunk_file(ref, 0).read_bytes())
            assert bulk.decode().splitlines() == data.decode().splitlines(), other
            assert bulk == data, other


def test_database_side_row_hash_equals_client_side(pg: Any, pg_schema: str, tmp_path: Path) -> None:
    _create(pg, pg_schema)
    files = {}
    for client in (True, False):
        out = tmp_path / f"client_{client}"
        config = make_config(
            pg_source(),
            out,
            schemas=[pg_schema],
            include=[f"{pg_schema}.awkward"],
            use_client_hash=client,
        )
        assert run_export(config, inline=True, show_progress=False).ok
        files[client] = gzip.decompress(
            ExportLayout(out).chunk_file(TableRef(pg_schema, "awkward"), 0).read_bytes()
        )
    assert files[True] == files[False]


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_text_equal_to_null_marker_fails_only_that_table(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    pg.execute(f'CREATE TABLE "{pg_schema}".bad (id int, t text)')
    pg.execute(f"""INSERT INTO "{pg_schema}".bad VALUES (1, 'ok'), (2, E'\\\\N')""")
    pg.execute(f'CREATE TABLE "{pg_schema}".good (id int, t text)')
    pg.execute(f"""INSERT INTO "{pg_schema}".good VALUES (1, E'x\\\\N"')""")
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    run = run_export(config, inline=True, show_progress=False)
    by_name = {r.table.name: r for r in run.results}
    assert by_name["good"].status == "SUCCEEDED"
    assert by_name["bad"].status == "FAILED"
    assert "null marker" in by_name["bad"].errors[0]
    assert not ExportLayout(out).existing_chunk_files(TableRef(pg_schema, "bad"))


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_number_equal_to_a_custom_marker_fails_on_both_paths(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    # COPY would quote the 0 ("0") and BigQuery might load it as 0 or NULL: it must fail.
    pg.execute(f'CREATE TABLE "{pg_schema}".n (id int, n int, t text)')
    pg.execute(f"""INSERT INTO "{pg_schema}".n VALUES (1, 5, 'a'), (2, 0, 'b'), (3, NULL, 'c')""")
    out = tmp_path / "out"
    config = make_config(
        pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path, null_marker="0"
    )
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert result.status == "FAILED"
    assert "'n'" in result.errors[0] and "null marker" in result.errors[0]
    assert not ExportLayout(out).existing_chunk_files(TableRef(pg_schema, "n"))


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_dates_outside_bigquerys_years_fail_their_table(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    bad = {
        "d_inf": ("date", "infinity"),
        "d_bc": ("date", "0044-03-15 BC"),
        "ts_big": ("timestamp", "12345-01-01 00:00"),
        "ts_ninf": ("timestamp", "-infinity"),
        "tz_inf": ("timestamptz", "infinity"),
        "tz_bc": ("timestamptz", "0100-01-01 BC"),
    }
    for table, (sql_type, value) in bad.items():
        pg.execute(f'CREATE TABLE "{pg_schema}"."{table}" (id int, v {sql_type})')
        pg.execute(f"""INSERT INTO "{pg_schema}"."{table}" VALUES (1, NULL), (2, '{value}')""")
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    results = run_export(config, inline=True, show_progress=False).results
    assert {r.table.name: r.status for r in results} == dict.fromkeys(bad, "FAILED")
    for result in results:
        assert not ExportLayout(out).existing_chunk_files(result.table), result.table


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_numeric_nan_and_infinity_fail_their_table(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    for table, value in {"nan": "NaN", "inf": "Infinity", "ninf": "-Infinity"}.items():
        pg.execute(f'CREATE TABLE "{pg_schema}"."{table}" (id int, v numeric)')
        pg.execute(f"""INSERT INTO "{pg_schema}"."{table}" VALUES (1, 1.5), (2, '{value}')""")
    pg.execute(f'CREATE TABLE "{pg_schema}".fine (id int, v numeric(10, 2))')
    # Values at the type's ends are finite: the check compares with both infinities.
    pg.execute(
        f'INSERT INTO "{pg_schema}".fine VALUES (1, 1.5), (2, NULL), (3, 99999999.99), '
        "(4, -99999999.99), (5, 0)"
    )
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    results = run_export(config, inline=True, show_progress=False).results
    statuses = {r.table.name: r.status for r in results}
    assert statuses == {"nan": "FAILED", "inf": "FAILED", "ninf": "FAILED", "fine": "SUCCEEDED"}
    for result in results:
        if result.status == "FAILED":
            assert "BigQuery" in result.errors[0], result.errors


def test_plan_splits_by_ctid_and_by_key_and_reads_every_row_once(
    pg: Any, pg_schema: str, tmp_path: Path
) -> None:
    # '%' in the names: psycopg must not read it as a placeholder in the bounded chunk queries.
    pg.execute(f'CREATE TABLE "{pg_schema}"."big %" ("id %" bigint PRIMARY KEY, pad text)')
    pg.execute(f"""INSERT INTO "{pg_schema}"."big %" SELECT g, repeat('x', 200)
                   FROM generate_series(1, 20000) g""")
    pg.execute(f'ANALYZE "{pg_schema}"."big %"')
    for strategy, kind in (("auto", "physical"), ("key", "key")):
        out = tmp_path / strategy
        config = make_config(
            pg_source(),
            out,
            schemas=[pg_schema],
            chunk_threshold_gb=0.001,
            chunk_size_mb=1,
            chunk_strategy=strategy,
            enable_row_hash=False,
        )
        planned = plan_export(
            get_source(config.source), config.export, ExportLayout(out), write=False
        )
        plan = planned[0].plan
        assert plan is not None and plan.strategy == kind and len(plan.chunks) >= 4
        assert not out.exists()  # `plan` writes nothing
        run = run_export(config, workers=2, show_progress=False)
        assert run.ok, run.results[0].errors
        ids = [r[0] for r in table_rows(out, pg_schema, "big %", list(plan.columns), "\\N")]
        assert sorted(ids) == list(range(1, 20001))


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_oid_is_unsigned_on_every_path_and_validates(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    # oid is an unsigned 32-bit integer: Arrow reads it as int32 unless it is widened.
    pg.execute(f'CREATE TABLE "{pg_schema}".o (id int, o oid)')
    pg.execute(f'INSERT INTO "{pg_schema}".o VALUES (1, 4294967295), (2, 2147483648), (3, NULL)')
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert (result.status, result.errors) == ("SUCCEEDED", [])
    assert result.plan is not None
    rows = sorted(
        table_rows(out, pg_schema, "o", list(result.plan.columns), "\\N"), key=lambda r: r[0]
    )
    assert rows == [(1, 4294967295), (2, 2147483648), (3, None)]


@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_time_24_00_fails_its_table_on_every_path(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str
) -> None:
    # PostgreSQL's time holds 24:00:00; BigQuery's TIME does not.
    pg.execute(f'CREATE TABLE "{pg_schema}".t (id int, t time)')
    pg.execute(f"""INSERT INTO "{pg_schema}".t VALUES (1, '23:59:59.999999'), (2, '24:00:00')""")
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    (result,) = run_export(config, inline=True, show_progress=False).results
    assert result.status == "FAILED"
    # Each path names the value in its own words: the query's guard, the Arrow encoder, psycopg.
    error = result.errors[0]
    assert "outside the day" in error or "24:00:00" in error, error
    assert not ExportLayout(out).existing_chunk_files(TableRef(pg_schema, "t"))


def _export_on_every_path(
    schema: str, table: str, tmp_path: Path
) -> dict[str, tuple[dict[str, Any], bytes]]:
    """Export `schema` by COPY, Arrow batches and Python rows: for each path, the planned
    columns by name and chunk 0's bytes; every run must succeed (validation included)."""
    exported = {}
    for path in ("auto", "batch", "rows"):
        out = tmp_path / path
        config = make_config(pg_source(), out, schemas=[schema], fetch_path=path)
        (result,) = run_export(config, inline=True, show_progress=False).results
        assert (result.status, result.errors) == ("SUCCEEDED", [])
        assert result.plan is not None
        columns = {c.name: c for c in result.plan.columns}
        chunk = ExportLayout(out).chunk_file(TableRef(schema, table), 0)
        exported[path] = (columns, gzip.decompress(chunk.read_bytes()))
    return exported


def test_user_types_named_like_builtins_are_text_on_every_path(
    pg: Any, pg_schema: str, tmp_path: Path
) -> None:
    # Enums called float8 and int8 in the user's schema: their labels are text (STRING), on
    # every path; none may take them for the built-in types of the same name.
    pg.execute(f"""CREATE TYPE "{pg_schema}".float8 AS ENUM ('low', 'high')""")
    pg.execute(f"""CREATE TYPE "{pg_schema}".int8 AS ENUM ('one', 'two')""")
    pg.execute(
        f'CREATE TABLE "{pg_schema}".u (id int, lvl "{pg_schema}".float8, n "{pg_schema}".int8)'
    )
    pg.execute(f"""INSERT INTO "{pg_schema}".u VALUES (1, 'low', 'one'), (2, 'high', NULL)""")
    exported = _export_on_every_path(pg_schema, "u", tmp_path)
    for columns, _ in exported.values():
        assert columns["lvl"].kind is ColumnKind.STRING and columns["n"].kind is ColumnKind.STRING
    files = {path: data for path, (_, data) in exported.items()}
    assert files["auto"] == files["batch"] == files["rows"]
    assert b'"low","one"' in files["auto"] and b'"high",' in files["auto"]


def test_domains_take_their_base_types_through_domains_over_domains(
    pg: Any, pg_schema: str, tmp_path: Path
) -> None:
    s = f'"{pg_schema}"'
    pg.execute(f"CREATE DOMAIN {s}.money2 AS numeric(10,2)")
    pg.execute(f"CREATE DOMAIN {s}.money2b AS {s}.money2 CHECK (VALUE > 0)")
    pg.execute(f"CREATE DOMAIN {s}.posint AS int4 CHECK (VALUE > 0)")
    pg.execute(f"CREATE DOMAIN {s}.posint2 AS {s}.posint")
    pg.execute(f"CREATE TABLE {s}.d (id int, m {s}.money2b, p {s}.posint2, t text)")
    pg.execute(f"INSERT INTO {s}.d VALUES (1, 12345678.91, 7, 'a'), (2, NULL, NULL, NULL)")
    exported = _export_on_every_path(pg_schema, "d", tmp_path)  # validation sums included
    for columns, _ in exported.values():
        m = columns["m"]
        assert (m.kind, m.precision, m.scale) == (ColumnKind.DECIMAL, 10, 2)
        assert columns["p"].kind is ColumnKind.INTEGER
    files = {path: data for path, (_, data) in exported.items()}
    assert files["auto"] == files["batch"] == files["rows"]
    assert b"1,12345678.91,7," in files["auto"]


def test_money_is_exact_numeric_on_every_path(pg: Any, pg_schema: str, tmp_path: Path) -> None:
    # money prints in the server's locale ("-$92,233,720,368,547,758.08"), which BigQuery cannot
    # load as a number; money::numeric is exact, so the column is NUMERIC(19,2) and sums validate.
    s = f'"{pg_schema}"'
    pg.execute(f"CREATE TABLE {s}.m (id int, cash money)")
    pg.execute(
        f"INSERT INTO {s}.m VALUES (1, '-92233720368547758.08'), (2, '92233720368547758.07'),"
        " (3, '0.10'), (4, NULL), (5, '-1.5')"
    )
    exported = _export_on_every_path(pg_schema, "m", tmp_path)  # validation sums included
    for columns, _ in exported.values():
        cash = columns["cash"]
        assert (cash.kind, cash.precision, cash.scale) == (ColumnKind.DECIMAL, 19, 2)
    files = {path: data for path, (_, data) in exported.items()}
    assert files["auto"] == files["batch"] == files["rows"]
    values = [line.split(",")[:2] for line in files["auto"].decode().splitlines()[1:]]
    assert values == [
        ["1", "-92233720368547758.08"],
        ["2", "92233720368547758.07"],
        ["3", "0.10"],
        ["4", "\\N"],
        ["5", "-1.50"],
    ]
    assert "$" not in files["auto"].decode()


# (table: (type, the third row's value)), the tables that fail, what their error says, and
# the value the one that succeeds writes for that row.
NUMERIC_LIMITS = {
    # BIGNUMERIC holds 38 fractional digits. Digits are counted as written: numeric keeps
    # its scale, so numeric(50, 40) writes 1 as 1.000...0 with forty zeros.
    "fraction": (
        {
            "digits39": ("numeric", "0." + "0" * 38 + "1"),
            "zeros40": ("numeric(50, 40)", "1"),
            "fine38": ("numeric(50, 38)", "-0." + "0" * 37 + "1"),
        },
        "fractional digits",
        Decimal("-0." + "0" * 37 + "1"),
    ),
    # BIGNUMERIC spans -2^255 to 2^255 - 1 times 10^-38, about ±5.79e38; a numeric holds far
    # more. Its least value, 39 integer digits, is written in full; one step below is not.
    "range": (
        {
            "huge": ("numeric", "6e38"),
            "wide": ("numeric(60, 0)", "-" + "9" * 45),
            "below": ("numeric", str(BIGNUMERIC_MIN)[:-1] + "9"),  # ...68 -> ...69
            "edge": ("numeric", str(BIGNUMERIC_MIN)),
        },
        "BIGNUMERIC (about 5.79e38)",  # as the database and the encoders both say it
        BIGNUMERIC_MIN,
    ),
}


@pytest.mark.parametrize("limit", sorted(NUMERIC_LIMITS))
@pytest.mark.parametrize("fetch_path", ["auto", "batch", "rows"])
def test_numeric_bigquery_cannot_hold_fails_its_table_naming_the_column(
    pg: Any, pg_schema: str, tmp_path: Path, fetch_path: str, limit: str
) -> None:
    """On every path, a value BIGNUMERIC cannot hold fails its table at export, naming the
    column, rather than the load in BigQuery; the value at the limit is written in full."""
    tables, why, fine_value = NUMERIC_LIMITS[limit]
    s = f'"{pg_schema}"'
    for table, (sql_type, value) in tables.items():
        pg.execute(f'CREATE TABLE {s}."{table}" (id int, "amount" {sql_type})')
        pg.execute(f"""INSERT INTO {s}."{table}" VALUES (1, 2.5), (2, NULL), (3, '{value}')""")
    out = tmp_path / "out"
    config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=fetch_path)
    results = {
        r.table.name: r for r in run_export(config, inline=True, show_progress=False).results
    }
    *failing, fine = tables
    assert {name: r.status for name, r in results.items()} == {
        **dict.fromkeys(failing, "FAILED"),
        fine: "SUCCEEDED",
    }
    for name in failing:
        error = results[name].errors[0]
        assert "column 'amount'" in error and why in error, error
        assert not ExportLayout(out).existing_chunk_files(TableRef(pg_schema, name))
    plan = results[fine].plan
    assert plan is not None
    rows = table_rows(out, pg_schema, fine, list(plan.columns), "\\N")
    assert sorted(rows, key=lambda r: r[0]) == [(1, Decimal("2.5")), (2, None), (3, fine_value)]


def test_empty_text_and_bytes_under_the_empty_marker_are_quoted_on_every_path(
    pg: Any, pg_schema: str, tmp_path: Path
) -> None:
    # Under the empty null marker (Oracle's default, BigQuery's own) NULL is the unquoted
    # empty field and '' / an empty bytea the quoted one, on COPY, Arrow and rows alike.
    s = f'"{pg_schema}"'
    pg.execute(f"CREATE TABLE {s}.e (id int, t text, b bytea)")
    pg.execute(f"INSERT INTO {s}.e VALUES (1, '', ''::bytea), (2, NULL, NULL), (3, 'x', 'a')")
    files = {}
    for path in ("auto", "batch", "rows"):
        out = tmp_path / path
        config = make_config(pg_source(), out, schemas=[pg_schema], fetch_path=path, null_marker="")
        (result,) = run_export(config, inline=True, show_progress=False).results
        assert (result.status, result.errors) == ("SUCCEEDED", [])
        chunk = ExportLayout(out).chunk_file(TableRef(pg_schema, "e"), 0)
        files[path] = gzip.decompress(chunk.read_bytes()).decode()
    assert files["auto"] == files["batch"] == files["rows"]
    records = sorted(line.rsplit(",", 1)[0] for line in files["auto"].splitlines()[1:])
    assert records == ['1,"",""', "2,,", '3,"x",YQ==']
