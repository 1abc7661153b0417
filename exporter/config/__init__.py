"""Configuration: pydantic models and the YAML loader."""

from exporter.config.loader import load_config, parse_config
from exporter.config.models import ExportConfig, ExportSettings, SourceConfig

__all__ = ["ExportConfig", "ExportSettings", "SourceConfig", "load_config", "parse_config"]
