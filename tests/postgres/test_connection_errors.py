"""A login the server refuses is named for what it is (role, database), not "no server"."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporter.errors import SourceError
from exporter.export.run import run_export
from tests.conftest import make_config, pg_source

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize(
    ("change", "code", "fix"),
    [
        ({"user": "no_such_role_here"}, "28000", "source.user"),
        ({"database": "no_such_database_here"}, "3D000", "source.database"),
        ({"port": 1}, "08001", "source.host and source.port"),
    ],
    ids=["role", "database", "no server"],
)
def test_refused_login_names_its_cause(
    pg_available: None, tmp_path: Path, change: dict[str, object], code: str, fix: str
) -> None:
    config = make_config({**pg_source(), **change}, tmp_path / "out")
    with pytest.raises(SourceError) as info:
        run_export(config, inline=True, show_progress=False)
    line = info.value.one_line()
    assert f"EXP-2001: {code}:" in line and fix in line, line
    assert not (tmp_path / "out").exists()
