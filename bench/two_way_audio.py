"""Client CPU per second of two-way audio: agentrun and the bare floor client, in one run.

    python bench/two_way_audio.py                      # 24 kHz PCM16 and 8 kHz μ-law, 20 s each
    python bench/two_way_audio.py --seconds 60 --reps 3

For each format and repetition, each client (floor, agentrun, device; see
``_duplex_clients.py``) holds one call against its own ``agentrun sim`` process, audio flowing
both ways at real time (the simulator paces a long reply in 20 ms deltas; the client streams
caller audio in 20 ms chunks). Once audio flows, the client's CPU (every thread, from
``/proc/PID/task/*/schedstat``) is read at the start and the end of a ``--seconds`` window:
start-up and imports are left out. Clients run in turn (floor, agentrun, device, floor, …) so
drift hits all alike; the table gives the median over repetitions, in milliseconds of CPU per
second of call (10 ms/s = 1 % of one core). The device client needs PortAudio and ALSA (Linux).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

BENCH = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "io"))  # the clocked ALSA card of the tests

from _harness import BenchError, SimProcess, _cpu_ns, workspace  # noqa: E402

__all__ = ["main"]

CLIENTS = ("floor", "agentrun", "device")
FORMATS = {"pcm": "24 kHz PCM16", "pcmu": "8 kHz G.711 μ-law"}
SCENARIO = {"audio": {"pace": "realtime", "chunk_ms": 20}, "ping_interval": None,
            "responses": [{"say": "A long answer.", "audio_ms": 3_600_000}]}


def measure(client: str, fmt: str, seconds: float, workdir: pathlib.Path, label: str) -> float:
    """One call of ``client``: its CPU in ms per second over a ``seconds`` window of audio.

    Raises:
        BenchError: the client or the simulator failed, or audio never flowed.
    """
    card = None
    env = dict(os.environ)
    if client == "device":
        from _soundcard import FileSoundCard

        home = workdir / f"{label}-home"
        home.mkdir()
        card = FileSoundCard(home, speaker_rate=48000, microphone_rate=48000)
        card.background = _tone(48000, 2)  # the microphone: a tone for as long as the call lasts
        env = card.env(env)
    try:
        with SimProcess(SCENARIO, workdir, label, "agentrun") as sim:
            err = open(workdir / f"{label}.stderr", "wb")  # noqa: SIM115
            proc = subprocess.Popen([sys.executable, str(BENCH / "_duplex_clients.py"), client,
                                     sim.url, "--format", fmt], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE, stderr=err, env=env)
            try:
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(b"talk\n")  # the device client's typed line
                proc.stdin.flush()
                if proc.stdout.readline().strip() != b"steady":
                    raise BenchError(f"{label}: no agent audio (see {err.name})")
                time.sleep(1.0)  # let the first second (buffers filling) pass
                start, cpu0 = time.monotonic(), _cpu_ns(proc.pid)
                time.sleep(seconds)
                end, cpu1 = time.monotonic(), _cpu_ns(proc.pid)
                if cpu0 is None or cpu1 is None or proc.poll() is not None:
                    raise BenchError(f"{label}: the client exited early (see {err.name})")
                return (cpu1 - cpu0) / 1e6 / (end - start)
            finally:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)
                err.close()
    finally:
        if card is not None:
            card.close()


def _tone(rate: int, seconds: int) -> bytes:
    import numpy as np

    t = np.arange(rate) / rate
    second = (6000 * np.sin(2 * np.pi * 220 * t)).astype("<i2").tobytes()
    return second * seconds


def main(argv: list[str] | None = None) -> int:
    """Run every client for every format; print the table (markdown).

    Args:
        argv: command-line arguments (default: ``sys.argv[1:]``).

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per call")
    parser.add_argument("--reps", type=int, default=2, help="alternations per format")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--keep", type=pathlib.Path, help="keep stderr, scenarios and traces")
    args = parser.parse_args(argv)
    clients = [c for c in args.clients.split(",") if c]
    formats = [f for f in args.formats.split(",") if f]
    results: dict[tuple[str, str], list[float]] = {}
    with workspace(args.keep) as workdir:
        for fmt in formats:
            for rep in range(args.reps):
                for client in clients:
                    label = f"{fmt}-{client}-{rep}"
                    value = measure(client, fmt, args.seconds, workdir, label)
                    results.setdefault((fmt, client), []).append(value)
                    print(f"  {label}: {value:.2f} ms CPU per s", file=sys.stderr, flush=True)
    print("| client CPU per second of two-way audio (ms/s) | "
          + " | ".join(clients) + " | " + " | ".join(f"{c}/floor" for c in clients[1:]) + " |")
    print("|---" * (2 * len(clients)) + "|")
    for fmt in formats:
        medians = [statistics.median(results[fmt, c]) for c in clients]
        ratios = [f"{m / medians[0]:.2f}×" for m in medians[1:]] if clients[0] == "floor" \
            else []
        print(f"| {FORMATS[fmt]} | " + " | ".join(f"{m:.2f}" for m in medians)
              + (" | " + " | ".join(ratios) if ratios else "") + " |")
    load = os.getloadavg()
    print(f"\n{args.reps} repetition(s) of {args.seconds:g} s per client and format; "
          f"{os.cpu_count()} CPU(s); load average at the end {load[0]:.2f} {load[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
