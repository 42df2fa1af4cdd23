"""Twilio, played by the tests: voice webhooks and a Media Streams client that plays audio.

Webhook requests are shaped as Twilio sends them (form fields, ``X-Twilio-Signature`` computed
by Twilio's own ``RequestValidator``). :class:`TwilioStream` is the phone side of a bidirectional
Media Stream: it sends ``connected``, ``start``, 20 ms ``media`` frames and ``stop``, plays the
agent's audio on a real-time clock, echoes each ``mark`` when the audio before it has played,
and on ``clear`` drops its buffer and echoes the pending marks at once, as Twilio does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

import httpx
from twilio.request_validator import RequestValidator
from websockets.asyncio.client import ClientConnection, connect

ACCOUNT = "AC" + "0" * 32


def call_sid(n: int = 1) -> str:
    return f"CA{n:032x}"


def webhook_form(sid: str, caller: str) -> dict[str, str]:
    """The fields Twilio posts to a voice webhook for an incoming call."""
    return {"AccountSid": ACCOUNT, "ApiVersion": "2010-04-01", "CallSid": sid,
            "CallStatus": "ringing", "Called": "+15557654321", "Caller": caller,
            "Direction": "inbound", "From": caller, "To": "+15557654321"}


async def post_webhook(base: str, agent: str, form: dict[str, str], *,
                       auth_token: str | None = None, signature: str | None = None,
                       url: str | None = None, headers: dict[str, str] | None = None
                       ) -> httpx.Response:
    """POST a voice webhook; signed with ``auth_token`` (Twilio's algorithm) unless a
    ``signature`` is given ("" sends none)."""
    target = url or f"{base}/twilio/{agent}"
    sent = dict(headers or {})
    if signature is None and auth_token is not None:
        signature = RequestValidator(auth_token).compute_signature(target, form)
    if signature:
        sent["X-Twilio-Signature"] = signature
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.post(f"{base}/twilio/{agent}", data=form, headers=sent)


def parse_twiml(text: str) -> tuple[str, dict[str, str]]:
    """The ``<Stream url>`` and its ``<Parameter>``s from a ``<Connect>`` TwiML answer."""
    root = ET.fromstring(text)
    stream = root.find("./Connect/Stream")
    assert stream is not None, text
    return stream.attrib["url"], {p.attrib["name"]: p.attrib["value"]
                                  for p in stream.findall("Parameter")}


@dataclass
class Heard:
    """What the phone side received, in order, with arrival times (monotonic s)."""

    media: list[tuple[float, bytes]] = field(default_factory=list)
    marks: list[tuple[float, str]] = field(default_factory=list)
    clears: list[float] = field(default_factory=list)
    echoed: list[str] = field(default_factory=list)
    other: list[Any] = field(default_factory=list)

    @property
    def audio(self) -> bytes:
        return b"".join(chunk for _, chunk in self.media)


class TwilioStream:
    """One Media Streams connection, as Twilio drives it."""

    def __init__(self, url: str, parameters: dict[str, str], sid: str,
                 stream_sid: str = "MZ" + "1" * 32) -> None:
        self.url = url
        self.parameters = parameters
        self.call_sid = sid
        self.stream_sid = stream_sid
        self.heard = Heard()
        self.ws: ClientConnection | None = None
        self.closed: asyncio.Future[tuple[int | None, str]] | None = None
        self._seq = 0
        self._chunk = 0
        self._play_end = 0.0
        self._pending: dict[str, asyncio.TimerHandle] = {}
        self._reader: asyncio.Task[None] | None = None
        self._sends: set[asyncio.Future[None]] = set()

    async def __aenter__(self) -> TwilioStream:
        self.ws = await connect(self.url, open_timeout=20, max_size=2**20)
        self.closed = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.ws is not None and self._reader is not None
        await self.ws.close()
        self._reader.cancel()

    def _next(self) -> str:
        self._seq += 1
        return str(self._seq)

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        assert self.ws is not None
        await self.ws.send(message if isinstance(message, (str, bytes)) else json.dumps(message))

    async def _quietly(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):  # the call may be over: Twilio drops it too
            await self.send(message)

    async def start(self, parameters: dict[str, str] | None = None) -> None:
        """``connected`` then ``start`` with the TwiML parameters."""
        await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        await self.send({"event": "start", "sequenceNumber": self._next(),
                         "streamSid": self.stream_sid,
                         "start": {"accountSid": ACCOUNT, "streamSid": self.stream_sid,
                                   "callSid": self.call_sid, "tracks": ["inbound"],
                                   "mediaFormat": {"encoding": "audio/x-mulaw",
                                                   "sampleRate": 8000, "channels": 1},
                                   "customParameters": dict(self.parameters if parameters
                                                            is None else parameters)}})

    def media_message(self, chunk: bytes, stream_sid: str | None = None) -> dict[str, Any]:
        self._chunk += 1
        return {"event": "media", "sequenceNumber": self._next(),
                "streamSid": stream_sid or self.stream_sid,
                "media": {"track": "inbound", "chunk": str(self._chunk),
                          "timestamp": str(self._chunk * 20),
                          "payload": base64.b64encode(chunk).decode()}}

    async def speak(self, ulaw: bytes, *, paced: bool = True) -> None:
        """Send caller audio in 20 ms frames (160 bytes), in real time when ``paced``."""
        started = time.monotonic()
        for n, offset in enumerate(range(0, len(ulaw), 160)):
            await self.send(self.media_message(ulaw[offset:offset + 160]))
            if paced:
                delay = started + (n + 1) * 0.02 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)

    async def silence(self, ms: int, *, paced: bool = True) -> None:
        await self.speak(b"\xff" * (8 * ms), paced=paced)

    async def dtmf(self, digit: str) -> None:
        await self.send({"event": "dtmf", "streamSid": self.stream_sid,
                         "sequenceNumber": self._next(),
                         "dtmf": {"track": "inbound_track", "digit": digit}})

    async def stop(self) -> None:
        await self.send({"event": "stop", "sequenceNumber": self._next(),
                         "streamSid": self.stream_sid,
                         "stop": {"accountSid": ACCOUNT, "callSid": self.call_sid}})

    async def wait_for(self, condition: Any, timeout: float = 20) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                await asyncio.sleep(0.02)

    async def _read(self) -> None:
        assert self.ws is not None and self.closed is not None
        loop = asyncio.get_running_loop()
        try:
            async for text in self.ws:
                now = time.monotonic()
                message = json.loads(text)
                event = message.get("event")
                assert message.get("streamSid") == self.stream_sid, message
                if event == "media":
                    audio = base64.b64decode(message["media"]["payload"])
                    self.heard.media.append((now, audio))
                    self._play_end = max(now, self._play_end) + len(audio) / 8000
                elif event == "mark":
                    name = message["mark"]["name"]
                    self.heard.marks.append((now, name))
                    self._pending[name] = loop.call_at(
                        max(now, self._play_end), self._echo, name)
                elif event == "clear":
                    self.heard.clears.append(now)
                    self._play_end = now
                    for name, handle in list(self._pending.items()):
                        handle.cancel()
                        self._echo(name)
                else:
                    self.heard.other.append(message)
        except Exception as exc:  # the socket closed: remember how
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            if not self.closed.done():
                self.closed.set_result((code, str(exc)))
        finally:
            if not self.closed.done():
                rcvd = getattr(self.ws, "close_code", None)
                self.closed.set_result((rcvd, self.ws.close_reason or ""))

    def _echo(self, name: str) -> None:
        self._pending.pop(name, None)
        self.heard.echoed.append(name)
        task = asyncio.ensure_future(self._quietly({"event": "mark",
                                                    "sequenceNumber": self._next(),
                                                    "streamSid": self.stream_sid,
                                                    "mark": {"name": name}}))
        self._sends.add(task)
        task.add_done_callback(self._sends.discard)


async def placed_call(base: str, agent: str, sid: str, caller: str, *,
                      auth_token: str | None = None) -> TwilioStream:
    """Webhook, TwiML, then a stream (not yet opened) carrying the TwiML's parameters."""
    response = await post_webhook(base, agent, webhook_form(sid, caller), auth_token=auth_token)
    assert response.status_code == 200, response.text
    url, parameters = parse_twiml(response.text)
    return TwilioStream(url, parameters, sid)
