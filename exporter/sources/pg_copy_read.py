"""How pg_copy.py's loop takes a COPY's rows from libpq, and how it waits for more.

Rows: in C where the extension `_pgcopy` was compiled (one call a batch, on the PGconn
psycopg exposes for that purpose, `PGconn.pgconn_ptr`, and the libpq functions psycopg
itself is linked to), else by psycopg's `get_copy_data` one row at a time. Both take only
what libpq has already received, never waiting.

Waits: the server flushes its output every 8 kB, and a client faster than the server used
to be woken for each of them: some 130,000 wake-ups, a socket wait, a read and a pass of the
loop each, for a 3M-row table (about 2.5 of the worker's 4 CPU-seconds of reading,
docs/BENCHMARKS.md). While the COPY streams, the socket's low-water mark (SO_RCVLOWAT) is
raised for each wait so that it ends only once `LOW_WATER_BYTES` have arrived, or after
`WAIT_SECONDS`, which is how the last bytes of the COPY, fewer than the mark, are read.
The mark is put back as each wait ends, so nothing else ever waits with it (psycopg's end
of the COPY, its cancel of a COPY left early, the next query). Where the kernel ignores
the mark (a Unix-domain socket, an old kernel) a wait ends on the first byte, as before.

libpq: https://www.postgresql.org/docs/current/libpq-copy.html#LIBPQ-COPY-RECEIVE
psycopg: https://www.psycopg.org/psycopg3/docs/api/pq.html#psycopg.pq.PGconn.pgconn_ptr
SO_RCVLOWAT: https://man7.org/linux/man-pages/man7/socket.7.html
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import selectors
import socket
import sys
from collections.abc import Callable
from typing import Any

_c_read_rows: Callable[[int, int, int, int], tuple[int, list[bytes]]] | None
try:
    from exporter.sources._pgcopy import read_rows as _c_read_rows
except ImportError:  # built without a C compiler: psycopg's get_copy_data
    _c_read_rows = None

# (status, rows): at most the given number of rows from libpq's buffer, without waiting;
# status is what PQgetCopyData returned last (0: no complete row buffered, -1: the COPY has
# ended, -2: an error), or 1 when the batch was filled.
RowReader = Callable[[int], tuple[int, list[bytes]]]

LOW_WATER_BYTES = 256 * 1024  # 32 of the server's flushes a wake-up (measured: 64 kB, 256 kB)
WAIT_SECONDS = 0.01  # the longest a wait lasts below the mark: the COPY's tail, a slow source
_DEFAULT_LOW_WATER = 1


def row_reader(pgconn: Any) -> RowReader:
    """The C reader where it can be used for this connection, else psycopg's."""
    return c_row_reader(pgconn) or _python_row_reader(pgconn)


def c_row_reader(pgconn: Any) -> RowReader | None:
    """The C reader bound to this connection, or None where it cannot be used: the extension
    was not compiled, libpq's functions were not found in a library of the version psycopg
    reports, or the PGconn does not answer as this connection (its backend's process id,
    read through that library, differs or is unknown)."""
    from psycopg import OperationalError, pq

    functions = _libpq_functions()
    address = pgconn.pgconn_ptr
    if _c_read_rows is None or functions is None or address is None:
        return None
    get_copy_data, freemem, backend_pid, lib_version = functions
    if lib_version() != pq.version():
        return None
    pid = backend_pid(address)
    if pid == 0 or pid != pgconn.backend_pid:
        return None
    read_rows = _c_read_rows

    def read(max_rows: int) -> tuple[int, list[bytes]]:
        # The address read again each time: a connection closed meanwhile has none.
        address = pgconn.pgconn_ptr
        if address is None:
            raise OperationalError("the connection is closed")
        return read_rows(address, get_copy_data, freemem, max_rows)

    return read


def _python_row_reader(pgconn: Any) -> RowReader:
    """The same reader on psycopg's `get_copy_data`, which raises the error status itself."""
    get_copy_data = pgconn.get_copy_data

    def read(max_rows: int) -> tuple[int, list[bytes]]:
        rows: list[bytes] = []
        while len(rows) < max_rows:
            nbytes, data = get_copy_data(1)
            if nbytes <= 0:
                return nbytes, rows
            # bytes at once: libpq's buffer is freed while hot, and bytes objects, unlike
            # memoryviews, are no work for the garbage collector (docs/BENCHMARKS.md).
            rows.append(bytes(data))
        return 1, rows

    return read


