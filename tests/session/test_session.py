"""Session against the simulator over loopback: turns, tools, faults, reconnects, refusals."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from agentrun.engine.session import Session, SessionResult
from agentrun.engine.setup import ConversationConfig
from agentrun.errors import ServiceError, TransportError
from agentrun.io import NullEndpoint
from agentrun.protocol import SessionProperties, TurnDetection
from agentrun.sim import Scenario, Simulator
from agentrun.transport import MemoryTransport

CONFIG = ConversationConfig(
    session=SessionProperties(instructions="Be brief.", voice="Ara",
                              turn_detection=TurnDetection(type="server_vad")),
    greeting="Hello there.", function_names=frozenset({"lookup_order"}))


@dataclass
class FakeResult:
    output: str
    ok: bool = True
    error: str | None = None


class FakeTools:
    """Answers lookup_order with a fixed row; anything else fails like the real registry."""

    def __init__(self, *, explode: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.explode = explode

    async def call(self, name: str, arguments_json: str, *, call_id: str,
                   variables: Mapping[str, str], state: dict[str, Any]) -> FakeResult:
        self.calls.append((name, arguments_json))
        if self.explode:
            raise RuntimeError("boom")
        if name == "lookup_order":
            return FakeResult('{"status": "shipped"}')
        return FakeResult(f"error: unknown tool {name}", ok=False, error=f"unknown tool {name}")


def converse(scenario: dict[str, Any] | None, turns: list[str], *, tools: Any = None,
             client_key: str | None = None, **sim_kwargs: Any
             ) -> tuple[Simulator, NullEndpoint, SessionResult]:
    endpoint = NullEndpoint(turns)

    async def main() -> tuple[Simulator, SessionResult]:
        async with Simulator(Scenario.load(scenario), **sim_kwargs) as sim:
            session = Session.for_url(CONFIG, sim.url + "?model=grok-voice-latest",
                                      api_key=client_key, endpoint=endpoint, tools=tools,
                                      backoff_delays=lambda: itertools.repeat(0.0),
                                      max_reconnect_attempts=2)
            return sim, await asyncio.wait_for(session.run(), 15)

    sim, result = asyncio.run(main())
    return sim, endpoint, result


def agent_lines(endpoint: NullEndpoint) -> list[str]:
    return [text for role, text in endpoint.transcripts if role == "agent"]


def sent_types(sim: Simulator) -> list[str]:
    return [e["type"] for e in sim.received if e["type"] != "input_audio_buffer.append"]


def test_greeting_then_one_reply_per_typed_turn() -> None:
    sim, endpoint, result = converse(None, ["hi", "bye"])
    assert agent_lines(endpoint) == ["Hello there.", "(simulated) You said: hi",
                                     "(simulated) You said: bye"]
    assert result.exit_code == 0 and result.reconnects == 0
    assert sent_types(sim) == ["session.update", "conversation.item.create",
                               "conversation.item.create", "response.create",
                               "conversation.item.create", "response.create"]
    assert sim.received[1]["item"]["type"] == "force_message"
    assert result.audio_seconds > 0


def test_tool_output_is_sent_then_exactly_one_response_create() -> None:
    tools = FakeTools()
    sim, endpoint, _ = converse(
        {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}}]},
        ["where is my order?"], tools=tools)
    assert tools.calls == [("lookup_order", '{"order_id":"1234"}')]
    kinds = sent_types(sim)
    output_at = next(i for i, e in enumerate(sim.received)
                     if e.get("item", {}).get("type") == "function_call_output")
    assert sim.received[output_at]["item"]["output"] == '{"status": "shipped"}'
    after = [e["type"] for e in sim.received[output_at + 1:]]
    assert after == ["response.create"]
    assert kinds.count("response.create") == 2
    assert agent_lines(endpoint)[-1] == '(simulated) lookup_order returned {"status": "shipped"}'


def test_a_tool_that_raises_still_gives_the_model_an_output() -> None:
    sim, endpoint, result = converse({"responses": [{"call": "lookup_order"}]}, ["order?"],
                                     tools=FakeTools(explode=True))
    output = next(e["item"]["output"] for e in sim.received
                  if e.get("item", {}).get("type") == "function_call_output")
    assert output == "error: the tool lookup_order failed unexpectedly (RuntimeError)"
    assert result.exit_code == 0
    assert agent_lines(endpoint)[-1].startswith("(simulated) lookup_order returned error:")


FAULTS = [
    {"fault": "malformed_json"},
    {"fault": "unknown_event"},
    {"fault": {"error": "server_error"}},
    {"fault": {"error": "response_cancel_not_active"}},
    {"fault": {"slow": 5}},
    {"fault": "burst"},
    {"fault": "failed_response"},
    {"call": "lookup_order", "fault": "duplicate_item"},
    {"call": "lookup_order", "fault": "auto_response_race"},
]


@pytest.mark.parametrize("entry", FAULTS, ids=lambda e: str(e["fault"]))
def test_every_injected_fault_is_survived_and_the_conversation_goes_on(
        entry: dict[str, Any]) -> None:
    tools = FakeTools()
    sim, endpoint, result = converse({"responses": [entry]},
                                     ["first", "second"], tools=tools)
    assert agent_lines(endpoint)[-1] == "(simulated) You said: second"
    assert result.exit_code == 0
    if "call" in entry:
        assert tools.calls == [("lookup_order", "{}")]  # once, even when the item repeats
        outputs = [e for e in sim.received
                   if e.get("item", {}).get("type") == "function_call_output"]
        assert len(outputs) == 1


@pytest.mark.parametrize("code", [1011, 1006, 1012])
def test_a_retryable_close_mid_reply_reconnects_and_resumes(code: int) -> None:
    sim, endpoint, result = converse(
        {"responses": [{"say": "lost in the middle", "fault": {"close": code}}]},
        ["first", "second"])
    assert result.reconnects == 1 and sim.connections == 2
    kinds = sent_types(sim)
    assert kinds.count("session.update") == 2  # the session is sent again on the new socket
    second = kinds.index("session.update", 1)
    restored = [e["item"] for e in sim.received[second:]
                if e["type"] == "conversation.item.create"]
    assert [(i["role"], i["content"][0]["text"]) for i in restored] == [
        ("assistant", "Hello there."), ("user", "first"), ("user", "second")]
    assert agent_lines(endpoint)[-2:] == ["(simulated) You said: first",
                                          "(simulated) You said: second"]
    assert ("warning", f"connection lost (close code {code}"
            + (": simulated fault)" if code != 1006 else ")") + "; reconnecting") \
        in endpoint.statuses


def test_an_authentication_error_event_ends_the_call_with_exit_code_3() -> None:
    _, _, result = converse({"responses": [{"fault": {"error": "authentication_error"}}]},
                            ["first", "second"])
    assert result.exit_code == 3
    assert "Incorrect API key provided." in result.reason


def test_a_rejected_key_at_the_handshake_is_a_service_error() -> None:
    with pytest.raises(ServiceError) as info:
        converse(None, ["hi"], client_key="wrong", api_key="right")
    assert str(info.value) == "the service rejected the API key (HTTP 401): check XAI_API_KEY"
    assert info.value.exit_code == 3


def test_no_server_at_all_gives_up_after_the_configured_attempts() -> None:
    async def main() -> None:
        async with Simulator() as sim:
            url = sim.url
        session = Session.for_url(CONFIG, url, api_key=None, endpoint=NullEndpoint([]),
                                  backoff_delays=lambda: itertools.repeat(0.0),
                                  max_reconnect_attempts=2)
        await session.run()

    with pytest.raises(TransportError) as info:
        asyncio.run(main())
    assert str(info.value).endswith("is the port right?) (gave up after 2 attempts)")


def test_a_server_that_never_sets_up_the_session_is_retried_then_reported() -> None:
    servers: list[MemoryTransport] = []

    async def connect() -> MemoryTransport:
        client, server = MemoryTransport.pair()
        servers.append(server)  # accepts the socket, never says a word
        return client

    async def main() -> None:
        session = Session(CONFIG, connect=connect, endpoint=NullEndpoint(["hi"]),
                          backoff_delays=lambda: itertools.repeat(0.0),
                          max_reconnect_attempts=2, handshake_timeout=0.05)
        await asyncio.wait_for(session.run(), 5)

    with pytest.raises(TransportError) as info:
        asyncio.run(main())
    assert str(info.value) == ("the service did not set up the session within 0.05 s "
                               "(gave up after 2 attempts)")
    assert len(servers) == 3


class SlowTools(FakeTools):
    """Each call takes 0.2 s and records when it ran, to show calls of a response overlap."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.max_running = 0

    async def call(self, name: str, arguments_json: str, *, call_id: str,
                   variables: Mapping[str, str], state: dict[str, Any]) -> FakeResult:
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        await asyncio.sleep(0.2)
        self.running -= 1
        return FakeResult(f"{name} done")


