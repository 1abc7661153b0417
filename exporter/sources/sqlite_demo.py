"""Builds the demo SQLite database (config/demo.yaml) on first run: a small shop.

Deterministic (seeded), about 6 MB, with one table (`orders`) large enough to be split into
several chunks under the demo's lowered threshold, and one (`notes`) holding the values that
break naive CSV: NULL next to '', quotes, commas, newlines, tabs, backslashes and emoji.
"""

from __future__ import annotations

import logging
import os
import random
import sqlite3
from pathlib import Path

log = logging.getLogger(__name__)

ORDER_ROWS = 60_000
CUSTOMER_ROWS = 2_000

_SCHEMA = """
CREATE TABLE customers (
    customer_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT,
    country TEXT,
    signup_date TEXT
);
CREATE TABLE products (
    product_id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL,
    title TEXT NOT NULL,
    unit_price REAL NOT NULL,
    weight_kg REAL
);
CREATE TABLE orders (
    order_id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers,
    product_id INTEGER NOT NULL REFERENCES products,
    quantity INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    status TEXT NOT NULL,
    ordered_at TEXT NOT NULL,
    comment TEXT
);
CREATE TABLE notes (
    note_id INTEGER PRIMARY KEY,
    body TEXT,
    attachment BLOB
);
"""

_NOTES = [
    None,
    "",
    "plain",
    'say "hello"',
    "a,b,c",
    "line one\nline two",
    "cr\r\nlf",
    "tab\there",
    "back\\slash",
    "\\N is not NULL here? it is a string",
    "héllo wörld",
    "東京",
    "emoji 🎉🚀",
    "  leading and trailing spaces  ",
]


def build_demo_database(path: Path) -> None:
    """Create the demo database at `path` (atomically: a crash leaves no half-built file)."""
    rng = random.Random(20261122)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    log.info("creating the demo database %s (first run only)", path)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(_SCHEMA)
        countries = ["DE", "FR", "US", "JP", "BR", "IN", "NG", "SE"]
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i,
                    f"Customer {i}",
                    None if i % 17 == 0 else f"c{i}@example.com",
                    rng.choice(countries),
                    f"20{rng.randint(10, 25)}-{rng.randint(1, 12):02d}-01",
                )
                for i in range(1, CUSTOMER_ROWS + 1)
            ],
        )
        db.executemany(
            "INSERT INTO products VALUES (?, ?, ?, ?, ?)",
            [
                (
                    i,
                    f"SKU-{i:05d}",
                    f"Product {i}",
                    round(rng.uniform(1, 500), 2),
                    None if i % 9 == 0 else round(rng.uniform(0.1, 30), 3),
                )
                for i in range(1, 101)
            ],
        )
        statuses = ["new", "paid", "shipped", "returned"]
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    rng.randint(1, CUSTOMER_ROWS),
                    rng.randint(1, 100),
                    q := rng.randint(1, 9),
                    q * rng.randint(100, 50_000),
                    rng.choice(statuses),
                    f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00",
                    None if i % 3 else rng.choice(["gift", "urgent, please", 'says "thanks"', ""]),
                )
                for i in range(1, ORDER_ROWS + 1)
            ],
        )
        db.executemany(
            "INSERT INTO notes VALUES (?, ?, ?)",
            [(i, body, bytes([0, i, 255]) if i % 2 else None) for i, body in enumerate(_NOTES, 1)],
        )
        db.commit()
    finally:
        db.close()
    os.replace(tmp, path)
