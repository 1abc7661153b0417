"""A validated source config as plain data, for worker processes.

A worker process does not import pydantic: that cost every worker about 0.09 s at its start,
on the critical path of every run (`import exporter.export.task` takes 0.06 s alone and 0.15 s
with the config models). The coordinator hands each task `PlainSettings` instead of the
config model: the same attributes, and `read_password()`, which still reads the password
from its source (environment variable, file) only when a connection is opened.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def read_password(
    password_env: str | None, password_file: Path | None, password: str | None
) -> str | None:
    """The password, read now from where the config says it lives; None when the login
    needs none (shared by the config models and PlainSettings)."""
    if password_env:
        return os.environ.get(password_env)
    if password_file:
        with open(password_file, encoding="utf-8") as handle:
            return handle.readline().rstrip("\r\n")
    return password or None


class PlainSettings:
    """Attribute access to a source config's fields (see the module docstring)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__.update(fields)

    def read_password(self) -> str | None:
        fields = self.__dict__
        return read_password(
            fields.get("password_env"), fields.get("password_file"), fields.get("password")
        )

    def cache_key(self) -> str:
        """What tells these settings apart among a worker's cached connections."""
        return repr(sorted((k, v) for k, v in self.__dict__.items() if k != "password"))

    def __repr__(self) -> str:  # never shows a literal password
        shown = {k: v for k, v in self.__dict__.items() if k != "password"}
        return f"PlainSettings({shown})"
