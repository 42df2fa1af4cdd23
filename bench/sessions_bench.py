"""N simultaneous agentrun conversations against the simulator: throughput, CPU, memory.

The simulator runs as a separate process (``agentrun sim``) so the numbers measure the client
runtime only: N in-process :class:`~agentrun.engine.session.Session` objects on one event loop,
each saying ``--turns`` lines and receiving a reply of ``--audio-ms`` of PCM16 24 kHz audio per
turn, streamed in ``--chunk-ms`` deltas as fast as the simulator can send them.

Prints, per N: server events received per second (all sessions), client CPU seconds per second
of streamed agent audio, and peak RSS growth per session. Each N runs in a fresh child process
so the peak RSS of one N does not hide the next.

    .venv/bin/python bench/sessions_bench.py --n 1 10 100
"""

from __future__ import annotations

import argparse
import asyncio
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from agentrun.engine.session import Session
from agentrun.engine.setup import ConversationConfig
from agentrun.io import NullEndpoint
from agentrun.protocol import (
    AudioConfig,
    AudioInput,
    AudioOutput,
    PcmFormat,
    SessionProperties,
    TurnDetection,
)
from agentrun.transport import Transport, WebSocketTransport

__all__ = ["main"]

CONFIG = ConversationConfig(session=SessionProperties(
    instructions="Benchmark.", voice="Ara", turn_detection=TurnDetection(type="server_vad"),
    audio=AudioConfig(input=AudioInput(format=PcmFormat(rate=24000)),
                      output=AudioOutput(format=PcmFormat(rate=24000)))))


class CountingTransport:
    """Counts frames received, to report events per second without tracing on the server."""

    received = 0

    def __init__(self, inner: Transport) -> None:
        self._inner = inner

    async def send(self, text: str) -> None:
        await self._inner.send(text)

    async def recv(self) -> str:
        text = await self._inner.recv()
        CountingTransport.received += 1
        return text

    async def aclose(self) -> None:
        await self._inner.aclose()


@dataclass
class Row:
    n: int
    seconds: float
    events: int
    audio_seconds: float
    cpu_seconds: float
    rss_growth_kib: int

    def line(self) -> str:
        return (f"N={self.n:<4} wall {self.seconds:6.2f} s  events {self.events:>8}  "
                f"{self.events / self.seconds:>9.0f} events/s  "
                f"audio {self.audio_seconds:8.1f} s  "
                f"CPU/audio-s {self.cpu_seconds / max(self.audio_seconds, 1e-9) * 1000:6.2f} ms  "
                f"peak RSS/session {self.rss_growth_kib / self.n:8.0f} KiB")


def _start_sim(scenario: pathlib.Path) -> tuple[subprocess.Popen[str], str]:
    sim = subprocess.Popen([sys.executable, "-m", "agentrun", "sim", "--port", "0",
                            "--scenario", str(scenario)], stdout=subprocess.PIPE, text=True)
    assert sim.stdout is not None
    line = sim.stdout.readline().strip()
    if not line.startswith("listening on "):
        sim.kill()
        raise SystemExit(f"the simulator did not start: {line!r}")
    return sim, line.removeprefix("listening on ")


async def _run(n: int, turns: int, url: str) -> Row:
    async def connect() -> Transport:
        return CountingTransport(await WebSocketTransport.connect(url + "?model=bench"))

    endpoints = [NullEndpoint([f"turn {t}" for t in range(turns)]) for _ in range(n)]
    sessions = [Session(CONFIG, connect=connect, endpoint=e) for e in endpoints]
    CountingTransport.received = 0
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0, wall0 = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(s.run() for s in sessions))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0
    failed = [r for r in results if r.exit_code != 0]
    if failed:
        raise SystemExit(f"{len(failed)} sessions failed: {failed[0].reason}")
    return Row(n, wall, CountingTransport.received, sum(r.audio_seconds for r in results), cpu,
               rss)


def _child(n: int, turns: int, url: str) -> Row:
    out = subprocess.run([sys.executable, __file__, "--child", str(n), "--turns", str(turns),
                          "--url", url], capture_output=True, text=True, check=True)
    return Row(**json.loads(out.stdout))


def main() -> None:
    """Run the benchmark for each N and print one line per N (and JSON with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--audio-ms", type=int, default=2000)
    parser.add_argument("--chunk-ms", type=int, default=20)
    parser.add_argument("--json", action="store_true", help="also print the rows as JSON")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(_run(args.child, args.turns, args.url)).__dict__))
        return
    with tempfile.TemporaryDirectory() as tmp:
        scenario = pathlib.Path(tmp) / "scenario.json"
        scenario.write_text(json.dumps({
            "audio": {"chunk_ms": args.chunk_ms, "pace": "fast"}, "ping_interval": None,
            "responses": [{"say": "This is a benchmark reply from the simulator.",
                           "audio_ms": args.audio_ms, "repeat": 10**9}]}))
        sim, url = _start_sim(scenario)
        try:
            rows = [_child(n, args.turns, url) for n in args.n]
        finally:
            sim.terminate()
            sim.wait(10)
    print(f"# {args.turns} turns/session, {args.audio_ms} ms reply audio in {args.chunk_ms} ms "
          f"deltas (PCM16 24 kHz); simulator and each N in separate processes")
    for row in rows:
        print(row.line())
    if args.json:
        print(json.dumps([row.__dict__ for row in rows]))


if __name__ == "__main__":
    main()
