"""No Python constant is converted to an Arrow scalar per batch (canonical/arrow_scalars.py).

pyarrow's conversion of a Python object tries to import `dateutil.relativedelta` on every
call: a failed import, a search of sys.path, where dateutil is absent. These tests hide
dateutil, so that every such conversion shows as an import, and check that reading a file
back and encoding Arrow batches make none after the first batch.
"""

from __future__ import annotations

import importlib.abc
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from exporter.canonical.arrow import ArrowEncoder, record_lines
from exporter.validation.readback import read_chunk_figures
from tests.unit.test_hashing_sums_readback import make_plan, rows_fixture, write_chunk

_imports: list[str] = []
_recording = [False]


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event == "import" and _recording[0]:
        _imports.append(str(args[0]))


sys.addaudithook(_hook)  # hooks cannot be removed: this one records only when asked


class _NoDateutil(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "dateutil" or name.startswith("dateutil."):
            raise ModuleNotFoundError(name)


@pytest.fixture
def imports(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    for name in [n for n in sys.modules if n == "dateutil" or n.startswith("dateutil.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [_NoDateutil(), *sys.meta_path])
    _imports.clear()
    _recording[0] = True
    try:
        yield _imports
    finally:
        _recording[0] = False


def test_the_probe_sees_a_python_constant_converted(imports: list[str]) -> None:
    pc.equal(pa.array(["a"]), "a")  # what the code must not do per batch
    assert any(name.startswith("dateutil") for name in imports)


def test_reading_a_file_back_converts_no_constant_per_batch(
    tmp_path: Path, imports: list[str]
) -> None:
    plan = make_plan()
    rows = rows_fixture() * 40  # 12,000 rows, about 2 MiB of CSV: several 1 MiB batches
    path = tmp_path / "data_chunk_0.csv.gz"
    write_chunk(path, plan, rows, None)
    read_chunk_figures(path, plan)  # first read: lazy imports and the constants' first use
    imports.clear()
    figures = read_chunk_figures(path, plan)
    assert figures.rows == len(rows)
    assert imports == []


def test_encoding_arrow_batches_converts_no_constant_per_batch(imports: list[str]) -> None:
    plan = make_plan()
    rows = rows_fixture()
    names = [c.name for c in plan.columns]
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array([r[0] for r in rows], pa.int64()),
            pa.array([r[1] for r in rows], pa.decimal128(38, 2)),
            pa.array([r[2] for r in rows], pa.float64()),
            pa.array([r[3] for r in rows], pa.string()),
            pa.array([str(r[4]) for r in rows], pa.string()),  # numeric as text, as from ADBC
        ],
        names=names,
    )
    encoder = ArrowEncoder(plan.columns, plan.file_format.null_marker)
    first = bytes(record_lines(encoder.records(batch), True))
    imports.clear()
    for _ in range(3):
        assert bytes(record_lines(encoder.records(batch), True)) == first
    assert imports == []
