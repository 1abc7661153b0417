"""exporter/canonical/_rowhash.c (MD5 of many records in SIMD lanes) against hashlib, and
exporter/canonical/rowhash.py's choice between it and its Python code."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import types
from collections.abc import Iterator

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import exporter.canonical
from exporter.canonical import rowhash as hashing

try:
    from exporter.canonical import _rowhash as rowhash
except ImportError:  # judged by the fixture below: a failure wherever it could have been built
    rowhash = None  # type: ignore[assignment]

COMPILER = shutil.which("cc") or shutil.which("gcc")


@pytest.fixture(autouse=True)
def _extension_built() -> None:
    """The extension is optional only where it cannot be built: with a C compiler here (or
    under CI, whose machines have one), a missing module fails every test of this file."""
    if rowhash is not None:
        return
    if COMPILER or os.environ.get("CI"):
        pytest.fail(
            f"exporter.canonical._rowhash was not built (compiler: {COMPILER}, CI: "
            f"{os.environ.get('CI')!r}): reinstall (delete .venv, ./run.sh) and read its log"
        )
    pytest.skip("no C compiler here and CI is unset: the Python code computes the hashes")


# Records of every length around MD5's block edges (one or two padding blocks, whole blocks)
# and long ones, in orders that make lanes finish at different blocks and take new records.
EDGES = list(range(0, 200)) + [447, 448, 500, 1023, 1024, 4096, 70_000]
records_strategy = st.lists(
    st.one_of(st.binary(max_size=200), st.binary(min_size=500, max_size=5000)), max_size=60
)


def md5_hex(record: bytes) -> bytes:
    return hashlib.md5(record, usedforsecurity=False).hexdigest().encode()


def expected_lines(records: list[bytes]) -> bytes:
    return b"".join(r + b"," + md5_hex(r) + b"\n" for r in records)


def edge_records() -> Iterator[list[bytes]]:
    made = [bytes((i * 7 + n) % 256 for i in range(n)) for n in EDGES]
    yield made
    yield made[::-1]
    yield made[::3] + made[1::3] + made[2::3]


def test_every_block_edge_gives_hashlibs_digest() -> None:
    for records in edge_records():
        assert rowhash.hex_digests(records) == b"".join(map(md5_hex, records))
        assert rowhash.hashed_records(records) == expected_lines(records)
        assert rowhash.hashed_lines([r + b"\n" for r in records]) == expected_lines(records)


@settings(max_examples=300)
@given(records_strategy)
def test_batches_of_any_records_give_hashlibs_digests(records: list[bytes]) -> None:
    assert rowhash.hex_digests(records) == b"".join(map(md5_hex, records))
    assert rowhash.hashed_records(records) == expected_lines(records)
    assert rowhash.hashed_lines([r + b"\n" for r in records]) == expected_lines(records)


@settings(max_examples=200)
@given(records_strategy, st.data())
def test_packed_records_of_an_arrow_slice(records: list[bytes], data: st.DataObject) -> None:
    array = pa.array(records, pa.binary())
    start = data.draw(st.integers(0, len(records)))
    stop = data.draw(st.integers(start, len(records)))
    part = array.slice(start, stop - start)
    _validity, offsets, values = part.buffers()
    want = expected_lines(records[start:stop])
    assert hashing.packed_hashed_lines(values or b"", offsets, part.offset, len(part)) == want
    # The Python code gives the same bytes.
    saved, hashing._lanes = hashing._lanes, None
    try:
        got = hashing.packed_hashed_lines(values or b"", offsets, part.offset, len(part))
    finally:
        hashing._lanes = saved
    assert got == want


@given(records_strategy)
def test_the_python_code_gives_the_same_lines(records: list[bytes]) -> None:
    saved, hashing._lanes = hashing._lanes, None
    try:
        python = hashing.hashed_records(records)
        lines = hashing.hashed_lines([r + b"\n" for r in records])
    finally:
        hashing._lanes = saved
    assert python == rowhash.hashed_records(records) == lines


@pytest.mark.parametrize(
    "sizes",
    [
        [37] * 40 + [1 << 20],  # the batch ends in a long record: finished alone
        [1 << 20] + [37] * 40,
        [300_000, 200_000, 100_000, 5] + [64] * 3,  # a few long ones, the lanes emptying
        [1 << 22],
    ],
)
def test_long_records_among_short_ones(sizes: list[int]) -> None:
    records = [(bytes(range(256)) * (n // 256 + 1))[n % 7 : n % 7 + n] for n in sizes]
    assert [len(r) for r in records] == sizes
    assert rowhash.hex_digests(records) == b"".join(map(md5_hex, records))


def test_bad_input_is_refused_not_hashed() -> None:
    with pytest.raises(TypeError, match="item 1 is str"):
        rowhash.hex_digests([b"a", "b"])
    with pytest.raises(ValueError, match="line 1 does not end in a newline"):
        rowhash.hashed_lines([b"a\n", b"b"])
    with pytest.raises(ValueError, match="line 0"):
        rowhash.hashed_lines([b""])
    offsets = pa.array([0, 2, 9], pa.int32()).buffers()[1]
    with pytest.raises(ValueError, match="record 1 lies outside the data"):
        rowhash.packed_hashed_lines(b"abcd", offsets, 0, 2)
    with pytest.raises(ValueError, match="offsets do not cover"):
        rowhash.packed_hashed_lines(b"abcdefghij", offsets, 1, 2)
    with pytest.raises(ValueError, match="offsets do not cover"):  # start + count overflows
        rowhash.packed_hashed_lines(b"abcdefghij", offsets, sys.maxsize - 1, 1)
    # The Python code refuses the same input.
    saved, hashing._lanes = hashing._lanes, None
    try:
        with pytest.raises(ValueError, match="line 1 does not end in a newline"):
            hashing.hashed_lines([b"a\n", b"b"])
        with pytest.raises(ValueError, match="offsets do not cover"):
            hashing.packed_hashed_lines(b"abcdefghij", offsets, sys.maxsize - 1, 1)
        with pytest.raises(ValueError, match="outside the data"):
            hashing.packed_hashed_lines(b"abcd", offsets, 0, 2)
    finally:
        hashing._lanes = saved


def test_the_extension_is_built_where_a_compiler_is() -> None:
    # Reached only with the module built (the fixture above fails or skips otherwise).
    assert hashing._lanes is rowhash
    assert hashing.implementation().startswith("C extension")


def test_without_the_extension_check_says_how_to_build_it() -> None:
    saved, hashing._lanes = hashing._lanes, None
    try:
        assert "not built" in hashing.implementation()
    finally:
        hashing._lanes = saved


@pytest.mark.parametrize(
    "fake",
    [
        lambda records: b"0" * 32 * len(records),  # wrong digests
        lambda records: 1 / 0,  # fails
    ],
)
def test_an_extension_failing_its_self_test_is_not_used(
    fake: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = types.ModuleType("exporter.canonical._rowhash")
    module.hex_digests = fake  # type: ignore[attr-defined]
    monkeypatch.setattr(exporter.canonical, "_rowhash", module)
    assert hashing._load_lanes() is None
    monkeypatch.setattr(exporter.canonical, "_rowhash", rowhash)
    assert hashing._load_lanes() is rowhash
