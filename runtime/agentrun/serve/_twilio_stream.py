"""Twilio Media Streams, sans-I/O: messages in → events out; agent audio in → messages out.

The bidirectional stream of ``<Connect><Stream>`` (Twilio's "Media Streams - WebSocket
Messages"): Twilio sends ``connected``, ``start``, ``media``, ``mark``, ``dtmf`` and ``stop``
as JSON text; we send ``media`` (base64 μ-law 8 kHz), ``mark`` (echoed by Twilio once the audio
before it has played) and ``clear`` (empties Twilio's playback buffer at once; Twilio then
echoes the pending marks, which therefore say nothing about what was heard and are dropped).

:class:`MediaStream` never raises on input: junk becomes an :class:`Ignored` event with a
reason, so one bad message cannot end a call. It has a named state (``STATE``: waiting for
``start``, started, stopped) and dispatches by a table of event names. Imports nothing of ours
and does no I/O.
"""

from __future__ import annotations

import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

__all__ = [
    "MARK_EVERY_MS",
    "Connected",
    "Dtmf",
    "Ignored",
    "Marked",
    "Media",
    "MediaStream",
    "Started",
    "Stopped",
    "StreamEvent",
    "StreamState",
]

MAX_MESSAGE = 64 * 1024  # bytes; a Twilio media message is ~250, a start message < 4 KiB
_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Twilio SIDs: 2 letters + 32 hex
_DIGITS = frozenset("0123456789*#ABCD")
_MULAW_BYTES_PER_MS = 8  # 8000 Hz, one byte per sample
# A mark per 100 ms of agent audio, not per media message: each mark is a message out and its
# echo a message in, and per 20 ms frame they doubled the call's traffic (bench/serve_bench.py:
# 0.45 -> 0.37 % of a core per call). What the caller heard is then known to within 100 ms,
# rounded down (a barge-in truncates the reply a little early, never late); the tail of a burst
# gets its own mark (``tail_mark``) so the end of a reply is known too.
MARK_EVERY_MS = 100


class StreamState(Enum):
    """Where a stream is: before ``start``, carrying a call, or over."""

    WAITING = "waiting"
    STARTED = "started"
    STOPPED = "stopped"


@dataclass(frozen=True, slots=True)
class Connected:
    """``connected``: the first message of a stream (protocol info only)."""


@dataclass(frozen=True, slots=True)
class Started:
    """``start``: the call's metadata; ``parameters`` are the TwiML ``<Parameter>``s.

    Attributes:
        stream_sid: the stream's id (every later message carries it).
        call_sid: the call's id (CallSid).
        account_sid: the Twilio account.
        parameters: custom parameters, name → value (text).
        encoding: ``audio/x-mulaw`` for phone calls.
        rate: sample rate, Hz.
    """

    stream_sid: str
    call_sid: str
    account_sid: str
    parameters: dict[str, str] = field(repr=False)
    encoding: str = "audio/x-mulaw"
    rate: int = 8000


@dataclass(frozen=True, slots=True)
class Media:
    """``media``: 20 ms (usually) of the caller's μ-law audio, decoded from base64."""

    audio: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Marked:
    """A mark we sent came back: the agent audio before it has played.

    Attributes:
        item_id: the agent item the audio belongs to.
        played_ms: how much of that item has played, ms.
    """

    item_id: str
    played_ms: int


@dataclass(frozen=True, slots=True)
class Dtmf:
    """``dtmf``: the caller pressed a key."""

    digit: str


@dataclass(frozen=True, slots=True)
class Stopped:
    """``stop``: the call ended (hang-up, or the TwiML moved on)."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A message that carries nothing usable; ``reason`` says why (for a debug log)."""

    reason: str


StreamEvent = Connected | Started | Media | Marked | Dtmf | Stopped | Ignored


