"""The talk page's socket protocol (sans-I/O): what the page may send, what the service sends.

One WebSocket per call, at ``/talk/AGENT/socket``. Text frames are JSON objects with a
``type``; binary frames are audio: 16-bit signed little-endian mono PCM at the page's rate (its
``AudioContext`` rate, declared in ``start``), in both directions. The service converts
between that rate and the session's audio format (resampling with soxr, G.711), so the page
never resamples. Full reference with examples: ``docs/browser.md``.

Page → service:

* ``{"type": "start", "sample_rate": 48000}`` first, within 10 s: the page's rate, Hz
  (8000–192000). Nothing else is accepted before it.
* binary: microphone audio, at most 1 s per frame (the page sends 20 ms).
* ``{"type": "played", "item_id": "…", "played_ms": 1234}``: that much of an agent item's
  audio has played (the engine's account of what was heard, for barge-in).
* ``{"type": "turn_end"}``: push-to-talk released (agents with ``turn_detection: manual``).
* ``{"type": "interrupt"}``: the caller cut the agent off (push-to-talk pressed).
* ``{"type": "hangup"}``: end the call (closing the socket does too).

Service → page:

* ``{"type": "ready", "call_id": "…", "agent": "…", "sample_rate": 48000,
  "manual_turns": false}``: the call is connected to the realtime service: the page may send
  the microphone (with ``manual_turns``, only while the caller holds the talk button).
* ``{"type": "audio", "item_id": "…"}``: the binary frames that follow belong to this agent
  item (sent when the item changes); binary: agent audio.
* ``{"type": "clear", "reason": "…"}``: barge-in: drop every queued sample and fall silent now.
* ``{"type": "transcript", "role": "user"|"agent", "item_id": "…", "text": "…",
  "final": bool}``: ``text`` is the whole line so far; a final line will not change again.
* ``{"type": "tool_call", "call_id", "name", "arguments", "output", "ok"}``: once when it
  starts (``output`` and ``ok`` null), once when it finishes.
* ``{"type": "ended", "reason": "…"}``: the call is over; the service closes with 1000.
* ``{"type": "error", "code": "…", "message": "…"}``: the call cannot start (``busy``,
  ``draining``, ``unknown_agent``, ``bad_start``, ``unavailable``: the realtime service cannot
  be reached), failed (``failed``) or was ended for bad input (``bad_input``, ``not_reading``);
  the service then closes the socket.

Anything malformed, oversized, out of order or unknown is :class:`Ignored` (never an
exception), and counted so the I/O layer can end a call that sends only junk.
"""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "MAX_RATE",
    "MAX_TEXT",
    "MIN_RATE",
    "Audio",
    "Hangup",
    "Ignored",
    "Interrupt",
    "Played",
    "Start",
    "TalkEvent",
    "TalkProtocol",
    "TalkState",
    "TurnEnd",
]

MIN_RATE = 8000  # Hz: the lowest rate the page may declare
MAX_RATE = 192000  # Hz: the highest (AudioContext allows up to 768 kHz; no microphone does)
MAX_TEXT = 4096  # characters in one text frame from the page (real ones are < 200)
MAX_AUDIO_MS = 1000  # ms of audio in one binary frame from the page (the page sends 20)
_RECENT_ITEMS = 32  # agent items whose progress the page may still report
_MAX_LINE = 16_000  # characters kept of one transcript line
_PLAYED_SLACK_MS = 50  # the page's clock may run a little past what we counted as sent


class TalkState(enum.Enum):
    """Where a connection is: waiting for ``start``, in a call, or over."""

    WAITING = "waiting"
    STARTED = "started"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class Start:
    """``start``: the page is ready; its audio runs at ``sample_rate`` Hz both ways."""

    sample_rate: int


