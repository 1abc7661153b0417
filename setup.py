"""Builds the optional C extension `exporter._rowhash` (row hashes in SIMD lanes); everything
else is in pyproject.toml. Where it cannot be compiled (no C compiler), the install goes on
without it and exporter/hashing.py computes the same hashes with hashlib."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "exporter._rowhash",
            sources=["exporter/_rowhash.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
