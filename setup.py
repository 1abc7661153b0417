"""Builds the optional C extension `exporter.canonical._rowhash` (row hashes in SIMD lanes); everything
else is in pyproject.toml. Where it cannot be compiled (no C compiler), the install goes on
without it and exporter/canonical/rowhash.py computes the same hashes with hashlib."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "exporter.canonical._rowhash",
            sources=["exporter/canonical/_rowhash.c"],
            extra_compile_args=["-O3"],
            optional=True,
        )
    ]
)
