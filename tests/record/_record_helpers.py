"""Spoken calls for the record tests: espeak-ng speech, a caller who talks in real time, and a
simulator on 127.0.0.1 (real sockets, real audio)."""

from __future__ import annotations

import asyncio
import functools
import json
import pathlib
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import soundfile
from agentrun.agent import Agent
from agentrun.audio import decode, wav_to_session
from agentrun.engine.actions import PlayAudio, StopPlayback
from agentrun.engine.observe import CallerAudioIn, CallStarted
from agentrun.io import CallControl, CallerAudio, CallerInput, CallerTurnEnd, NullEndpoint
from agentrun.sim import Scenario, Simulator

CHUNK_MS = 20


@functools.cache
def _espeak(text: str) -> pathlib.Path:
    folder = pathlib.Path(tempfile.mkdtemp(prefix="agentrun-speech-"))
    path = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)
    return path


def speech(text: str, encoding: str = "pcm", rate: int = 24000) -> bytes:
    """Real speech (espeak-ng) in a session's input format."""
    return wav_to_session(str(_espeak(text)), encoding=encoding, rate=rate)


def pcm16(audio: bytes, encoding: str = "pcm") -> np.ndarray:
    """Session audio as int16 samples (G.711 decoded)."""
    return np.frombuffer(decode(audio, encoding), dtype="<i2")


class SpeechCaller(NullEndpoint):
    """Speaks each utterance in real time (20 ms chunks, then trailing silence) and waits for
    the reply before the next one. With ``barge_in``, it speaks that utterance ``barge_after``
    seconds after the agent's first reply started, over the agent."""

    def __init__(self, turns: list[bytes], *, barge_in: bytes | None = None,
                 barge_after: float = 0.8, tail_ms: int = 800, turn_end: bool = False) -> None:
        super().__init__()
        self.turn_end = turn_end
        self.turns = turns
        self.barge_in = barge_in
        self.barge_after = barge_after
        self.tail_ms = tail_ms
        self.answered: list[bool] = []
        self.stops: list[str] = []
        self.utterances: list[int] = []  # index of each utterance's first chunk
        self._sent = 0
        self._agent_spoke = asyncio.Event()
        self._reply_began = 0.0
        self._reply_bytes = 0
        self._bytes_per_second = 48000

    def play_audio(self, audio: bytes, item_id: str) -> None:
        super().play_audio(audio, item_id)
        if not self._agent_spoke.is_set():
            self._reply_began = asyncio.get_running_loop().time()
            self._reply_bytes = 0
        self._reply_bytes += len(audio)
        self._agent_spoke.set()

    async def _listen(self) -> None:
        """Hear the reply out: audio arrives faster than it plays."""
        if self._agent_spoke.is_set():
            played = self._reply_began + self._reply_bytes / self._bytes_per_second
            await asyncio.sleep(max(0.0, played - asyncio.get_running_loop().time()) + 0.3)

    def stop_playback(self, reason: str) -> None:
        self.stops.append(reason)

    async def _speak(self, audio: bytes, call: CallControl) -> AsyncIterator[CallerInput]:
        fmt = call.input_format
        chunk = fmt.bytes_for(CHUNK_MS)
        audio += fmt.silence(self.tail_ms)
        loop = asyncio.get_running_loop()
        start = loop.time()
        self.utterances.append(self._sent)
        for n, offset in enumerate(range(0, len(audio), chunk)):
            self._sent += 1
            yield CallerAudio(audio[offset:offset + chunk])
            delay = start + (n + 1) * CHUNK_MS / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        self._bytes_per_second = call.output_format.bytes_per_second
        for index, audio in enumerate(self.turns):
            await call.wait_idle()
            await self._listen()
            mark = call.responses
            self._agent_spoke.clear()
            async for item in self._speak(audio, call):
                yield item
            if self.turn_end:
                yield CallerTurnEnd()  # push-to-talk released
            if index == 0 and self.barge_in is not None:
                await asyncio.wait_for(self._agent_spoke.wait(), 20)
                await asyncio.sleep(self.barge_after)
                mark = call.responses
                async for item in self._speak(self.barge_in, call):
                    yield item
            self.answered.append(await call.wait_reply(mark, timeout=20))
        await self._listen()


