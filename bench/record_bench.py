"""What recording a call costs: CPU per second of two-way audio, and the longest stall.

Feeds a ``CallRecorder`` the observations of a real call — every 20 ms a caller chunk and its
``input_audio_buffer.append`` frame, every 40 ms an agent ``response.output_audio.delta`` frame
and its ``PlayAudio`` (both ways all the time: the worst case), a transcript delta every 300 ms —
on a synthetic clock, as fast as it can, for N calls interleaved on one event loop. It prints the
CPU per second of call on the loop and in the whole process (the writer thread included), the
CPU time of single ``observe`` calls (the longest is the stall the audio would feel; the writer
thread is left out of it), what it wrote, and the share of one core 100 such calls need.

    .venv/bin/python bench/record_bench.py                 # 24 kHz PCM16 and 8 kHz μ-law
    .venv/bin/python bench/record_bench.py --calls 100 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import math
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from agentrun.audio import encode
from agentrun.engine.actions import EmitTranscript, PlayAudio
from agentrun.engine.observe import CallEnded, CallerAudioIn, CallStarted, WireFrame
from agentrun.engine.session import SessionResult
from agentrun.io import AudioFormat
from agentrun.record import CallRecorder


def tone(fmt: AudioFormat, ms: int, hz: float) -> bytes:
    count = fmt.rate * ms // 1000
    pcm = b"".join(int(8000 * math.sin(2 * math.pi * hz * n / fmt.rate)).to_bytes(
        2, "little", signed=True) for n in range(count))
    return encode(pcm, fmt.encoding)


def call_script(fmt: AudioFormat, seconds: float) -> list[tuple[float, object]]:
    """The observations of one call, with their times (s from the start)."""
    caller, agent = tone(fmt, 20, 220.0), tone(fmt, 40, 400.0)
    append = json.dumps({"event_id": "e" * 36, "type": "input_audio_buffer.append",
                         "audio": base64.b64encode(caller).decode()})
    delta = json.dumps({"type": "response.output_audio.delta", "response_id": "resp_1",
                        "item_id": "item_1", "output_index": 0, "content_index": 0,
                        "event_id": "evt_1", "delta": base64.b64encode(agent).decode()})
    script: list[tuple[float, object]] = []
    for n in range(int(seconds / 0.02)):
        t = n * 0.02
        script += [(t, CallerAudioIn(caller)), (t, WireFrame("out", append))]
        if n % 2 == 0:
            script += [(t, WireFrame("in", delta)), (t, PlayAudio(agent, "resp_1", "item_1"))]
        if n % 15 == 0:
            script.append((t, EmitTranscript("agent", "word ", False, "item_1")))
    return script


class _Nothing:
    """The noise floor: an observer that does nothing, timed the same way."""

    async def wait_closed(self) -> None:
        return None

    def observe(self, now: float, what: object) -> None:
        return None


async def run(fmt: AudioFormat, calls: int, seconds: float, root: Path,
              script: list[tuple[float, object]], record: bool = True,
              timed: bool = False) -> dict[str, float]:
    recorders = [CallRecorder(root) if record else _Nothing() for _ in range(calls)]
    for index, recorder in enumerate(recorders):
        recorder.observe(0.0, CallStarted(f"call{index:04d}", "Bench", "bench", "bench", "",
                                          fmt, fmt))
    worst = 0.0
    durations: list[float] = []
    loop_cpu = time.thread_time()
    wall = time.perf_counter()
    for t, what in script:  # the calls interleaved, as on a busy service
        for recorder in recorders:
            if not timed:
                recorder.observe(t, what)
                continue
            # CPU time of the loop's thread, not wall time: on a shared machine the wall time
            # of one call mostly measures when the OS took the CPU away
            began = time.thread_time()
            recorder.observe(t, what)
            spent = time.thread_time() - began
            worst = max(worst, spent)
            durations.append(spent)
    for recorder in recorders:
        recorder.observe(seconds, CallEnded(SessionResult(reason="bench")))
    loop_cpu = time.thread_time() - loop_cpu
    process_cpu = time.process_time()
    await asyncio.gather(*(r.wait_closed() for r in recorders))
    wall = time.perf_counter() - wall
    written = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    durations.sort()
    durations = durations or [0.0]
    return {"loop_cpu": loop_cpu, "process_cpu": process_cpu, "wall": wall, "worst": worst,
            "p99": durations[int(0.99 * (len(durations) - 1))],
            "p999": durations[int(0.999 * (len(durations) - 1))],
            "median": statistics.median(durations), "written": written,
            "call_seconds": calls * seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls recorded at once")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each call")
    args = parser.parse_args()
    print(f"{args.calls} calls of {args.seconds:g} s, both sides speaking all the time, "
          f"{threading.active_count()} thread(s) before the writer starts\n")
    print("| session audio | loop CPU per call-second | whole process CPU per call-second "
          "| 100 calls: share of one core | observe CPU median / p99 / p99.9 / max (µs) "
          "| same, observer doing nothing | written per call-second |")
    print("|---|---|---|---|---|---|---|")
    for fmt in (AudioFormat("pcm", 24000), AudioFormat("pcmu", 8000)):
        root = Path(tempfile.mkdtemp(prefix="agentrun-record-bench-"))
        try:
            # one short call first: the first call of a process pays for imports and the
            # G.711 tables (about 20-30 ms once); the table shows the steady state
            asyncio.run(run(fmt, 1, 1.0, root / "warm-up", call_script(fmt, 1.0)))
            script = call_script(fmt, args.seconds)
            gc.collect()
            gc.freeze()  # the bench's own script is not the service's garbage to collect
            floor = asyncio.run(run(fmt, args.calls, args.seconds, root, script, record=False,
                                    timed=True))
            start_cpu = time.process_time()
            figures = asyncio.run(run(fmt, args.calls, args.seconds, root / "calls", script))
            total_cpu = time.process_time() - start_cpu
            timed = asyncio.run(run(fmt, args.calls, args.seconds, root / "timed", script,
                                    timed=True))
            figures.update({k: timed[k] for k in ("median", "p99", "p999", "worst")})
        finally:
            shutil.rmtree(root, ignore_errors=True)
        per_second = figures["loop_cpu"] / figures["call_seconds"]
        whole = total_cpu / figures["call_seconds"]
        print(f"| {fmt.encoding} {fmt.rate} Hz | {per_second * 1e6:,.0f} µs | "
              f"{whole * 1e6:,.0f} µs | {whole * 100 * 100:.1f} % | {_stalls(figures)} | "
              f"{_stalls(floor)} | "
              f"{figures['written'] / figures['call_seconds'] / 1024:,.0f} KiB |")


def _stalls(figures: dict[str, float]) -> str:
    return " / ".join(f"{figures[k] * 1e6:,.0f}" if figures[k] >= 1e-5 else
                      f"{figures[k] * 1e6:.1f}" for k in ("median", "p99", "p999", "worst"))

if __name__ == "__main__":
    main()
