"""`python -m exporter.config.libdir CONFIG`: print the Oracle Client lib_dir when the config
asks for thick mode, so run.sh can put it on LD_LIBRARY_PATH before Python starts.

Prints nothing (and exits 0) for any other config, including an invalid one: the real
command reports config errors properly.
"""

from __future__ import annotations

import sys

import yaml


def lib_dir_of(path: str) -> str | None:
    """source.lib_dir when source.thick_mode is true, else None."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        source = data.get("source") or {}
    except Exception:
        return None
    if source.get("thick_mode") and source.get("lib_dir"):
        return str(source["lib_dir"])
    return None


if __name__ == "__main__":
    found = lib_dir_of(sys.argv[1]) if len(sys.argv) > 1 else None
    if found:
        print(found)
