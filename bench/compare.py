"""agentrun vs pipecat vs the raw floor, against the same simulator: one command, one table.

    .venv-bench/bin/python bench/compare.py            # the full run (several minutes)
    .venv-bench/bin/python bench/compare.py --quick    # a handful of iterations (smoke test)

The simulator runs in its own process (``agentrun sim --port 0 --scenario … --trace …``); each
client runs in its own process, in turn (floor, agentrun, pipecat, floor, …) so drift hits all
three alike. Times are what the server saw (its trace), CPU is the kernel's account of the client
process (``/proc/PID/task/*/schedstat`` while it runs, ``wait4`` rusage at exit), memory is
``/proc/PID/status``. See bench/README.md for what each figure is and how pipecat is driven.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from _harness import (
    BENCH,
    BenchError,
    Client,
    SimProcess,
    check_clock,
    compile_sources,
    read_status_kib,
    run_client,
    run_timed,
    start_idle_client,
    workspace,
)
from _report import Figures, render

__all__ = ["Plan", "main"]


@dataclass(frozen=True)
class Plan:
    """How much of everything to run."""

    reps: int              # A/B/C alternations of the tool and paced audio figures
    audio_reps: int        # A/B/C alternations of the unpaced audio figure
    tool_calls: int        # calls per tool run
    fast_deltas: int       # audio deltas per unpaced run
    paced_deltas: int      # audio deltas per real-time run (20 ms each)
    cold_runs: int         # cold start / baseline runs per client
    import_runs: int       # bare import timings per client
    idle_calls: tuple[int, ...]  # simultaneous calls for the memory figure


FULL = Plan(reps=3, audio_reps=5, tool_calls=1000, fast_deltas=10_000, paced_deltas=1_500,
            cold_runs=10, import_runs=10, idle_calls=(1, 10, 100))
QUICK = Plan(reps=1, audio_reps=1, tool_calls=20, fast_deltas=500, paced_deltas=10, cold_runs=2,
             import_runs=2, idle_calls=(1, 4))

IMPORTS = {
    "floor": "import json, base64, websockets.asyncio.client",
    # everything `agentrun FILE --text --url …` imports before it connects (the CLI module
    # itself imports little: the rest is imported inside the command)
    "agentrun": "import agentrun.cli.run, agentrun.spec, agentrun.tools, agentrun.engine.session,"
                " agentrun.io",
    "pipecat": "import pipecat.services.xai.realtime.llm",
}


def _ping_plugin_env(workdir: pathlib.Path) -> dict[str, str]:
    """Make the bench ``ping`` plugin findable when it is not pip-installed (CI, smoke test).

    Builds a throw-away ``.dist-info`` with the plugin's entry point next to its source, so
    agentrun still finds ``ping`` through the ``agentrun.tools`` entry-point group, exactly as
    it finds an installed plugin. With the bench venv (``pip install -r bench/requirements.txt``)
    the plugin is installed and this returns nothing.
    """
    from importlib.metadata import entry_points

    if any(ep.name == "ping" for ep in entry_points(group="agentrun.tools")):
        return {}
    src = BENCH / "plugins" / "agentrun-bench-ping" / "src"
    shim = workdir / "ping-plugin-metadata"
    info = shim / "agentrun_bench_ping-0.1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: agentrun-bench-ping\n"
                                   "Version: 0.1.0\n")
    (info / "entry_points.txt").write_text("[agentrun.tools]\nping = agentrun_bench_ping:ping\n")
    path = os.pathsep.join(x for x in (str(src), str(shim), os.environ.get("PYTHONPATH")) if x)
    return {"PYTHONPATH": path}


CLIENTS = ("floor", "agentrun", "pipecat")


def clients(selected: Sequence[str], workdir: pathlib.Path, agentrun: str) -> list[Client]:
    """The benchmarked clients, in alternation order, each started with this interpreter.

    Args:
        selected: client names, a subset of ``CLIENTS``.
        workdir: where the run keeps its files.
        agentrun: the ``agentrun`` executable.

    Returns:
        One :class:`Client` per name; pipecat is marked unavailable when it is not installed.
    """
    py = sys.executable
    out: list[Client] = []
    for name in selected:
        if name == "floor":
            script = str(BENCH / "floor_client.py")
            out.append(Client("floor", (py, script, "--url", "{url}", "--text", "ping"),
                              (py, script, "--url", "{url}", "--mode", "idle",
                               "--calls", "{calls}")))
        elif name == "agentrun":
            out.append(Client(
                "agentrun",
                (agentrun, str(BENCH / "agents" / "ping.yaml"), "--text", "--url", "{url}"),
                (py, str(BENCH / "agentrun_sessions.py"), "--url", "{url}",
                 "--calls", "{calls}"),
                stdin="ping\n", env=_ping_plugin_env(workdir)))
        elif name == "pipecat":
            script = str(BENCH / "pipecat_client.py")
            found = importlib.util.find_spec("pipecat") is not None
            out.append(Client("pipecat", (py, script, "--url", "{url}", "--text", "ping"),
                              (py, script, "--url", "{url}", "--mode", "idle",
                               "--calls", "{calls}"),
                              available=found, why="not installed"))
    return out


def _created(lines: list[dict[str, object]]) -> int:
    """Server time of the last ``response.created`` (the reply being measured)."""
    return max(int(x["t_ns"]) for x in lines  # type: ignore[call-overload]
               if x["dir"] == "out" and x["type"] == "response.created")


def tool_round_trips(lines: list[dict[str, object]]) -> tuple[list[int], list[int]]:
    """From a trace: ns from each ``function_call_arguments.done`` out to its output in, and
    to the next ``response.create`` in."""
    sent: dict[object, int] = {}
    to_output: list[int] = []
    to_create: list[int] = []
    waiting: int | None = None
    for line in lines:
        kind, t = line["type"], int(line["t_ns"])  # type: ignore[call-overload]
        if line["dir"] == "out" and kind == "response.function_call_arguments.done":
            sent[line.get("call_id")] = t
        elif line["dir"] == "in" and kind == "conversation.item.create" and \
                line.get("call_id") in sent:
            start = sent.pop(line.get("call_id"))
            to_output.append(t - start)
            waiting = start
        elif line["dir"] == "in" and kind == "response.create" and waiting is not None:
            to_create.append(t - waiting)
            waiting = None
    return to_output, to_create


class Bench:
    """Runs every figure for every client and collects them into :class:`Figures`."""

    def __init__(self, plan: Plan, chosen: list[Client], workdir: pathlib.Path,
                 agentrun: str, log: Callable[[str], None]) -> None:
        self.plan, self.clients, self.workdir = plan, chosen, workdir
        self.agentrun, self.log = agentrun, log
        self.fig = Figures([c.name for c in chosen], {c.name: c.why for c in chosen
                                                     if not c.available})
        self.live = [c for c in chosen if c.available]

    def sim(self, scenario: dict[str, object], label: str) -> SimProcess:
        return SimProcess({"ping_interval": None, **scenario}, self.workdir, label,
                          self.agentrun)

    def tools(self) -> None:
        scenario = {"audio": {"chunk_ms": 20, "pace": "fast"}, "responses": [
            {"call": "ping", "arguments": {}, "repeat": self.plan.tool_calls},
            {"say": "Done.", "audio_ms": 20}]}
        for rep in range(self.plan.reps):
            for c in self.live:
                self.log(f"tool round trip: {c.name} (rep {rep + 1}/{self.plan.reps})")
                with self.sim(scenario, f"tools-{c.name}-{rep}") as sim:
                    done = run_client(c, sim.url, self.workdir, f"tools{rep}")
                    lines = sim.events("response.done", self.plan.tool_calls + 1)
                out, create = tool_round_trips(lines)
                if len(out) != self.plan.tool_calls or len(create) != self.plan.tool_calls:
                    raise BenchError(f"{c.name}: {len(out)} outputs / {len(create)} creates "
                                     f"for {self.plan.tool_calls} calls")
                self.fig.add(c.name, "tool_output", out)
                self.fig.add(c.name, "tool_create", create)
                self.fig.add(c.name, "tool_create_first", create[:100])
                first = min(int(x["t_ns"]) for x in lines  # type: ignore[call-overload]
                            if x["dir"] == "out" and x["type"] == "response.created")
                self.fig.add(c.name, "tool_cpu", [done.cpu_after(first) / self.plan.tool_calls])

    def cold(self) -> None:
        """Cold start (spawn → first session.update) and the no-audio baseline CPU."""
        quiet = {"audio": {"chunk_ms": 20, "pace": "fast"},
                 "responses": [{"say": "Okay.", "audio_ms": 0, "repeat": 1_000_000}]}
        with self.sim(quiet, "cold") as sim:
            for rep in range(self.plan.cold_runs):
                for c in self.live:
                    self.log(f"cold start: {c.name} ({rep + 1}/{self.plan.cold_runs})")
                    done = run_client(c, sim.url, self.workdir, f"cold{rep}")
                    lines = sim.events("response.done")
                    first = next(x for x in lines
                                 if x["dir"] == "in" and x["type"] == "session.update")
                    self.fig.add(c.name, "cold_ns", [int(first["t_ns"]) - done.spawn_ns])
                    self.fig.add(c.name, "cold_cpu", [done.cpu_until(int(first["t_ns"]))])
                    self.fig.add(c.name, "baseline_cpu", [done.cpu_after(_created(lines))])

    def audio(self, paced: bool) -> None:
        deltas = self.plan.paced_deltas if paced else self.plan.fast_deltas
        words = " ".join(f"word{i}" for i in range(max(1, deltas // 12)))  # ~2.5 words/s
        scenario = {"audio": {"chunk_ms": 20, "pace": "realtime" if paced else "fast"},
                    "responses": [{"say": words, "audio_ms": 20 * deltas}]}
        key = "audio_paced" if paced else "audio_fast"
        for rep in range(max(1, self.plan.reps - 1) if paced else self.plan.audio_reps):
            for c in self.live:
                self.log(f"audio {'paced' if paced else 'fast'}: {c.name} ({deltas} deltas)")
                with self.sim(scenario, f"{key}-{c.name}-{rep}") as sim:
                    done = run_client(c, sim.url, self.workdir, f"{key}{rep}")
                    lines = sim.events("response.done")
                got = sum(1 for x in lines if x["type"] == "response.output_audio.delta")
                if got != deltas:
                    raise BenchError(f"{c.name}: server sent {got} audio deltas, not {deltas}")
                self.fig.add(c.name, key, [done.cpu_after(_created(lines))])
        self.fig.deltas[key] = deltas

    def imports(self) -> None:
        py = sys.executable
        for _ in range(self.plan.import_runs):
            for c in [None, *self.live]:
                code = "pass" if c is None else IMPORTS[c.name]
                wall, cpu = run_timed([py, "-c", code], c.env if c else {})
                name = "python" if c is None else c.name
                self.fig.add(name, "import_ns", [wall])
                self.fig.add(name, "import_cpu", [cpu])

    def memory(self) -> None:
        reply = {"audio": {"chunk_ms": 20, "pace": "fast"},
                 "responses": [{"say": "Hello, how can I help?", "audio_ms": 1000,
                                "repeat": 1_000_000}]}
        with self.sim(reply, "memory") as sim:
            for calls in self.plan.idle_calls:
                for c in self.live:
                    self.log(f"memory: {c.name} with {calls} idle call(s)")
                    proc = start_idle_client(c, sim.url, calls, self.workdir)
                    try:
                        time.sleep(0.5)  # let the last replies' buffers be released
                        self.fig.add(c.name, f"rss_{calls}", [read_status_kib(proc.pid)["VmRSS"]])
                    finally:
                        assert proc.stdin is not None
                        proc.stdin.close()
                        try:
                            proc.wait(timeout=30)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                            proc.wait()
        self.fig.idle_calls = self.plan.idle_calls


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print the table.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        0 on success, 1 when a step failed (the message says which).
    """
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a handful of iterations")
    parser.add_argument("--clients", default="floor,agentrun,pipecat",
                        help="comma-separated subset of floor,agentrun,pipecat")
    parser.add_argument("--only", default="tools,audio,paced,cold,import,memory",
                        help="comma-separated subset of figures")
    parser.add_argument("--keep", type=pathlib.Path, help="keep traces and logs in this dir")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    only = set(args.only.split(","))
    selected = [name for name in args.clients.split(",") if name]
    unknown = sorted(set(selected) - set(CLIENTS) | only - {"tools", "audio", "paced", "cold",
                                                            "import", "memory"})
    if unknown:
        parser.error(f"unknown client or figure: {', '.join(unknown)}")
    agentrun = shutil.which("agentrun", path=str(pathlib.Path(sys.executable).parent)) or \
        shutil.which("agentrun")
    if agentrun is None:
        print("compare: no `agentrun` executable next to this Python", file=sys.stderr)
        return 1

    def log(message: str) -> None:
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    try:
        check_clock()
        spec = importlib.util.find_spec("agentrun")
        assert spec is not None and spec.origin is not None
        compile_sources([pathlib.Path(spec.origin).parent, BENCH])
        with workspace(args.keep) as workdir:
            chosen = clients(selected, workdir, agentrun)
            bench = Bench(plan, chosen, workdir, agentrun, log)
            steps = {"tools": bench.tools, "cold": bench.cold,
                     "audio": lambda: bench.audio(False), "paced": lambda: bench.audio(True),
                     "import": bench.imports, "memory": bench.memory}
            for name, step in steps.items():
                if name in only:
                    step()
    except BenchError as exc:
        print(f"compare: {exc}", file=sys.stderr)
        return 1
    if args.keep is not None:
        samples = {f"{client}/{figure}": values
                   for (client, figure), values in bench.fig.samples.items()}
        (args.keep / "samples.json").write_text(json.dumps(samples))
    print(render(bench.fig, plan_note=_plan_note(plan) + "\n" + machine()))
    return 0


def machine() -> str:
    """One line naming the machine and versions the table was measured with."""
    from importlib.metadata import PackageNotFoundError, version

    def ver(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "not installed"

    cpu = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {os.cpu_count()} CPU(s), {cpu}; Python {sys.version.split()[0]}; "
            f"pipecat-ai {ver('pipecat-ai')}; websockets {ver('websockets')}; "
            f"pydantic {ver('pydantic')}; load average at the end {load}")


def _plan_note(plan: Plan) -> str:
    return (f"{plan.reps} alternation(s) ({plan.audio_reps} for unpaced audio, "
            f"{max(1, plan.reps - 1)} for paced); tool: {plan.tool_calls} calls/run; audio: "
            f"{plan.fast_deltas} unpaced and {plan.paced_deltas} paced 20 ms deltas/run; cold: "
            f"{plan.cold_runs} runs; import: {plan.import_runs} runs; idle calls: "
            f"{', '.join(map(str, plan.idle_calls))}")


if __name__ == "__main__":
    sys.exit(main())
