"""The Twilio channel: the voice webhook and the Media Streams socket, as one plugged module.

``POST /twilio/AGENT`` answers Twilio's voice webhook with TwiML that connects the call to
``wss://HOST/twilio/AGENT/stream`` and passes the caller's number, the CallSid and a signed
stream token as ``<Parameter>``s (Twilio drops a ``<Stream>`` URL's query string). With
``TWILIO_AUTH_TOKEN`` set, a request without a valid ``X-Twilio-Signature`` (checked by
Twilio's own ``RequestValidator``) gets 403. ``/twilio/AGENT/stream`` accepts only a stream
whose ``start`` carries a valid, unused token for that agent and call; then it runs one call
with ``phone=True``: μ-law 8 kHz passes through to the realtime API byte for byte, marks report
what the caller heard, and a barge-in sends ``clear`` at once. The protocol itself is in
``_twilio_stream`` (sans-I/O); this module is the thin I/O layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Literal
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agentrun.io import CallControl, CallerAudio, CallerDtmf, CallerInput, ToolCallView
from agentrun.serve._token import BadToken
from agentrun.serve._twilio_stream import (
    MARK_EVERY_MS,
    Dtmf,
    Ignored,
    Marked,
    Media,
    MediaStream,
    Started,
    Stopped,
)

if TYPE_CHECKING:
    from agentrun.serve._service import Service

__all__ = ["TwilioCall", "TwilioChannel"]

_log = logging.getLogger("agentrun.serve.twilio")

MAX_BODY = 64 * 1024  # a voice webhook is ~1 KiB of form fields
START_TIMEOUT = 10.0  # seconds a stream may take to send `start`
TAIL_MARK_AFTER = 0.06  # seconds of no new agent audio that end a burst (Grok: ~20-100 ms apart)
MAX_BEFORE_START = 50  # messages tolerated before `start` (connected, stray media)
MAX_IGNORED = 500  # junk messages tolerated in one call before it is ended
MAX_OUTBOX = 3000  # queued messages (~60 s of audio): the client stopped reading
MAX_INBOX = 500  # caller messages not yet taken by the session (~10 s)

SORRY_BUSY = ("Sorry, we cannot take your call right now. Please call again in a few "
              "minutes. Goodbye.")
SORRY_UNKNOWN = "Sorry, this number is not in service. Goodbye."

# WebSocket close codes (RFC 6455 §7.4.1)
_POLICY = 1008  # bad token, bad stream
_TRY_LATER = 1013  # capacity, draining


class TwilioChannel:
    """Phone calls through Twilio Programmable Voice and Media Streams.

    Args:
        prefix: the path prefix of the routes.
        mark_every_ms: see :class:`MediaStream` (0: a mark after every media message).
        tail_mark_after: seconds without new agent audio after which the audio sent since the
            last mark gets its own mark (the end of a reply).
        max_outbox: messages that may wait for a socket Twilio does not read (the kernel's
            buffers come first); beyond it the call is ended.
    """

    name = "twilio"

    def __init__(self, prefix: str = "/twilio", *, mark_every_ms: int = MARK_EVERY_MS,
                 tail_mark_after: float = TAIL_MARK_AFTER,
                 max_outbox: int = MAX_OUTBOX) -> None:
        self.prefix = prefix.rstrip("/")
        self.mark_every_ms = mark_every_ms
        self.tail_mark_after = tail_mark_after
        self.max_outbox = max_outbox

    def routes(self, service: Service) -> Sequence[BaseRoute]:
        """``POST {prefix}/{agent}`` (the voice webhook) and ``{prefix}/{agent}/stream``."""

        async def webhook(request: Request) -> Response:
            return await self._webhook(service, request)

        async def stream(ws: WebSocket) -> None:
            await self._stream(service, ws)

        return [Route(self.prefix + "/{agent}", webhook, methods=["POST"]),
                WebSocketRoute(self.prefix + "/{agent}/stream", stream)]

    def describe(self, stem: str, base_url: str) -> list[str]:
        """The voice webhook URL to paste into the Twilio console."""
        return [f"phone: Twilio voice webhook (HTTP POST) {base_url}{self.prefix}/{stem}"]

    # -- the webhook ---------------------------------------------------------------------------

    async def _webhook(self, service: Service, request: Request) -> Response:
        stem = request.path_params["agent"]
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse("request body too large\n", status_code=413)
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        public = public_base(request, service.options.public_url)
        if service.twilio_auth_token is not None:
            from twilio.request_validator import RequestValidator

            url = public + request.url.path + (f"?{request.url.query}" if request.url.query
                                               else "")
            signature = request.headers.get("x-twilio-signature", "")
            if not signature or not RequestValidator(service.twilio_auth_token).validate(
                    url, params, signature):
                service.metrics.refused(self.name, "bad_signature")
                _log.warning("refused a webhook for %s: %s X-Twilio-Signature", stem,
                             "invalid" if signature else "no")
                return PlainTextResponse("invalid Twilio signature\n", status_code=403)
        if service.agent(stem) is None:
            service.metrics.refused(self.name, "unknown_agent")
            _log.warning("refused a call for %s: no such agent is served", stem[:80])
            return _twiml(_goodbye(SORRY_UNKNOWN), status=404)
        reason = service.refusal()
        if reason is not None:
            service.metrics.refused(self.name, reason)
            _log.info("refused a call for %s: %s", stem, reason)
            return _twiml(_goodbye(SORRY_BUSY))
        call_sid = params.get("CallSid", "")[:64]
        caller = params.get("From", "")[:64]
        token = service.tokens.issue(stem, call_sid, caller)
        # the request's own path, so the stream URL stays right when the app is mounted
        stream_url = _ws_url(public) + request.url.path.rstrip("/") + "/stream"
        return _twiml(_connect(stream_url, {"caller": caller, "call_id": call_sid,
                                            "token": token}))

    # -- the stream ----------------------------------------------------------------------------

    async def _stream(self, service: Service, ws: WebSocket) -> None:
        stem = ws.path_params["agent"]
        if service.agent(stem) is None:
            service.metrics.refused(self.name, "unknown_agent")
            await ws.close(_POLICY)  # before accept: the handshake gets HTTP 403
            return
        await ws.accept()
        protocol = MediaStream(mark_every_ms=self.mark_every_ms)
        try:
            started = await asyncio.wait_for(_wait_start(ws, protocol), START_TIMEOUT)
        except (TimeoutError, WebSocketDisconnect):
            started = None
        if started is None:
            service.metrics.refused(self.name, "bad_stream")
            _log.warning("closed a stream for %s: no valid start message", stem)
            await _close(ws, _POLICY, "expected a start message")
            return
        try:
            claims = service.tokens.verify(started.parameters.get("token"), agent=stem,
                                           call_sid=started.call_sid)
        except BadToken as exc:
            service.metrics.refused(self.name, "bad_token")
            _log.warning("refused stream %s for %s: %s", started.stream_sid, stem, exc.reason)
            await _close(ws, _POLICY, exc.reason)
            return
        agent = service.agent(stem)
        slot = service.admit(self.name)
        if isinstance(slot, str) or agent is None:
            if not isinstance(slot, str):
                service.release(slot)
            _log.info("refused stream %s for %s: %s", started.stream_sid, stem, slot)
            await _close(ws, _TRY_LATER, "the service cannot take the call now")
            return
        call = TwilioCall(ws, protocol, max_outbox=self.max_outbox,
                          tail_mark_after=self.tail_mark_after)
        reader = asyncio.create_task(call.read_loop(), name="agentrun-twilio-read")
        writer = asyncio.create_task(call.write_loop(), name="agentrun-twilio-write")
        try:
            await service.run_call(slot, stem, agent, call,
                                   call={"caller": claims.caller, "id": claims.call_sid},
                                   hang_up=call.hang_up, phone=True)
        finally:
            reader.cancel()
            await call.flush(timeout=2.0)
            writer.cancel()
            await _close(ws, 1000, "call ended")


class TwilioCall:
    """The :class:`~agentrun.io.Endpoint` of one Media Streams connection.

    A reader task turns Twilio's messages into caller input (and mark echoes into
    ``CallControl.played``); a writer task sends agent audio, marks and ``clear`` in order.
    ``stop``, a closed socket or :meth:`hang_up` end the caller's stream (the session then
    finishes the reply in progress and hangs up).

    Args:
        ws: the accepted socket, after ``start``.
        protocol: the stream's protocol state (started).
        max_outbox: unsent messages beyond which the call is ended (Twilio stopped reading).
        tail_mark_after: see :class:`TwilioChannel`.
    """

    def __init__(self, ws: WebSocket, protocol: MediaStream, *,
                 max_outbox: int = MAX_OUTBOX, tail_mark_after: float = TAIL_MARK_AFTER) -> None:
        self._ws = ws
        self._tail_mark_after = tail_mark_after
        self._max_outbox = max_outbox
        self._protocol = protocol
        self._inbox: asyncio.Queue[CallerInput | None] = asyncio.Queue()
        self._outbox: deque[str] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._control: CallControl | None = None
        self._ended = False

    # -- Endpoint ------------------------------------------------------------------------------

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Caller audio and keypad digits until the call ends."""
        self._control = call
        while True:
            item = await self._inbox.get()
            if item is None:
                return
            yield item

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Queue agent μ-law audio for Twilio, byte for byte, with a mark."""
        if self._ended:
            return
        self._outbox.extend(self._protocol.media(audio, item_id))
        if len(self._outbox) > self._max_outbox:
            _log.warning("stream %s: Twilio stopped reading; ending the call",
                         self._protocol.stream_sid)
            self._outbox.clear()
            self.hang_up()
            return
        self._wake.set()

    def stop_playback(self, reason: str) -> None:
        """Barge-in: drop unsent audio and ``clear`` Twilio's buffer at once."""
        if self._ended:
            return
        self._outbox.clear()
        self._outbox.append(self._protocol.clear())
        self._wake.set()

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Transcripts go to the debug log (records keep them)."""
        if final:
            _log.debug("stream %s %s: %s", self._protocol.stream_sid, role, text)

    def show_tool_call(self, call: ToolCallView) -> None:
        """Tool calls go to the debug log."""
        if call.output is not None:
            _log.debug("stream %s tool %s ok=%s", self._protocol.stream_sid, call.name, call.ok)

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Status lines go to the log (warnings and errors name the stream)."""
        _log.log(_LEVELS[level], "stream %s: %s", self._protocol.stream_sid, message)

    # -- I/O -----------------------------------------------------------------------------------

    def hang_up(self) -> None:
        """End the caller's side (drain, ``stop``, a broken socket)."""
        if not self._ended:
            self._ended = True
            self._inbox.put_nowait(None)

    async def read_loop(self) -> None:
        """Read Twilio's messages until ``stop`` or the socket closes."""
        protocol, inbox = self._protocol, self._inbox
        try:
            while True:
                message = await self._ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                event = protocol.receive(message.get("text") or message.get("bytes") or b"")
                kind = type(event)
                if kind is Media:
                    if inbox.qsize() < MAX_INBOX:
                        inbox.put_nowait(CallerAudio(event.audio))  # type: ignore[union-attr]
                elif kind is Marked:
                    if self._control is not None:
                        self._control.played(event.item_id, event.played_ms)  # type: ignore[union-attr]
                elif kind is Dtmf:
                    inbox.put_nowait(CallerDtmf(event.digit))  # type: ignore[union-attr]
                elif kind is Stopped:
                    break
                elif kind is Ignored:
                    _log.debug("stream %s: ignored %s", protocol.stream_sid, event.reason)  # type: ignore[union-attr]
                    if protocol.ignored > MAX_IGNORED:
                        _log.warning("stream %s: too many bad messages; ending the call",
                                     protocol.stream_sid)
                        break
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            _log.debug("stream %s: read failed: %s", protocol.stream_sid, exc)
        finally:
            self.hang_up()

    async def write_loop(self) -> None:
        """Send queued messages in order; a failed send ends the call. When the agent's audio
        pauses, the audio sent since the last mark gets one (the end of a reply is known)."""
        outbox, ws, protocol = self._outbox, self._ws, self._protocol
        try:
            while True:
                if protocol.unmarked:
                    try:
                        async with asyncio.timeout(self._tail_mark_after):
                            await self._wake.wait()
                    except TimeoutError:
                        mark = protocol.tail_mark()
                        if mark is not None:
                            outbox.append(mark)
                else:
                    await self._wake.wait()
                self._wake.clear()
                self._idle.clear()
                while outbox:
                    await ws.send_text(outbox.popleft())
                self._idle.set()
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            _log.debug("stream %s: send failed: %s", self._protocol.stream_sid, exc)
            self._idle.set()
            self.hang_up()

    async def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until queued messages are sent."""
        if self._outbox:
            self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._outbox or not self._idle.is_set():
                    await self._idle.wait()
                    if self._outbox:
                        await asyncio.sleep(0)


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


async def _wait_start(ws: WebSocket, protocol: MediaStream) -> Started | None:
    """Read until ``start``; None when the stream sends only junk or goes away."""
    for _ in range(MAX_BEFORE_START):
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        event = protocol.receive(message.get("text") or message.get("bytes") or b"")
        if isinstance(event, Started):
            return event
        if isinstance(event, Stopped):
            return None
    return None


async def _read_body(request: Request) -> bytes | None:
    """The request body, or None when it is larger than :data:`MAX_BODY`."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        return None
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
    except ClientDisconnect:
        return b""
    return b"".join(chunks)


