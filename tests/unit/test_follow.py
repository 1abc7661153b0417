"""validation/follow.py: a chunk file read as it is written gives the figures of the file
published, and gives up (NotFollowed) whenever it cannot prove it read that file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from exporter.canonical.cells import header_record
from exporter.layout import temp_path
from exporter.model import Column, ColumnKind
from exporter.validation import follow, readback, readback_scan
from exporter.validation.follow import FollowedFile, NotFollowed, at_lowest_priority
from tests.plans import whole_plan

pytestmark = pytest.mark.skipif(
    not (readback_scan.C_SCAN and follow.CAN_FOLLOW),
    reason="following needs the C scanner (a C compiler at install) and Linux",
)

COLUMNS = (
    Column("id", "int8", ColumnKind.INTEGER),
    Column("amount", "numeric", ColumnKind.DECIMAL, precision=12, scale=2),
    Column("note", "text", ColumnKind.STRING),
)
PLAN = whole_plan(COLUMNS, marker="\\N", row_hash=False)


def _gzip_parts(rows: int) -> list[bytes]:
    """A gzip file of `rows` records, as the pieces a writer flushes one after another."""
    import zlib

    body = header_record([c.name for c in COLUMNS]) + "\n"
    body += "".join(f'{i},{i}.5,"line {i}\nwith, a comma"\n' for i in range(rows))
    squeeze = zlib.compressobj(1, zlib.DEFLATED, 31)
    data = body.encode()
    parts = [
        squeeze.compress(data[i : i + 5000]) + squeeze.flush(zlib.Z_SYNC_FLUSH)
        for i in range(0, len(data), 5000)
    ]
    return [*parts, squeeze.flush()]


def _write_slowly(final: Path, parts: list[bytes], *, publish: bool = True) -> threading.Thread:
    """A writer thread: the temp file the exporter's writer would use, grown part by part,
    fsynced and renamed (or removed, with publish=False)."""

    def write() -> None:
        tmp = temp_path(final)
        with open(tmp, "wb") as handle:
            for part in parts:
                handle.write(part)
                handle.flush()
                time.sleep(0.005)
            os.fsync(handle.fileno())
        if publish:
            os.replace(tmp, final)
        else:
            tmp.unlink()

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_file_followed_as_it_is_written_reads_as_the_file_published(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    writer = _write_slowly(final, _gzip_parts(3000))
    followed = readback.follow_chunk_figures(final, PLAN)
    writer.join()
    assert followed == readback.read_chunk_figures(final, PLAN)
    assert followed.rows == 3000 and followed.sums["id"] == str(sum(range(3000)))


def test_a_file_removed_unpublished_is_not_followed(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    writer = _write_slowly(final, _gzip_parts(3000)[:-1], publish=False)
    with pytest.raises(NotFollowed):
        readback.follow_chunk_figures(final, PLAN)
    writer.join()


def test_nothing_begun_in_time_is_not_followed(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    started = time.monotonic()
    with pytest.raises(NotFollowed):
        FollowedFile(final, start_timeout=0.2).read(10)
    assert 0.2 <= time.monotonic() - started < 5


def test_a_temp_file_whose_writer_is_dead_is_not_followed(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = int(gone.stdout)
    (tmp_path / f".{final.name}.{dead}-0123abcd.tmp").write_bytes(b"".join(_gzip_parts(10))[:-8])
    with pytest.raises(NotFollowed):
        FollowedFile(final, start_timeout=0.2).read(10)


def test_a_file_published_already_is_read_whole(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    final.write_bytes(b"".join(_gzip_parts(50)))
    assert readback.follow_chunk_figures(final, PLAN) == readback.read_chunk_figures(final, PLAN)


def test_work_at_the_lowest_priority_leaves_the_callers_priority() -> None:
    caller = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = at_lowest_priority(lambda: os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
    assert seen == 19
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == caller
    with pytest.raises(ZeroDivisionError):
        at_lowest_priority(lambda: 1 // 0)


def test_a_follower_that_gave_up_is_replaced_by_a_read_and_no_other() -> None:
    from concurrent.futures import Future

    from exporter.validation.readers import _gave_up

    def future(*, result: object = None, error: Exception | None = None) -> Future[Any]:
        done: Future[Any] = Future()
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(result)
        return done

    assert _gave_up(future(result=None))  # NotFollowed: read the file once published
    assert not _gave_up(future(result=object()))  # its figures
    assert not _gave_up(future(error=RuntimeError("reader died")))  # reported as it is
    assert not _gave_up(Future())  # still following


def _partial_temp(final: Path) -> Path:
    """A temp file of this (living) process for `final`, half written."""
    tmp = temp_path(final)
    tmp.write_bytes(b"".join(_gzip_parts(200))[:-400])
    return tmp


def test_a_live_temp_file_that_is_not_the_one_published_is_given_up(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    _partial_temp(final)  # a writer that will never publish it, its pid alive (this one)
    threading.Timer(0.2, lambda: final.write_bytes(b"".join(_gzip_parts(20)))).start()
    started = time.monotonic()
    with pytest.raises(NotFollowed):
        readback.follow_chunk_figures(final, PLAN)
    assert time.monotonic() - started < 3  # at the first wait after another file was published


def test_a_stopped_follower_gives_up_at_its_next_wait(tmp_path: Path) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    _partial_temp(final)
    followed = FollowedFile(final)
    threading.Timer(0.2, followed.stop).start()
    started = time.monotonic()
    with pytest.raises(NotFollowed):
        while followed.read(1 << 16):
            pass
    assert time.monotonic() - started < 3


def test_a_rename_between_the_two_checks_is_seen_as_published(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    final = tmp_path / "data_chunk_0.csv.gz"
    tmp = temp_path(final)
    tmp.write_bytes(b"".join(_gzip_parts(100)))
    same_file = FollowedFile._same_file

    def renamed_meanwhile(self: FollowedFile, path: Path | None) -> bool:
        if path == tmp and tmp.exists():
            os.replace(tmp, final)  # the writer publishes between the final's and the temp's check
        return same_file(self, path)

    monkeypatch.setattr(FollowedFile, "_same_file", renamed_meanwhile)
    followed = readback.follow_chunk_figures(final, PLAN)
    assert followed == readback.read_chunk_figures(final, PLAN)


def test_after_a_failed_chunk_no_more_chunks_are_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from exporter.layout import ExportLayout
    from exporter.validation.readers import ChunkReaders

    submitted: list[int] = []

    class Recorder:
        def submit(self, fn: Any, spec: Any, plan: Any, index: int) -> Any:
            submitted.append(index)

    with ChunkReaders(ExportLayout(tmp_path), 1, inline=True) as readers:
        monkeypatch.setattr(readers, "_kind", "process")
        monkeypatch.setattr(readers, "_workers", 2)
        monkeypatch.setattr(readers, "_executor", Recorder())
        readers.follow([(PLAN, i) for i in range(6)])
        assert submitted == [0, 1]  # one per reader process
        readers.chunk_done(failed=False)
        assert submitted == [0, 1, 2]  # the next, as a worker is free to start it
        readers.chunk_done(failed=True)
        readers.chunk_done(failed=False)
        assert submitted == [0, 1, 2]  # none after a failure


def test_once_published_the_rest_is_read_through_the_final_name(tmp_path: Path) -> None:
    # Opened anew: on NFS only an open after the writer's close is sure to see all of it.
    final = tmp_path / "data_chunk_0.csv.gz"
    tmp = temp_path(final)
    whole = b"".join(_gzip_parts(100))
    tmp.write_bytes(whole)
    followed = FollowedFile(final)
    assert followed.read(len(whole)) == whole  # all there is, under the temp name
    opened = followed._fd
    os.replace(tmp, final)  # published
    assert followed.read(10) == b""  # the end, seen through the final name opened anew
    assert followed._fd is not None and followed._fd != opened
    assert os.fstat(followed._fd).st_ino == final.stat().st_ino
    followed.close()
