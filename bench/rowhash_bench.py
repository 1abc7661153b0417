"""Row hash micro-benchmark: rowhash.hashed_lines with the C extension
(exporter/canonical/_rowhash.c) against the Python code it replaces, on the same lines, in one
process.

    .venv/bin/python bench/rowhash_bench.py                 # synthetic 300-450 byte lines
    .venv/bin/python bench/rowhash_bench.py --lines FILE    # lines of a CSV file (say, one
                                                            # exported by psql \\copy)

Prints microseconds a line (best of --repeats) for: the C extension; the Python code
(hashlib's builtin MD5, slicing, hexlify, join); the MD5 calls alone, in Python. Lines are
handed over in batches of 2,048 as the bulk path does (pg_copy.COPY_BATCH_ROWS), each batch
freshly copied before it is timed, as the bulk path hashes lines it has just received.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from exporter.canonical import rowhash as hashing

BATCH = 2048


def synthetic_lines(count: int, seed: int = 1) -> list[bytes]:
    """`count` lines of 300-450 printable bytes, each ending in a newline."""
    rng = random.Random(seed)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789,.-: \"'"
    return [bytes(rng.choices(alphabet, k=rng.randint(300, 450))) + b"\n" for _ in range(count)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=Path, help="a CSV file whose lines are hashed")
    parser.add_argument("--count", type=int, default=40_000, help="synthetic lines")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.lines:
        lines = [line + b"\n" for line in args.lines.read_bytes().split(b"\n") if line]
    else:
        lines = synthetic_lines(args.count)
    batches = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
    mean = sum(map(len, lines)) / len(lines)
    lanes = hashing._lanes
    if lanes is None:
        raise SystemExit("the C extension is not built or failed its self-test")
    md5 = hashing._new_md5

    def python(batch: list[bytes]) -> bytes:
        return hashing._py_hashed_records([line[:-1] for line in batch])

    def md5_only(batch: list[bytes]) -> list[bytes]:
        return [md5(line, usedforsecurity=False).digest() for line in batch]

    for batch in batches:
        assert lanes.hashed_lines(batch) == python(batch)
    print(f"{len(lines)} lines of {mean:.0f} bytes on average, batches of {BATCH}")
    for name, fn in (
        ("C extension (hashed_lines)", lanes.hashed_lines),
        ("Python code (hashlib's MD5, join)", python),
        ("MD5 calls alone, Python", md5_only),
    ):
        best = min(timed_batches(fn, batches) for _ in range(args.repeats))
        print(f"  {name:36} {best / len(lines) * 1e6:6.3f} us a line")


def timed_batches(fn: Callable[[list[bytes]], object], batches: list[list[bytes]]) -> float:
    """Seconds `fn` takes over all batches, each batch copied just before (untimed): the
    bulk path hashes lines it has just received, which are in the CPU's cache."""
    total = 0.0
    for batch in batches:
        fresh = [bytes(bytearray(line)) for line in batch]
        start = time.perf_counter()
        fn(fresh)
        total += time.perf_counter() - start
    return total


if __name__ == "__main__":
    main()
