"""End to end offline: agents/clinic.yaml on the simulator calls an HTTP tool and MCP tools.

Everything is real except the model: the agent file, the clinic's HTTP API and the calendar MCP
server that ship with the tests (tests/servers/), the server process agentrun starts over stdio,
the Session and the WebSocket to the simulator. The assertions read what reached the wire.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from agentrun.agent import Agent
from agentrun.io import NullEndpoint
from agentrun.sim import Scenario, Simulator
from tools_fixtures import SERVERS, running

CLINIC = Path(__file__).parents[2] / "agents" / "clinic.yaml"


def converse(agent: Agent, responses: list[dict[str, Any]]
             ) -> tuple[Any, list[dict[str, Any]], NullEndpoint]:
    endpoint = NullEndpoint(["I need a cleaning next Monday."])

    async def run() -> tuple[Any, list[dict[str, Any]]]:
        async with Simulator(Scenario.load({"responses": responses})) as sim:
            result = await asyncio.wait_for(agent.run(endpoint, url=sim.url), 60)
            return result, sim.received
    result, received = asyncio.run(run())
    return result, received, endpoint


def outputs(received: list[dict[str, Any]]) -> list[str]:
    return [e["item"]["output"] for e in received if e["type"] == "conversation.item.create"
            and e["item"]["type"] == "function_call_output"]


def test_the_model_books_through_the_http_api_and_the_mcp_server(clinic_api: Any) -> None:
    agent = Agent.load(CLINIC, variables={"booking_api": clinic_api.url})
    result, received, _ = converse(agent, [
        {"call": "services", "arguments": {"kind": "cleaning"}},
        {"call": "free_slots", "arguments": {"day": "2026-03-02"}},
        {"call": "book_slot", "arguments": {"day": "2026-03-02", "time": "10:30",
                                            "patient": "Ann Lee"}},
        {"say": "You are booked for 10:30."}])
    assert result.exit_code == 0, result.reason
    update = next(e for e in received if e["type"] == "session.update")
    declared = [t["name"] for t in update["session"]["tools"]]
    assert declared == ["services", "free_slots", "book_slot"]  # the allow list, in file order
    services, slots, booking = outputs(received)
    assert json.loads(services) == [{"name": "cleaning", "minutes": 30, "price": "80 USD"}]
    assert clinic_api.requests[-1]["path"] == "/clinics/smile/services"
    assert json.loads(slots) == {"day": "2026-03-02", "free": ["09:00", "10:30", "14:00"]}
    assert booking == "Booked Ann Lee on 2026-03-02 at 10:30. Reference CAL-149."


def test_a_server_that_crashes_mid_call_leaves_the_call_going(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex
    agent_file = tmp_path / "crashy.yaml"
    agent_file.write_text(f"""name: Crashy
instructions: Help.
tools:
  - name: calendar
    mcp:
      command: python
      args: [{json.dumps(str(SERVERS / "calendar_mcp.py"))}, --tag={tag}]
""")
    agent = Agent.load(agent_file)
    result, received, endpoint = converse(agent, [
        {"call": "crash", "arguments": {}},
        {"call": "free_slots", "arguments": {"day": "2026-03-02"}},
        {"say": "Sorry, the calendar is down."}])
    assert result.exit_code == 0, result.reason
    lost = [json.loads(text)["error"] for text in outputs(received)]
    assert len(lost) == 2 and all("the 'calendar' tool server stopped" in e for e in lost)
    assert ("warning", "MCP server 'calendar' stopped: MCPError: Connection closed (last stderr "
            "line: calendar: fatal: out of cheese); its tools now answer with an error") in \
        endpoint.statuses
    assert any(e["type"] == "response.create" for e in received[-3:])  # the model went on
    assert running(tag) == []
