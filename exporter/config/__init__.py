"""Configuration: pydantic models (models.py), YAML loading (loader.py), and the plain form of
a source's settings that worker processes get instead (plain.py).

Names are loaded on first use: a worker process imports `exporter.config.plain` without
paying for pydantic (about 0.09 s of every worker's start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exporter.config.loader import load_config, parse_config
    from exporter.config.models import ExportConfig, ExportSettings, SourceConfig

__all__ = ["ExportConfig", "ExportSettings", "SourceConfig", "load_config", "parse_config"]

_HOMES = {
    "load_config": "exporter.config.loader",
    "parse_config": "exporter.config.loader",
    "ExportConfig": "exporter.config.models",
    "ExportSettings": "exporter.config.models",
    "SourceConfig": "exporter.config.models",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
