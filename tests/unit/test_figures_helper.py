"""export/figures.py: each thread that exports chunks has one lasting helper thread for its
figures queries, whose cached connections close with that thread's (runtime/connections.py)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from exporter.export import figures
from exporter.runtime import connections


class _Conn:
    closed = False

    def close(self) -> None:
        self.closed = True


def _in_thread(fn: Any) -> Any:
    with ThreadPoolExecutor(1) as other:
        return other.submit(fn).result()


def test_each_exporting_thread_keeps_one_helper_of_its_own() -> None:
    mine = figures._helper()
    assert figures._helper() is mine
    assert _in_thread(figures._helper) is not mine  # a Dask worker's other task thread
    helper_ident = mine.submit(threading.get_ident).result()
    assert mine.submit(threading.get_ident).result() == helper_ident  # one lasting thread
    assert connections._owners[helper_ident] == threading.get_ident()


def test_a_helpers_connections_close_with_its_owners_only() -> None:
    helper_conn, other_conn = _Conn(), _Conn()

    def cache(conn: _Conn) -> tuple[int, str]:
        key = (threading.get_ident(), "figures:test")
        connections._cache[key] = (None, conn)  # type: ignore[assignment]
        return key

    figures._helper().submit(cache, helper_conn).result()
    other_key = _in_thread(lambda: cache(other_conn))  # a thread that is no helper of ours
    try:
        connections.close_connections()
        assert helper_conn.closed and not other_conn.closed
        assert other_key in connections._cache
    finally:
        connections._cache.pop(other_key, None)
