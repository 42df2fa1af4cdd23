"""WAV callers: recorded speech played into a call, one file per caller turn.

Each file is read and checked when the caller is made (so a bad file stops the command before
anything connects), converted to the session's input format when the call starts, and streamed
as 20 ms chunks of caller audio: paced in real time like a person speaking, or as fast as the
server takes it (``fast``). A turn begins once the previous reply has finished (and, when paced,
once the caller would have heard all of it). A file that ends right after the speech still ends
the turn: with server VAD the caller then keeps the line open with silence until the server
hears the end of the turn and starts a reply; with manual turns it sends ``CallerTurnEnd``.
The caller hangs up after the last reply. Its virtual speaker plays agent audio in real time
(at once when ``fast``) and reports what has played (``CallControl.played``) as a device does,
so the engine knows what the caller heard: before each turn, while the caller speaks, at a
barge-in and at the end. Everything the call shows goes to a display endpoint (the text
console). Imports ``agentrun.audio`` (numpy, soxr, soundfile) and the io interface.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from agentrun.io._endpoint import (
    CallControl,
    CallerAudio,
    CallerInput,
    CallerTurnEnd,
    ToolCallView,
)

if TYPE_CHECKING:
    import numpy as np

    from agentrun.io._endpoint import Endpoint

__all__ = ["WavCaller", "WavTurn"]

CHUNK_MS = 20  # what a microphone or a phone line delivers per packet
MAX_TRAILING_SILENCE_S = 10.0  # no reply after this much silence: the server heard no speech
FAST_SILENCE_MS = 100  # fast mode sends trailing silence in bigger chunks, yielding between
FAST_SILENCE_BURST_MS = 2000  # fast mode: this much trailing silence at once, the rest paced


@dataclass(frozen=True, slots=True)
class WavTurn:
    """One caller turn read from a sound file.

    Attributes:
        path: the file, as named.
        samples: float32 ``(frames, channels)``, -1.0..1.0.
        rate: the file's rate, Hz.
        barge_in_ms: None: speak after the previous reply has finished; a number: speak this
            many milliseconds after the previous turn's reply started (over the agent).
    """

    path: str
    samples: np.ndarray
    rate: int
    barge_in_ms: float | None = None

    @property
    def seconds(self) -> float:
        """Duration of the file, seconds."""
        return len(self.samples) / self.rate


class _Speaker:
    """The WAV caller's virtual speaker: when each agent item plays, and how much has played.

    Paced, audio plays in real time, one piece after another (a piece that arrives while the
    speaker is busy waits its turn); ``instant``, everything received has played at once.
    """

    def __init__(self, instant: bool) -> None:
        self.instant = instant
        self.free_at = 0.0  # when the audio received so far ends playing (monotonic s)
        self.bytes_per_second = 48000  # the call's output format, known once it starts
        self._items: dict[str, _Item] = {}
        self._unsettled: set[str] = set()  # items whose every played ms is not reported yet

    def add(self, item_id: str, nbytes: int, now: float) -> None:
        """``nbytes`` of agent audio for ``item_id`` arrived at ``now``."""
        start = max(self.free_at, now)
        self.free_at = start + nbytes / self.bytes_per_second
        item = self._items.get(item_id)
        if item is None:
            item = self._items[item_id] = _Item()
        item.nbytes += nbytes
        if item.spans and item.spans[-1][1] == start:  # the usual case: right after the last
            item.spans[-1] = (item.spans[-1][0], self.free_at)
        else:
            item.spans.append((start, self.free_at))
        self._unsettled.add(item_id)

    def stop(self, now: float) -> None:
        """Fall silent at ``now``: what had not played by then never will."""
        for item_id in self._unsettled:
            item = self._items[item_id]
            item.cut_ms = self._played_ms(item, now)
            item.spans.clear()
        self.free_at = now

    def progress(self, now: float) -> list[tuple[str, int]]:
        """``(item_id, played_ms)`` for each item that played more since the last call."""
        reports = []
        for item_id in list(self._unsettled):
            item = self._items[item_id]
            played = self._played_ms(item, now)
            if played > item.reported_ms:
                item.reported_ms = played
                reports.append((item_id, played))
            if item.cut_ms is not None or not item.spans or item.spans[-1][1] <= now \
                    or self.instant:
                self._unsettled.discard(item_id)  # all reported (more audio adds it again)
        return reports

    def _played_ms(self, item: _Item, now: float) -> int:
        if item.cut_ms is not None:
            return item.cut_ms
        whole = item.nbytes * 1000 // self.bytes_per_second  # as the engine counts it
        if self.instant or not item.spans or item.spans[-1][1] <= now:
            return whole
        played = sum(min(end, now) - start for start, end in item.spans if start < now)
        return min(whole, int(played * 1000))


@dataclass(slots=True)
class _Item:
    nbytes: int = 0
    spans: list[tuple[float, float]] = field(default_factory=list)  # playing, monotonic s
    reported_ms: int = -1
    cut_ms: int | None = None  # stopped by a barge-in: what had played


class WavCaller:
    """An :class:`~agentrun.io.Endpoint` whose caller speaks recorded sound files.

    Args:
        turns: the files (paths, or :class:`WavTurn` for a barge-in), one caller turn each.
        display: where transcripts, tool calls and status lines go (e.g. a ``TextConsole``);
            None keeps them only in :attr:`statuses` and :attr:`transcripts`.
        fast: stream each file as fast as the server takes it instead of in real time.
        reply_timeout: seconds to wait for each reply once the turn has ended.
        clock: monotonic seconds (tests); sleeping uses asyncio.

    Raises:
        AudioFileError: a file is missing, unreadable, or not audio (nothing has connected).
    """

    def __init__(self, turns: Sequence[str | WavTurn], *, display: Endpoint | None = None,
                 fast: bool = False, reply_timeout: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        from agentrun.audio import read_sound

        self.turns: list[WavTurn] = []
        for turn in turns:
            if isinstance(turn, str):
                samples, info = read_sound(turn)
                turn = WavTurn(turn, samples, info.rate)
            self.turns.append(turn)
        self._display = display
        self._fast = fast
        self._reply_timeout = reply_timeout
        self._clock = clock
        self._speaker = _Speaker(instant=fast)
        self._call: CallControl | None = None  # the running call, told what has played
        self._reply_started_at: float | None = None  # first agent audio since the last turn
        self.audio_bytes = 0
        self.unanswered: list[str] = []  # files whose turn got no reply in time
        self.statuses: list[tuple[str, str]] = []
        self.transcripts: list[tuple[str, str]] = []

    # -- the caller's side ---------------------------------------------------------------------

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Speak each file as one turn, each after the previous reply; hang up after the last."""
        from agentrun.audio import convert

        fmt = call.input_format
        self._call = call
        self._speaker.bytes_per_second = call.output_format.bytes_per_second
        await call.wait_idle()  # the greeting, when the agent has one
        for number, turn in enumerate(self.turns, 1):
            if turn.barge_in_ms is None:
                await call.wait_idle()
                await self._until_heard()
            else:
                await self._barge_in_point(turn.barge_in_ms)
            # what the caller heard before speaking: without it the engine would estimate
            # playback in real time plus a grace period, and take the agent for still
            # speaking (a fast caller hears at once; a paced one has just heard the end)
            self._report_played()
            audio = convert(turn.samples, turn.rate, encoding=fmt.encoding, to_rate=fmt.rate)
            self._status("info", f"caller turn {number}/{len(self.turns)}: {turn.path} "
                                 f"({turn.seconds:.1f} s)")
            self._reply_started_at = None
            mark = call.responses
            async for chunk in self._stream(audio, fmt.bytes_for(CHUNK_MS)):
                yield CallerAudio(chunk)
            if call.manual_turns:
                yield CallerTurnEnd()
            else:
                async for chunk in self._trailing_silence(call, mark):
                    yield CallerAudio(chunk)
            following = self.turns[number] if number < len(self.turns) else None
            if following is not None and following.barge_in_ms is not None:
                continue  # the next turn speaks over this reply: do not wait for its end
            if not await call.wait_reply(mark, timeout=self._reply_timeout):
                self.unanswered.append(turn.path)
                self._status("error", f"no reply to {turn.path} within "
                                      f"{self._reply_timeout:g} s")
        await call.wait_idle()
        await self._until_heard()
        self._report_played()

    async def _stream(self, audio: bytes, chunk: int) -> AsyncIterator[bytes]:
        """The audio in ``chunk``-byte pieces, each due ``CHUNK_MS`` after the previous one."""
        start = self._clock()
        for number, offset in enumerate(range(0, len(audio), chunk)):
            if not self._fast:
                await self._sleep_until(start + number * CHUNK_MS / 1000)
            else:
                await asyncio.sleep(0)  # let the session send and receive between chunks
            self._report_played()  # the speaker plays on while the caller speaks
            yield audio[offset:offset + chunk]

    async def _trailing_silence(self, call: CallControl, mark: int) -> AsyncIterator[bytes]:
        """Silence after the speech until the server starts a reply (server VAD needs it).

        Fast: the first ``FAST_SILENCE_BURST_MS`` go at once (a server that judges silence by
        its audio clock, as the simulator does, answers right away), the rest in real time (a
        server that waits for wall-clock silence still hears it). Paced: all in real time.
        """
        fmt = call.input_format
        start = self._clock()
        sent_ms = 0.0
        while call.responses <= mark and sent_ms < MAX_TRAILING_SILENCE_S * 1000:
            burst = self._fast and sent_ms < FAST_SILENCE_BURST_MS
            step_ms = FAST_SILENCE_MS if burst else CHUNK_MS
            if not burst:
                await self._sleep_until(start + sent_ms / 1000)
                if call.responses > mark:
                    break  # the reply began meanwhile: no silence into it (the next turn's)
            yield fmt.silence(step_ms)
            sent_ms += step_ms
            if burst:
                # the server answers asynchronously: give the receive loop a turn per chunk,
                # so a fast caller does not send seconds of silence into the reply
                await asyncio.sleep(0.005)
                start = self._clock() - sent_ms / 1000  # real time goes on from here

    async def _until_heard(self) -> None:
        """Paced: wait until the agent audio received so far would have finished playing."""
        if not self._fast:
            await self._sleep_until(self._speaker.free_at)

    def _report_played(self, now: float | None = None) -> None:
        """Tell the engine how much of each agent item has played by ``now`` (monotonic s;
        default: the clock) through ``CallControl.played``."""
        if self._call is not None:
            when = self._clock() if now is None else now
            for item_id, played_ms in self._speaker.progress(when):
                self._call.played(item_id, played_ms)

    async def _barge_in_point(self, ms: float) -> None:
        """Wait until ``ms`` after the reply to the previous turn started playing."""
        while self._reply_started_at is None:
            await asyncio.sleep(CHUNK_MS / 1000)
        await self._sleep_until(self._reply_started_at + ms / 1000)

    async def _sleep_until(self, when: float) -> None:
        delay = when - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)

    # -- what the caller hears and sees --------------------------------------------------------

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """A virtual speaker: agent audio plays in real time, one reply after another."""
        now = self._clock()
        if self._reply_started_at is None:
            self._reply_started_at = now
        self.audio_bytes += len(audio)
        self._speaker.add(item_id, len(audio), now)

    def stop_playback(self, reason: str) -> None:
        """Barge-in: the virtual speaker falls silent at once (what was cut was not heard)."""
        now = self._clock()
        self._report_played(now)  # what was heard up to the cut
        self._speaker.stop(now)
        if self._display is not None:
            self._display.stop_playback(reason)

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Keep final lines; pass everything to the display."""
        if final:
            self.transcripts.append((role, text))
        if self._display is not None:
            self._display.show_transcript(role, text, final, item_id)

    def show_tool_call(self, call: ToolCallView) -> None:
        """Pass tool calls to the display."""
        if self._display is not None:
            self._display.show_tool_call(call)

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Keep status lines; pass them to the display."""
        self._status(level, message)

    def _status(self, level: Any, message: str) -> None:
        self.statuses.append((level, message))
        if self._display is not None:
            self._display.show_status(level, message)
