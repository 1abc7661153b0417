"""Fixtures of the PostgreSQL tests: two throwaway databases for the comparator; a Dask
cluster and a Cloud Storage emulator for the scale-out tests, each started once per session
and stopped at its end."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
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


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """A Dask cluster of three worker processes, one thread each, on loopback (issue 16):
    what `dask scheduler` and `dask worker --nthreads 1` make on real machines."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=3,
        processes=True,
        threads_per_worker=1,
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def gcs_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Cloud Storage emulator (gcp-storage-emulator, in memory) on a free loopback port,
    with a bucket named `bucket`; yields its endpoint URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path_factory.mktemp("gcs") / "emulator.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gcp_storage_emulator", "start", "--port", str(port)]
            + ["-H", "127.0.0.1", "--in-memory", "--default-bucket", "bucket", "-q"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/storage/v1/b/bucket", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the storage emulator did not start: {log.read_text()[-2000:]}")
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
