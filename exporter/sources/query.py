"""Query: a statement's SQL text in its engine's bind style, with the values bound to it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    """SQL text in the engine's parameter style, with its bound values."""

    sql: str
    params: Mapping[str, object] = field(default_factory=dict)
