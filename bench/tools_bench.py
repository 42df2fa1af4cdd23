"""Tools benchmark: start-up cost with many plugins installed, and per-call overhead.

Prints numbers; not a test. Run from the repository root with the project venv:

    .venv/bin/python bench/tools_bench.py [--runs 15] [--calls 20000]

1. Import-to-ready: fresh ``python -c`` processes that import agentrun, load an agent file naming
   one plugin tool and run ``ToolRegistry.for_spec`` on it, with 1 and with 50 plugins installed
   (fake but real ``*.dist-info`` distributions with entry points, on PYTHONPATH). Reported: wall
   time from process spawn to exit, and the in-script time (first statement → registry ready).
2. Call overhead: ``await registry.call(...)`` of a trivial sync tool (runs in a worker thread)
   and a trivial async tool, from arguments received (JSON text) to output ready.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

__all__ = ["main"]

_READY_SCRIPT = """
import time
start = time.perf_counter()
from agentrun.spec import load_spec
from agentrun.tools import ToolRegistry
imported = time.perf_counter()
spec = load_spec({agent!r})
loaded = time.perf_counter()
registry = ToolRegistry.for_spec(spec)
ready = time.perf_counter()
assert not registry.problems and registry.function_names == {{"tool_0"}}, registry.problems
print(imported - start, loaded - imported, ready - loaded, ready - start)
"""


def _make_plugins(root: Path, count: int) -> None:
    """``count`` distributions ``bench-plugin-i`` each providing ``tool_i`` from its module."""
    for i in range(count):
        info = root / f"bench_plugin_{i}-1.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: bench-plugin-{i}\nVersion: 1.0.0\n")
        (info / "entry_points.txt").write_text(
            f"[agentrun.tools]\ntool_{i} = bench_plugin_{i}:tool_{i}\n")
        (root / f"bench_plugin_{i}.py").write_text(textwrap.dedent(f'''
            def tool_{i}(text: str, times: int = 1) -> str:
                """Repeat a text.

                Args:
                    text: What to repeat.
                    times: How often.
                """
                return text * times
            '''))


def _ready_times(counts: tuple[int, ...], runs: int) -> dict[int, list[list[float]]]:
    """Per plugin count and run: [spawn→exit, imports, load_spec, for_spec, start→ready] s.

    Runs alternate between the plugin counts so that load from other processes on the machine
    hits every count alike.
    """
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        agent = root / "agent.yaml"
        agent.write_text("name: Bench\ninstructions: Be quick.\ntools:\n  - tool_0\n")
        script = _READY_SCRIPT.format(agent=str(agent))
        envs = {}
        for count in counts:
            site = root / f"site{count}"
            site.mkdir()
            _make_plugins(site, count)
            envs[count] = {**os.environ, "PYTHONPATH": str(site)}
        samples: dict[int, list[list[float]]] = {count: [] for count in counts}
        for run in range(runs + 1):
            for count in counts:
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-c", script], env=envs[count],
                                      check=True, capture_output=True, text=True)
                wall = time.perf_counter() - start
                if run > 0:  # the first run also writes the plugins' bytecode caches
                    samples[count].append([wall, *map(float, done.stdout.split())])
    return samples


def _trivial_sync(x: int) -> int:
    """Return x."""
    return x


async def _trivial_async(x: int) -> int:
    """Return x."""
    return x


async def _call_times(calls: int) -> dict[str, list[float]]:
    from agentrun.tools import ToolRegistry

    registry = ToolRegistry.from_functions(_trivial_sync, _trivial_async)
    results: dict[str, list[float]] = {}
    for name in ("_trivial_sync", "_trivial_async"):
        for _ in range(500):  # warm-up: thread pool started, caches filled
            await registry.call(name, '{"x": 1}', call_id="warm")
        samples = []
        for i in range(calls):
            start = time.perf_counter_ns()
            result = await registry.call(name, '{"x": 7}', call_id=f"call_{i}")
            samples.append((time.perf_counter_ns() - start) / 1000)
            assert result.output == "7"
        results[name] = samples
    return results


def _p(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    """Run both benchmarks and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per plugin count")
    parser.add_argument("--calls", type=int, default=20_000, help="calls per tool")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {sys.platform}")
    print(f"\nimport-to-ready (agent naming 1 tool), median of {args.runs} fresh processes:")
    columns = ("spawn→exit", "imports", "load_spec", "for_spec", "start→ready")
    print(f"{'plugins':>8}" + "".join(f"{c + ' ms':>16}" for c in columns))
    for count, samples in _ready_times((1, 50), args.runs).items():
        medians = [statistics.median(column) * 1000 for column in zip(*samples, strict=True)]
        print(f"{count:>8}" + "".join(f"{m:>16.1f}" for m in medians))
    print(f"\ncall overhead (await registry.call, JSON arguments → output), {args.calls} calls:")
    print(f"{'tool':>15}  {'median µs':>10}  {'p99 µs':>8}  {'mean µs':>8}")
    for name, micros in asyncio.run(_call_times(args.calls)).items():
        print(f"{name.strip('_'):>15}  {statistics.median(micros):>10.1f}  "
              f"{_p(micros, 0.99):>8.1f}  {statistics.fmean(micros):>8.1f}")


if __name__ == "__main__":
    main()
