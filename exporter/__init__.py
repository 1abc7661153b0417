"""Parallel, resumable, verified export of database tables to gzipped CSV for BigQuery.

The library API (api.py): `load_config`, then `plan`, `check`, `export` and `validate`, or
`load_compare_config`, then `compare`: one function per command of the command line, which
only calls them and prints what they return. Names are loaded on first use, so that importing
the package stays cheap for worker processes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exporter.api import check, compare, export, plan, validate
    from exporter.config.loader import load_compare_config, load_config

from exporter.version import __version__

__all__ = [
    "__version__",
    "check",
    "compare",
    "export",
    "load_compare_config",
    "load_config",
    "plan",
    "validate",
]

_HOMES = {
    "check": "exporter.api",
    "export": "exporter.api",
    "plan": "exporter.api",
    "validate": "exporter.api",
    "compare": "exporter.api",
    "load_config": "exporter.config.loader",
    "load_compare_config": "exporter.config.loader",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