class MediaStream:
    """One Media Streams connection's protocol state.

    Args:
        mark_every_ms: send a mark after a ``media`` message once this much agent audio
            has gone out unmarked (0: after every message), and before the first audio of
            another item. Marks are how we learn what the caller has heard.
    """

    def __init__(self, *, mark_every_ms: int = MARK_EVERY_MS) -> None:
        self.state = StreamState.WAITING
        self.stream_sid = ""
        self.ignored = 0
        self._mark_every = mark_every_ms * _MULAW_BYTES_PER_MS
        self._prefix = ""
        self._marks: dict[str, tuple[str, int]] = {}  # mark name -> (item id, played ms)
        self._seq = 0
        self._item = ""
        self._item_bytes = 0
        self._unmarked = 0
        self._handlers: dict[str, Callable[[dict[str, Any]], StreamEvent]] = {
            "connected": self._on_connected, "start": self._on_start,
            "media": self._on_media, "mark": self._on_mark, "dtmf": self._on_dtmf,
            "stop": self._on_stop,
        }

    # -- in ------------------------------------------------------------------------------------

    def receive(self, text: str | bytes) -> StreamEvent:
        """Take one message from Twilio.

        Args:
            text: the WebSocket message (Twilio sends JSON text).

        Returns:
            What it means; :class:`Ignored` for anything malformed, oversized, out of order
            (e.g. media before ``start``) or for another stream. Never raises.
        """
        if len(text) > MAX_MESSAGE:
            return self._ignore("oversized message")
        try:
            message = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            return self._ignore("not JSON")
        if not isinstance(message, dict):
            return self._ignore("not a JSON object")
        handler = self._handlers.get(message.get("event"))  # type: ignore[arg-type]
        if handler is None:
            return self._ignore(f"unknown event {str(message.get('event'))[:40]!r}")
        if self.state is StreamState.STOPPED:
            return self._ignore("message after stop")
        if handler not in (self._on_connected, self._on_start):
            if self.state is StreamState.WAITING:
                return self._ignore(f"{message['event']} before start")
            if message.get("streamSid") != self.stream_sid:
                return self._ignore("message for an unknown stream")
        try:
            return handler(message)
        except (KeyError, TypeError, ValueError, AttributeError):
            return self._ignore(f"malformed {message['event']} message")

    def _ignore(self, reason: str) -> Ignored:
        self.ignored += 1
        return Ignored(reason)

    def _on_connected(self, message: dict[str, Any]) -> StreamEvent:
        return Connected()

    def _on_start(self, message: dict[str, Any]) -> StreamEvent:
        if self.state is not StreamState.WAITING:
            return self._ignore("a second start")
        start = message["start"]
        sid = message.get("streamSid") or start.get("streamSid")
        if not isinstance(sid, str) or not _SID.match(sid):
            return self._ignore("start without a valid streamSid")
        raw = start.get("customParameters") or {}
        if not isinstance(raw, dict):
            return self._ignore("start with malformed customParameters")
        fmt = start.get("mediaFormat") or {}
        encoding = str(fmt.get("encoding", "audio/x-mulaw"))
        rate = int(fmt.get("sampleRate", 8000))
        if encoding != "audio/x-mulaw" or rate != 8000:
            return self._ignore(f"unsupported media format {encoding} at {rate} Hz")
        self.state = StreamState.STARTED
        self.stream_sid = sid
        self._prefix = '{"event":"media","streamSid":"' + sid + '","media":{"payload":"'
        return Started(sid, str(start.get("callSid", "")), str(start.get("accountSid", "")),
                       {str(k): str(v) for k, v in raw.items()}, encoding, rate)

    def _on_media(self, message: dict[str, Any]) -> StreamEvent:
        media = message["media"]
        if media.get("track", "inbound") != "inbound":
            return self._ignore("media on another track")
        try:
            audio = binascii.a2b_base64(media["payload"], strict_mode=True)
        except (binascii.Error, TypeError):
            return self._ignore("media payload is not base64")
        return Media(audio)

    def _on_mark(self, message: dict[str, Any]) -> StreamEvent:
        name = str(message["mark"]["name"])
        entry = self._marks.pop(name, None)
        if entry is not None:
            return Marked(*entry)
        if name.isdigit() and int(name) <= self._seq:
            # Twilio echoes every pending mark when a clear empties its buffer: normal, and
            # not evidence of what was heard (so not counted as bad input either)
            return Ignored("a mark echoed after clear")
        return self._ignore("a mark we did not send")

    def _on_dtmf(self, message: dict[str, Any]) -> StreamEvent:
        digit = str(message["dtmf"]["digit"])
        if digit not in _DIGITS:
            return self._ignore("dtmf with an unknown digit")
        return Dtmf(digit)

    def _on_stop(self, message: dict[str, Any]) -> StreamEvent:
        self.state = StreamState.STOPPED
        return Stopped()

    # -- out -----------------------------------------------------------------------------------

    def media(self, audio: bytes, item_id: str) -> list[str]:
        """Messages that play agent audio: ``media``, then a ``mark`` when one is due.

        Args:
            audio: μ-law 8 kHz bytes, passed through as is.
            item_id: the agent item it belongs to.

        Returns:
            The JSON texts to send, in order.

        Raises:
            RuntimeError: the stream has not started (there is no streamSid to send to).
        """
        if self.state is not StreamState.STARTED:
            raise RuntimeError("the stream has not started")
        out = []
        if item_id != self._item:
            if self._unmarked:  # the previous item's end: what was heard of it
                out.append(self._mark())
            self._item, self._item_bytes = item_id, 0
        self._item_bytes += len(audio)
        self._unmarked += len(audio)
        # base64 is ASCII: no JSON escaping needed; the sid was checked at start
        out.append(self._prefix + binascii.b2a_base64(audio, newline=False).decode("ascii")
                   + '"}}')
        if self._unmarked >= self._mark_every:
            out.append(self._mark())
        return out

    def tail_mark(self) -> str | None:
        """A ``mark`` for agent audio sent since the last one, or None when there is none.

        Send it when the agent's audio pauses (the end of a reply, or of a burst), so the
        end of a reply is heard-and-known without a mark after every message.
        """
        if self.state is not StreamState.STARTED or not self._unmarked:
            return None
        return self._mark()

    @property
    def unmarked(self) -> bool:
        """Whether agent audio went out since the last mark."""
        return self._unmarked > 0

    def _mark(self) -> str:
        self._unmarked = 0
        self._seq += 1
        name = str(self._seq)
        self._marks[name] = (self._item, self._item_bytes // _MULAW_BYTES_PER_MS)
        return ('{"event":"mark","streamSid":"' + self.stream_sid
                + '","mark":{"name":"' + name + '"}}')

    def clear(self) -> str:
        """The ``clear`` message (barge-in); marks still pending will echo without meaning."""
        self._marks.clear()
        self._unmarked = 0
        return '{"event":"clear","streamSid":"' + self.stream_sid + '"}'

    @property
    def pending_marks(self) -> int:
        """Marks sent and not yet echoed (audio Twilio still has to play)."""
        return len(self._marks)
