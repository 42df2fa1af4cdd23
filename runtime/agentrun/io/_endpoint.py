"""The one interface between a running call and whatever the caller talks and listens through.

Every channel (text console, microphone and speaker, WAV caller, phone, browser) is one small
module behind :class:`Endpoint`: it yields what the caller does as a stream of
:data:`CallerInput` values and obeys what the session hands it (agent audio, ``stop_playback``,
transcript, tool and status lines). A channel knows its medium and nothing of the realtime
protocol; the engine decides barge-in and what was heard, the channel only reports its
playback clock (:meth:`CallControl.played`). This module imports nothing of ours.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = [
    "AudioFormat",
    "CallControl",
    "CallerAudio",
    "CallerDtmf",
    "CallerInput",
    "CallerText",
    "CallerTurnEnd",
    "Endpoint",
    "NullEndpoint",
    "ToolCallView",
]

Encoding = Literal["pcm", "pcmu", "pcma"]


@dataclass(frozen=True, slots=True)
class AudioFormat:
    """The session's audio on one side of the call (grok-realtime.md §4).

    Attributes:
        encoding: ``pcm`` (16-bit signed little-endian mono), or ``pcmu`` / ``pcma`` (G.711
            μ-law / A-law, one byte per sample).
        rate: samples per second, Hz (always 8000 for G.711).
    """

    encoding: Encoding
    rate: int

    @property
    def sample_width(self) -> int:
        """Bytes per sample: 2 for PCM16, 1 for G.711."""
        return 2 if self.encoding == "pcm" else 1

    @property
    def bytes_per_second(self) -> int:
        """Bytes of audio per second of sound."""
        return self.rate * self.sample_width

    def bytes_for(self, ms: float) -> int:
        """Bytes holding ``ms`` milliseconds of audio (whole samples)."""
        return int(self.rate * ms / 1000) * self.sample_width

    def ms_of(self, nbytes: int) -> float:
        """Milliseconds of sound in ``nbytes`` bytes of audio."""
        return nbytes * 1000 / self.bytes_per_second

    def silence(self, ms: float) -> bytes:
        """``ms`` milliseconds of digital silence in this format."""
        fill = {"pcm": b"\x00", "pcmu": b"\xff", "pcma": b"\xd5"}[self.encoding]
        return fill * self.bytes_for(ms)


@dataclass(frozen=True, slots=True)
class CallerText:
    """A typed turn: the agent answers it."""

    text: str


@dataclass(frozen=True, slots=True)
class CallerAudio:
    """Caller audio, raw, in the session's *input* format (:attr:`CallControl.input_format`)."""

    audio: bytes


@dataclass(frozen=True, slots=True)
class CallerTurnEnd:
    """Manual turns: the caller finished speaking (push-to-talk released, end of a WAV turn).

    Ignored with server VAD, where the server detects the end of a turn itself.
    """


@dataclass(frozen=True, slots=True)
class CallerDtmf:
    """A keypad digit pressed by the caller (``0``-``9``, ``*``, ``#``, ``A``-``D``)."""

    digit: str


CallerInput = CallerText | CallerAudio | CallerTurnEnd | CallerDtmf
"""What a channel yields, in the order the caller did it."""


@dataclass(frozen=True, slots=True)
class ToolCallView:
    """A tool call as a channel may show it: once when it starts, once when it finishes.

    Attributes:
        call_id: the model's id for the call.
        name: the tool the model called.
        arguments: the JSON text of its arguments.
        output: the output sent to the model; None while the call runs.
        ok: whether it succeeded; None while the call runs.
    """

    call_id: str
    name: str
    arguments: str
    output: str | None = None
    ok: bool | None = None


class CallControl(Protocol):
    """What a channel may ask of the running call; the session implements it.

    Attributes:
        input_format: the format :class:`CallerAudio` must be in.
        output_format: the format of the audio handed to :meth:`Endpoint.play_audio`.
        manual_turns: True when turns end only by :class:`CallerTurnEnd` (no server VAD).
    """

    input_format: AudioFormat
    output_format: AudioFormat
    manual_turns: bool

    @property
    def responses(self) -> int:
        """Responses the server created so far: a mark for :meth:`wait_reply`."""
        ...

    async def wait_idle(self) -> None:
        """Return once nothing is in flight: no reply, no tool call, nothing queued."""
        ...

    async def wait_reply(self, after: int, timeout: float | None = None) -> bool:
        """Wait for the answer to a spoken turn.

        Args:
            after: the value of :attr:`responses` taken before the turn was spoken.
            timeout: seconds to wait at most; None waits as long as the call lasts.

        Returns:
            True once a response created after the mark has finished and the call is idle;
            False when ``timeout`` passed first.
        """
        ...

    def played(self, item_id: str, played_ms: int) -> None:
        """Report playback progress: ``played_ms`` of agent item ``item_id`` were heard."""
        ...

    def interrupt(self) -> None:
        """Local barge-in (a stop button, push-to-talk pressed while the agent speaks)."""
        ...


class Endpoint(Protocol):
    """Where the caller's input comes from and where the agent's output goes."""

    def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """The caller's side of the call, as a stream.

        The call hangs up (after the current reply and pending tool calls) when the iterator
        ends. A channel that wants one reply per turn (console, WAV caller) awaits
        ``call.wait_idle()`` or ``call.wait_reply()`` itself before yielding its next turn; a
        live channel (microphone, phone) streams without waiting.

        Args:
            call: the running call (formats, waits, playback reports).
        """
        ...

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Queue agent audio (raw bytes in :attr:`CallControl.output_format`)."""
        ...

    def stop_playback(self, reason: str) -> None:
        """Barge-in: fall silent within one buffer and drop queued audio."""
        ...

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Show a transcript line; ``final`` False means a later call extends it."""
        ...

    def show_tool_call(self, call: ToolCallView) -> None:
        """Show a tool call starting (``output`` None) or finished."""
        ...

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Show an operator-facing line (connection, errors, metrics)."""
        ...


class NullEndpoint:
    """A caller who types the given turns, one per reply, and discards what it hears.

    For benchmarks, embedding and tests.

    Args:
        turns: the typed turns, in order; the caller hangs up after the last one is answered.
    """

    def __init__(self, turns: list[str] | None = None) -> None:
        self._turns = list(turns or [])
        self.audio_bytes = 0
        self.transcripts: list[tuple[str, str]] = []
        self.statuses: list[tuple[str, str]] = []
        self.tool_calls: list[ToolCallView] = []

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Yield each turn once the previous reply is over."""
        for turn in self._turns:
            await call.wait_idle()
            yield CallerText(turn)

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Count the bytes (so a benchmark can report streamed audio)."""
        self.audio_bytes += len(audio)

    def stop_playback(self, reason: str) -> None:
        """Nothing is playing."""

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Keep final lines for inspection."""
        if final:
            self.transcripts.append((role, text))

    def show_tool_call(self, call: ToolCallView) -> None:
        """Keep finished calls for inspection."""
        if call.output is not None:
            self.tool_calls.append(call)

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Keep status lines for inspection."""
        self.statuses.append((level, message))
