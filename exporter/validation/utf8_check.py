"""A pass-through reader that checks the bytes it passes are UTF-8 (validation's read-back).

BigQuery refuses a file that is not UTF-8; the read-back's CSV reader converts only the
numeric columns, so this is what checks the text of the others.
"""

from __future__ import annotations

import io
import struct
from typing import IO, Any


class Utf8Checked(io.RawIOBase):
    """A reader that passes bytes through and raises UnicodeDecodeError at the first block
    holding a byte sequence that is not UTF-8. Arrow validates each block where it lies (a
    binary-to-string cast that copies nothing); a character split between two blocks is
    checked with the next."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self._carry = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        block = self._carry + data if self._carry else data
        cut = len(block) if not data else complete_utf8_end(block)
        self._check(block[:cut] if cut < len(block) else block)
        self._carry = block[cut:]
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    @staticmethod
    def _check(block: bytes) -> None:
        import pyarrow as pa

        if not block:
            return
        offsets = pa.py_buffer(struct.pack("<ii", 0, len(block)))
        as_binary = pa.Array.from_buffers(pa.binary(), 1, [None, offsets, pa.py_buffer(block)])
        try:
            as_binary.cast(pa.string())
        except pa.ArrowInvalid:
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "invalid UTF-8 in the file") from None


def complete_utf8_end(block: bytes) -> int:
    """The length of `block` without a multi-byte character cut off at its end."""
    for back in range(1, min(4, len(block)) + 1):
        byte = block[-back]
        if byte < 0x80:
            return len(block)  # ASCII: nothing is cut (stray continuation bytes fail later)
        if byte >= 0xC0:  # the lead byte of the last character
            width = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return len(block) if width <= back else len(block) - back
    return len(block)
