"""Browser calls under load: N talk pages at once against ``agentrun serve`` and the simulator.

Three processes on this machine: the simulator (``agentrun sim``, agent audio paced at real
time in 40 ms deltas, as Grok streams it), the service (``agentrun serve --workers 1``) and this
load generator. Each simulated page does what the talk page does: ``start`` at the page's rate
(48 kHz by default, so the service resamples both ways with soxr; ``--rate 24000`` is the
passthrough case), then 20 ms microphone frames in real time (2 s of espeak-ng speech, 4 s of
silence, again and again: the simulator answers every turn), and plays the agent's audio on a
real-time clock with the page's jitter buffer (60 ms, growing after a gap up to 400 ms),
reporting ``played`` every 40 ms.

Printed: calls held to the end, time from ``start`` to ``ready`` and to the first agent audio
(median, p99), playback gaps (the buffer ran dry inside an item), CPU of each process (per
call for the service) and the service's memory per call.

Usage::

    python bench/talk_load.py --calls 50 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from websockets.asyncio.client import connect

AGENT = """\
name: Load Line
instructions: You answer.
greeting: Hello, thanks for calling. How can I help you today?
turn_detection: {type: server_vad, silence_duration_ms: 500}
"""
SCENARIO = "audio: {chunk_ms: 40, pace: realtime}\n"
PREBUFFER_S = 0.06  # the page's jitter buffer: 60 ms, growing by half after each gap
MAX_PREBUFFER_S = 0.4
REPORT_EVERY_S = 0.04


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far, seconds (Linux /proc)."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    text = pathlib.Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text)[1]) / 1024  # type: ignore[index]


def speech(rate: int) -> bytes:
    """Two seconds of espeak-ng speech as PCM16 at ``rate`` (padded or cut)."""
    from agentrun.audio import wav_to_session

    with tempfile.TemporaryDirectory() as folder:
        wav = pathlib.Path(folder) / "speech.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), "Hello, where is my order number "
                        "one two three four?"], check=True)
        pcm = wav_to_session(str(wav), encoding="pcm", rate=rate)
    want = rate * 2 * 2
    return (pcm + b"\x00" * want)[:want]


class Page:
    """One simulated talk page."""

    def __init__(self, url: str, origin: str, rate: int, talk: bytes) -> None:
        self.url, self.origin, self.rate, self.talk = url, origin, rate, talk
        self.ready_s: float | None = None
        self.first_audio_s: float | None = None
        self.gaps = 0
        self.items = 0
        self.ended: str | None = None
        self.alive = False

    async def run(self, seconds: float) -> None:
        frame = self.rate * 2 // 50  # 20 ms
        silence = b"\x00" * (self.rate * 2 * 4)
        cycle = silence + self.talk  # silence first: the caller listens to the greeting
        started = time.monotonic()
        async with connect(self.url, origin=self.origin, max_size=2**22,  # type: ignore[arg-type]
                           compression=None) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": self.rate}))
            # playback clock: when the queued audio runs out (monotonic s), per item
            state: dict[str, Any] = {"item": "", "until": 0.0, "item_start": 0.0, "dry_item": "",
                     "prebuffer": PREBUFFER_S}

            async def read() -> None:
                async for message in ws:
                    now = time.monotonic()
                    if isinstance(message, str):
                        event = json.loads(message)
                        if event["type"] == "ready":
                            self.ready_s = now - started
                        elif event["type"] == "audio":
                            state["item"] = event["item_id"]
                            state["item_start"] = max(now + state["prebuffer"],
                                                      state["until"])
                            self.items += 1
                        elif event["type"] == "clear":
                            state["until"] = now
                        elif event["type"] in ("ended", "error"):
                            self.ended = event.get("reason") or event.get("code")
                        continue
                    if self.first_audio_s is None:
                        self.first_audio_s = now - started
                    seconds_of = len(message) / 2 / self.rate
                    if state["until"] < now:  # the buffer had run dry
                        if state["dry_item"] == state["item"]:
                            self.gaps += 1
                            state["prebuffer"] = min(state["prebuffer"] * 1.5, MAX_PREBUFFER_S)
                        state["until"] = now + state["prebuffer"]
                    state["until"] += seconds_of
                    state["dry_item"] = state["item"]

            async def report() -> None:
                while True:
                    await asyncio.sleep(REPORT_EVERY_S)
                    now = time.monotonic()
                    if state["item"] and state["until"] > now > state["item_start"]:
                        played = int((now - state["item_start"]) * 1000)
                        await ws.send(json.dumps({"type": "played", "item_id": state["item"],
                                                  "played_ms": played}))

            reader = asyncio.create_task(read())
            reporter = asyncio.create_task(report())
            self.alive = True
            next_at = time.monotonic()
            offset = 0
            while time.monotonic() - started < seconds and not reader.done():
                await ws.send(cycle[offset:offset + frame])
                offset = (offset + frame) % len(cycle)
                next_at += 0.02
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            self.alive = not reader.done() and self.ended is None
            reporter.cancel()
            await ws.send(json.dumps({"type": "hangup"}))
            reader.cancel()


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def load(base: str, calls: int, seconds: float, rate: int) -> list[Page]:
    talk = speech(rate)
    url = base.replace("http://", "ws://") + "/talk/line/socket"
    pages = [Page(url, base, rate, talk) for _ in range(calls)]
    tasks = []
    for page in pages:  # ramp up over a second, as callers do not all press at once
        tasks.append(asyncio.create_task(page.run(seconds)))
        await asyncio.sleep(1.0 / calls)
    await asyncio.gather(*tasks, return_exceptions=True)
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=int, default=48000, help="the pages' rate, Hz")
    args = parser.parse_args()
    agentrun = [sys.executable, "-m", "agentrun"]
    with tempfile.TemporaryDirectory() as folder:
        root = pathlib.Path(folder)
        (root / "agents").mkdir()
        (root / "agents" / "line.yaml").write_text(AGENT)
        (root / "scenario.yaml").write_text(SCENARIO)
        sim = subprocess.Popen([*agentrun, "sim", "--port", "0", "--scenario",
                                str(root / "scenario.yaml")], stdout=subprocess.PIPE, text=True)
        assert sim.stdout is not None
        sim_url = sim.stdout.readline().split()[-1]
        service = subprocess.Popen(
            [*agentrun, "serve", str(root / "agents"), "--url", sim_url, "--port", "0",
             "--workers", "1", "--max-calls", str(args.calls + 10), "--no-reload"],
            stderr=subprocess.PIPE, text=True)
        assert service.stderr is not None
        base = ""
        for line in service.stderr:
            found = re.search(r"listening on (http://\S+)", line)
            if found:
                base = found[1]
                break
        # keep reading the service's log, or a full pipe would stall it
        threading.Thread(target=service.stderr.read, daemon=True).start()
        try:
            time.sleep(1.0)
            before = {p.pid: cpu_seconds(p.pid) for p in (sim, service)}
            own_before = time.process_time()
            idle_rss = rss_mib(service.pid)
            started = time.monotonic()
            pages = asyncio.run(load(base, args.calls, args.seconds, args.rate))
            wall = time.monotonic() - started
            used = {pid: cpu_seconds(pid) - t for pid, t in before.items()}
            own = time.process_time() - own_before
            busy_rss = rss_mib(service.pid)
        finally:
            for process in (service, sim):
                process.terminate()
                process.wait(20)
    held = sum(page.alive for page in pages)
    ready = [p.ready_s * 1000 for p in pages if p.ready_s is not None]
    first = [p.first_audio_s * 1000 for p in pages if p.first_audio_s is not None]
    print(f"browser calls: {args.calls} pages at {args.rate} Hz for {args.seconds:g} s "
          f"(agent at 24000 Hz; simulator audio paced in real time)")
    print(f"  calls held to the end        {held}/{args.calls}")
    print(f"  start -> ready (ms)          median {statistics.median(ready):.1f}  "
          f"p99 {quantile(ready, 0.99):.1f}")
    print(f"  start -> first audio (ms)    median {statistics.median(first):.1f}  "
          f"p99 {quantile(first, 0.99):.1f}")
    print(f"  agent items heard            {sum(p.items for p in pages)}")
    print(f"  playback gaps inside an item {sum(p.gaps for p in pages)}")
    service_cpu = used[service.pid] / wall
    print(f"  service CPU                  {service_cpu * 100:.1f}% of a core, "
          f"{service_cpu * 100 / args.calls:.2f}% per call")
    print(f"  service RSS                  {idle_rss:.1f} MiB idle, {busy_rss:.1f} MiB busy "
          f"({(busy_rss - idle_rss) * 1024 / args.calls:.0f} KiB per call)")
    print(f"  simulator CPU                {used[sim.pid] / wall * 100:.1f}% of a core")
    print(f"  load generator CPU           {own / wall * 100:.1f}% of a core")
    return 0 if held == args.calls else 1


if __name__ == "__main__":
    raise SystemExit(main())
