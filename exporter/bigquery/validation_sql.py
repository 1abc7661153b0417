"""validation.sql: the export's checks, repeated inside BigQuery after `bq load`.

One GoogleSQL query against the loaded table returns one row. Each check has three columns:
`<check>_ok` (BOOL), `<check>_expected` (the source's figure, a literal) and `<check>_actual`
(computed by BigQuery); `all_checks_ok` is TRUE only when every check is.

- row_count: COUNT(*) against the source's COUNT(*).
- sum_<column>: for every integer and decimal column, the exact sum. Every value is cast to
  BIGNUMERIC before SUM, so neither INT64 nor NUMERIC totals can overflow their own type, and
  the expected figure is a BIGNUMERIC literal. BIGNUMERIC holds 76.76 digits, 38 of them after
  the point (https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#decimal_types),
  so sums stay exact: 38 integer digits hold any INT64 sum (19 digits per value) and a NUMERIC
  sum (29 integer digits per value) over up to 10^9 rows. A source sum outside BIGNUMERIC's
  range (possible for BIGNUMERIC columns) cannot be written as a literal, and BigQuery's own SUM
  would overflow, so it is listed as not compared.
- Floating columns are not compared: a sum of doubles depends on the order of addition.

An all-NULL (or empty) column has SUM NULL in both engines; the source side reports 0, so the
BigQuery side is COALESCEd to 0 as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from exporter.bigquery.schema import (
    bigquery_column_names,
    destination,
    fits_bignumeric,
)
from exporter.config.models import BigQuerySettings
from exporter.model import ColumnKind, TablePlan
from exporter.validation.checks import TableVerdict
from exporter.version import __version__

ALIAS_NAME_MAX = 200  # keeps `sum_<name>_expected` under BigQuery's 300-character column names


def quote_identifier(name: str) -> str:
    """A GoogleSQL quoted identifier: `name`, with backslashes and backticks escaped.
    https://cloud.google.com/bigquery/docs/reference/standard-sql/lexical#quoted_identifiers"""
    return "`" + name.replace("\\", "\\\\").replace("`", "\\`") + "`"


def table_reference(plan: TablePlan, settings: BigQuerySettings) -> str:
    """`project`.`dataset`.`table` (each part quoted: project ids may hold '-', ':' and '.')."""
    return ".".join(quote_identifier(part) for part in destination(settings, plan.table))


def _unique(bases: Iterable[str]) -> list[str]:
    taken: set[str] = set()
    out = []
    for base in bases:
        name, n = base, 1
        while name.lower() in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name.lower())
        out.append(name)
    return out


def _literal(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if fits_bignumeric(value) else None


def _comment(text: str, indent: str = "") -> str:
    # A name holding a line break must not end the comment early.
    return "-- " + indent + " ".join(text.split())


def _checks(
    plan: TablePlan, verdict: TableVerdict
) -> tuple[list[tuple[str, str, str]], list[str], list[str]]:
    """(alias, actual expression, expected literal) per check; float columns; skipped sums."""
    names = dict(zip((c.name for c in plan.columns), bigquery_column_names(plan), strict=False))
    expected_sums = {c.column: c.source for c in verdict.sums if c.source is not None}
    checks = [("row_count", "COUNT(*)", str(verdict.source_row_count))]
    floats: list[str] = []
    skipped: list[str] = []
    for column in plan.columns:
        bq_name = names[column.name]
        if column.kind is ColumnKind.FLOAT:
            floats.append(bq_name)
        if not column.kind.is_exact_number or column.name not in expected_sums:
            continue
        source_sum = expected_sums[column.name]
        value = _literal(source_sum)
        if value is None:
            skipped.append(f"{bq_name} (the source sum {source_sum} is not a BIGNUMERIC)")
            continue
        actual = f"COALESCE(SUM(CAST({quote_identifier(bq_name)} AS BIGNUMERIC)), BIGNUMERIC '0')"
        expected = f"BIGNUMERIC '{format(value, 'f')}'"
        checks.append((f"sum_{bq_name[:ALIAS_NAME_MAX]}", actual, expected))
    aliases = _unique(alias for alias, _, _ in checks)
    return [(a, x, e) for a, (_, x, e) in zip(aliases, checks, strict=True)], floats, skipped


def render_validation_sql(
    plan: TablePlan,
    verdict: TableVerdict,
    settings: BigQuerySettings,
    snapshot: str | None = None,
) -> str:
    """The text of validation.sql; the verdict must hold the source's row count."""
    if verdict.source_row_count is None:
        raise ValueError(f"{plan.table}: no source row count to check against")
    checks, floats, skipped = _checks(plan, verdict)
    target = table_reference(plan, settings)
    lines = [
        _comment(f"validation.sql for {plan.table} loaded into {target}"),
        f"-- Written by exporter {__version__}. Run it in BigQuery after load_command.sh;",
        "-- it returns one row, and every *_ok column must be TRUE (all_checks_ok: all of them).",
        _comment(
            "Expected figures are the source's COUNT(*) and exact sums"
            + (f", read at snapshot {snapshot}." if snapshot else ".")
        ),
        "-- Sums are compared as BIGNUMERIC (76 digits, 38 after the point), every value cast",
        "-- before SUM, so INT64 and NUMERIC totals are exact and cannot overflow.",
    ]
    if floats:
        lines.append(
            f"-- Not compared (FLOAT64): {', '.join(floats)}; a sum of doubles depends on the "
            "order of addition."
        )
    lines += [f"-- Not compared: {item}." for item in skipped]
    if verdict.failures:
        lines.append("-- Warning: the export's own validation found differences:")
        lines += [_comment(failure, indent="  ") for failure in verdict.failures]
    # Actual figures are computed once (`actual`), expected ones written once (`expected`).
    select = [
        "  (" + "\n    AND ".join(f"a.{a} = e.{a}" for a, _, _ in checks) + ") AS all_checks_ok"
    ]
    for alias, _, _ in checks:
        select += [
            f"  a.{alias} = e.{alias} AS {alias}_ok",
            f"  e.{alias} AS {alias}_expected",
            f"  a.{alias} AS {alias}_actual",
        ]
    lines += [
        "WITH actual AS (",
        "  SELECT",
        ",\n".join(f"    {actual} AS {alias}" for alias, actual, _ in checks),
        f"  FROM {target}",
        "), expected AS (",
        "  SELECT",
        ",\n".join(f"    {expected} AS {alias}" for alias, _, expected in checks),
        ")",
        "SELECT",
        ",\n".join(select),
        "FROM actual AS a CROSS JOIN expected AS e;",
    ]
    return "\n".join(lines) + "\n"
