"""Builds the optional C extensions; everything else is in pyproject.toml.

- `exporter.canonical._rowhash`: row hashes in SIMD lanes.
- `exporter.canonical._rowtext`: batches of Python rows encoded into CSV records, and the
  exact sums of their numeric columns.
- `exporter.sources._pgcopy`: the rows of a PostgreSQL COPY taken from libpq's buffer.
- `exporter.validation._csvscan`: a chunk file's records counted and numbers summed.

Where one cannot be compiled (no C compiler), the install goes on without it and the Python
code does the same work: exporter/canonical/rowhash.py with hashlib, exporter/canonical/rows.py
with the Python encoder, exporter/sources/pg_copy.py with its Python loop,
exporter/validation/readback.py with Arrow's CSV reader."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "exporter.canonical._rowhash",
            sources=["exporter/canonical/_rowhash.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "exporter.canonical._rowtext",
            sources=[
                "exporter/canonical/_rowtext.c",
                "exporter/canonical/_celltext.c",
                "exporter/canonical/_floattext.c",
                "exporter/canonical/_rowsums.c",
                "exporter/canonical/_marker.c",
                "exporter/canonical/_exactsum.c",
            ],
            depends=["exporter/canonical/_rowtext.h", "exporter/canonical/_exactsum.h"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "exporter.validation._csvscan",
            sources=[
                "exporter/validation/_csvscan.c",
                "exporter/validation/_csvparse.c",
                "exporter/validation/_csvcells.c",
                "exporter/canonical/_exactsum.c",
            ],
            depends=["exporter/validation/_csvscan.h", "exporter/canonical/_exactsum.h"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
        Extension(
            "exporter.sources._pgcopy",
            sources=["exporter/sources/_pgcopy.c"],
            extra_compile_args=["-O3"],
            optional=True,
        ),
    ]
)
