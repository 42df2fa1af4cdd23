"""The talk page's socket, played by the tests: what the page sends and what it hears.

:class:`TalkClient` speaks the page's side of the protocol (``agentrun.serve._talk``): it sends
``start`` and PCM16 microphone frames, collects every frame the service sends (agent audio per
item, ``clear``, transcript lines, tool calls, ``ended``/``error``) with its arrival time, and
can report playback progress as the page's worklet does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed


@dataclass
class Heard:
    """Everything the service sent, in order."""

    ready: dict[str, Any] | None = None
    audio: list[tuple[float, str, bytes]] = field(default_factory=list)  # (time, item, pcm)
    clears: list[float] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    ended: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    texts: list[dict[str, Any]] = field(default_factory=list)

    def audio_of(self, item: str) -> bytes:
        return b"".join(pcm for _, i, pcm in self.audio if i == item)

    @property
    def items(self) -> list[str]:
        return list(dict.fromkeys(i for _, i, _ in self.audio))


class TalkClient:
    """One talk socket, as the page opens it (``Origin`` of the service unless told)."""

    def __init__(self, base_url: str, agent: str, *, origin: str | None = "same",
                 headers: dict[str, str] | None = None) -> None:
        self.url = base_url.replace("http://", "ws://", 1) + f"/talk/{agent}/socket"
        self.origin = base_url if origin == "same" else origin
        self.headers = headers or {}
        self.heard = Heard()
        self.ws: ClientConnection | None = None
        self.closed: asyncio.Future[tuple[int | None, str]] | None = None
        self._item = ""
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TalkClient:
        self.ws = await connect(self.url, origin=self.origin,  # type: ignore[arg-type]
                                additional_headers=self.headers, max_size=2**22)
        self.closed = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.ws is not None and self._reader is not None
        await self.ws.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._reader, 10)

    async def _read(self) -> None:
        assert self.ws is not None and self.closed is not None
        heard = self.heard
        try:
            async for frame in self.ws:
                now = time.monotonic()
                if isinstance(frame, bytes):
                    heard.audio.append((now, self._item, frame))
                    continue
                message = json.loads(frame)
                heard.texts.append(message)
                kind = message["type"]
                if kind == "ready":
                    heard.ready = message
                elif kind == "audio":
                    self._item = message["item_id"]
                elif kind == "clear":
                    heard.clears.append(now)
                    self._item = ""
                elif kind == "transcript":
                    heard.transcripts.append(message)
                elif kind == "tool_call":
                    heard.tool_calls.append(message)
                elif kind == "ended":
                    heard.ended = message
                elif kind == "error":
                    heard.error = message
        except ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))

    async def send(self, frame: str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(frame)

    async def start(self, sample_rate: int = 24000) -> None:
        await self.send(json.dumps({"type": "start", "sample_rate": sample_rate}))

    async def speak(self, pcm: bytes, sample_rate: int = 24000, *, paced: bool = False,
                    chunk_ms: int = 20) -> None:
        """Send microphone audio in ``chunk_ms`` frames (in real time when ``paced``)."""
        step = sample_rate * 2 * chunk_ms // 1000
        for offset in range(0, len(pcm), step):
            await self.send(pcm[offset:offset + step])
            if paced:
                await asyncio.sleep(chunk_ms / 1000)

    async def played(self, item_id: str, played_ms: int) -> None:
        await self.send(json.dumps({"type": "played", "item_id": item_id,
                                    "played_ms": played_ms}))

    async def hangup(self) -> None:
        await self.send(json.dumps({"type": "hangup"}))

    async def wait_for(self, condition: Any, timeout: float = 20.0) -> None:
        """Wait until ``condition()`` holds; on timeout, say what was heard."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    await asyncio.sleep(0.02)
        except TimeoutError:
            kinds = [m["type"] for m in self.heard.texts]
            finals = [(t["role"], t["text"]) for t in self.heard.transcripts if t["final"]]
            raise AssertionError(f"timed out; heard {len(self.heard.audio)} audio frames, "
                                 f"text frames {kinds[-30:]}, final lines {finals}, "
                                 f"error {self.heard.error}, ended {self.heard.ended}") from None
