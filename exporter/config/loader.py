"""Reading a config file: YAML, ${VAR} expansion (an unset variable is an error), validation,
and checks that the password source exists, turned into one-line `ConfigError`s."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError

from exporter.config.base import PasswordSource
from exporter.config.compare import CompareConfig
from exporter.config.models import ExportConfig
from exporter.errors import (
    ERR_CONFIG_FILE_MISSING,
    ERR_CONFIG_FILE_UNREADABLE,
    ERR_CONFIG_NOT_YAML,
    ERR_SETTING,
    ExporterError,
    error,
)
from exporter.sources import known_engines, source_class

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
                raise _setting(
                    where,
                    f"environment variable {name} is not set",
                    hint=f"export {name}=... before running, or edit the config",
                )
            return os.environ[name]

        return _VAR.sub(replace, value)
    return value


def _setting(key: str | None, problem: str, hint: str | None = None) -> ExporterError:
    """EXP-1001: the config's value at `key` is wrong (`problem`)."""
    return error(ERR_SETTING, key=key, problem=problem, hint=hint)


# The blocks that hold a connection: pydantic puts the engine tag after them in error paths.
_SOURCE_BLOCKS = ("source", "target")
Model = TypeVar("Model", ExportConfig, CompareConfig)


def _first_error(exc: ValidationError) -> ExporterError:
    err = exc.errors()[0]
    # Drop the union tag pydantic inserts after `source` ("source.postgresql.port"), and
    # nowhere else: a stray top-level "postgresql:" block must still be named.
    loc = [str(p) for p in err["loc"]]
    if len(loc) >= 2 and loc[0] in _SOURCE_BLOCKS and loc[1] in known_engines():
        del loc[1]
    key = ".".join(loc) or None
    if err["type"] == "extra_forbidden":
        return _setting(key, "unknown key", hint="check the spelling against README.md")
    if err["type"] == "union_tag_invalid":
        return _setting(
            f"{loc[0]}.engine",
            # err["input"] is the whole source block (password included): name the tag only.
            f"unknown engine {err.get('ctx', {}).get('tag')!r}",
            hint=f"use one of: {', '.join(known_engines())}",
        )
    if err["type"] == "missing":
        return _setting(key, "is required but missing")
    return _setting(key, err["msg"].removeprefix("Value error, "))


def _check_password(source: object, where: str) -> None:
    if not isinstance(source, PasswordSource):
        return
    if source.password_env and source.password_env not in os.environ:
        raise _setting(
            f"{where}.password_env",
            f"environment variable {source.password_env} is not set",
            hint=f"export {source.password_env}=... before running",
        )
    if source.password_file and not source.password_file.is_file():
        raise _setting(f"{where}.password_file", f"file {source.password_file} not found")
    if source.password:
        log.warning(
            "%s.password holds a literal password: prefer password_env or password_file", where
        )


def _validate(model: type[Model], data: Any, origin: str) -> Model:
    if not isinstance(data, dict):
        raise _setting(None, f"{origin} must be a YAML mapping with a source: block")
    try:
        config = model.model_validate(_expand(data, ""))
    except ValidationError as exc:
        raise _first_error(exc) from exc
    for block in _SOURCE_BLOCKS:
        _check_password(getattr(config, block, None), block)
    return config


def parse_config(data: Any, *, origin: str = "config") -> ExportConfig:
    """Validate already-parsed YAML (a dict) into an ExportConfig."""
    config = _validate(ExportConfig, data, origin)
    _check_row_hash_side(config)
    return config


def _check_row_hash_side(config: ExportConfig) -> None:
    """`use_client_hash: false` asks the database for the row hash: refused where it cannot
    compute it (the engine has no such SQL, or not on the read path `fetch_path` names), so
    that the client never takes over silently."""
    export = config.export
    if not export.enable_row_hash or export.use_client_hash:
        return
    dialect = source_class(config.source.engine).dialect
    if not dialect.supports_db_row_hash:
        problem = f"{config.source.engine} cannot compute the row hash in the database"
    elif not (dialect.supports_bulk_csv and export.fetch_path == "auto"):
        problem = (
            "the database computes the row hash only on its bulk path, which "
            f"fetch_path: {export.fetch_path} does not take"
        )
    else:
        return
    raise _setting(
        "export.use_client_hash",
        problem,
        hint="set export.use_client_hash: true (the default: the worker computes the same hash)",
    )


def parse_compare_config(data: Any, *, origin: str = "config") -> CompareConfig:
    """Validate already-parsed YAML (a dict) into a CompareConfig (source, target, compare)."""
    return _validate(CompareConfig, data, origin)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(ERR_CONFIG_FILE_MISSING, path=path) from None
    except OSError as exc:
        raise error(ERR_CONFIG_FILE_UNREADABLE, path=path, reason=exc.strerror) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise error(ERR_CONFIG_NOT_YAML, path=path, where=where) from None


def load_config(path: str | Path) -> ExportConfig:
    """Read and validate an exporter config file; every problem is a one-line ConfigError."""
    return parse_config(_read_yaml(Path(path)), origin=str(path))


def load_compare_config(path: str | Path) -> CompareConfig:
    """Read and validate a comparator config file; every problem is a one-line ConfigError."""
    return parse_compare_config(_read_yaml(Path(path)), origin=str(path))
