"""PostgreSQL's base64 cells (postgres_sql.base64_text) are canonical/cells.py's at every
length: encode() breaks its lines from 57 bytes on, which the expression removes only there."""

from __future__ import annotations

import random
from typing import Any

import pytest

from exporter.canonical.cells import cell_function
from exporter.model import Column, ColumnKind
from exporter.sources.postgres_sql import base64_text

pytestmark = pytest.mark.postgres


def test_every_length_around_the_line_breaks(pg: Any) -> None:
    rng = random.Random(57)
    values = [bytes(rng.getrandbits(8) for _ in range(n)) for n in range(0, 240)]
    values += [b"\x00" * 57, b"\xff" * 56, b"\xff" * 58, rng.randbytes(5000)]
    cell = cell_function(Column("b", "bytea", ColumnKind.BYTES))
    rows = pg.execute(
        f"SELECT {base64_text('v')} FROM unnest(%s::bytea[]) WITH ORDINALITY AS u(v, i) ORDER BY i",
        (values,),
    ).fetchall()
    assert [text for (text,) in rows] == [cell(v) for v in values]
    # The boundary the expression relies on holds on this server: a break from 57 bytes on.
    ((short, long),) = pg.execute(
        "SELECT strpos(encode(%s::bytea, 'base64'), chr(10)), "
        "strpos(encode(%s::bytea, 'base64'), chr(10))",
        (b"x" * 56, b"x" * 57),
    ).fetchall()
    assert (short, long) == (0, 77)


def test_null_stays_null(pg: Any) -> None:
    ((text,),) = pg.execute(
        f"SELECT {base64_text('v')} FROM (SELECT NULL::bytea AS v) s"
    ).fetchall()
    assert text is None
