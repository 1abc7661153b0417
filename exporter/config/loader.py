"""Reading a config file: YAML, ${VAR} expansion (an unset variable is an error), validation,
and checks that the password source exists, turned into one-line `ConfigError`s."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from exporter.config.base import PasswordSource
from exporter.config.models import ExportConfig
from exporter.errors import ConfigError
from exporter.sources import known_engines

log = logging.getLogger(__name__)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _expand(value: Any, where: str) -> Any:
    """Replace ${VAR} in every string; a variable that is not set is an error naming it."""
    if isinstance(value, dict):
        return {k: _expand(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"environment variable {name} is not set",
                    key=where,
                    hint=f"export {name}=... before running, or edit the config",
                )
            return os.environ[name]

        return _VAR.sub(replace, value)
    return value


def _first_error(exc: ValidationError) -> ConfigError:
    err = exc.errors()[0]
    # Drop the union tag pydantic inserts after `source` ("source.postgresql.port"), and
    # nowhere else: a stray top-level "postgresql:" block must still be named.
    loc = [str(p) for p in err["loc"]]
    if len(loc) >= 2 and loc[0] == "source" and loc[1] in known_engines():
        del loc[1]
    key = ".".join(loc) or None
    if err["type"] == "extra_forbidden":
        return ConfigError("unknown key", key=key, hint="check the spelling against README.md")
    if err["type"] == "union_tag_invalid":
        return ConfigError(
            # err["input"] is the whole source block (password included): name the tag only.
            f"unknown engine {err.get('ctx', {}).get('tag')!r}",
            key="source.engine",
            hint=f"use one of: {', '.join(known_engines())}",
        )
    if err["type"] == "missing":
        return ConfigError("is required but missing", key=key)
    message = err["msg"].removeprefix("Value error, ")
    return ConfigError(message, key=key)


def _check_password(config: ExportConfig, where: str) -> None:
    source = config.source
    if not isinstance(source, PasswordSource):
        return
    if source.password_env and source.password_env not in os.environ:
        raise ConfigError(
            f"environment variable {source.password_env} is not set",
            key=f"{where}.password_env",
            hint=f"export {source.password_env}=... before running",
        )
    if source.password_file and not source.password_file.is_file():
        raise ConfigError(f"file {source.password_file} not found", key=f"{where}.password_file")
    if source.password:
        log.warning(
            "%s.password holds a literal password: prefer password_env or password_file", where
        )


def parse_config(data: Any, *, origin: str = "config") -> ExportConfig:
    """Validate already-parsed YAML (a dict) into an ExportConfig."""
    if not isinstance(data, dict):
        raise ConfigError(f"{origin} must be a YAML mapping with a source: block")
    try:
        config = ExportConfig.model_validate(_expand(data, ""))
    except ValidationError as exc:
        raise _first_error(exc) from exc
    _check_password(config, "source")
    return config


def load_config(path: str | Path) -> ExportConfig:
    """Read and validate an exporter config file; every problem is a one-line ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found", hint="check the --config path") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path} is not valid YAML{where}") from None
    return parse_config(data, origin=str(path))
