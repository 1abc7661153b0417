"""Logging setup: one readable line per event on stderr, with secrets redacted."""

from __future__ import annotations

import logging
import re
import sys

_PASSWORD_PATTERNS = [
    re.compile(r"(password\s*=\s*)(\S+)", re.IGNORECASE),
    re.compile(r"(://[^:/\s]+:)([^@\s]+)(@)"),
]


class RedactSecrets(logging.Filter):
    """Masks `password=...` and `user:secret@host` fragments in every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        for pattern in _PASSWORD_PATTERNS:
            message = pattern.sub(
                lambda m: m.group(1) + "***" + (m.group(3) if m.lastindex == 3 else ""), message
            )
        record.msg, record.args = message, None
        return True


def setup_logging(*, debug: bool = False) -> None:
    """Configure the `exporter` logger: INFO (DEBUG with --debug) lines to stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-5s %(message)s", "%H:%M:%S"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger("exporter")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False
