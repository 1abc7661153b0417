"""Following a chunk file as its worker writes it, so that its read-back ends with the export.

A table of one chunk was exported, then read back: the read-back (about a second per GB of
CSV, as long as gzip takes to decompress it) came after the whole export, with a core idle
all along. A `FollowedFile` reads the worker's temp file while it grows, waiting at its end
for more, and ends where the same file, now renamed to its final name, ends: the figures are
those of the bytes that were published, as a read after publishing gives, only sooner.

The follower runs at the lowest CPU priority (`at_lowest_priority`): on a busy machine it
would otherwise take its share from the database server's one process and the worker, which
set the pace of the export (measured: a 3M-row chunk exported in 6.3 s with a follower at
normal priority, 5.1 s at the lowest, 4.7 s without one; read after publishing: 5.9 s). So
it uses what they leave and, on a machine they keep busy, waits until they are done. Linux
only (the priority is a thread's there). Where the kernel groups processes by session
(`sched_autogroup_enabled`), nice orders the follower only against the exporter's own
processes, not against a database server on the same machine.

It follows only what it can prove is the published file: the temp file's inode becoming the
final name's. It gives up (`NotFollowed`, and the chunk is read again once published) when
no temp file appears within `start_timeout`, when the temp file goes without becoming the
final one (the worker failed, or another run's task published first) or when its writer is
no longer alive. Local folders only: an object store has no file to follow.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from exporter.fsutil import pid_alive
from exporter.layout import temp_files_of

POLL_SECONDS = 0.02  # a wait at the end of what is written so far
START_SECONDS = 3.0  # a chunk not begun by then is read once published (Ctrl-C waits for it)


CAN_FOLLOW = sys.platform.startswith("linux")
_T = TypeVar("_T")


class NotFollowed(Exception):
    """The file cannot be followed to its end: read it once it is published instead."""


class FollowedFile(io.RawIOBase):
    """The bytes of `final` as its writer writes them (see the module's docstring)."""

    def __init__(self, final: Path, *, start_timeout: float = START_SECONDS) -> None:
        super().__init__()
        self._final = final
        self._start_timeout = start_timeout
        self._fd: int | None = None
        self._temp: Path | None = None
        self._writer = 0
        self._inode: tuple[int, int] = (0, 0)
        self._published = False
        self._stopped = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        fd = self._fd if self._fd is not None else self._open()
        while True:
            got = os.readv(fd, [buffer])
            if got or self._published:
                return got
            # The end of what is written so far: published since, given up, or still going?
            final = self._identity(self._final)
            if final is None and self._same_file(self._temp) and pid_alive(self._writer):
                if self._stopped:
                    raise NotFollowed(f"{self._final.name}: no longer wanted")
                time.sleep(POLL_SECONDS)
                continue
            if final is None:  # the temp file is gone: renamed just now, or removed?
                final = self._identity(self._final)
            if final != self._inode:  # removed, its writer dead, or another file published
                raise NotFollowed(f"{self._final.name}: the file followed was not published")
            # Nothing is written after the rename: read the rest, through the final name
            # opened anew at the same offset, so that a network file system's cache (NFS:
            # close-to-open consistency) cannot end the read at a stale size.
            fd = self._reopen_final(fd)
            self._published = True

    def _open(self) -> int:
        deadline = time.monotonic() + self._start_timeout
        while True:
            with contextlib.suppress(FileNotFoundError):  # it may go meanwhile
                self._fd = os.open(self._final, os.O_RDONLY)
                self._published = True  # already whole
                return self._fd
            for temp, writer in temp_files_of(self._final):
                if not pid_alive(writer):
                    continue
                with contextlib.suppress(FileNotFoundError):
                    self._fd = os.open(temp, os.O_RDONLY)
                    info = os.fstat(self._fd)
                    self._temp, self._writer = temp, writer
                    self._inode = (info.st_dev, info.st_ino)
                    return self._fd
            if time.monotonic() > deadline:
                raise NotFollowed(f"{self._final.name}: not begun within {self._start_timeout} s")
            time.sleep(POLL_SECONDS)

    def _reopen_final(self, fd: int) -> int:
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        try:
            fresh = os.open(self._final, os.O_RDONLY)
        except FileNotFoundError:
            raise NotFollowed(f"{self._final.name}: gone once published") from None
        info = os.fstat(fresh)
        if (info.st_dev, info.st_ino) != self._inode:
            os.close(fresh)
            raise NotFollowed(f"{self._final.name}: replaced once published")
        os.lseek(fresh, offset, os.SEEK_SET)
        os.close(fd)
        self._fd = fresh
        return fresh

    def _same_file(self, path: Path | None) -> bool:
        """Whether `path` names the file being followed now."""
        return path is not None and self._identity(path) == self._inode

    @staticmethod
    def _identity(path: Path) -> tuple[int, int] | None:
        """(device, inode) of the file `path` names now; None if none."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        return info.st_dev, info.st_ino

    def stop(self) -> None:
        """Give up at the next wait: the reader no longer wants the rest (from another
        thread, e.g. before closing the decompressing reader that is waiting here)."""
        self._stopped = True

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        super().close()


def at_lowest_priority(work: Callable[[], _T]) -> _T:
    """`work()` in a thread of its own at nice 19 (with the threads it starts: they inherit
    it), leaving the calling thread's priority as it was; its result or its exception."""
    if not CAN_FOLLOW:  # elsewhere a native thread id is not a pid: renice nothing
        return work()
    outcome: list[Any] = []

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            outcome.append((True, work()))
        except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name="exporter-follow", daemon=True)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]
