"""End to end offline: agents/support.yaml on the simulator calls the real lookup_order.

Everything is real except the model: the agent file, the installed agentrun-orders plugin found
through its entry point, its SQLite database, the Session and the WebSocket to the simulator.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from pathlib import Path

from agentrun.engine.session import Session
from agentrun.engine.setup import ConversationConfig
from agentrun.io import NullEndpoint
from agentrun.sim import Scenario, Simulator
from agentrun.spec import load_spec, render_instructions
from agentrun.tools import ToolRegistry

SUPPORT = Path(__file__).parents[2] / "agents" / "support.yaml"


def test_the_model_receives_the_order_row_from_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "orders.db"
    agent = tmp_path / "support.yaml"
    agent.write_text(SUPPORT.read_text().replace("~/.local/share/agentrun-orders/demo.db",
                                                 str(database)))
    spec = load_spec(agent)
    registry = ToolRegistry.for_spec(spec)
    assert registry.problems == []
    config = ConversationConfig.from_spec(spec, instructions=render_instructions(spec),
                                          function_tools=registry.function_schemas())
    scenario = {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}},
                              {"say": "It ships tomorrow."}]}
    endpoint = NullEndpoint(["Where is my order 1234?"])

    async def converse() -> Simulator:
        async with Simulator(Scenario.load(scenario)) as sim:
            session = Session.for_url(config, sim.url + "?model=grok-voice-latest",
                                      api_key=None, endpoint=endpoint, tools=registry,
                                      variables={"caller": "+15550100"},
                                      backoff_delays=lambda: itertools.repeat(0.0))
            await asyncio.wait_for(session.run(), 15)
            return sim

    sim = asyncio.run(converse())
    update = next(e for e in sim.received if e["type"] == "session.update")
    sent_tools = {t.get("name", t["type"]): t for t in update["session"]["tools"]}
    assert sent_tools["lookup_order"] == registry.function_schemas()[0]
    assert {"type": "web_search"} in update["session"]["tools"]
    outputs = [e["item"] for e in sim.received
               if e["type"] == "conversation.item.create"
               and e["item"]["type"] == "function_call_output"]
    assert len(outputs) == 1
    row = json.loads(outputs[0]["output"])  # encoded once: a JSON object, not a JSON string
    assert (row["order_id"], row["status"], row["carrier"], row["total"]) == (
        "1234", "shipped", "UPS", "112.30 EUR")
    assert database.exists()