def test_calls_of_one_response_run_together_then_one_response_create() -> None:
    tools = SlowTools()
    sim, endpoint, _ = converse({"responses": [{"calls": [
        {"name": "lookup_order", "arguments": {"order_id": "1"}},
        {"name": "lookup_order", "arguments": {"order_id": "2"}}]}]}, ["two orders"],
        tools=tools)
    assert tools.max_running == 2
    kinds = [(e["type"], e.get("item", {}).get("type")) for e in sim.received]
    first = kinds.index(("conversation.item.create", "function_call_output"))
    assert kinds[first:] == [("conversation.item.create", "function_call_output"),
                             ("conversation.item.create", "function_call_output"),
                             ("response.create", None)]
    assert agent_lines(endpoint)[-1] == ("(simulated) lookup_order returned lookup_order done; "
                                         "lookup_order returned lookup_order done")


def test_token_counts_are_summed_per_kind_however_long_the_call() -> None:
    """Each response's ``usage`` adds to the call's totals per kind; the summary line says
    the same totals and how many replies its latency average is over."""
    from agentrun.engine.observe import WireFrame

    reported: dict[str, float] = {}

    class UsageWatcher:
        def observe(self, now: float, what: object) -> None:
            if isinstance(what, WireFrame) and what.direction == "in" \
                    and '"response.done"' in what.text:
                for name, value in (json.loads(what.text)["response"]["usage"] or {}).items():
                    reported[name] = reported.get(name, 0) + value

    turns = [f"question number {n}" for n in range(8)]
    endpoint = NullEndpoint(turns)

    async def main() -> SessionResult:
        async with Simulator(Scenario.load(None)) as sim:
            session = Session.for_url(CONFIG, sim.url, api_key=None, endpoint=endpoint,
                                      observers=[UsageWatcher()])
            return await asyncio.wait_for(session.run(), 15)

    result = asyncio.run(main())
    tokens = {name: total for (name, unit), (total, _) in result.totals.items()
              if unit == "tokens"}
    assert tokens == reported
    assert reported["input_tokens"] > 8 and reported["output_tokens"] >= 9  # greeting + 8 replies
    assert result.totals["response_latency", "s"][1] == 8
    assert f"total_tokens {reported['total_tokens']:g}" in result.summary()
    assert "(n=8)" in result.summary()


def test_a_long_call_keeps_its_recent_measurements_and_exact_totals() -> None:
    """However long a call goes on, its result holds a bounded number of measurements, while
    the summary's averages and counts still cover the whole call."""
    from agentrun.engine import RecordMetric
    from agentrun.engine._outcome import KEPT_METRICS

    result = SessionResult()
    for turn in range(10 * KEPT_METRICS):
        result.add_metric(RecordMetric("response_latency", 0.5 if turn % 2 else 1.5, "s", turn))
    assert KEPT_METRICS <= len(result.metrics) < 2 * KEPT_METRICS
    assert result.metrics[-1].turn == 10 * KEPT_METRICS - 1  # the newest are kept
    assert f"response_latency avg 1 s (n={10 * KEPT_METRICS})" in result.summary()
