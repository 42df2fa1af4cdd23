"""Phone calls at load: agentrun serve vs a bare relay vs pipecat's Twilio + Grok server.

For each server and each N (100 and 200 by default): start agentrun's simulator (with timing
probes, its own process, 20 ms deltas paced in real time, 4 s replies), start the server, place
N Twilio calls with the lean load generator (its own process; callers alternate 2 s of speech
with 5 s of listening, 20 ms frames paced in real time), hold them for 60 s, and report:

- calls held (connected for the whole hold and answered), refused, failed;
- audio underruns (a gap inside an agent reply, as the caller would hear it);
- server CPU per call (% of one core, during the hold) and memory per call (RSS growth / calls);
- relay latency each direction, median and p99: caller frame sent → its audio reaching the
  realtime server, and realtime delta sent → its audio reaching the caller (the same
  system-wide monotonic clock in every process);
- call set-up (Twilio ``start`` → ``session.update`` at the server) and ``start`` → first agent
  audio (the greeting), median and p99;
- the load generator's own CPU (% of one core).

    nice .venv-bench/bin/python bench/serve_bench.py                 # everything (~12 min)
    .venv-bench/bin/python bench/serve_bench.py --servers agentrun --calls 20 --hold 10

Without pipecat installed its rows say so. Run it on a quiet machine: everything shares the cores.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# -- processes ---------------------------------------------------------------------------------

class Proc:
    """A child process whose first ``listening on URL`` line (stdout or stderr) is awaited."""

    def __init__(self, argv: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.log = open(log, "w", encoding="utf-8")  # noqa: SIM115
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env={**os.environ, **(env or {})},
                                     cwd=ROOT)
        self.url = ""
        found = threading.Event()

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                self.log.write(line)
                self.log.flush()
                match = re.search(r"listening on (\S+)", line)
                if match and not self.url:
                    self.url = match[1]
                    found.set()
            found.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not found.wait(90) or not self.url:
            self.stop()
            raise RuntimeError(f"{argv[1:3]} did not start; see {log}")

    def stop(self, timeout: float = 20) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.reader.join(5)
        self.log.close()


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (worker processes)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def usage(pid: int) -> tuple[float, int]:
    """CPU seconds used so far and RSS bytes, summed over the process tree."""
    cpu, rss = 0.0, 0
    for member in tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text().rsplit(")", 1)[1].split()
            rss += int(Path(f"/proc/{member}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / TICKS
    return cpu, rss


# -- one run -----------------------------------------------------------------------------------

def speech_file(folder: Path) -> Path:
    """2 s of espeak-ng speech as μ-law 8 kHz."""
    from agentrun.audio import wav_to_session

    wav = folder / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Where is my order? It was due on Monday."],
                   check=True)
    out = folder / "speech.ulaw"
    out.write_bytes(wav_to_session(str(wav), encoding="pcmu", rate=8000))
    return out


def server_argv(server: str, realtime: str, args: argparse.Namespace) -> list[str]:
    if server == "agentrun":
        return [sys.executable, "-m", "agentrun", "serve", str(BENCH / "agents" / "phone.yaml"),
                "--url", realtime, "--port", "0", "--workers", str(args.workers),
                "--max-calls", str(args.max_calls), "--no-reload"]
    if server == "bare":
        return [sys.executable, str(BENCH / "_bare_relay.py"), "--realtime", realtime]
    return [sys.executable, str(BENCH / "_pipecat_phone.py"), "--realtime", realtime]


def run_one(server: str, calls: int, args: argparse.Namespace, folder: Path,
            speech: Path) -> dict[str, Any]:
    tag = f"{server}-{calls}"
    probe_file = folder / f"{tag}.probe.json"
    sim = Proc([sys.executable, str(BENCH / "_phone_sim.py"), str(probe_file)],
               folder / f"{tag}.sim.log")
    env = {"TWILIO_AUTH_TOKEN": ""} if server == "agentrun" else None
    try:
        srv = Proc(server_argv(server, sim.url, args), folder / f"{tag}.server.log", env)
    except RuntimeError:
        sim.stop()
        raise
    out = folder / f"{tag}.load.json"
    try:
        time.sleep(1.0)
        _idle_cpu, idle_rss = usage(srv.proc.pid)
        load = subprocess.Popen(
            [sys.executable, str(BENCH / "_phone_load.py"), "--target", server,
             "--base", srv.url, "--calls", str(calls), "--hold", str(args.hold),
             "--ramp", str(args.ramp), "--speech", str(speech), "--out", str(out)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert load.stdout is not None
        marks: dict[str, tuple[float, float, int]] = {}
        for line in load.stdout:
            word = line.strip()
            if word in ("HOLD", "DONE"):
                cpu, rss = usage(srv.proc.pid)
                marks[word] = (time.monotonic(), cpu, rss)
        load.wait(120)
    finally:
        srv.stop()
        sim.stop()
    report = json.loads(out.read_text())
    probes = json.loads(probe_file.read_text()) if probe_file.exists() else {}
    return summarize(server, calls, report, probes, marks, idle_rss)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(server: str, calls: int, report: dict[str, Any], probes: dict[str, Any],
              marks: dict[str, tuple[float, float, int]], idle_rss: int) -> dict[str, Any]:
    hold_start, hold_end = report["hold"]
    held = [c for c in report["calls"] if not c["closed"] and c["chunks"] > 60]
    inbound, outbound, setup, first = [], [], [], []
    for call in report["calls"]:
        probe = probes.get(call["sid"])
        if call["first_audio"]:
            first.append((call["first_audio"] - call["start"]) * 1000)
        if not probe:
            continue
        if probe["setup"]:
            setup.append((probe["setup"] - call["start"]) * 1000)
        sent = call["sent_t"]
        for t, position in zip(probe["in_t"], probe["in_ms"], strict=False):
            frame = int(-(-position // 20)) - 1
            if 50 <= frame < len(sent) and hold_start <= t <= hold_end:
                inbound.append((t - sent[frame]) * 1000)
        out_t, out_ms = probe["out_t"], probe["out_ms"]
        for t, position in zip(call["recv_t"], call["recv_ms"], strict=False):
            j = bisect.bisect_left(out_ms, position - 0.01)
            if j < len(out_t) and hold_start <= t <= hold_end:
                outbound.append((t - out_t[j]) * 1000)
    row: dict[str, Any] = {
        "server": server, "calls": calls, "held": len(held),
        "connected": len(report["calls"]), "refused_or_failed": len(report["failed"]),
        "closed": sum(c["closed"] for c in report["calls"]),
        "underruns": sum(c["underruns"] for c in report["calls"]),
        "generator_cpu_pct": 100 * report["cpu_s"] / max(1e-9, hold_end - hold_start),
        "in_median_ms": pct(inbound, 0.5), "in_p99_ms": pct(inbound, 0.99),
        "out_median_ms": pct(outbound, 0.5), "out_p99_ms": pct(outbound, 0.99),
        "setup_median_ms": pct(setup, 0.5), "setup_p99_ms": pct(setup, 0.99),
        "first_audio_median_ms": pct(first, 0.5), "first_audio_p99_ms": pct(first, 0.99),
    }
    if "HOLD" in marks and "DONE" in marks:
        (t0, cpu0, _), (t1, cpu1, rss1) = marks["HOLD"], marks["DONE"]
        per = max(1, len(held))
        row["cpu_pct_per_call"] = 100 * (cpu1 - cpu0) / (t1 - t0) / per
        row["server_cpu_pct"] = 100 * (cpu1 - cpu0) / (t1 - t0)
        row["mem_kib_per_call"] = (rss1 - idle_rss) / 1024 / per
    return row


# -- report ------------------------------------------------------------------------------------

COLUMNS = [("server", "server", "{}"), ("calls", "N", "{}"), ("held", "held", "{}"),
           ("refused_or_failed", "refused", "{}"), ("underruns", "underruns", "{}"),
           ("server_cpu_pct", "server CPU %", "{:.0f}"),
           ("cpu_pct_per_call", "CPU %/call", "{:.2f}"),
           ("mem_kib_per_call", "KiB/call", "{:.0f}"),
           ("in_median_ms", "in med ms", "{:.1f}"), ("in_p99_ms", "in p99", "{:.1f}"),
           ("out_median_ms", "out med ms", "{:.1f}"), ("out_p99_ms", "out p99", "{:.1f}"),
           ("setup_median_ms", "setup med ms", "{:.1f}"), ("setup_p99_ms", "setup p99", "{:.1f}"),
           ("first_audio_median_ms", "1st audio med", "{:.0f}"),
           ("first_audio_p99_ms", "1st audio p99", "{:.0f}"),
           ("generator_cpu_pct", "generator CPU %", "{:.0f}")]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(title for _, title, _ in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = []
        for key, _, fmt in COLUMNS:
            value = row.get(key)
            cells.append("—" if value is None or value != value else fmt.format(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="bare,agentrun,pipecat")
    parser.add_argument("--calls", default="100,200")
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to place the calls")
    parser.add_argument("--workers", type=int, default=1, help="agentrun serve --workers")
    parser.add_argument("--max-calls", type=int, default=1000, help="agentrun serve --max-calls")
    parser.add_argument("--keep", type=Path, help="keep logs and raw results here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="agentrun-serve-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    speech = speech_file(folder)
    rows = []
    for calls in [int(n) for n in args.calls.split(",")]:
        for server in args.servers.split(","):
            if server == "pipecat":
                try:
                    import pipecat  # noqa: F401
                except ImportError:
                    rows.append({"server": "pipecat: not installed", "calls": calls})
                    continue
            print(f"[bench] {server} × {calls} calls, {args.hold:g} s", file=sys.stderr,
                  flush=True)
            try:
                rows.append(run_one(server, calls, args, folder, speech))
            except (RuntimeError, OSError, ValueError) as exc:
                rows.append({"server": f"{server}: {exc}", "calls": calls})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(table(rows))
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPU(s); hold {args.hold:g} s after a {args.ramp:g} s ramp; "
          f"agentrun --workers {args.workers} --max-calls {args.max_calls}; "
          f"load average at the end {load[0]:.2f} {load[1]:.2f}; logs in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
