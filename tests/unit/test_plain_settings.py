"""exporter/config/plain.py: workers get the source config as plain data, without pydantic,
with the same attributes and password lookup as the config model."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from exporter.config.loader import parse_config
from exporter.export.task import ChunkTask, WriteOptions
from exporter.model import TableRef
from tests.plans import whole_plan


def _source(**extra: object) -> dict[str, object]:
    return {"engine": "postgresql", "host": "db.example", "database": "prod", **extra}


def test_plain_settings_hold_the_models_fields_and_read_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "pw"
    secret.write_text("from-file\nignored\n", encoding="utf-8")
    monkeypatch.setenv("EXPORTER_TEST_PW", "from-env")
    for extra, expected in (
        ({"password_env": "EXPORTER_TEST_PW"}, "from-env"),
        ({"password_file": str(secret)}, "from-file"),
        ({"password": "literal"}, "literal"),
        ({}, None),
    ):
        model = parse_config({"source": _source(**extra), "export": {}}).source
        plain = model.plain()
        assert plain.read_password() == model.read_password() == expected
        assert (plain.host, plain.port, plain.database) == ("db.example", 5432, "prod")
        assert "literal" not in repr(plain) and "literal" not in plain.cache_key()


def test_a_worker_unpickles_its_task_without_importing_pydantic() -> None:
    model = parse_config({"source": _source(), "export": {}}).source
    plan = whole_plan((), table=TableRef("s", "t"), marker="")
    options = WriteOptions(
        compression_level=None, fetch_rows=10, client_hash=True, fetch_path="auto"
    )
    task = ChunkTask(model.plain(), plan, plan.chunks[0], "/tmp/out", options)
    code = (
        "import pickle, sys\n"
        "import exporter.export.task\n"
        "task = pickle.loads(sys.stdin.buffer.read())\n"
        "assert task.source.host == 'db.example', task.source\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], input=pickle.dumps(task), check=True)
