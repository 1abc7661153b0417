"""Arrow scalars made once, for the constants given to pyarrow.compute functions.

A Python number or string passed to a compute function is converted to an Arrow scalar on
every call, and pyarrow's conversion of a Python object tries to import
`dateutil.relativedelta` each time: where dateutil is not installed that is a failed import,
a search of sys.path costing about 0.1 ms. The read-back of a 3M-row file made some 10,000
such calls (over a second of CPU, measured with cProfile); a scalar made once costs nothing
per call.
"""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def scalar(value: bool | int | float | str, type_name: str) -> Any:
    """`value` as an Arrow scalar of the type `pyarrow.<type_name>()` ("int64", "string"...),
    made on the first call and reused."""
    import pyarrow as pa

    return pa.scalar(value, getattr(pa, type_name)())