@functools.cache
def _libpq_functions() -> tuple[int, int, Callable[[int], int], Callable[[], int]] | None:
    """The addresses of PQgetCopyData and PQfreemem, and PQbackendPID and PQlibVersion as
    ctypes functions, all in the libpq psycopg calls: for its C implementations (binary, c)
    the library its `pq` module is linked to (found by dlsym on that module, which searches
    its dependencies; a libpq loaded globally before psycopg would take precedence for
    psycopg itself, which `c_row_reader` catches by the version and the process id), for
    the Python one the library it loaded with ctypes. None where they cannot be found."""
    try:
        from psycopg import pq

        if pq.__impl__ == "python":
            from psycopg.pq import _pq_ctypes

            library = _pq_ctypes.pq  # type: ignore[attr-defined]
        else:
            module_file = sys.modules[pq.PGconn.__module__].__file__
            library = ctypes.CDLL(module_file, mode=os.RTLD_NOLOAD)
        get_copy_data, freemem, backend_pid, lib_version = (
            ctypes.cast(getattr(library, name), ctypes.c_void_p).value
            for name in ("PQgetCopyData", "PQfreemem", "PQbackendPID", "PQlibVersion")
        )
    except (ImportError, OSError, AttributeError, KeyError, TypeError):
        return None
    if not (get_copy_data and freemem and backend_pid and lib_version):
        return None
    pid_of = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)(backend_pid)
    version_of = ctypes.CFUNCTYPE(ctypes.c_int)(lib_version)
    return get_copy_data, freemem, pid_of, version_of


class SocketWait:
    """Waits for more of the COPY on the connection's socket, the low-water mark raised only
    for the wait itself (module docstring): whenever control is outside `wait`, between two
    batches or after the loop however it ends, the socket is as psycopg left it."""

    def __init__(self, pgconn: Any, low_water: int = LOW_WATER_BYTES) -> None:
        self._fileno = pgconn.socket
        self._wanted = low_water
        self._mark = _DEFAULT_LOW_WATER  # no mark: waits end on the first byte
        self._socket: socket.socket | None = None
        self._selector: selectors.BaseSelector | None = None

    def __enter__(self) -> SocketWait:
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._fileno, selectors.EVENT_READ)
        # A second descriptor of the same socket: options are the socket's, shared by both,
        # and closing this one leaves psycopg's open.
        self._socket = socket.socket(fileno=os.dup(self._fileno))
        if self._socket.family in (socket.AF_INET, socket.AF_INET6):
            self._mark = self._fitting_mark(self._socket)
        return self

    def _fitting_mark(self, sock: socket.socket) -> int:
        """The mark to raise: asking for four times the wanted one first makes Linux (4.18+)
        grow the receive buffer to hold that much; the mark is then at most a quarter of what
        the buffer holds (the figure read back counts the kernel's bookkeeping too), so that
        a wait mid-stream always ends on data, never on the timeout. A buffer fixed by hand
        (SO_RCVBUF) is not grown, and the mark is lowered to fit it. None raised where the
        system has no such option (Windows)."""
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 4 * self._wanted)
            room = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) // 4
            return max(min(self._wanted, room), _DEFAULT_LOW_WATER)
        except OSError:
            return _DEFAULT_LOW_WATER
        finally:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, _DEFAULT_LOW_WATER)

    @property
    def mark(self) -> int:
        """The low-water mark a wait raises (1: none)."""
        return self._mark

    def wait(self) -> None:
        """Until the mark's worth has arrived, WAIT_SECONDS have passed, or (without a mark)
        any byte has arrived. The mark is put back before returning, whatever happens."""
        assert self._selector is not None and self._socket is not None
        if self._mark == _DEFAULT_LOW_WATER:
            self._selector.select()
            return
        sock = self._socket
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, self._mark)
        try:
            self._selector.select(WAIT_SECONDS)
        finally:
            with contextlib.suppress(OSError):  # a socket that fails has failed already
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, _DEFAULT_LOW_WATER)

    def __exit__(self, *exc: object) -> None:
        if self._selector is not None:
            self._selector.close()
        if self._socket is not None:
            self._socket.close()
