"""agentrun-orders through agentrun's real machinery: entry points, schema, config, SQLite."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from agentrun.tools import Tool, ToolRegistry, installed_tools
from agentrun_orders import OrdersConfig


def _registry(database: Path) -> ToolRegistry:
    tools = []
    for name in ("lookup_order", "create_ticket"):
        (entry,) = installed_tools()[name]
        tools.append(Tool.from_function(entry.load(), name=name,
                                        config={"database": str(database)}))
    return ToolRegistry(tools)


def _call(registry: ToolRegistry, name: str, arguments: dict[str, Any],
          **variables: str) -> tuple[bool, Any]:
    result = asyncio.run(registry.call(name, json.dumps(arguments), call_id="call_1",
                                       variables=variables))
    return result.ok, json.loads(result.output)


def test_both_tools_are_installed_entry_points_of_agentrun_orders() -> None:
    installed = installed_tools()
    for name in ("lookup_order", "create_ticket"):
        (entry,) = installed[name]
        assert (entry.distribution, entry.version) == ("agentrun-orders", "0.1.0")
        assert entry.value == f"agentrun_orders:{name}"


def test_lookup_order_creates_a_seeded_demo_database_and_returns_the_row(tmp_path: Path) -> None:
    database = tmp_path / "sub" / "orders.db"
    ok, row = _call(_registry(database), "lookup_order", {"order_id": "1234"})
    assert ok and database.exists()
    today = date.today()
    assert row == {
        "found": True,
        "order_id": "1234",
        "customer": "Maria Lopez",
        "status": "shipped",
        "placed_on": (today - timedelta(days=3)).isoformat(),
        "estimated_delivery": (today + timedelta(days=2)).isoformat(),
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "items": [
            {"name": "Wireless earbuds", "quantity": 2, "unit_price": "49.90 EUR"},
            {"name": "USB-C charging cable", "quantity": 1, "unit_price": "12.50 EUR"},
        ],
        "total": "112.30 EUR",
    }


@pytest.mark.parametrize("spoken", ["#5678", " 56 78 ", "order 5678", 5678])
def test_lookup_order_understands_how_callers_say_numbers(tmp_path: Path, spoken: Any) -> None:
    ok, row = _call(_registry(tmp_path / "o.db"), "lookup_order", {"order_id": spoken})
    assert ok and row["order_id"] == "5678" and row["status"] == "processing"


def test_unknown_order_is_an_answer_the_model_can_say(tmp_path: Path) -> None:
    ok, row = _call(_registry(tmp_path / "o.db"), "lookup_order", {"order_id": "9999"})
    assert ok
    assert row == {"found": False, "message": "no order 9999; ask the caller to check the number"}


def test_an_existing_database_is_used_as_is_not_reseeded(tmp_path: Path) -> None:
    database = tmp_path / "o.db"
    registry = _registry(database)
    _call(registry, "lookup_order", {"order_id": "1234"})
    with sqlite3.connect(database) as db:
        db.execute("UPDATE orders SET status = 'delivered' WHERE order_id = '1234'")
    db.close()
    assert _call(registry, "lookup_order", {"order_id": "1234"})[1]["status"] == "delivered"


def test_create_ticket_stores_a_row_and_returns_its_id(tmp_path: Path) -> None:
    database = tmp_path / "o.db"
    registry = _registry(database)
    ok, first = _call(registry, "create_ticket",
                      {"summary": "Earbuds arrived broken", "priority": "high",
                       "order_id": "#1234"}, caller="+15550100")
    assert ok and first == {"created": True, "ticket_id": "T-1001", "priority": "high",
                            "status": "open", "order_id": "1234"}
    ok, second = _call(registry, "create_ticket", {"summary": "Change my address"})
    assert ok and second["ticket_id"] == "T-1002" and second["priority"] == "normal"
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT summary, priority, order_id, caller FROM tickets").fetchall()
    db.close()
    assert rows == [("Earbuds arrived broken", "high", "1234", "+15550100"),
                    ("Change my address", "normal", None, None)]


def test_create_ticket_refuses_an_unknown_order_with_a_sayable_reason(tmp_path: Path) -> None:
    ok, answer = _call(_registry(tmp_path / "o.db"), "create_ticket",
                       {"summary": "Where is it?", "order_id": "9999"})
    assert ok and answer == {
        "created": False,
        "message": "no order 9999; check the number with the caller or create the ticket "
                   "without an order",
    }


def test_create_ticket_rejects_a_bad_priority_before_touching_the_database(tmp_path: Path
                                                                          ) -> None:
    database = tmp_path / "o.db"
    ok, answer = _call(_registry(database), "create_ticket",
                       {"summary": "Broken", "priority": "urgent"})
    assert not ok
    assert answer == {"error": "invalid arguments: priority: Input should be 'low', 'normal' "
                               "or 'high'"}
    assert not database.exists()


def test_schemas_show_the_model_typed_documented_parameters() -> None:
    (entry,) = installed_tools()["create_ticket"]
    schema = Tool.from_function(entry.load(), name="create_ticket").function_schema()
    assert schema["description"] == ("Open a support ticket for a problem the agent cannot "
                                     "solve during the call.")
    assert schema["parameters"]["required"] == ["summary"]
    assert schema["parameters"]["properties"]["priority"] == {
        "default": "normal",
        "description": '"high" only when the caller is blocked or the order is lost or damaged.',
        "enum": ["low", "normal", "high"],
        "type": "string",
    }
    assert "ctx" not in schema["parameters"]["properties"]


def test_default_database_lives_in_the_users_data_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert OrdersConfig().database == tmp_path / "agentrun-orders" / "demo.db"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert OrdersConfig().database == tmp_path / ".local" / "share" / "agentrun-orders" / "demo.db"
    assert OrdersConfig(database="~/x.db").database == tmp_path / "x.db"
