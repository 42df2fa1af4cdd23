"""The scripted caller of a test scenario: an ``Endpoint`` that speaks the scenario's turns.

Each turn starts once the previous reply (tool calls included) is over: a typed turn is one
:class:`~agentrun.io.CallerText`; a spoken turn is its WAV file converted to the session's input
format and streamed as caller audio, followed by a turn end (manual turns) or by silence until
the server hears the end of the speech (server VAD). Offline, audio goes as fast as the session
takes it; live, in real time, as a person speaks. The caller hangs up after the last reply. It
always knows what it is doing (:attr:`ScriptedCaller.where`), so a scenario that runs out of
time can say where it stopped. Imports the io interface and, for spoken turns, ``agentrun.audio``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Literal

from agentrun.io import CallControl, CallerAudio, CallerInput, CallerText, CallerTurnEnd
from agentrun.io import ToolCallView as _ToolCallView
from agentrun.testing._models import Turn
from agentrun.testing._record import Recorder

__all__ = ["ScriptedCaller"]

CHUNK_MS = 100  # caller audio per append: offline it only sets how often the session runs
LIVE_CHUNK_MS = 20  # live: what a phone line or a microphone delivers per packet
MAX_TRAILING_SILENCE_MS = 10_000  # no reply after this much silence: VAD heard no speech


class ScriptedCaller:
    """A caller who says a scenario's turns, one per reply, then hangs up.

    Args:
        turns: the scenario's turns.
        recorder: the call's recorder (turns are marked in it as they begin).
        audio_path: the file of a spoken turn (relative to the test file's folder).
        before_turn: called with each turn just before it is said (scripts the simulator).
        realtime: stream spoken turns in real time (live) instead of as fast as possible.

    Attributes:
        where: what the caller is doing, in words (for a scenario that runs out of time).
        finished: True once the caller hung up after its last turn.
    """

    def __init__(self, turns: Sequence[Turn], recorder: Recorder, *,
                 audio_path: Callable[[Turn], str],
                 before_turn: Callable[[Turn], None] | None = None,
                 realtime: bool = False) -> None:
        self._turns = list(turns)
        self._recorder = recorder
        self._audio_path = audio_path
        self._before_turn = before_turn
        self._realtime = realtime
        self.where = "connecting to the realtime service"
        self.finished = False

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Say each turn after the previous reply; hang up after the last reply."""
        self.where = "waiting for the session to be set up and for the greeting to end"
        await call.wait_idle()
        for number, turn in enumerate(self._turns, 1):
            label = f"turn {number} {turn.shown}"
            self._recorder.begin_turn(turn.say if turn.say is not None
                                      else f"(speaks {turn.audio})")
            if self._before_turn is not None:
                self._before_turn(turn)
            mark = call.responses
            if turn.say is not None:
                self.where = f"sending {label}"
                yield CallerText(turn.say)
            else:
                self.where = f"speaking {label}"
                async for item in self._speak(call, turn, mark):
                    yield item
            heard = turn.say is not None or call.manual_turns or call.responses > mark
            self.where = f"waiting for the reply to {label}" + (
                "" if heard else " (the server did not hear the end of the speech)")
            await call.wait_reply(mark)
        self.where = "hanging up"
        self.finished = True
        self._recorder.hung_up = True

    async def _speak(self, call: CallControl, turn: Turn, mark: int,
                     ) -> AsyncIterator[CallerInput]:
        """A WAV turn: its audio, then a turn end (manual) or silence until a reply starts."""
        from agentrun.audio import convert, read_sound

        fmt = call.input_format
        samples, info = read_sound(self._audio_path(turn))
        audio = convert(samples, info.rate, encoding=fmt.encoding, to_rate=fmt.rate)
        chunk_ms = LIVE_CHUNK_MS if self._realtime else CHUNK_MS
        step = fmt.bytes_for(chunk_ms)
        for offset in range(0, len(audio), step):
            yield CallerAudio(audio[offset:offset + step])
            await self._pause(chunk_ms)
        if call.manual_turns:
            yield CallerTurnEnd()
            return
        silence, sent = fmt.silence(chunk_ms), 0
        while call.responses <= mark and sent < MAX_TRAILING_SILENCE_MS:
            yield CallerAudio(silence)
            sent += chunk_ms
            await self._pause(chunk_ms)

    async def _pause(self, chunk_ms: int) -> None:
        # offline: a short real pause per chunk lets the server's reply (after the speech
        # ends) arrive before much more silence is sent; live: a person's pace
        await asyncio.sleep(chunk_ms / 1000 if self._realtime else 0.002)

    # -- what the caller hears: the recorder (an observer) keeps what the tests check ---------

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Agent audio is not listened to (its transcript is checked)."""

    def stop_playback(self, reason: str) -> None:
        """Nothing plays."""

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Transcripts are recorded through the observer."""

    def show_tool_call(self, call: _ToolCallView) -> None:
        """Tool calls are recorded through the observer."""

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Warnings and errors go into the conversation a failing scenario prints (a failed
        tool call is shown there already, from its ``ToolCallDone``)."""
        if level in ("warning", "error") and not message.startswith("tool "):
            self._recorder.note(" ".join(message.split()))
