"""Half-duplex on a real socket: while the agent speaks, the simulator hears silence of the same
length instead of the caller, so its voice detection never cuts the agent off (issue 10)."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import AsyncIterator

from agentrun.engine.observe import ToolCallDone, WireFrame
from agentrun.engine.setup import Interruptions
from agentrun.io import CallControl, CallerAudio, CallerInput, NullEndpoint
from agentrun.tools import Tool, ToolContext, ToolRegistry
from test_channels import Recorder, config, run, tone

GREETING = "Hello there, thanks for calling, this greeting is long enough to talk over."


class TalkOver(NullEndpoint):
    """Starts talking (1 s of tone) as soon as the agent's first audio arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.heard = asyncio.Event()

    def play_audio(self, audio: bytes, item_id: str) -> None:
        super().play_audio(audio, item_id)
        self.heard.set()

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        await self.heard.wait()
        audio = tone(1000, 16000)
        chunk = call.input_format.bytes_for(20)
        for start in range(0, len(audio), chunk):
            yield CallerAudio(audio[start:start + chunk])
        await call.wait_idle()


def talk_over(half_duplex: bool) -> tuple[list[str], list[bytes], list[str]]:
    session_config = dataclasses.replace(config(), greeting=GREETING,
                                         interruptions=Interruptions(half_duplex=half_duplex))
    endpoint, recorder = TalkOver(), Recorder()
    sim, _ = run(session_config, endpoint, observers=[recorder])
    appended = [base64.b64decode(e["audio"]) for e in sim.received
                if e["type"] == "input_audio_buffer.append"]
    events = [f.text for f in recorder.of(WireFrame) if f.direction == "in"]
    agent = [text for role, text in endpoint.transcripts if role == "agent"]
    return agent, appended, events


def test_half_duplex_sends_silence_while_the_agent_speaks_and_is_not_cut_off() -> None:
    agent, appended, events = talk_over(half_duplex=True)
    assert agent[0] == GREETING  # heard in full
    assert appended and all(chunk == b"\x00" * len(chunk) for chunk in appended)
    assert sum(map(len, appended)) == 32000  # 1 s at 16 kHz: same length, the clock stays right
    assert not any("speech_started" in text for text in events)


def test_without_half_duplex_the_same_caller_cuts_the_agent_off() -> None:
    agent, appended, events = talk_over(half_duplex=False)
    assert any("speech_started" in text for text in events)
    assert any(chunk != b"\x00" * len(chunk) for chunk in appended)
    assert not agent or agent[0] != GREETING


def test_a_failing_tool_s_traceback_and_logs_reach_the_operator_not_the_model() -> None:
    """Issue 9: the operator (status lines, -v; the call record) gets the traceback and what
    the tool logged; the model gets one short line without internals."""
    def lookup_order(order_id: str, ctx: ToolContext) -> str:
        """Look up an order."""
        ctx.logger.info("querying orders.db for %s", order_id)
        raise RuntimeError("sqlite3: database is locked (/srv/shop/orders.db)")

    tools = ToolRegistry([Tool.from_function(lookup_order)])
    session_config = dataclasses.replace(config(), function_names=frozenset({"lookup_order"}))
    recorder, endpoint = Recorder(), NullEndpoint(["where is 1234?"])
    scenario = {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}}]}
    sim, result = run(session_config, endpoint, scenario=scenario, observers=[recorder],
                      tools=tools)
    assert result.exit_code == 0
    [done] = recorder.of(ToolCallDone)
    assert done.logs == ("INFO agentrun.tools.lookup_order: querying orders.db for 1234",)
    assert done.error is not None and "Traceback (most recent call last)" in done.error
    assert "database is locked" in done.error
    [output] = [e["item"]["output"] for e in sim.received
                if e["type"] == "conversation.item.create"
                and e["item"]["type"] == "function_call_output"]
    assert json.loads(output) == {
        "error": "lookup_order failed with an internal error (RuntimeError)"}
    levels = {level for level, message in endpoint.statuses if "lookup_order" in message}
    assert {"warning", "debug"} <= levels  # the line always, traceback and logs with -v
