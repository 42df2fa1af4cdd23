"""The two tools: ``lookup_order`` and ``create_ticket``.

Plain functions: their signatures and docstrings are what the model sees. ``ToolContext[
OrdersConfig]`` makes agentrun validate the YAML ``config:`` block against ``OrdersConfig``.
"""

from __future__ import annotations

import re
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, Literal

from agentrun.tools import ToolContext
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from agentrun_orders._db import connect, default_database

__all__ = ["OrdersConfig", "create_ticket", "lookup_order"]


class OrdersConfig(BaseModel):
    """The ``config:`` block of ``lookup_order`` and ``create_ticket`` in an agent file."""

    # A misspelt key (``databse:``) must fail `agentrun check`, not silently use the demo DB.
    model_config = ConfigDict(extra="forbid")

    database: Annotated[Path, AfterValidator(lambda p: p.expanduser())] = Field(
        default_factory=default_database,
        description="SQLite file with the orders; a seeded demo database is created when it "
                    "does not exist (default: $XDG_DATA_HOME/agentrun-orders/demo.db).",
    )


def lookup_order(order_id: str, ctx: ToolContext[OrdersConfig]) -> dict[str, Any]:
    """Look up an order: its status, items, carrier, tracking number and delivery estimate.

    Args:
        order_id: The order number the caller gives, e.g. "1234".
    """
    wanted = _normalise(order_id)
    with closing(connect(ctx.config.database)) as db:
        order = db.execute("SELECT * FROM orders WHERE order_id = ?", (wanted,)).fetchone()
        if order is None:
            return {"found": False,
                    "message": f"no order {wanted or order_id}; ask the caller to check the "
                               "number"}
        items = db.execute(
            "SELECT name, quantity, unit_price_cents FROM order_items WHERE order_id = ?",
            (wanted,),
        ).fetchall()
    currency = order["currency"]
    row = {
        "found": True,
        "order_id": order["order_id"],
        "customer": order["customer"],
        "status": order["status"],
        "placed_on": order["placed_on"],
        "estimated_delivery": order["eta"],
        "delivered_on": order["delivered_on"],
        "carrier": order["carrier"],
        "tracking_number": order["tracking_number"],
        "note": order["note"],
        "items": [
            {"name": item["name"], "quantity": item["quantity"],
             "unit_price": _money(item["unit_price_cents"], currency)}
            for item in items
        ],
        "total": _money(order["total_cents"], currency),
    }
    return {key: value for key, value in row.items() if value is not None}


def create_ticket(
    summary: Annotated[str, Field(min_length=3, max_length=500)],
    ctx: ToolContext[OrdersConfig],
    priority: Literal["low", "normal", "high"] = "normal",
    order_id: str | None = None,
) -> dict[str, Any]:
    """Open a support ticket for a problem the agent cannot solve during the call.

    Args:
        summary: One or two sentences: what the caller needs, in their words.
        priority: "high" only when the caller is blocked or the order is lost or damaged.
        order_id: The order the ticket is about, when there is one.
    """
    wanted = _normalise(order_id) if order_id else None
    with closing(connect(ctx.config.database)) as db, db:
        if wanted is not None and db.execute(
                "SELECT 1 FROM orders WHERE order_id = ?", (wanted,)).fetchone() is None:
            return {"created": False,
                    "message": f"no order {wanted}; check the number with the caller or "
                               "create the ticket without an order"}
        cursor = db.execute(
            "INSERT INTO tickets (summary, priority, order_id, caller) VALUES (?, ?, ?, ?)",
            (summary.strip(), priority, wanted, ctx.variables.get("caller")),
        )
        ticket_id = f"T-{1000 + int(cursor.lastrowid or 0)}"
    ctx.logger.info("created ticket %s (%s priority, order %s)", ticket_id, priority, wanted)
    result = {"created": True, "ticket_id": ticket_id, "priority": priority, "status": "open"}
    if wanted is not None:
        result["order_id"] = wanted
    return result


def _normalise(order_id: str) -> str:
    """``"#1234"``, ``" 12 34 "`` and ``"order 1234"`` all mean ``1234``."""
    text = re.sub(r"(?i)^\s*order\b", "", order_id)
    return re.sub(r"[^0-9A-Za-z-]", "", text).upper()


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:.2f} {currency}"
