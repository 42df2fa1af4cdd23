"""The browser channel: the agent list, the talk page and its socket, as one plugged module.

``GET /`` lists the served agents (HTML for a browser, the app's JSON otherwise);
``GET /talk/AGENT`` is the talk page (one file, no build step, nothing loaded from elsewhere);
``/talk/AGENT/socket`` carries one call: microphone audio in, agent audio, transcript and tool
calls out, in the protocol of ``_talk`` (sans-I/O; this module is the thin I/O layer).

Security by default: the socket accepts only pages of the service's own origin (plus
``ServeOptions.allowed_origins``), and the page and socket are served over plain HTTP only to
a loopback client: anyone else needs https (TLS here, or a proxy that says
``X-Forwarded-Proto: https``) unless the operator passes ``--allow-insecure-http``. Bad input
ends at most its own call; every queue is bounded. Calls count like phone calls (admission,
metrics with channel ``browser``, records, drain).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Literal

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from agentrun._secrets import redact
from agentrun.io import (
    AudioFormat,
    CallControl,
    CallerAudio,
    CallerInput,
    CallerTurnEnd,
    ToolCallView,
)
from agentrun.serve import _pages
from agentrun.serve._talk import (
    Audio,
    Hangup,
    Ignored,
    Interrupt,
    Played,
    Start,
    TalkProtocol,
    TurnEnd,
)
from agentrun.serve._web_policy import origin_allowed, transport_allowed

if TYPE_CHECKING:
    from agentrun.agent import Agent
    from agentrun.audio import StreamResampler
    from agentrun.engine.session import SessionResult
    from agentrun.serve._service import ServeOptions, Service

__all__ = ["BrowserCall", "BrowserChannel"]

_log = logging.getLogger("agentrun.serve.browser")

START_TIMEOUT = 10.0  # seconds a socket may take to send `start`
MAX_BEFORE_START = 20  # frames tolerated before `start`
MAX_IGNORED = 200  # junk frames tolerated in one call before it is ended
MAX_INBOX = 500  # microphone frames not yet taken by the session (~10 s of 20 ms frames)
MAX_OUTBOX_SECONDS = 60.0  # agent audio waiting for a page that does not read
MAX_OUTBOX_FRAMES = 5000  # frames of any kind waiting (transcripts, tool calls, audio)

# WebSocket close codes (RFC 6455 §7.4.1)
_NORMAL = 1000
_POLICY = 1008  # bad origin, plain http, bad input
_TRY_LATER = 1013  # capacity, draining


class BrowserChannel:
    """Calls from a web page: the talk page and its socket.

    Args:
        prefix: the path prefix of the talk pages.
        max_outbox_seconds: agent audio that may wait for a page that stopped reading (after
            the kernel's buffers); beyond it the call is ended.
        start_timeout: seconds a socket may take to send ``start``.
    """

    name = "browser"

    def __init__(self, prefix: str = "/talk", *,
                 max_outbox_seconds: float = MAX_OUTBOX_SECONDS,
                 start_timeout: float = START_TIMEOUT) -> None:
        self.prefix = prefix.rstrip("/")
        self.max_outbox_seconds = max_outbox_seconds
        self.start_timeout = start_timeout

    def routes(self, service: Service) -> Sequence[BaseRoute]:
        """``GET /`` (the agent list), ``GET {prefix}/{agent}`` and ``{prefix}/{agent}/socket``."""

        async def index(request: Request) -> Response:
            return _pages.index(service, request, self.prefix)

        async def page(request: Request) -> Response:
            return self._page(service, request)

        async def socket(ws: WebSocket) -> None:
            await self._socket(service, ws)

        return [Route("/", index, methods=["GET", "HEAD"]),
                Route(self.prefix + "/{agent}", page, methods=["GET", "HEAD"],
                      name="agentrun_talk"),
                WebSocketRoute(self.prefix + "/{agent}/socket", socket)]

    def describe(self, stem: str, base_url: str) -> list[str]:
        """The talk page's URL."""
        return [f"browser: talk page {base_url}{self.prefix}/{stem}"]

    def warnings(self, options: ServeOptions) -> list[str]:
        """Start-up warnings for options that weaken the page's security."""
        lines = []
        if options.allow_insecure_http:
            lines.append("WARNING: --allow-insecure-http: talk pages are served over plain HTTP "
                         "to any client, so callers' microphone audio crosses the network "
                         "UNENCRYPTED. Use it on a network you trust only.")
        if "*" in options.allowed_origins:
            lines.append("WARNING: --allow-origin '*': ANY web site can open calls on this "
                         "service from its visitors' browsers (and spend your realtime "
                         "minutes). List the sites that embed the call instead.")
        return lines

    # -- the page ------------------------------------------------------------------------------

    def _page(self, service: Service, request: Request) -> Response:
        stem = request.path_params["agent"]
        if not transport_allowed(request, service):
            service.metrics.refused(self.name, "insecure")
            _log.warning("refused the talk page for %s to %s over plain http", stem[:80],
                         _client(request))
            return _pages.insecure()
        agent = service.agent(stem)
        if agent is None:
            return _pages.unknown(stem)
        return _pages.talk(agent)

    # -- the socket ----------------------------------------------------------------------------

    async def _socket(self, service: Service, ws: WebSocket) -> None:
        stem = ws.path_params["agent"]
        if not origin_allowed(ws, service):
            service.metrics.refused(self.name, "bad_origin")
            _log.warning("refused a talk socket for %s: origin %r is not allowed", stem[:80],
                         ws.headers.get("origin", "")[:200])
            await ws.close(_POLICY)  # before accept: the handshake gets HTTP 403
            return
        if not transport_allowed(ws, service):
            service.metrics.refused(self.name, "insecure")
            _log.warning("refused a talk socket for %s from %s over plain http", stem[:80],
                         _client(ws))
            await ws.close(_POLICY)
            return
        await ws.accept()
        protocol = TalkProtocol()
        try:
            start = await asyncio.wait_for(_wait_start(ws, protocol), self.start_timeout)
        except (TimeoutError, WebSocketDisconnect):
            start = None
        if start is None:
            service.metrics.refused(self.name, "bad_start")
            await _refuse(ws, _POLICY, protocol.error(
                "bad_start", "The page did not start the call properly; reload it."))
            return
        agent = service.agent(stem)
        if agent is None:
            service.metrics.refused(self.name, "unknown_agent")
            await _refuse(ws, _POLICY, protocol.error(
                "unknown_agent", "This agent is no longer served; go back to the agent list."))
            return
        slot = service.admit(self.name)
        if isinstance(slot, str):
            _log.info("refused a browser call for %s: %s", stem, slot)
            message = ("The service is shutting down; please call again in a moment."
                       if slot == "draining" else
                       "All lines are busy; please call again in a few minutes.")
            await _refuse(ws, _TRY_LATER, protocol.error(
                "draining" if slot == "draining" else "busy", message))
            return
        call_id = "WB" + secrets.token_hex(16)
        call = BrowserCall(ws, protocol, _formats(agent), call_id=call_id, agent=agent.name,
                           max_outbox_seconds=self.max_outbox_seconds)
        reader = asyncio.create_task(call.read_loop(), name="agentrun-browser-read")
        writer = asyncio.create_task(call.write_loop(), name="agentrun-browser-write")
        result: SessionResult | None = None
        try:
            result = await service.run_call(slot, stem, agent, call,
                                            call={"caller": _client(ws), "id": call_id},
                                            hang_up=call.hang_up)
        finally:
            reader.cancel()
            code = call.finish(result, draining=service.draining)
            await call.flush(timeout=2.0)
            writer.cancel()
            await _close(ws, code, "call ended")


class BrowserCall:
    """The :class:`~agentrun.io.Endpoint` of one talk socket.

    A reader task turns the page's frames into caller audio (resampled and encoded to the
    session's input format) and playback reports (``CallControl.played``); a writer task sends
    agent audio (decoded and resampled to the page's rate), ``clear``, transcript and tool
    frames in order. ``hangup``, a closed socket, junk or :meth:`hang_up` end the caller's
    stream (the session then finishes the reply in progress and hangs up).

    Args:
        ws: the accepted socket, after ``start``.
        protocol: the socket's protocol state (started).
        formats: the session's input and output formats, as the agent file says (the running
            session's own, from ``CallControl``, win once the call runs).
        call_id: the call's id (``ready``, log lines).
        agent: the agent's name (``ready``).
        max_outbox_seconds: agent audio that may wait unsent before the call is ended.
    """

    def __init__(self, ws: WebSocket, protocol: TalkProtocol,
                 formats: tuple[AudioFormat, AudioFormat], *, call_id: str, agent: str = "",
                 max_outbox_seconds: float = MAX_OUTBOX_SECONDS) -> None:
        self._ws = ws
        self._protocol = protocol
        self._rate = protocol.sample_rate
        self._input, self._output = formats
        self._call_id = call_id
        self._agent = agent
        self.ready = False  # the session is connected and the page was told
        self._max_outbox = int(max_outbox_seconds * self._rate * 2)
        self._inbox: asyncio.Queue[bytes | CallerTurnEnd | None] = asyncio.Queue()
        self._outbox: deque[tuple[str | bytes, bool]] = deque()  # (frame, part of audio)
        self._outbox_audio = 0  # bytes of agent audio in the outbox
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._control: CallControl | None = None
        self._to_session: StreamResampler | None = None
        self._to_page: StreamResampler | None = None
        self._carry = b""  # an odd byte of agent audio, kept for the next chunk
        self._ended = False
        self.problem: tuple[str, str] | None = None  # (code, message) when we ended the call
        self.hung_up_by_caller = False
        self.dropped_mic_frames = 0

    # -- Endpoint ------------------------------------------------------------------------------

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """The caller's microphone, in the session's input format, until the call ends.

        The session asks for it once it is connected to the realtime service: that is when the
        page hears ``ready`` (and starts sending the microphone).
        """
        from agentrun.audio import StreamResampler, encode

        self._control = call
        self.ready = True
        self.send(self._protocol.ready(self._call_id, self._agent,
                                       manual_turns=call.manual_turns))
        self._input, self._output = call.input_format, call.output_format
        self._to_session = StreamResampler(self._rate, self._input.rate)
        encoding = self._input.encoding
        while True:
            item = await self._inbox.get()
            # at a turn's end or the call's, the resampler's filter still holds a few ms of
            # the caller's words: they go out first
            audio = (self._to_session.process(item) if isinstance(item, bytes)
                     else self._to_session.flush())
            if encoding != "pcm":
                audio = encode(audio, encoding)
            if audio:
                yield CallerAudio(audio)
            if item is None:
                return
            if isinstance(item, CallerTurnEnd):
                yield item

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Queue agent audio for the page, as PCM16 at the page's rate."""
        if self._ended:
            return
        pcm = self._page_audio(audio)
        for frame in self._protocol.audio(pcm, item_id):
            self._outbox.append((frame, True))
            if isinstance(frame, bytes):
                self._outbox_audio += len(frame)
        if self._outbox_audio > self._max_outbox or len(self._outbox) > MAX_OUTBOX_FRAMES:
            _log.warning("call %s: the page stopped reading; ending the call", self._call_id)
            self._outbox.clear()
            self._outbox_audio = 0
            self.end_for("not_reading", "The connection is too slow to play the agent's "
                                        "voice; the call was ended.")
            return
        self._wake.set()

    def stop_playback(self, reason: str) -> None:
        """Barge-in: drop unsent agent audio and tell the page to fall silent at once."""
        if self._ended:
            return
        self._outbox = deque(entry for entry in self._outbox if not entry[1])
        self._outbox_audio = 0
        self._carry = b""
        if self._to_page is not None:
            self._to_page.clear()
        self.send(self._protocol.clear(reason))

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Send the line (its whole text so far) to the page."""
        frame = self._protocol.transcript(role, text, final, item_id)
        if frame is not None:
            self.send(frame)

    def show_tool_call(self, call: ToolCallView) -> None:
        """Send the tool call (started or finished) to the page, secrets cut out."""
        self.send(self._protocol.tool_call(
            call.call_id, call.name, redact(call.arguments),
            None if call.output is None else redact(call.output), call.ok))

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Status lines are for the operator: they go to the log, not to the caller's page."""
        _log.log(_LEVELS[level], "call %s: %s", self._call_id, message)

    # -- I/O -----------------------------------------------------------------------------------

    def send(self, frame: str, *, last: bool = False) -> None:
        """Queue a text frame for the page (dropped once the call is over, but for the
        ``last`` one)."""
        if self._ended and not last:
            return
        self._outbox.append((frame, False))
        self._wake.set()

    def hang_up(self) -> None:
        """End the caller's side (drain, ``hangup``, a closed socket, junk)."""
        if not self._ended:
            self._ended = True
            self._inbox.put_nowait(None)

    def end_for(self, code: str, message: str) -> None:
        """End the call because of the page's behaviour; the page gets ``error`` ``code``."""
        if self.problem is None:
            self.problem = (code, message)
        self.hang_up()

    def finish(self, result: SessionResult | None, *, draining: bool) -> int:
        """Queue the last frame (``ended``, or ``error`` when the page misbehaved).

        Returns:
            The close code to use (1000, or 1008 after bad input).
        """
        self.hang_up()
        if self.problem is not None:
            self.send(self._protocol.error(*self.problem), last=True)
            self._protocol.ended("")
            return _POLICY
        if self.hung_up_by_caller:
            reason = "you hung up"
        elif draining:
            reason = "the service is shutting down; please call again in a moment"
        elif result is None or result.exit_code:
            # the details (a refused key, an unreachable server) are the operator's: logged
            code, message = (("failed", "The call failed: the agent's service had a problem. "
                                        "Please try again.") if self.ready else
                             ("unavailable", "The agent cannot be reached right now. Please "
                                             "try again in a moment."))
            self.send(self._protocol.error(code, message), last=True)
            self._protocol.ended("")
            return _NORMAL
        else:
            reason = "the agent hung up"
        self.send(self._protocol.ended(reason), last=True)
        return _NORMAL

    async def read_loop(self) -> None:
        """Read the page's frames until ``hangup``, junk or the socket closes."""
        protocol, inbox = self._protocol, self._inbox
        try:
            while not self._ended:
                message = await self._ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("bytes")
                event = protocol.receive(data if data is not None else message.get("text") or "")
                kind = type(event)
                if kind is Audio:
                    if inbox.qsize() < MAX_INBOX:
                        inbox.put_nowait(event.pcm)  # type: ignore[union-attr]
                    else:
                        self.dropped_mic_frames += 1
                elif kind is Played:
                    if self._control is not None:
                        self._control.played(event.item_id, event.played_ms)  # type: ignore[union-attr]
                elif kind is TurnEnd:
                    if inbox.qsize() < MAX_INBOX:
                        inbox.put_nowait(CallerTurnEnd())
                elif kind is Interrupt:
                    if self._control is not None:
                        self._control.interrupt()
                elif kind is Hangup:
                    self.hung_up_by_caller = True
                    break
                elif kind is Ignored:
                    _log.debug("call %s: ignored %s", self._call_id, event.reason)  # type: ignore[union-attr]
                    if protocol.ignored > MAX_IGNORED:
                        _log.warning("call %s: too many bad frames; ending the call",
                                     self._call_id)
                        self.end_for("bad_input", "The page sent too many bad messages; the "
                                                  "call was ended. Reload the page.")
                        break
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            _log.debug("call %s: read failed: %s", self._call_id, exc)
        else:
            if not self._ended and self.problem is None:
                self.hung_up_by_caller = True  # the page went away (closed, reloaded)
        finally:
            self.hang_up()

    async def write_loop(self) -> None:
        """Send queued frames in order; a failed send ends the call."""
        ws = self._ws
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                self._idle.clear()
                while self._outbox:
                    frame, _ = self._outbox.popleft()
                    if isinstance(frame, bytes):
                        self._outbox_audio -= len(frame)
                        await ws.send_bytes(frame)
                    else:
                        await ws.send_text(frame)
                self._idle.set()
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            _log.debug("call %s: send failed: %s", self._call_id, exc)
            self._idle.set()
            self.hang_up()

    async def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until queued frames are sent."""
        if self._outbox:
            self._wake.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._outbox or not self._idle.is_set():
                    await self._idle.wait()
                    if self._outbox:
                        await asyncio.sleep(0)

    def _page_audio(self, audio: bytes) -> bytes:
        """Agent audio (session output format) as PCM16 LE at the page's rate."""
        from agentrun.audio import StreamResampler, decode

        if self._output.encoding != "pcm":
            audio = decode(audio, self._output.encoding)
        elif self._carry or len(audio) % 2:
            audio, self._carry = self._carry + audio, b""
            if len(audio) % 2:
                audio, self._carry = audio[:-1], audio[-1:]
        if self._to_page is None:
            self._to_page = StreamResampler(self._output.rate, self._rate)
        return self._to_page.process(audio)


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR}


def _formats(agent: Agent) -> tuple[AudioFormat, AudioFormat]:
    audio = agent.spec.audio
    return (AudioFormat(audio.input.format, audio.input.rate or 24000),
            AudioFormat(audio.output.format, audio.output.rate or 24000))


def _client(conn: HTTPConnection) -> str:
    return conn.client.host if conn.client else ""


async def _wait_start(ws: WebSocket, protocol: TalkProtocol) -> Start | None:
    """Read until ``start``; None when the page sends only junk or goes away."""
    for _ in range(MAX_BEFORE_START):
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None
        data = message.get("bytes")
        event = protocol.receive(data if data is not None else message.get("text") or "")
        if isinstance(event, Start):
            return event
        if isinstance(event, Hangup):
            return None
    return None


async def _refuse(ws: WebSocket, code: int, frame: str) -> None:
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await ws.send_text(frame)
    await _close(ws, code, "refused")


async def _close(ws: WebSocket, code: int, reason: str) -> None:
    if ws.application_state is WebSocketState.DISCONNECTED or \
            ws.client_state is WebSocketState.DISCONNECTED:
        return
    with contextlib.suppress(Exception):
        async with asyncio.timeout(2.0):
            await ws.close(code, reason[:120])
