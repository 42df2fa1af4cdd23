"""``agentrun.Agent``: the one way in (the CLI, the service, the test runner, embedders)."""

from __future__ import annotations

import asyncio
import pathlib
import textwrap

import pytest
from agentrun import Agent, SpecErrors
from agentrun.io import NullEndpoint
from agentrun.sim import Simulator

AGENT = """\
name: Front Desk
instructions: |
  You answer for {{ company }}. The caller is {{ call.caller or 'unknown' }} on call {{ call.id }}.
variables:
  company: Acme
greeting: Hello!
"""


def write(tmp_path: pathlib.Path, text: str = AGENT) -> pathlib.Path:
    path = tmp_path / "front-desk.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_load_then_config_renders_the_instructions_for_each_call(tmp_path: pathlib.Path) -> None:
    agent = Agent.load(write(tmp_path), variables={"company": "Globex"})
    assert (agent.name, agent.file_stem) == ("Front Desk", "front-desk")
    first = agent.config(call={"caller": "+15550100", "id": "CA1"})
    second = agent.config(call={"caller": "+15550199", "id": "CA2"})
    assert first.session.instructions == \
        "You answer for Globex. The caller is +15550100 on call CA1."
    assert "+15550199" in (second.session.instructions or "")
    assert first.greeting == "Hello!"


def test_load_reports_variable_and_tool_problems_together(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, AGENT + "tools: [no_such_tool]\n")
    with pytest.raises(SpecErrors) as caught:
        Agent.load(path, variables={"nope": "x"})
    text = str(caught.value)
    assert "no variable 'nope'" in text and "no_such_tool" in text
    assert len(caught.value.errors) == 2


def test_run_without_key_or_url_uses_the_embedded_simulator_and_says_so_first(
        tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    agent = Agent.load(write(tmp_path))
    endpoint = NullEndpoint(["hi"])
    result = asyncio.run(asyncio.wait_for(agent.run(endpoint), 20))
    assert result.exit_code == 0
    assert endpoint.statuses[0][1].startswith("no XAI_API_KEY set — talking to the embedded "
                                              "simulator")
    assert [role for role, _ in endpoint.transcripts] == ["agent", "agent"]  # greeting, reply


def test_run_with_a_url_talks_to_that_server_with_the_key(tmp_path: pathlib.Path) -> None:
    agent = Agent.load(write(tmp_path))

    async def main() -> tuple[list[dict[str, object]], int]:
        async with Simulator(api_key="sekret") as sim:
            endpoint = NullEndpoint(["hi"])
            result = await agent.run(endpoint, url=sim.url, api_key="sekret",
                                     call={"caller": "+15550100", "id": "CA9"})
            return sim.received, result.exit_code

    received, code = asyncio.run(asyncio.wait_for(main(), 20))
    assert code == 0
    update = next(e for e in received if e["type"] == "session.update")
    assert "+15550100 on call CA9" in update["session"]["instructions"]


def test_run_with_another_tool_runner_sends_the_calls_to_it(tmp_path: pathlib.Path) -> None:
    from agentrun.sim import Scenario
    from agentrun.tools import ToolRegistry, ToolResult

    def lookup(order_id: str) -> str:
        """Look up an order.

        Args:
            order_id: the order number.
        """
        return "real"

    class Canned:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        async def call(self, name: str, arguments_json: str, **_: object) -> ToolResult:
            self.calls.append((name, arguments_json))
            return ToolResult(output="canned", name=name)

    agent = Agent.load(write(tmp_path))
    agent.tools = ToolRegistry.from_functions(lookup)
    runner = Canned()

    async def main() -> list[dict[str, object]]:
        scenario = Scenario.load({"responses": [{"call": "lookup",
                                                 "arguments": {"order_id": "7"}}]})
        async with Simulator(scenario) as sim:
            await agent.run(NullEndpoint(["where is 7?"]), url=sim.url, tools=runner)
            return sim.received

    received = asyncio.run(asyncio.wait_for(main(), 20))
    assert runner.calls == [("lookup", '{"order_id":"7"}')]
    outputs = [e["item"]["output"] for e in received if e["type"] == "conversation.item.create"
               and e["item"]["type"] == "function_call_output"]
    assert outputs == ["canned"]
    update = next(e for e in received if e["type"] == "session.update")
    assert [t["name"] for t in update["session"]["tools"]] == ["lookup"]  # the agent's schemas