@dataclass
class Watch:
    """A second observer: the exact session times the recorder saw."""

    seen: list[tuple[float, Any]] = field(default_factory=list)

    def observe(self, now: float, what: Any) -> None:
        self.seen.append((now, what))

    @property
    def start(self) -> float:
        return next(t for t, w in self.seen if isinstance(w, CallStarted))

    def times(self, kind: type) -> list[tuple[float, Any]]:
        return [(t - self.start, w) for t, w in self.seen if isinstance(w, kind)]

    def caller_chunks(self) -> list[tuple[float, bytes]]:
        return [(t, w.audio) for t, w in self.times(CallerAudioIn)]

    def caller_events(self) -> list[tuple[float, Any]]:
        return self.times(CallerAudioIn)

    def agent_events(self) -> list[tuple[float, Any]]:
        return [(t, w) for t, w in self.seen_since_start()
                if isinstance(w, PlayAudio | StopPlayback)]

    def seen_since_start(self) -> list[tuple[float, Any]]:
        return [(t - self.start, w) for t, w in self.seen]

    def agent_chunks(self) -> list[tuple[float, PlayAudio]]:
        return self.times(PlayAudio)

    def stops(self) -> list[tuple[float, StopPlayback]]:
        return self.times(StopPlayback)


def expected_track(events: list[tuple[float, Any]], rate: int, length: int,
                   encoding: str = "pcm") -> tuple[np.ndarray, list[int]]:
    """One channel as the record's rule places it, rebuilt from what the session observed.

    A chunk goes at the cursor, or at its arrival when that is later (by more than the jitter
    allowance for the next chunk of the same stream); a StopPlayback cuts everything from its
    moment on. Returns the channel and each chunk's position.
    """
    from agentrun.record._tracks import JITTER_S

    track = np.zeros(length, dtype="<i2")
    cursor: int | None = None
    stream: Any = None
    positions = []
    for t, what in events:
        at = round(t * rate)
        if isinstance(what, StopPlayback):
            if cursor is not None and cursor > at:
                track[at:cursor] = 0
                cursor = None
            continue
        audio, key = (what.audio, what.item_id) if isinstance(what, PlayAudio) \
            else (what.audio, "")
        samples = pcm16(audio, encoding)
        slack = round(JITTER_S * rate) if key == stream else 0
        if cursor is None or at > cursor + slack:
            cursor = at
        track[cursor:cursor + len(samples)] = samples[:max(0, length - cursor)]
        positions.append(cursor)
        cursor += len(samples)
        stream = key
    return track, positions


def agent_file(folder: pathlib.Path, *, encoding: str = "pcm", rate: int = 24000,
               out_rate: int | None = None, extra: str = "",
               turns: str = "{type: server_vad, silence_duration_ms: 400}") -> pathlib.Path:
    """A small agent file with server VAD and the given audio formats."""
    out_rate = out_rate or rate
    fmt_in = f"{{format: {encoding}}}" if encoding != "pcm" else f"{{format: pcm, rate: {rate}}}"
    fmt_out = f"{{format: {encoding}}}" if encoding != "pcm" \
        else f"{{format: pcm, rate: {out_rate}}}"
    path = folder / "clinic.yaml"
    path.write_text(
        "name: Clinic\n"
        "instructions: Help the caller book an appointment.\n"
        f"turn_detection: {turns}\n"
        f"audio:\n  input: {fmt_in}\n  output: {fmt_out}\n" + extra,
        encoding="utf-8")
    return path


def call(path: pathlib.Path, endpoint: Any, record: Any, *, scenario: Any = None,
         sim_key: str | None = None, api_key: str | None = None,
         observers: tuple[Any, ...] = (), **options: Any) -> Any:
    """Run one call of the agent in ``path`` against a simulator; returns the result."""
    agent = Agent.load(path)

    async def main() -> Any:
        async with Simulator(Scenario.load(scenario), api_key=sim_key) as sim:
            return await asyncio.wait_for(
                agent.run(endpoint, url=sim.url, api_key=api_key, record=record,
                          observers=observers, channel="test", **options), 90)

    return asyncio.run(main())


def read_wav(folder: pathlib.Path) -> tuple[np.ndarray, int]:
    """The record's audio.wav as (frames, 2) int16, and its rate."""
    data, rate = soundfile.read(folder / "audio.wav", dtype="int16", always_2d=True)
    return data, rate


def read_jsonl(path: pathlib.Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def the_call(record: pathlib.Path) -> pathlib.Path:
    folders = [p for p in record.iterdir() if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]
