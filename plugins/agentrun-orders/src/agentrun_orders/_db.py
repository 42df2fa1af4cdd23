"""The orders database: schema, the seeded demo data, and opening a connection.

A missing database file is created and seeded with demo orders (dates relative to the day it is
created, so the demo always sounds current). An existing file is used as is; only the
``tickets`` table is added when it is missing, because ``create_ticket`` needs it.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from datetime import date, timedelta
from pathlib import Path

__all__ = ["connect", "default_database"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (
    order_id        TEXT PRIMARY KEY,
    customer        TEXT NOT NULL,
    status          TEXT NOT NULL,  -- processing | shipped | delayed | delivered | cancelled
    placed_on       TEXT NOT NULL,  -- ISO date
    eta             TEXT,           -- ISO date, while not delivered
    delivered_on    TEXT,
    carrier         TEXT,
    tracking_number TEXT,
    note            TEXT,
    total_cents     INTEGER NOT NULL,
    currency        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_items (
    order_id         TEXT NOT NULL REFERENCES orders(order_id),
    sku              TEXT NOT NULL,
    name             TEXT NOT NULL,
    quantity         INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL
);
"""

TICKETS = """
CREATE TABLE IF NOT EXISTS tickets (
    ticket_id  INTEGER PRIMARY KEY AUTOINCREMENT,
    summary    TEXT NOT NULL,
    priority   TEXT NOT NULL,
    order_id   TEXT,
    caller     TEXT,
    status     TEXT NOT NULL DEFAULT 'open',
    created_at TEXT NOT NULL DEFAULT (datetime('now'))
);
"""

# (order_id, customer, status, placed days ago, eta in days, delivered days ago, carrier,
#  tracking, note, currency, items: (sku, name, quantity, unit price in cents))
_DEMO_ORDERS = [
    ("1234", "Maria Lopez", "shipped", 3, 2, None, "UPS", "1Z999AA10123456784", None, "EUR",
     [("EB-200", "Wireless earbuds", 2, 4990), ("CB-USB-C", "USB-C charging cable", 1, 1250)]),
    ("5678", "James Chen", "processing", 1, 5, None, None, None, None, "USD",
     [("SD-FRAME", "Standing desk frame", 1, 34900), ("SD-TOP-140", "Oak desk top 140 cm", 1,
                                                      18900)]),
    ("4321", "Aisha Khan", "delivered", 12, None, 7, "DHL", "JD014600006281234567", None, "EUR",
     [("KB-MX", "Mechanical keyboard", 1, 12900)]),
    ("8765", "Tom Becker", "cancelled", 20, None, None, None, None,
     "cancelled by the customer before shipping; refund issued", "EUR",
     [("MON-27", "27-inch monitor", 1, 27900)]),
    ("2468", "Sofia Rossi", "delayed", 6, 4, None, "FedEx", "771234567890",
     "held at the carrier's depot after a weather delay", "USD",
     [("CH-ERGO", "Ergonomic office chair", 1, 42900), ("MAT-01", "Chair floor mat", 1, 3900)]),
]

_create_lock = threading.Lock()


def default_database() -> Path:
    """``$XDG_DATA_HOME/agentrun-orders/demo.db`` (``~/.local/share/…`` when unset)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "agentrun-orders" / "demo.db"


def connect(path: Path) -> sqlite3.Connection:
    """Open the database, creating and seeding a demo one when the file does not exist.

    Args:
        path: the SQLite file.

    Returns:
        A connection with ``sqlite3.Row`` rows; the caller closes it.

    Raises:
        sqlite3.Error: the file exists but is not a usable database.
    """
    if not path.exists():
        with _create_lock:
            if not path.exists():
                _create_demo(path)
    connection = sqlite3.connect(path, timeout=5)
    connection.row_factory = sqlite3.Row
    connection.executescript(TICKETS)
    return connection


def _create_demo(path: Path) -> None:
    """Build the demo database next to ``path`` and move it into place in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(descriptor)
    try:
        with sqlite3.connect(temporary) as connection:
            connection.executescript(SCHEMA + TICKETS)
            _seed(connection, date.today())
        connection.close()
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _seed(connection: sqlite3.Connection, today: date) -> None:
    def day(offset: int | None) -> str | None:
        return None if offset is None else (today + timedelta(days=offset)).isoformat()

    for (order_id, customer, status, placed, eta, delivered, carrier, tracking, note, currency,
         items) in _DEMO_ORDERS:
        total = sum(quantity * price for _sku, _name, quantity, price in items)
        connection.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (order_id, customer, status, day(-placed), day(eta),
             day(-delivered) if delivered is not None else None, carrier, tracking, note, total,
             currency),
        )
        connection.executemany(
            "INSERT INTO order_items VALUES (?, ?, ?, ?, ?)",
            [(order_id, sku, name, quantity, price) for sku, name, quantity, price in items],
        )
