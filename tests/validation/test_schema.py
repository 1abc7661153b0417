"""schema.json, names and load_command.sh, without a database."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from exporter.bigquery.load import load_script
from exporter.bigquery.schema import (
    BIGNUMERIC_MAX,
    RESERVED_PREFIXES,
    bigquery_column_names,
    bigquery_table_name,
    bigquery_type,
    decimal_type,
    fits_bignumeric,
    schema_fields,
)
from exporter.bigquery.validation_sql import render_validation_sql
from exporter.config.models import BigQuerySettings
from exporter.layout import ExportLayout
from exporter.model import Column, ColumnKind, TablePlan, TableRef
from exporter.validation.checks import ColumnCheck, TableVerdict
from exporter.validation.sums import EXACT
from tests.plans import whole_plan


def make_plan(columns: list[Column], *, row_hash: bool = True, marker: str = "\\N") -> TablePlan:
    return whole_plan(columns, table=TableRef("HR", "EMP"), marker=marker, row_hash=row_hash)


@pytest.mark.parametrize(
    ("precision", "scale", "expected"),
    [
        (38, 9, "NUMERIC"),  # 29 integer digits + 9 fractional: NUMERIC's exact limits
        (29, 0, "NUMERIC"),
        (9, 9, "NUMERIC"),
        (5, -2, "NUMERIC"),  # Oracle NUMBER(5, -2): 7 integer digits
        (30, 0, "BIGNUMERIC"),  # 30 integer digits
        (39, 9, "BIGNUMERIC"),
        (10, 10, "BIGNUMERIC"),  # scale 10 > 9
        (38, 38, "BIGNUMERIC"),
        (None, None, "BIGNUMERIC"),  # unconstrained NUMBER / numeric
        (10, None, "BIGNUMERIC"),
        (None, 2, "BIGNUMERIC"),
    ],
)
def test_decimal_boundaries(precision: int | None, scale: int | None, expected: str) -> None:
    assert decimal_type(precision, scale) == expected
    column = Column("c", "NUMBER", ColumnKind.DECIMAL, True, precision, scale)
    assert bigquery_type(column) == expected


@pytest.mark.parametrize(
    ("precision", "expected"), [(None, "INT64"), (18, "INT64"), (19, "NUMERIC"), (38, "BIGNUMERIC")]
)
def test_wide_integers_leave_int64(precision: int | None, expected: str) -> None:
    assert bigquery_type(Column("c", "NUMBER", ColumnKind.INTEGER, True, precision, 0)) == expected


def test_every_kind_has_a_type_and_modes_follow_not_null() -> None:
    expected = {
        ColumnKind.INTEGER: "INT64", ColumnKind.DECIMAL: "BIGNUMERIC",
        ColumnKind.FLOAT: "FLOAT64", ColumnKind.BOOLEAN: "BOOL", ColumnKind.STRING: "STRING",
        ColumnKind.JSON: "JSON", ColumnKind.DATE: "DATE", ColumnKind.DATETIME: "DATETIME",
        ColumnKind.TIMESTAMP: "TIMESTAMP", ColumnKind.TIME: "TIME", ColumnKind.BYTES: "BYTES",
    }  # fmt: skip
    columns = [Column(k.value.lower(), "t", k, nullable=i % 2 == 0) for i, k in enumerate(expected)]
    fields = schema_fields(make_plan(columns))
    assert [f["type"] for f in fields] == [*expected.values(), "STRING"]
    assert [f["mode"] for f in fields[:-1]] == [
        "NULLABLE" if i % 2 == 0 else "REQUIRED" for i in range(len(expected))
    ]
    assert fields[-1] == {**fields[-1], "name": "row_hash", "mode": "REQUIRED"}
    assert [f["name"] for f in schema_fields(make_plan(columns, row_hash=False))] == [
        c.name for c in columns
    ]
    json.dumps(fields)


def test_names_are_valid_and_unique() -> None:
    odd = [
        "order",
        "a b",
        "A_B",
        'x"y',
        "1st",
        "row hash",
        "ROW_HASH ",
        "_file_x",
        "",
        "é",
        "x" * 400,
    ]
    plan = make_plan([Column(n, "t", ColumnKind.STRING) for n in odd])
    names = bigquery_column_names(plan)
    assert names[-1] == "row_hash" and len(names) == len(odd) + 1
    seen = set()
    for name in names:
        assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,299}", name), name
        assert not name.upper().startswith(RESERVED_PREFIXES), name
        assert name.lower() not in seen
        seen.add(name.lower())
    assert names[:3] == ["order", "a_b", "A_B_2"]


def test_table_name_pattern_is_sanitised() -> None:
    settings = BigQuerySettings(table_name="{schema}_{table}")
    assert bigquery_table_name(settings, TableRef("HR", "EMP")) == "HR_EMP"
    assert bigquery_table_name(settings, TableRef("my schema", "a.b/c$d")) == "my_schema_a_b_c_d"
    assert bigquery_table_name(settings, TableRef("s", "Müller-2")) == "s_Müller-2"
    assert (
        bigquery_table_name(BigQuerySettings(table_name="t_{table}"), TableRef("s", "x")) == "t_x"
    )


def test_bignumeric_literal_limits() -> None:
    assert fits_bignumeric(Decimal("-1.5")) and fits_bignumeric(BIGNUMERIC_MAX)
    assert fits_bignumeric(Decimal("0." + "1" * 38))
    assert not fits_bignumeric(Decimal("0." + "1" * 39))
    assert (
        str(BIGNUMERIC_MAX)
        == "578960446186580977117854925043439539266.34992332820282019728792003956564819967"
    )
    assert not fits_bignumeric(EXACT.add(BIGNUMERIC_MAX, Decimal("1e-38")))
    assert fits_bignumeric(EXACT.minus(BIGNUMERIC_MAX))
    # The least value is one step further from zero: -2^255 * 10^-38.
    least = EXACT.minus(EXACT.add(BIGNUMERIC_MAX, Decimal("1e-38")))
    assert fits_bignumeric(least)
    assert not fits_bignumeric(EXACT.subtract(least, Decimal("1e-38")))
    assert not fits_bignumeric(Decimal("NaN"))


def test_validation_sql_for_odd_and_huge_sums() -> None:
    columns = [
        Column("a\nb", "int", ColumnKind.INTEGER),
        Column("huge", "numeric", ColumnKind.DECIMAL),
        Column("f", "float8", ColumnKind.FLOAT),
    ]
    verdict = TableVerdict(
        source_row_count=3,
        exported_row_count=2,
        sums=[
            ColumnCheck("a\nb", "12", "12", True),
            ColumnCheck("huge", "1e80", "1e80", True),
            ColumnCheck("f", None, "1.5", None),
        ],
        failures=["row count: source 3, files 2\nsecond line"],
    )
    sql = render_validation_sql(make_plan(columns), verdict, BigQuerySettings(project="p-1"))
    sqlglot.parse_one(sql, read="bigquery")
    assert "`p-1`.`YOUR_DATASET`.`HR_EMP`" in sql
    assert "BIGNUMERIC '12' AS sum_a_b" in sql
    assert "-- Not compared: huge (the source sum 1e80 is not a BIGNUMERIC)." in sql
    assert "-- Not compared (FLOAT64): f;" in sql
    assert "--   row count: source 3, files 2 second line" in sql
    assert all(line.startswith("--") for line in sql.split("WITH")[0].splitlines())
    with pytest.raises(ValueError):
        render_validation_sql(make_plan(columns), TableVerdict(), BigQuerySettings())


def test_bignumeric_sums_keep_all_76_digits() -> None:
    """DuckDB, which stands in for BigQuery in the other tests, has no BIGNUMERIC (its
    DECIMAL stops at 38 digits), so the wide sums are checked here against Python's Decimal:
    the literal validation.sql expects is the exact sum of the values, every one of its up to
    38 integer and 38 fractional digits, and the actual side casts before it sums."""
    rng = random.Random(7)
    values = [  # built from text: arithmetic in the default context would round to 28 digits
        Decimal(f"{rng.choice('-+')}{rng.randrange(10**36)}.{rng.randrange(10**37):037d}")
        for _ in range(90)
    ]
    exact = Decimal(0)
    for value in values:  # EXACT: a context whose additions never round
        exact = EXACT.add(exact, value)
    assert len(exact.as_tuple().digits) > 70  # far beyond DECIMAL(38)
    text = format(exact, "f")
    verdict = TableVerdict(
        source_row_count=len(values),
        exported_row_count=len(values),
        sums=[ColumnCheck("wide", text, text, True)],
    )
    columns = [Column("wide", "numeric", ColumnKind.DECIMAL)]
    sql = render_validation_sql(make_plan(columns), verdict, BigQuerySettings())
    tree = sqlglot.parse_one(sql, read="bigquery")
    literals = [
        c.this.name
        for c in tree.find_all(exp.Cast)
        if c.to.sql("bigquery") == "BIGNUMERIC" and isinstance(c.this, exp.Literal)
    ]
    assert sorted(map(Decimal, literals)) == sorted([exact, Decimal(0)])  # 0: the COALESCE
    assert "COALESCE(SUM(CAST(`wide` AS BIGNUMERIC)), BIGNUMERIC '0')" in sql


@pytest.mark.parametrize("marker", ["\\N", "", "NULL's"])
def test_load_script_runs_bq_with_these_arguments(tmp_path: Path, marker: str) -> None:
    layout = ExportLayout(tmp_path / "out")
    plan = make_plan([Column("id", "int", ColumnKind.INTEGER)], marker=marker)
    plan = TablePlan(**{**plan.__dict__, "table": TableRef("HR", "my $table")})
    script = tmp_path / "load_command.sh"
    script.write_text(load_script(plan, layout, BigQuerySettings(project="proj", dataset="ds")))
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "bq").write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    (fake / "bq").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "GCS_BUCKET": "bkt"}
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == [
        "load",
        "--source_format=CSV",
        "--skip_leading_rows=1",
        "--allow_quoted_newlines",
        f"--null_marker={marker}",
        "--preserve_ascii_control_characters",
        "--replace",
        f"--schema={tmp_path}/schema.json",
        "proj:ds.HR_my__table",
        "gs://bkt/HR/my $table/data_chunk_*.csv.gz",
    ]
    env.pop("GCS_BUCKET")
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1] == "gs://YOUR_BUCKET/HR/my $table/data_chunk_*.csv.gz"
