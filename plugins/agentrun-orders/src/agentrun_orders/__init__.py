"""agentrun-orders: order lookup and support tickets for agentrun agents, backed by SQLite."""

from agentrun_orders.tools import OrdersConfig, create_ticket, lookup_order

__all__ = ["OrdersConfig", "create_ticket", "lookup_order"]
__version__ = "0.1.0"
