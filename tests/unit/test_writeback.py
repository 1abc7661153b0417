"""The chunk file handed to the disk as it is written (export/writeback.py): the bytes pass
through unchanged, and the ranges handed on are consecutive, each at least the step."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import pytest

from exporter.export import writeback
from exporter.export.writeback import WrittenBehind
from exporter.export.writer import CsvGzipWriter


def test_ranges_handed_on_follow_each_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[int, int, int]] = []

    def fake(fd: int, offset: int, length: int, flags: int) -> int:
        calls.append((offset, length, flags))
        return 0

    monkeypatch.setattr(writeback, "_sync_file_range", lambda: fake)
    path = tmp_path / "f"
    pieces = [bytes([i]) * (100 + 37 * i) for i in range(40)]
    with open(path, "wb") as raw:
        behind = WrittenBehind(raw, every=1000)
        for piece in pieces:
            assert behind.write(piece) == len(piece)
        behind.flush()
    assert path.read_bytes() == b"".join(pieces)
    assert calls, "nothing was handed on"
    assert all(flags == writeback.SYNC_FILE_RANGE_WRITE for _, _, flags in calls)
    assert all(length >= 1000 for _, length, _ in calls)
    ends = 0
    for offset, length, _ in calls:
        assert offset == ends
        ends += length
    assert ends == behind.handed
    assert sum(map(len, pieces)) - behind.handed < 1000 + max(map(len, pieces))


def test_a_refused_hint_stops_the_hints_not_the_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(writeback, "_sync_file_range", lambda: lambda *args: calls.append(1) or -1)
    path = tmp_path / "f"
    with open(path, "wb") as raw:
        behind = WrittenBehind(raw, every=10)
        for _ in range(5):
            behind.write(b"x" * 20)
    assert path.read_bytes() == b"x" * 100
    assert calls == [1]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="sync_file_range is Linux's")
def test_the_real_call_accepts_a_chunk_file_s_ranges(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = writeback._sync_file_range()
    assert real is not None
    results: list[int] = []

    def counted(*args: int) -> int:
        results.append(real(*args))
        return results[-1]

    monkeypatch.setattr(writeback, "_sync_file_range", lambda: counted)
    monkeypatch.setattr(writeback, "WRITE_BEHIND_BYTES", 4096)
    lines = b"".join(b'%d,"%s"\n' % (i, str(i * 7919).encode() * 9) for i in range(200_000))
    writer = CsvGzipWriter(tmp_path / "data_chunk_0.csv.gz", "id,t", level=None)
    for start in range(0, len(lines), 65536):
        writer.write_bytes(lines[start : start + 65536], 0)
    writer.commit()
    assert gzip.decompress((tmp_path / "data_chunk_0.csv.gz").read_bytes()) == b"id,t\n" + lines
    assert len(results) > 10 and set(results) == {0}


@pytest.mark.parametrize("level", [1, 6])  # isal's threaded writer; zlib's GzipFile
def test_both_gzip_writers_write_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, level: int
) -> None:
    handed: list[int] = []
    monkeypatch.setattr(
        writeback, "_sync_file_range", lambda: lambda fd, off, n, flags: handed.append(n) or 0
    )
    monkeypatch.setattr(writeback, "WRITE_BEHIND_BYTES", 1024)
    lines = b"".join(b"%d,%d\n" % (i, i * i) for i in range(100_000))
    path = tmp_path / "data_chunk_0.csv.gz"
    writer = CsvGzipWriter(path, "a,b", level=level)
    writer.write_bytes(lines, 100_000)
    writer.commit()
    assert gzip.decompress(path.read_bytes()) == b"a,b\n" + lines
    assert handed and sum(handed) <= path.stat().st_size
