"""Fixtures of the PostgreSQL tests: two throwaway databases for the comparator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture()
def two_databases(pg: Any) -> Iterator[tuple[str, str]]:
    """A source and a target database, dropped afterwards."""
    stem = f"exp_cmp_{uuid.uuid4().hex[:8]}"
    names = (f"{stem}_src", f"{stem}_tgt")
    for name in names:
        pg.execute(f'CREATE DATABASE "{name}"')
    try:
        yield names
    finally:
        for name in names:
            pg.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