def public_base(request: Request, public_url: str | None) -> str:
    """The service's public ``scheme://host[/prefix]`` as Twilio reaches it.

    ``--public-url`` when given; else the proxy's ``X-Forwarded-Proto`` and
    ``X-Forwarded-Host`` (first values); else the request's own scheme and ``Host``.
    """
    if public_url:
        return public_url.rstrip("/")
    headers = request.headers
    scheme = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = (headers.get("x-forwarded-host", "").split(",")[0].strip()
            or headers.get("host", "") or request.url.netloc)
    return f"{scheme}://{host}"


def _ws_url(public: str) -> str:
    parts = urlsplit(public)
    scheme = "ws" if parts.scheme == "http" else "wss"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _connect(stream_url: str, parameters: dict[str, str]) -> str:
    from twilio.twiml.voice_response import Connect, VoiceResponse

    response = VoiceResponse()
    connect = Connect()
    stream = connect.stream(url=stream_url)
    for name, value in parameters.items():
        stream.parameter(name=name, value=value)
    response.append(connect)
    return str(response)


def _goodbye(text: str) -> str:
    from twilio.twiml.voice_response import VoiceResponse

    response = VoiceResponse()
    response.say(text)
    response.hangup()
    return str(response)


def _twiml(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="text/xml")


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state is WebSocketState.DISCONNECTED or \
            ws.client_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await ws.close(code, reason[:120])
