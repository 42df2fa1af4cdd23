"""The raw floor: the least a Grok realtime client can do, written with `websockets` alone.

It parses every frame as JSON, decodes every audio delta from base64 (and drops it), answers
each tool call with `function_call_output` at once and `response.create` when that response is
done, and sends `session.update` after `conversation.created`. Nothing lighter can hold a
conversation, so the floor shows how close a runtime comes to the limit.

Modes (the same for every client driven by `compare.py`):
    run   one call: say one user line, answer tool calls until a reply that calls no tool ends,
          then exit 0.
    idle  N simultaneous calls: each says one line and gets its reply, then all stay connected;
          prints ``ready`` once every call has its reply and holds until stdin closes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import uuid

from _client_args import parse_client_args
from websockets.asyncio.client import connect

__all__ = ["main", "run_call"]

SESSION = {
    "instructions": "You are a benchmark agent. Call ping when asked.",
    "voice": "Ara",
    "turn_detection": {"type": None},
    "audio": {
        "input": {"format": {"type": "audio/pcm", "rate": 24000}},
        "output": {"format": {"type": "audio/pcm", "rate": 24000}},
    },
    "tools": [
        {
            "type": "function",
            "name": "ping",
            "description": "Answer at once.",
            "parameters": {"type": "object", "properties": {}},
        }
    ],
}


def _event(kind: str, **fields: object) -> str:
    """Serialise one client event with a fresh event_id, as every real client does."""
    return json.dumps({"event_id": uuid.uuid4().hex, "type": kind, **fields})


async def run_call(url: str, text: str, replied: asyncio.Event | None = None) -> int:
    """Hold one call: configure, say `text`, answer tools until a plain reply is done.

    Args:
        url: The realtime endpoint (``ws://127.0.0.1:PORT/v1/realtime``).
        text: The user line that starts the conversation.
        replied: Set once the first plain reply is done; when given, the call then stays open
            until the connection is closed (idle mode) instead of returning.

    Returns:
        The number of audio bytes received (so the decode cannot be optimised away).
    """
    audio_bytes = 0
    async with connect(url + "?model=grok-voice-latest", max_size=None) as ws:
        called_tool = False
        async for raw in ws:
            event = json.loads(raw)
            kind = event["type"]
            if kind == "response.output_audio.delta":
                audio_bytes += len(base64.b64decode(event["delta"]))
            elif kind == "response.function_call_arguments.done":
                called_tool = True
                item = {
                    "id": uuid.uuid4().hex,
                    "type": "function_call_output",
                    "call_id": event["call_id"],
                    "output": '{"ok": true}',
                }
                await ws.send(_event("conversation.item.create", item=item))
            elif kind == "response.done":
                if called_tool:
                    # one response.create once the response that called is over (a create
                    # while it is still active is refused: grok-realtime.md §3.3, §8)
                    called_tool = False
                    await ws.send(_event("response.create"))
                elif replied is None:
                    return audio_bytes
                else:
                    replied.set()
            elif kind == "conversation.created":
                await ws.send(_event("session.update", session=SESSION))
            elif kind == "session.updated" and text:
                item = {
                    "id": uuid.uuid4().hex,
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
                await ws.send(_event("conversation.item.create", item=item))
                await ws.send(_event("response.create"))
                text = ""
    return audio_bytes


async def _idle(url: str, text: str, calls: int) -> None:
    """Open `calls` calls, wait for every first reply, report ready, hold until stdin closes."""
    events = [asyncio.Event() for _ in range(calls)]
    tasks = [asyncio.create_task(run_call(url, text, ev)) for ev in events]
    await asyncio.gather(*(ev.wait() for ev in events))
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in tasks:
        task.cancel()


def main(argv: list[str] | None = None) -> int:
    """Parse the common bench client arguments and run one mode.

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    args = parse_client_args(argv, __doc__)
    if args.mode == "run":
        asyncio.run(run_call(args.url, args.text))
    else:
        asyncio.run(_idle(args.url, args.text, args.calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
