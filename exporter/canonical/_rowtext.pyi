"""Types of the C extension exporter/canonical/_rowtext.c (batches of Python rows -> CSV)."""

from collections.abc import Callable, Sequence
from typing import Any

def encode(
    values: Sequence[Sequence[object]],
    codes: bytes,
    cells: tuple[Callable[[Any], str], ...],
    marker: str,
    mode: int,
    /,
) -> Any: ...
def float_sum(rows: Sequence[Sequence[object]], position: int, /) -> tuple[int, int]: ...
def int_sum(rows: Sequence[Sequence[object]], position: int, /) -> tuple[int, list[Any]]: ...
def holds(data: bytes, probe: bytes, /) -> bool: ...
