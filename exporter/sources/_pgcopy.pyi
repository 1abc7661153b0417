"""Types of the C extension exporter/sources/_pgcopy.c (COPY rows from libpq's buffer)."""

def read_rows(
    conn: int, get_copy_data: int, freemem: int, max_rows: int, /
) -> tuple[int, list[bytes]]: ...
