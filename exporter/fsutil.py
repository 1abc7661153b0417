"""Atomic publication of files, and the sweep of partial files left by a crash.

A final name appears only for complete content. On a local disk: write to a temp name in the
same folder, flush, fsync, rename over the final name, fsync the folder. In an object store
(Cloud Storage, S3), which has no rename, a file is written on this machine first and then
uploaded in one put: the object exists only once its upload has finished. In another fsspec
store: uploaded under a temp name, then moved. "The file exists" then proves the content is
complete, wherever it is, which is what resume relies on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from exporter.layout import UPLOADS_DIR, is_temp_file, staging_path, temp_path
from exporter.storage import RemotePath, StorePath

log = logging.getLogger(__name__)


def fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_uploads_swept = False  # this process has removed its machine's staged files of dead ones


def staging_file(final: StorePath) -> Path:
    """The local file that `final`'s content is written to before `publish`: beside it on a
    local disk; in this machine's temp folder when `final` is in a store."""
    global _uploads_swept
    if isinstance(final, Path):
        final.parent.mkdir(parents=True, exist_ok=True)
        return temp_path(final)
    staged = staging_path(final)
    staged.parent.mkdir(parents=True, exist_ok=True)
    if not _uploads_swept:
        _sweep_dead_uploads(staged.parent)
        _uploads_swept = True
    return staged


def publish(tmp: Path, final: StorePath) -> None:
    """Make a fully written and fsynced local file `tmp` appear as `final`, whole and at once:
    renamed (local), uploaded in one put (object store), or uploaded and moved (other stores).
    The local file is gone afterwards."""
    if isinstance(final, Path):
        os.replace(tmp, final)
        fsync_dir(final.parent)
        return
    try:
        if final.is_object_store:
            final.upload(tmp)
        else:
            remote_tmp = temp_path(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            remote_tmp.upload(tmp)
            remote_tmp.move_to(final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_atomic(path: StorePath, content: str | bytes) -> None:
    """Write a small file so that readers see the old content or the new, never a mix."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    if isinstance(path, RemotePath) and path.is_object_store:
        path.write_bytes(data)  # one request: the object appears whole
        return
    tmp = staging_file(path)
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        publish(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json(path: StorePath, data: Any) -> None:
    """write_atomic of pretty, key-sorted JSON with a trailing newline."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def make_executable(path: StorePath) -> None:
    """chmod 755 a local script (a store keeps no file modes: run it with `sh`)."""
    if isinstance(path, Path):
        os.chmod(path, 0o755)


def read_json(path: StorePath) -> Any:
    """The parsed content of a JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def sweep_partials(root: StorePath) -> int:
    """Delete temp files left by an interrupted run under `root`; returns how many.

    Only names made by `layout.temp_path` are touched, so user files are never removed. An
    object store never holds one (files reach it by one upload each), so it is not listed.
    """
    if isinstance(root, RemotePath):
        return 0 if root.is_object_store else _sweep_store(root)
    if not root.is_dir():
        return 0
    removed = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if is_temp_file(path):
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
    if removed:
        log.info("removed %d partial file(s) left by an interrupted run", removed)
    return removed


def _sweep_store(root: RemotePath) -> int:
    try:
        found = [str(p) for p in root.fs.find(root.path)]
    except FileNotFoundError:
        return 0
    partial = [RemotePath(root.fs, p) for p in found if is_temp_file(Path(p))]
    for path in partial:
        path.unlink(missing_ok=True)
    if partial:
        log.info("removed %d partial file(s) left by an interrupted run", len(partial))
    return len(partial)


def _sweep_dead_uploads(folder: Path) -> None:
    """Remove staged uploads of processes that are gone (a worker killed mid-chunk) from this
    machine's UPLOADS_DIR: their objects were never created, and the chunks run again."""
    assert folder.name == UPLOADS_DIR
    for name in os.listdir(folder):
        pid = name.rsplit(".", 2)[-2].split("-", 1)[0] if is_temp_file(Path(name)) else ""
        if pid.isdigit() and not pid_alive(int(pid)):
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()


def pid_alive(pid: int) -> bool:
    """Whether process `pid` runs on this machine (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
