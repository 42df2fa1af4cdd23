"""The call's two audio tracks on one clock: caller on the left, agent on the right.

Pure data (numpy), no I/O and no clock: the recorder passes each chunk with the session's time.
Caller audio is placed where it arrived: at a running cursor, or later when it arrived after the
cursor (a gap is silence). Agent audio is placed as a speaker queue plays it: right after the
audio queued before it, or at its arrival when the queue had run dry. Either way a chunk that
arrives at most ``JITTER_S`` after the cursor continues the stream, as a playout buffer would
absorb it: scheduling jitter must not cut clicks of silence into speech (a chunk is captured
before it arrives, so the cursor is the better date anyway). A barge-in cuts the agent
track at that moment: audio queued beyond it was never heard and is removed. Everything more
than ``JITTER_S`` before the latest observed time is final (no later chunk can land there), so
:meth:`StereoTracks.take` hands it out as interleaved PCM16 frames and forgets it: memory stays
bounded by what is still queued, not by the length of the call.

When the two sides of a session have different rates (e.g. 16 kHz in, 24 kHz out), the record is
at the higher one and the other side is resampled as a stream (soxr), so chunk joins stay clean.
Imports numpy and ``agentrun.audio``.
"""

from __future__ import annotations

import numpy as np

from agentrun.audio import StreamResampler, decode

__all__ = ["JITTER_S", "SPEECH_PEAK", "Lane", "StereoTracks"]

JITTER_S = 0.25
"""A chunk arriving this long after its stream's cursor still continues the stream (seconds)."""

SPEECH_PEAK = 600
"""A caller chunk whose peak reaches this (of 32767, about -35 dBFS) counts as speech when the
record times the caller's utterances (the server's VAD decides turns; this only dates them)."""


class Lane:
    """One channel of the record: segments of samples at positions (record-rate samples).

    Args:
        encoding: the session encoding of this side (``pcm``, ``pcmu``, ``pcma``).
        rate: the rate of this side, Hz.
        record_rate: the record's rate, Hz.
    """

    def __init__(self, encoding: str, rate: int, record_rate: int) -> None:
        self.encoding = encoding
        self._slack = round(JITTER_S * record_rate)
        self._fresh = True  # nothing placed yet (or just cut): the next chunk starts a stream
        self._stream = ""
        self._resampler = StreamResampler(rate, record_rate) if rate != record_rate else None
        self._segments: list[tuple[int, np.ndarray]] = []
        self._run_start = 0  # where the current contiguous run began
        self._run_out = 0  # samples the current run has produced so far
        self.cursor = 0  # where the next contiguous sample goes
        self.samples = 0  # samples placed in total (after cuts)

    def place(self, at: int, data: bytes, stream: str = "", floor: int = 0,
              ) -> tuple[int, np.ndarray]:
        """Place a chunk at the cursor, or at ``at`` when it is later than the cursor (by more
        than the jitter allowance, for the next chunk of the same stream).

        Args:
            at: the sample position of its arrival.
            data: raw audio in this side's encoding.
            stream: what the chunk belongs to (an agent item); jitter is absorbed only within
                one stream, so a new reply starts no earlier than it arrived.
            floor: the first position not yet handed out (nothing may land before it).

        Returns:
            (position, the decoded PCM16 samples at the session side's rate).
        """
        pcm = np.frombuffer(decode(data, self.encoding), dtype="<i2")
        slack = 0 if self._fresh or stream != self._stream else self._slack
        if at > self.cursor + slack or self.cursor < floor:
            self._end_run()  # a gap: the stream restarts after silence
            self._run_start = self.cursor = at
            self._run_out = 0
        self._fresh, self._stream = False, stream
        start = self.cursor
        out = pcm if self._resampler is None else self._resampler.process_array(pcm)
        self._add(self._run_start + self._run_out, out)
        self._run_out += len(out)
        self.cursor = self._run_start + self._run_out
        return start, pcm

    def cut(self, at: int) -> int:
        """Remove everything from ``at`` on (a barge-in); returns the samples removed."""
        if self.cursor <= at:
            return 0
        removed = 0
        kept: list[tuple[int, np.ndarray]] = []
        for start, samples in self._segments:
            end = start + len(samples)
            if end <= at:
                kept.append((start, samples))
            elif start < at:
                kept.append((start, samples[:at - start]))
                removed += end - at
            else:
                removed += len(samples)
        self._segments = kept
        self.samples -= removed
        if self._resampler is not None:
            self._resampler.clear()
        self._run_start = self.cursor = at
        self._run_out = 0
        self._fresh = True  # the next reply starts where it arrives, not at the cut
        return removed

    def finish(self) -> None:
        """The stream is over: place the resampler's tail."""
        self._end_run()

    def fill(self, column: np.ndarray, start: int) -> None:
        """Copy the samples in ``[start, start + len(column))`` into ``column`` and forget them."""
        end = start + len(column)
        kept: list[tuple[int, np.ndarray]] = []
        for seg_start, samples in self._segments:
            seg_end = seg_start + len(samples)
            lo, hi = max(seg_start, start), min(seg_end, end)
            if lo < hi:
                column[lo - start:hi - start] = samples[lo - seg_start:hi - seg_start]
            if seg_end > end:
                kept.append((seg_start, samples) if seg_start >= end
                            else (end, samples[end - seg_start:]))
        self._segments = kept

    def _add(self, start: int, samples: np.ndarray) -> None:
        if len(samples):
            self._segments.append((start, samples))
            self.samples += len(samples)

    def _end_run(self) -> None:
        if self._resampler is not None and self._run_out:
            tail = np.frombuffer(self._resampler.flush(), dtype="<i2")
            self._add(self._run_start + self._run_out, tail)
            self._run_out += len(tail)
            self.cursor = self._run_start + self._run_out


