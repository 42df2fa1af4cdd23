"""The clients of `two_way_audio.py`: one call with audio flowing both ways at real time.

    python bench/_duplex_clients.py floor|agentrun|device URL --format pcm|pcmu

Every client configures manual turns and the format (PCM16 24 kHz or G.711 μ-law 8 kHz both
ways), says one typed line that starts a long reply (the simulator paces it at real time), and
from then on streams caller audio in 20 ms chunks at real time while it takes the agent's audio.
It prints ``steady`` once the first agent audio arrived and runs until it is terminated; the
driver reads its CPU from the kernel in between.

* ``floor``: `websockets` alone. Caller audio is already in the session format (no conversion);
  each chunk is base64- and JSON-encoded as it is sent, each delta JSON-parsed and
  base64-decoded, then dropped. The least any client can do.
* ``agentrun``: ``Agent.run`` with an endpoint that yields the same session-format chunks and
  drops the agent audio: agentrun's session, engine and protocol, no audio conversion.
* ``device``: ``agentrun.io.DeviceEndpoint`` on a real PortAudio device (ALSA's ``file`` plugin,
  clocked by the driver, see ``tests/io/_soundcard.py``) opened at 48 kHz, as laptop hardware is:
  the microphone's 48 kHz PCM16 is resampled (soxr) and encoded, agent audio decoded, resampled
  to 48 kHz and played through the playback queue, with ``played`` reports: a whole voice call.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import math
import os
import pathlib
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any, Literal

__all__ = ["main"]

CHUNK_MS = 20
RATES = {"pcm": 24000, "pcmu": 8000}
AGENT = """\
name: Duplex
instructions: Talk for a long time.
turn_detection: {{type: manual}}
audio:
  input: {{format: {fmt}{rate}}}
  output: {{format: {fmt}{rate}}}
"""


def caller_chunks(fmt: str, seconds: float = 2.0) -> list[bytes]:
    """A 220 Hz tone in the session format, cut in 20 ms chunks (cycled by the clients)."""
    rate = RATES[fmt]
    count = int(rate * seconds)
    pcm = struct.pack(f"<{count}h", *(int(6000 * math.sin(2 * math.pi * 220 * n / rate))
                                      for n in range(count)))
    if fmt == "pcmu":
        from agentrun.audio import ulaw_encode

        data, width = ulaw_encode(pcm), 1
    else:
        data, width = pcm, 2
    step = rate * CHUNK_MS // 1000 * width
    return [data[i:i + step] for i in range(0, len(data), step)]


def _steady() -> None:
    print("steady", flush=True)


# -- floor ---------------------------------------------------------------------------------------


async def floor(url: str, fmt: str) -> None:
    from websockets.asyncio.client import connect

    audio_format = {"type": f"audio/{fmt}", **({"rate": RATES[fmt]} if fmt == "pcm" else {})}
    session = {"instructions": "Talk for a long time.", "voice": "Ara",
               "turn_detection": {"type": None},
               "audio": {"input": {"format": audio_format}, "output": {"format": audio_format}}}
    chunks = caller_chunks(fmt)

    def event(kind: str, **fields: object) -> str:
        return json.dumps({"event_id": uuid.uuid4().hex, "type": kind, **fields})

    async with connect(url + "?model=grok-voice-latest", max_size=None) as ws:
        async def speak() -> None:
            due = time.monotonic()
            n = 0
            while True:
                chunk = chunks[n % len(chunks)]
                await ws.send(event("input_audio_buffer.append",
                                    audio=base64.b64encode(chunk).decode("ascii")))
                n += 1
                due += CHUNK_MS / 1000
                await asyncio.sleep(max(0.0, due - time.monotonic()))

        speaker: asyncio.Task[None] | None = None
        heard = 0
        async for raw in ws:
            message = json.loads(raw)
            kind = message["type"]
            if kind == "response.output_audio.delta":
                heard += len(base64.b64decode(message["delta"]))
                if speaker is None:
                    _steady()
                    speaker = asyncio.create_task(speak())
            elif kind == "conversation.created":
                await ws.send(event("session.update", session=session))
            elif kind == "session.updated":
                item = {"id": uuid.uuid4().hex, "type": "message", "role": "user",
                        "content": [{"type": "input_text", "text": "talk"}]}
                await ws.send(event("conversation.item.create", item=item))
                await ws.send(event("response.create"))


# -- agentrun ------------------------------------------------------------------------------------


class StreamingCaller:
    """Says "talk", then streams session-format chunks at real time; drops the agent audio."""

    def __init__(self, fmt: str) -> None:
        self.chunks = caller_chunks(fmt)
        self.heard = 0

    async def caller(self, call: Any) -> AsyncIterator[Any]:
        from agentrun.io import CallerAudio, CallerText

        yield CallerText("talk")
        due = time.monotonic()
        n = 0
        while True:
            yield CallerAudio(self.chunks[n % len(self.chunks)])
            n += 1
            due += CHUNK_MS / 1000
            await asyncio.sleep(max(0.0, due - time.monotonic()))

    def play_audio(self, audio: bytes, item_id: str) -> None:
        if not self.heard:
            _steady()
        self.heard += len(audio)

    def stop_playback(self, reason: str) -> None:
        """Nothing plays."""

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Not shown."""

    def show_tool_call(self, call: Any) -> None:
        """Not shown."""

    def show_status(self, level: str, message: str) -> None:
        if level == "error":
            print(f"agentrun: {message}", file=sys.stderr)


def _agent_file(fmt: str) -> str:
    folder = pathlib.Path(tempfile.mkdtemp(prefix="agentrun-duplex-"))
    path = folder / "duplex.yaml"
    rate = f", rate: {RATES[fmt]}" if fmt == "pcm" else ""
    path.write_text(AGENT.format(fmt=fmt, rate=rate), encoding="utf-8")
    return str(path)


async def agentrun_client(url: str, fmt: str) -> None:
    from agentrun.agent import Agent

    agent = Agent.load(_agent_file(fmt))
    await agent.run(StreamingCaller(fmt), url=url)


# -- device --------------------------------------------------------------------------------------


async def device(url: str, fmt: str) -> None:
    from agentrun.agent import Agent
    from agentrun.engine.session import audio_formats
    from agentrun.io import DeviceEndpoint, TextConsole

    agent = Agent.load(_agent_file(fmt))
    fmt_in, fmt_out = audio_formats(agent.config())
    console = TextConsole(stdout=open(os.devnull, "w"), interactive=False)  # noqa: SIM115
    endpoint = DeviceEndpoint(console, input_format=fmt_in, output_format=fmt_out,
                              device_rates=(48000, 48000))
    play = endpoint.play_audio

    def play_and_tell(audio: bytes, item_id: str) -> None:
        if not endpoint.audio_bytes:
            _steady()
        play(audio, item_id)

    endpoint.play_audio = play_and_tell  # type: ignore[method-assign]
    await endpoint.start()
    try:
        await agent.run(endpoint, url=url)
    finally:
        await endpoint.finish(drain=False)


def main(argv: list[str] | None = None) -> int:
    """Run one client until terminated.

    Args:
        argv: ``MODE URL --format FMT`` (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("floor", "agentrun", "device"))
    parser.add_argument("url")
    parser.add_argument("--format", dest="fmt", choices=tuple(RATES), default="pcm")
    args = parser.parse_args(argv)
    run = {"floor": floor, "agentrun": agentrun_client, "device": device}[args.mode]
    asyncio.run(run(args.url, args.fmt))
    return 0


if __name__ == "__main__":
    sys.exit(main())
