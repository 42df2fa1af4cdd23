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


class CuttableProxy:
    """A TCP proxy to the service on 127.0.0.1 that can cut every connection at once (a network
    that drops), in its own thread and loop. ``url`` is what a browser opens instead."""

    def __init__(self, port: int) -> None:
        import threading

        self._target = port
        self._loop = asyncio.new_event_loop()
        self._writers: set[asyncio.StreamWriter] = set()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        """Reset every connection through the proxy (no close frame, no FIN)."""
        def abort() -> None:
            for writer in self._writers:
                writer.transport.abort()
            self._writers.clear()
        self._loop.call_soon_threadsafe(abort)

    def __enter__(self) -> CuttableProxy:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class OtherSite:
    """Another web site on 127.0.0.1 (its own port, so its own origin) that serves one page:
    what a page that tries to open someone else's talk socket comes from."""

    def __init__(self) -> None:
        import http.server
        import threading

        class Page(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = b"<!doctype html><title>another site</title><p>hello"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OtherSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