class StereoTracks:
    """Caller (left) and agent (right) audio on the call's clock, handed out as it becomes final.

    Args:
        caller: (encoding, rate) of the caller side (the session's input format).
        agent: (encoding, rate) of the agent side (the session's output format).
        start: the call's start on the session clock, seconds.

    Attributes:
        rate: the record's rate, Hz: the higher of the two sides'.
    """

    def __init__(self, caller: tuple[str, int], agent: tuple[str, int], start: float) -> None:
        self.rate = max(caller[1], agent[1])
        self.start = start
        self.caller = Lane(caller[0], caller[1], self.rate)
        self.agent = Lane(agent[0], agent[1], self.rate)
        self.written = 0  # frames handed out so far

    def position(self, now: float) -> int:
        """The record sample at session time ``now`` (never before what was handed out)."""
        return max(self.written, round((now - self.start) * self.rate))

    def final(self, now: float) -> int:
        """Up to where the tracks are final at ``now``: a chunk of a running stream may still
        land up to the jitter allowance before it."""
        return max(self.written, round((now - self.start) * self.rate)
                   - round(JITTER_S * self.rate))

    def seconds(self, position: int) -> float:
        """Seconds from the call's start of a record sample position."""
        return position / self.rate

    def add_caller(self, now: float, data: bytes) -> tuple[int, np.ndarray]:
        """Caller audio that arrived at ``now``; returns (position, decoded samples)."""
        return self.caller.place(self.position(now), data, floor=self.written)

    def add_agent(self, now: float, data: bytes, item_id: str = "") -> tuple[int, np.ndarray]:
        """Agent audio of ``item_id`` handed to the speaker at ``now``; returns (position,
        decoded samples)."""
        return self.agent.place(self.position(now), data, item_id, self.written)

    def cut_agent(self, now: float) -> int:
        """Barge-in at ``now``: drop the agent audio queued beyond it; returns samples removed."""
        return self.agent.cut(self.position(now))

    @property
    def end(self) -> int:
        """The last position holding audio on either side."""
        return max(self.caller.cursor, self.agent.cursor, self.written)

    def take(self, upto: int) -> bytes:
        """Interleaved PCM16 LE stereo frames from the last take up to ``upto`` (final audio).

        Args:
            upto: the first position not handed out; clamped to what is final so far.

        Returns:
            ``4 * frames`` bytes (left = caller, right = agent); silence where nobody spoke.
        """
        count = upto - self.written
        if count <= 0:
            return b""
        frames = np.zeros((count, 2), dtype="<i2")
        self.caller.fill(frames[:, 0], self.written)
        self.agent.fill(frames[:, 1], self.written)
        self.written = upto
        return frames.tobytes()

    def finish(self, now: float) -> bytes:
        """The call ended at ``now``: every remaining frame up to then, and the agent's queued
        audio beyond it (the last reply is kept whole)."""
        self.caller.finish()
        self.agent.finish()
        return self.take(max(self.end, self.position(now)))
