"""Soak: N simultaneous calls for a while with steady caller audio; RSS and CPU sampled.

The simulator runs in its own process (``agentrun sim``, audio paced at real time); this process
holds N ``Session``s, each streaming caller audio in real time (a 1 s tone, then 1.5 s of
silence, again and again), so server VAD ends a turn every 2.5 s and the simulated agent
answers, sometimes while the caller starts again (barge-in). Every ``--every`` seconds one line
gives the RSS and CPU of both processes and the turns answered so far; flat curves mean no leak
and no drift.

With ``--fast`` neither side waits for the clock: each caller sends a turn at once and waits
for the reply, so a call reaches hundreds of turns in minutes (memory over hours of talk).

Usage::

    nice python bench/soak.py --calls 100 --seconds 600
    nice python bench/soak.py --calls 20 --seconds 600 --fast
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import pathlib
import struct
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from typing import Literal

from agentrun.engine import ConversationConfig
from agentrun.engine.session import Session
from agentrun.io import CallControl, CallerAudio, CallerInput, ToolCallView
from agentrun.protocol import (
    AudioConfig,
    AudioInput,
    AudioOutput,
    PcmFormat,
    SessionProperties,
    TurnDetection,
)

__all__ = ["main"]

RATE = 16000
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _chunk(ms: int, loud: bool) -> bytes:
    samples = RATE * ms // 1000
    if not loud:
        return b"\x00\x00" * samples
    return struct.pack(f"<{samples}h", *(int(6000 * math.sin(2 * math.pi * 220 * n / RATE))
                                         for n in range(samples)))


class SteadyCaller:
    """Streams caller audio at real time until ``stop`` is set; counts what it hears."""

    def __init__(self, stop: asyncio.Event, chunk_ms: int, fast: bool = False) -> None:
        self.stop = stop
        self.fast = fast
        self.chunk_ms = chunk_ms
        self.loud, self.quiet = _chunk(chunk_ms, True), _chunk(chunk_ms, False)
        self.replies = 0
        self.audio_bytes = 0
        self.errors = 0

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        pattern = [self.loud] * (1000 // self.chunk_ms) + [self.quiet] * (1500 // self.chunk_ms)
        loop = asyncio.get_running_loop()
        start, n = loop.time(), 0
        while not self.stop.is_set():
            yield CallerAudio(pattern[n % len(pattern)])
            n += 1
            if self.fast:  # a whole turn at once, then the reply
                if n % len(pattern) == 0:
                    await call.wait_idle()
                await asyncio.sleep(0)
                continue
            delay = start + n * self.chunk_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    def play_audio(self, audio: bytes, item_id: str) -> None:
        self.audio_bytes += len(audio)

    def stop_playback(self, reason: str) -> None:
        pass

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        if final and role == "agent":
            self.replies += 1

    def show_tool_call(self, call: ToolCallView) -> None:
        pass

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        if level == "error":
            self.errors += 1


def _usage(pid: int | str = "self") -> tuple[float, float]:
    """(RSS in MiB, CPU seconds user+system) of a process, from /proc."""
    with open(f"/proc/{pid}/statm") as f:
        rss = int(f.read().split()[1]) * PAGE / 2**20
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return rss, (int(fields[11]) + int(fields[12])) / TICKS


async def soak(calls: int, seconds: float, every: float, chunk_ms: int, fast: bool) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        scenario = pathlib.Path(tmp) / "soak.yaml"
        pace = "" if fast else ", pace: realtime"
        scenario.write_text(f"audio: {{chunk_ms: 40{pace}}}\nping_interval: 15\n")
        sim = subprocess.Popen([sys.executable, "-m", "agentrun", "sim", "--scenario",
                                str(scenario)], stdout=subprocess.PIPE, text=True)
        try:
            assert sim.stdout is not None
            url = sim.stdout.readline().split()[-1]
            return await _run(url, sim.pid, calls, seconds, every, chunk_ms, fast)
        finally:
            sim.terminate()
            try:
                sim.wait(10)
            except subprocess.TimeoutExpired:  # a starved machine: do not leave it running
                sim.kill()
                sim.wait()


async def _run(url: str, sim_pid: int, calls: int, seconds: float, every: float,
               chunk_ms: int, fast: bool) -> int:
    config = ConversationConfig(session=SessionProperties(
        instructions="Be brief.", voice="Ara",
        turn_detection=TurnDetection(type="server_vad", silence_duration_ms=500),
        audio=AudioConfig(input=AudioInput(format=PcmFormat(rate=RATE)),
                          output=AudioOutput(format=PcmFormat(rate=24000)))))
    stop = asyncio.Event()
    callers = [SteadyCaller(stop, chunk_ms, fast) for _ in range(calls)]
    sessions = [Session.for_url(config, url, api_key=None, endpoint=c) for c in callers]
    tasks = [asyncio.create_task(s.run()) for s in sessions]
    print(f"{'t (s)':>6} {'client RSS MiB':>15} {'client CPU %':>13} {'sim RSS MiB':>12} "
          f"{'sim CPU %':>10} {'replies':>8} {'agent audio s':>14}", flush=True)
    loop = asyncio.get_running_loop()
    start = loop.time()
    last_cpu = (_usage()[1], _usage(sim_pid)[1], start)
    while loop.time() - start < seconds:
        await asyncio.sleep(min(every, seconds - (loop.time() - start)))
        rss, cpu = _usage()
        sim_rss, sim_cpu = _usage(sim_pid)
        now = loop.time()
        span = max(now - last_cpu[2], 1e-9)
        audio = sum(c.audio_bytes for c in callers) / 48000
        print(f"{now - start:6.0f} {rss:15.1f} {100 * (cpu - last_cpu[0]) / span:13.1f} "
              f"{sim_rss:12.1f} {100 * (sim_cpu - last_cpu[1]) / span:10.1f} "
              f"{sum(c.replies for c in callers):8d} {audio:14.0f}", flush=True)
        last_cpu = (cpu, sim_cpu, now)
        failed = [t for t in tasks if t.done()]
        if failed:
            why = [repr(t.exception()) if t.exception() else t.result().reason
                   for t in failed]
            print(f"{len(failed)} call(s) ended early: {why[:3]}")
            break
    stop.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    ok = sum(1 for r in results if not isinstance(r, BaseException) and r.exit_code == 0)
    print(f"calls ended cleanly: {ok}/{calls}; error lines: {sum(c.errors for c in callers)}")
    return 0 if ok == calls else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--every", type=float, default=30, help="seconds between samples")
    parser.add_argument("--chunk-ms", type=int, default=20, help="caller audio chunk size")
    parser.add_argument("--fast", action="store_true",
                        help="no real-time pacing: turns as fast as the replies come")
    args = parser.parse_args(argv)
    for name in ("agentrun", "websockets"):
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    return asyncio.run(soak(args.calls, args.seconds, args.every, args.chunk_ms, args.fast))


if __name__ == "__main__":
    sys.exit(main())
