"""Atomic publication of files, and the sweep of partial files left by a crash.

A final name appears only for complete content: write to a temp name in the same folder,
flush, fsync, rename over the final name, fsync the folder. "The file exists" then proves
the content is complete, which is what resume relies on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from exporter.layout import is_temp_file, temp_path

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


def publish(tmp: Path, final: Path) -> None:
    """Rename a fully written and fsynced temp file to its final name, durably."""
    os.replace(tmp, final)
    fsync_dir(final.parent)


def write_atomic(path: Path, content: str | bytes) -> None:
    """Write a small file so that readers see the old content or the new, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path(path)
    data = content.encode("utf-8") if isinstance(content, str) else content
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


def write_json(path: Path, data: Any) -> None:
    """write_atomic of pretty, key-sorted JSON with a trailing newline."""
    write_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: Path) -> Any:
    """The parsed content of a JSON file."""
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def sweep_partials(root: Path) -> int:
    """Delete temp files left by an interrupted run under `root`; returns how many.

    Only names made by `layout.temp_path` are touched, so user files are never removed.
    """
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
