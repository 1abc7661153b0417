"""The connections a worker process keeps between tasks: one per source config, reused by
every task that reads the same database while it stays usable, closed at exit. They are kept
per thread: a Dask worker started with several threads runs several tasks at once, and a
connection serves one task at a time.

Any pipeline's task asks `cached_connection(settings)`; what a connection keeps beside it
(a second driver's connection, a session state) is the source's business. A helper thread
that runs queries beside its task's (export/figures.py) says whom it `work_for`: its
connections then close with that thread's.
"""

from __future__ import annotations

import contextlib
import threading

from exporter.config.plain import PlainSettings
from exporter.sources import get_source
from exporter.sources.base import DbConn, Source

_cache: dict[tuple[int, str], tuple[Source, DbConn]] = {}  # (thread, settings) ->
_owners: dict[int, int] = {}  # a helper thread -> the thread it works for


def cached_connection(settings: PlainSettings, role: str = "") -> tuple[Source, DbConn]:
    """This process's Source and open connection for `settings`, opened on first use and
    replaced when it can no longer be used (closed, left in a transaction or another session
    state a task sets). A task that reads two databases at once names a `role` for each, so
    that two roles on one database still get a connection each."""
    key = (threading.get_ident(), f"{role}:{settings.cache_key()}")
    cached = _cache.get(key)
    if cached is not None and not still_usable(cached[1]):
        close_connections()  # e.g. a session left in a snapshot state
    if key not in _cache:
        source = get_source(settings)
        _cache[key] = (source, source.open())
    return _cache[key]


def still_usable(conn: DbConn) -> bool:
    """`conn.reusable()`, false when the connection cannot even say."""
    try:
        return conn.reusable()
    except Exception:  # noqa: BLE001 - a connection that cannot say is not reused
        return False


def drop_if_broken(conn: DbConn | None) -> None:
    """After a task failed on our side (bad data, a full disk), the source may have failed
    too, e.g. the connection lost while a COPY was being cancelled: the next task must not
    inherit a dead connection."""
    if conn is None or not still_usable(conn):
        close_connections()


def work_for(owner: int) -> None:
    """Count this thread's connections as thread `owner`'s too: `close_connections()` there
    closes them. For a helper that runs queries beside its owner's, which the owner waits
    for before it closes anything, so that they are never closed under a running query."""
    _owners[threading.get_ident()] = owner


def close_connections(every_thread: bool = False) -> None:
    """Close this thread's cached connections and its helpers', or (at exit) the whole
    process's (best effort: a broken one may refuse)."""
    mine = threading.get_ident()
    for key in list(_cache):  # a snapshot: other threads may add theirs meanwhile
        if every_thread or key[0] == mine or _owners.get(key[0]) == mine:
            cached = _cache.pop(key, None)
            if cached is not None:
                with contextlib.suppress(Exception):
                    cached[1].close()
