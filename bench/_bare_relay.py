"""The bare relay: the least a Twilio ↔ realtime bridge can do, for `serve_bench.py`.

One ``websockets`` server; per Twilio stream: on ``start`` open the realtime socket, send
``session.update`` (μ-law both ways, server VAD, the call id in the instructions) after
``conversation.created``; then each ``media`` payload goes out as ``input_audio_buffer.append``
(string building, no JSON encoding) and each ``response.output_audio.delta`` comes back as a
``media`` message. No marks, no barge-in, no tools, no checks: the floor agentrun is compared
with. Prints ``listening on http://127.0.0.1:PORT`` first.

    python bench/_bare_relay.py --realtime ws://127.0.0.1:PORT/v1/realtime
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

SESSION = {"voice": "Ara", "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
           "audio": {"input": {"format": {"type": "audio/pcmu"}},
                     "output": {"format": {"type": "audio/pcmu"}}}}


async def relay(twilio: ServerConnection, realtime_url: str) -> None:
    stream_sid = call_sid = ""
    async for message in twilio:
        event = json.loads(message)
        if event.get("event") == "start":
            stream_sid = event["streamSid"]
            call_sid = event["start"]["callSid"]
            break
    if not stream_sid:
        return
    async with connect(realtime_url, max_size=2**24, compression=None) as upstream:
        async for message in upstream:
            if '"conversation.created"' in message:
                session = dict(SESSION, instructions=f"Bench agent for call {call_sid}.")
                await upstream.send(json.dumps({"type": "session.update", "session": session}))
                break
        prefix = '{"event":"media","streamSid":"' + stream_sid + '","media":{"payload":"'

        async def down() -> None:
            async for text in upstream:
                if text.startswith('{"type":"response.output_audio.delta"'):
                    delta = json.loads(text)["delta"]
                    await twilio.send(prefix + delta + '"}}')

        task = asyncio.create_task(down())
        try:
            async for message in twilio:
                event = json.loads(message)
                kind = event.get("event")
                if kind == "media":
                    await upstream.send('{"type":"input_audio_buffer.append","audio":"'
                                        + event["media"]["payload"] + '"}')
                elif kind == "stop":
                    break
        except ConnectionClosed:
            pass
        finally:
            task.cancel()


async def main(realtime_url: str, port: int) -> None:
    async def handler(ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            await relay(ws, realtime_url)

    async with serve(handler, "127.0.0.1", port, compression=None) as server:
        bound = next(iter(server.sockets)).getsockname()[1]
        print(f"listening on http://127.0.0.1:{bound}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--realtime", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    try:
        try:
            import uvloop  # the same event loop as uvicorn[standard] gives agentrun
            uvloop.run(main(args.realtime + "?model=grok-voice-latest", args.port))
        except ImportError:
            asyncio.run(main(args.realtime + "?model=grok-voice-latest", args.port))
    except KeyboardInterrupt:
        sys.exit(0)
