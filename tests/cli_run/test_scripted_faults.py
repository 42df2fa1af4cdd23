"""Issue 9's reproduced faults, replayed by a scripted server on 127.0.0.1 against the real CLI
(and, where the bound is not configurable from the CLI, against a Session)."""

from __future__ import annotations

import asyncio
import itertools
import json
import pathlib
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from agentrun.engine.session import Session
from agentrun.engine.setup import ConversationConfig, Watchdogs
from agentrun.io import NullEndpoint
from agentrun.protocol import SessionProperties, TurnDetection
from websockets.asyncio.server import ServerConnection, serve

Script = Callable[[ServerConnection, list[dict[str, Any]]], Awaitable[None]]


class ScriptedServer:
    """A WebSocket server in a thread that runs ``script(ws, received)`` per connection."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[dict[str, Any]] = []
        self.failures: list[Exception] = []
        self.connections = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()

        async def handler(ws: ServerConnection) -> None:
            self.connections += 1
            try:
                await self.script(ws, self.received)
            except Exception as exc:  # the client went away mid-script, or a script bug
                self.failures.append(exc)

        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{port}/v1/realtime"
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


async def send(ws: ServerConnection, **event: Any) -> None:
    await ws.send(json.dumps(event))


async def next_of(ws: ServerConnection, received: list[dict[str, Any]], kind: str
                  ) -> dict[str, Any]:
    while True:
        event = json.loads(await ws.recv())
        received.append(event)
        if event["type"] == kind:
            return event


def agent_file(tmp_path: pathlib.Path) -> pathlib.Path:
    agent = tmp_path / "shop.yaml"
    agent.write_text(f"""\
name: Shop
instructions: You help with orders.
tools:
  - name: lookup_order
    config:
      database: {tmp_path / "orders.db"}