@dataclass(frozen=True, slots=True)
class Audio:
    """A binary frame: microphone audio, PCM16 LE mono at the declared rate."""

    pcm: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Played:
    """``played``: ``played_ms`` of agent item ``item_id`` have played (clamped to what was
    sent)."""

    item_id: str
    played_ms: int


@dataclass(frozen=True, slots=True)
class Hangup:
    """``hangup``: the caller pressed End."""


@dataclass(frozen=True, slots=True)
class TurnEnd:
    """``turn_end``: the caller released push-to-talk; the turn is over."""


@dataclass(frozen=True, slots=True)
class Interrupt:
    """``interrupt``: the caller cut the agent off (pressed push-to-talk while it spoke)."""


@dataclass(frozen=True, slots=True)
class Ignored:
    """A frame that carries nothing usable; ``reason`` says why (for a debug log)."""

    reason: str


TalkEvent = Start | Audio | Played | TurnEnd | Interrupt | Hangup | Ignored


class TalkProtocol:
    """One talk socket's protocol state.

    Feed every frame from the page to :meth:`receive`; build every frame to the page with the
    output methods (they return the text or bytes to send, in order).
    """

    def __init__(self) -> None:
        self.state = TalkState.WAITING
        self.sample_rate = 0
        self.ignored = 0
        self._max_audio = 0
        self._item = ""  # the agent item the last audio frames belonged to
        self._sent_ms: OrderedDict[str, float] = OrderedDict()  # item -> ms of audio sent
        self._lines: OrderedDict[str, str] = OrderedDict()  # item -> transcript so far
        self._handlers = {"start": self._on_start, "played": self._on_played,
                          "turn_end": self._on_turn_end, "interrupt": self._on_interrupt,
                          "hangup": self._on_hangup}

    # -- in ------------------------------------------------------------------------------------

    def receive(self, data: str | bytes) -> TalkEvent:
        """Take one frame from the page.

        Args:
            data: a text frame (JSON) or a binary frame (audio).

        Returns:
            What it means; :class:`Ignored` for anything unusable. Never raises.
        """
        if self.state is TalkState.ENDED:
            return self._ignore("frame after the end of the call")
        if isinstance(data, bytes):
            return self._on_audio(data)
        if len(data) > MAX_TEXT:
            return self._ignore("oversized text frame")
        try:
            message = json.loads(data)
        except (ValueError, RecursionError):
            return self._ignore("not JSON")
        if not isinstance(message, dict):
            return self._ignore("not a JSON object")
        kind = message.get("type")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None:
            return self._ignore(f"unknown type {str(kind)[:40]!r}")
        if self.state is TalkState.WAITING and kind != "start":
            return self._ignore(f"{kind} before start")
        return handler(message)

    def _ignore(self, reason: str) -> Ignored:
        self.ignored += 1
        return Ignored(reason)

    def _on_start(self, message: dict[str, Any]) -> TalkEvent:
        if self.state is not TalkState.WAITING:
            return self._ignore("a second start")
        rate = message.get("sample_rate")
        if type(rate) is not int or not MIN_RATE <= rate <= MAX_RATE:
            return self._ignore(f"start needs sample_rate, an integer from {MIN_RATE} to "
                                f"{MAX_RATE} Hz")
        self.state = TalkState.STARTED
        self.sample_rate = rate
        self._max_audio = rate * 2 * MAX_AUDIO_MS // 1000
        return Start(rate)

    def _on_audio(self, data: bytes) -> TalkEvent:
        if self.state is not TalkState.STARTED:
            return self._ignore("audio before start")
        if len(data) > self._max_audio:
            return self._ignore("oversized audio frame")
        if not data or len(data) % 2:
            return self._ignore("audio frame that is not whole 16-bit samples")
        return Audio(data)

    def _on_played(self, message: dict[str, Any]) -> TalkEvent:
        item_id, played = message.get("item_id"), message.get("played_ms")
        # `not >= 0` also refuses NaN (json.loads accepts it), which int() would raise on
        if not isinstance(item_id, str) or type(played) not in (int, float) \
                or not played >= 0 or played == float("inf"):
            return self._ignore("played needs item_id (text) and played_ms (a number >= 0)")
        sent = self._sent_ms.get(item_id)
        if sent is None:
            return self._ignore("played for an item this call did not send")
        return Played(item_id, int(min(played, sent + _PLAYED_SLACK_MS)))

    def _on_turn_end(self, message: dict[str, Any]) -> TalkEvent:
        return TurnEnd()

    def _on_interrupt(self, message: dict[str, Any]) -> TalkEvent:
        return Interrupt()

    def _on_hangup(self, message: dict[str, Any]) -> TalkEvent:
        self.state = TalkState.ENDED
        return Hangup()

    # -- out -----------------------------------------------------------------------------------

    def ready(self, call_id: str, agent: str, *, manual_turns: bool = False) -> str:
        """The frame that tells the page the call is on (and whether it is push-to-talk)."""
        return _dump({"type": "ready", "call_id": call_id, "agent": agent,
                      "sample_rate": self.sample_rate, "manual_turns": manual_turns})

    def audio(self, pcm: bytes, item_id: str) -> list[str | bytes]:
        """Frames that play agent audio: an ``audio`` header when the item changes, then the
        samples.

        Args:
            pcm: PCM16 LE mono at :attr:`sample_rate` (may be empty: nothing is sent).
            item_id: the agent item it belongs to.

        Returns:
            The frames to send, in order.
        """
        if not pcm:
            return []
        frames: list[str | bytes] = []
        if item_id != self._item:
            self._item = item_id
            frames.append(_dump({"type": "audio", "item_id": item_id}))
        sent = self._sent_ms.pop(item_id, 0.0)
        self._sent_ms[item_id] = sent + len(pcm) * 500 / self.sample_rate
        while len(self._sent_ms) > _RECENT_ITEMS:
            self._sent_ms.popitem(last=False)
        frames.append(pcm)
        return frames

    def clear(self, reason: str) -> str:
        """The ``clear`` frame (barge-in); the next audio repeats its item header."""
        self._item = ""
        return _dump({"type": "clear", "reason": reason})

    def transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                   item_id: str) -> str | None:
        """A transcript frame carrying the line's whole text so far.

        Args:
            role: who spoke.
            text: agent partials are pieces to append; caller partials and finals are the
                whole line (``agentrun.io.Endpoint.show_transcript``).
            final: the line is complete.
            item_id: the conversation item the line belongs to.

        Returns:
            The frame, or None when there is nothing to show.
        """
        if final:
            self._lines.pop(item_id, None)
            line = text
        else:
            line = (self._lines.pop(item_id, "") + text) if role == "agent" else text
            self._lines[item_id] = line[:_MAX_LINE]
            while len(self._lines) > _RECENT_ITEMS:
                self._lines.popitem(last=False)
        if not line.strip():
            return None
        return _dump({"type": "transcript", "role": role, "item_id": item_id,
                      "text": line[:_MAX_LINE], "final": final})

    @staticmethod
    def tool_call(call_id: str, name: str, arguments: str, output: str | None,
                  ok: bool | None) -> str:
        """A ``tool_call`` frame: started (``output`` None) or finished."""
        return _dump({"type": "tool_call", "call_id": call_id, "name": name,
                      "arguments": arguments[:_MAX_LINE],
                      "output": None if output is None else output[:_MAX_LINE], "ok": ok})

    def ended(self, reason: str) -> str:
        """The ``ended`` frame; nothing from the page counts after it."""
        self.state = TalkState.ENDED
        return _dump({"type": "ended", "reason": reason})

    @staticmethod
    def error(code: str, message: str) -> str:
        """An ``error`` frame (the call cannot start, or was ended for bad input)."""
        return _dump({"type": "error", "code": code, "message": message})


def _dump(message: dict[str, Any]) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))
