"""Registry of database engines: each engine module registers its Source class.

Driver packages are imported inside the engine modules' connect paths, so importing this
package needs neither psycopg nor oracledb.
"""

from __future__ import annotations

import importlib
from typing import Any

from exporter.errors import ERR_ENGINE_UNKNOWN, error
from exporter.sources.base import Source

# engine name -> module defining it; modules are imported on first use.
_MODULES: dict[str, str] = {
    "sqlite": "exporter.sources.sqlite",
    "postgresql": "exporter.sources.postgres",
    "oracle": "exporter.sources.oracle",
}
_REGISTRY: dict[str, type[Source]] = {}


def register(cls: type[Source]) -> type[Source]:
    """Class decorator: make `cls` the Source of `cls.dialect.name`."""
    _REGISTRY[cls.dialect.name] = cls
    return cls


def known_engines() -> tuple[str, ...]:
    """Engines this build can export from."""
    return tuple(sorted(_MODULES))


def source_class(engine: str) -> type[Source]:
    """The Source class of an engine; a ConfigError naming the known engines otherwise."""
    if engine not in _MODULES:
        raise error(
            ERR_ENGINE_UNKNOWN,
            key="source.engine",
            engine=engine,
            known=", ".join(known_engines()),
        )
    importlib.import_module(_MODULES[engine])
    return _REGISTRY[engine]


def get_source(config: Any) -> Source:
    """A Source for a validated source config."""
    return source_class(config.engine)(config)
