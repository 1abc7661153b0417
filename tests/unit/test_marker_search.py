"""The bulk path's marker test in C (canonical/_marker.c) answers as Python's `in` does."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from exporter.canonical import probe
from exporter.sources.pg_copy import quoted_marker

_rowtext = pytest.importorskip(
    "exporter.canonical._rowtext", reason="the C extension was not built (no C compiler)"
)

# Bytes from a small alphabet, so that partial and whole matches of a probe are frequent.
_ALPHABET = st.sampled_from(list(b'"\\N,x\n'))
_BYTES = st.lists(_ALPHABET, max_size=40).map(bytes)


def test_the_extension_is_what_the_path_uses() -> None:
    assert probe._c_holds is _rowtext.holds


@given(data=_BYTES, needle=_BYTES)
@example(data=b'"\\N', needle=b'"\\N"')  # the probe cut at the end of the data
@example(data=b'\\N"', needle=b'"\\N"')  # and at its start
@example(data=b'""""', needle=b'""')  # a probe of quotes only: anchored on its last byte
@example(data=b"", needle=b"")
@example(data=b"abc", needle=b"")
def test_holds_is_in(data: bytes, needle: bytes) -> None:
    assert _rowtext.holds(data, needle) is (needle in data)
    assert probe.holds(data, needle) is (needle in data)


@given(
    marker=st.text(st.sampled_from("\\Nx\u00e9"), min_size=0, max_size=4),
    before=_BYTES,
    after=_BYTES,
)
def test_a_quoted_marker_is_found_anywhere(marker: str, before: bytes, after: bytes) -> None:
    quoted = quoted_marker(marker)
    assert _rowtext.holds(before + quoted + after, quoted)


def test_a_long_batch_with_many_anchor_bytes() -> None:
    # Lines full of backslashes (the default marker's anchor byte) but no quoted marker,
    # then the marker in the last line only: every anchor hit is compared and refused first.
    lines = b'"a\\Nb","\\\\N",\\N,"\\N\n' * 5000
    marker = quoted_marker("\\N")
    assert not _rowtext.holds(lines, marker)
    assert _rowtext.holds(lines + b'1,"\\N"\n', marker)
    assert _rowtext.holds(memoryview(lines + b'"\\N"'), marker)
