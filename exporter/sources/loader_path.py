"""`python -m exporter.sources.loader_path CONFIG`: print the directory the config's engine
needs on the dynamic loader's path before Python starts (a client library, such as an
Instant Client for a driver's thick mode), so that run.sh can put it on LD_LIBRARY_PATH.

Prints nothing (and exits 0) for any other config, including an invalid one: the real
command reports config errors properly.
"""

from __future__ import annotations

import sys

import yaml


def library_dir_of(path: str) -> str | None:
    """What the engine of the config at `path` says must be on the loader path, or None."""
    from exporter.sources import source_class

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        block = data.get("source") or {}
        return source_class(str(block.get("engine"))).loader_library_dir(block)
    except Exception:  # noqa: BLE001 - any problem is reported by the command itself
        return None


if __name__ == "__main__":
    found = library_dir_of(sys.argv[1]) if len(sys.argv) > 1 else None
    if found:
        print(found)