""")
    return agent


async def handshake(ws: ServerConnection, received: list[dict[str, Any]]) -> None:
    await send(ws, type="conversation.created", conversation={"id": "conv_1"})
    await next_of(ws, received, "session.update")
    await send(ws, type="session.updated", session={})


async def say(ws: ServerConnection, rid: str, text: str) -> None:
    await send(ws, type="response.output_audio_transcript.delta", response_id=rid,
               item_id=f"item_{rid}", delta=text)
    await send(ws, type="response.done", response={"id": rid, "status": "completed",
                                                   "output": []})


def test_a_tool_result_that_loses_the_race_with_a_vad_response_is_still_spoken(
        tmp_path: pathlib.Path, agentrun: Any) -> None:
    """Bug 1: the caller speaks while a tool runs; the server starts its own response before
    our output arrives and refuses our response.create; the result must still be voiced."""
    async def script(ws: ServerConnection, received: list[dict[str, Any]]) -> None:
        await handshake(ws, received)
        await next_of(ws, received, "response.create")
        await send(ws, type="response.created", response={"id": "r1", "output": []})
        await send(ws, type="response.output_item.added", response_id="r1", output_index=0,
                   item={"id": "fc1", "type": "function_call", "call_id": "call_1",
                         "name": "lookup_order", "arguments": ""})
        await send(ws, type="response.function_call_arguments.done", response_id="r1",
                   call_id="call_1", name="lookup_order", arguments='{"order_id": "1234"}')
        await send(ws, type="response.done", response={"id": "r1", "status": "completed",
                                                       "output": []})
        output = await next_of(ws, received, "conversation.item.create")
        # the caller had spoken meanwhile: server VAD committed it and started a response
        # before it read our output (the wire order of the live race)
        await send(ws, type="input_audio_buffer.speech_started", item_id="u2")
        await send(ws, type="input_audio_buffer.speech_stopped", item_id="u2")
        await send(ws, type="input_audio_buffer.committed", item_id="u2")
        await send(ws, type="response.created", response={"id": "r_vad", "output": []})
        await send(ws, type="conversation.item.added", item=output["item"])
        create = await next_of(ws, received, "response.create")
        await send(ws, type="error", error={
            "type": "invalid_request_error", "code": "conversation_already_has_active_response",
            "message": "Conversation already has an active response in progress.",
            "event_id": create["event_id"]})
        await say(ws, "r_vad", "Mm-hm?")  # never saw the output
        await next_of(ws, received, "response.create")  # asked again: speak the result
        await send(ws, type="response.created", response={"id": "r3", "output": []})
        await say(ws, "r3", f"Order 1234: {output['item']['output']}")
        await ws.wait_closed()

    with ScriptedServer(script) as server:
        result = agentrun(str(agent_file(tmp_path)), "--text", "--url", server.url,
                          input="Where is order 1234?\n")
    assert result.returncode == 0, result.stderr
    last = result.stdout.splitlines()[-1]
    assert last.startswith("agent: Order 1234: ") and "1234" in last
    creates = [e for e in server.received if e["type"] == "response.create"]
    assert len(creates) == 3
    assert server.failures == []


def test_a_refused_session_update_naming_no_event_ends_with_one_line_and_exit_1(
        tmp_path: pathlib.Path, agentrun: Any) -> None:
    """Bug 2: the refusal carries no event_id and the server keeps the socket open with
    pings; the call must end, not hang."""
    async def script(ws: ServerConnection, received: list[dict[str, Any]]) -> None:
        await send(ws, type="conversation.created", conversation={"id": "conv_1"})
        await next_of(ws, received, "session.update")
        await send(ws, type="error", error={"type": "invalid_request_error",
                                            "message": "Unknown parameter: 'session.foo'."})
        for n in itertools.count():
            await send(ws, type="ping", timestamp=n)
            await asyncio.sleep(0.2)

    with ScriptedServer(script) as server:
        result = agentrun(str(agent_file(tmp_path)), "--text", "--url", server.url,
                          input="hello\n", timeout=30)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines()[-1] == (
        "agentrun: the server refused the session configuration (invalid_request_error): "
        "Unknown parameter: 'session.foo'.")
    assert "reconnect" not in result.stderr and "Traceback" not in result.stderr
    assert server.connections == 1


def test_a_session_update_never_answered_ends_at_the_bound_pings_or_not() -> None:
    """Bug 2, second half: no answer at all; pings must not extend the wait, and nothing is
    'resumed' five times over."""
    async def script(ws: ServerConnection, received: list[dict[str, Any]]) -> None:
        await send(ws, type="conversation.created", conversation={"id": "conv_1"})
        for n in itertools.count():
            await send(ws, type="ping", timestamp=n)
            await asyncio.sleep(0.05)

    config = ConversationConfig(
        session=SessionProperties(turn_detection=TurnDetection(type="server_vad")),
        watchdogs=Watchdogs(configure=0.5))
    endpoint = NullEndpoint(["hello"])
    with ScriptedServer(script) as server:
        session = Session.for_url(config, server.url, api_key=None, endpoint=endpoint)
        result = asyncio.run(asyncio.wait_for(session.run(), 20))
    assert (result.exit_code, result.reason) == (1, (
        "the server did not confirm the session configuration (no session.updated within "
        "0.5 s)"))
    assert server.connections == 1 and result.reconnects == 0


@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_any_unicode_prints_on_a_terminal_or_pipe_that_is_not_utf8(
        tmp_path: pathlib.Path, cli_env: dict[str, str], simulator: Any, encoding: str) -> None:
    """No UnicodeEncodeError for a conversation in any script on an ASCII or Latin-1 pipe."""
    agent = tmp_path / "a.yaml"
    agent.write_text('name: Café ☕\ninstructions: Be brief.\n'
                     'greeting: "Grüß Gott — 日本語 ☕ 🎉"\n', encoding="utf-8")
    with simulator({"responses": [{"say": "Très bien — ça coûte 5 € ✓ 你好"}]}) as sim:
        result = subprocess.run(
            [sys.executable, "-m", "agentrun", str(agent), "--text", "--url", sim.url],
            input="héllo ✓\n".encode(), capture_output=True, timeout=30,
            env={**cli_env, "PYTHONIOENCODING": encoding}, check=False)
    stderr = result.stderr.decode(encoding, "replace")
    assert result.returncode == 0, stderr
    assert b"Traceback" not in result.stderr
    lines = result.stdout.decode(encoding, "replace").splitlines()
    assert lines[0].startswith("agent: Gr") and lines[-1].startswith("agent: Tr")
    assert len(lines) == 3  # greeting, the caller's line, the reply
