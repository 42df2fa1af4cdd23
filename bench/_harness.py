"""Process plumbing for `compare.py`: the simulator process, client processes, the trace.

Every figure is read from what the server sees (the simulator's ``--trace`` lines carry
``time.perf_counter_ns()``, which on Linux is ``CLOCK_MONOTONIC``, one clock for every process
on the machine) or from the kernel (``/proc/PID/task/*/schedstat``, ``wait4`` rusage,
``/proc/PID/status``), never from a client's own report, so every client is measured the same
way.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

__all__ = [
    "BENCH",
    "ROOT",
    "BenchError",
    "Client",
    "Finished",
    "SimProcess",
    "check_clock",
    "compile_sources",
    "read_status_kib",
    "run_client",
    "run_timed",
    "start_idle_client",
    "trace_since",
    "workspace",
]

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
_TIMEOUT = 600.0


class BenchError(RuntimeError):
    """A benchmark step failed; the message says which client, which step and why."""


def check_clock() -> None:
    """Refuse to compare timestamps across processes unless perf_counter is CLOCK_MONOTONIC.

    Raises:
        BenchError: perf_counter is another clock here (not Linux?), so the simulator's trace
            times and this process's spawn times would not be comparable.
    """
    impl = time.get_clock_info("perf_counter").implementation
    if "CLOCK_MONOTONIC" not in impl or "RAW" in impl:
        raise BenchError(f"perf_counter is {impl}, not CLOCK_MONOTONIC: cannot compare the "
                         "simulator's trace times with spawn times across processes")


def compile_sources(paths: Sequence[pathlib.Path]) -> None:
    """Byte-compile source trees (the editable agentrun install, the bench scripts), as a
    regular ``pip install`` does for every installed package, before any timing."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *map(str, paths)], check=True,
                   env=_environ({}), stdout=subprocess.DEVNULL)


@dataclass(frozen=True)
class Client:
    """How to start one benchmarked client.

    Attributes:
        name: column name (floor, agentrun, pipecat).
        run_argv: argv for one call against URL (``{url}`` is substituted).
        idle_argv: argv for N idle calls in one process (``{url}``, ``{calls}`` substituted).
        stdin: what the one-call run reads on stdin (agentrun's --text console), or None.
        env: extra environment variables.
        available: False with `why` when it cannot run here (pipecat not installed).
        why: the reason shown in its column when not available.
    """

    name: str
    run_argv: tuple[str, ...]
    idle_argv: tuple[str, ...]
    stdin: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    available: bool = True
    why: str = ""

    def argv(self, template: Sequence[str], **values: object) -> list[str]:
        """Substitute ``{url}``/``{calls}`` into an argv template."""
        return [part.format(**values) for part in template]


@dataclass(frozen=True)
class Finished:
    """One finished client process.

    Attributes:
        spawn_ns: perf_counter_ns just before the fork.
        cpu_s: user + sys CPU of its whole life (``wait4`` rusage).
        wall_s: spawn to exit.
        samples: (perf_counter_ns, CPU ns so far) read from ``/proc/PID/task/*/schedstat``
            about every 2 ms while it ran.
    """

    spawn_ns: int
    cpu_s: float
    wall_s: float
    samples: tuple[tuple[int, int], ...] = ()

    def cpu_until(self, t_ns: int) -> float:
        """CPU seconds used from spawn to `t_ns` (a server trace time), interpolated.

        Raises:
            BenchError: no sample brackets `t_ns`.
        """
        return self.cpu_s - self.cpu_after(t_ns)

    def cpu_after(self, t_ns: int) -> float:
        """CPU seconds used from `t_ns` (a server trace time) to exit.

        Cutting at a moment the client is waiting for the server (``response.created``)
        leaves interpreter start-up and imports, the noisiest part of a process's CPU, out.

        Raises:
            BenchError: no sample brackets `t_ns`.
        """
        before = [s for s in self.samples if s[0] <= t_ns]
        after = [s for s in self.samples if s[0] >= t_ns]
        if not before or not after:
            raise BenchError("no CPU sample around the cut point (client ran too briefly)")
        (t0, c0), (t1, c1) = before[-1], after[0]
        at = c0 if t1 == t0 else c0 + (c1 - c0) * (t_ns - t0) / (t1 - t0)
        return self.cpu_s - at / 1e9


def _environ(extra: dict[str, str]) -> dict[str, str]:
    """The child's environment: ours plus `extra`, with bytecode caching on.

    Any value of PYTHONDONTWRITEBYTECODE (even "0") turns caching off; a client then compiles
    its own modules from source at every start while pip-installed ones load cached bytecode,
    which would make cold start and import figures unfair to an editable install.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def _stderr_tail(path: pathlib.Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


def run_client(client: Client, url: str, workdir: pathlib.Path, label: str) -> Finished:
    """Run one call of `client` to completion; return its spawn time and CPU (user + sys).

    The CPU comes from ``wait4`` on exactly this child (its whole life: interpreter start,
    imports, the call, teardown), so the caller subtracts a baseline run of the same client.

    Args:
        client: the client to run.
        url: the simulator's URL.
        workdir: where the child's stderr goes.
        label: names the step in errors.

    Returns:
        Spawn time (perf_counter_ns just before fork), CPU seconds and wall seconds.

    Raises:
        BenchError: the client exited non-zero or did not finish in time.
    """
    err_path = workdir / f"{client.name}-{label}.stderr"
    with open(err_path, "wb") as err:
        spawn_ns = time.perf_counter_ns()
        proc = subprocess.Popen(client.argv(client.run_argv, url=url),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err,
                                env=_environ(client.env), cwd=ROOT)
        assert proc.stdin is not None
        if client.stdin is not None:
            proc.stdin.write(client.stdin.encode())
        proc.stdin.close()
        deadline = time.monotonic() + _TIMEOUT
        samples: list[tuple[int, int]] = []
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            cpu = _cpu_ns(proc.pid)
            if cpu is not None:
                samples.append((time.perf_counter_ns(), cpu))
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                raise BenchError(f"{client.name} {label}: no exit after {_TIMEOUT:.0f} s\n"
                                 + _stderr_tail(err_path))
            time.sleep(0.002)
        end_ns = time.perf_counter_ns()
        wall = (end_ns - spawn_ns) / 1e9
        # the exit is the last sample, so a cut point after the last poll still has one after it
        samples.append((end_ns, round((usage.ru_utime + usage.ru_stime) * 1e9)))
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"{client.name} {label}: exit {proc.returncode}\n"
                         + _stderr_tail(err_path))
    return Finished(spawn_ns, usage.ru_utime + usage.ru_stime, wall, tuple(samples))


def _cpu_ns(pid: int) -> int | None:
    """CPU ns used so far by every thread of `pid` (schedstat), or None if it is exiting."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        total = 0
        for task in tasks:
            with open(f"/proc/{pid}/task/{task}/schedstat", "rb") as f:
                total += int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total


def run_timed(argv: Sequence[str], env: dict[str, str]) -> tuple[int, float]:
    """Run a short command; return its wall ns and CPU seconds (user + sys, ``wait4``).

    Raises:
        BenchError: it exited non-zero.
    """
    t0 = time.perf_counter_ns()
    proc = subprocess.Popen(list(argv), env=_environ(env), cwd=ROOT, stdin=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter_ns() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise BenchError(f"{' '.join(argv)}: exit {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def start_idle_client(client: Client, url: str, calls: int,
                      workdir: pathlib.Path) -> subprocess.Popen[bytes]:
    """Start `calls` idle calls of `client` in one process and wait for its ``ready`` line.

    Args:
        client: the client.
        url: the simulator's URL.
        calls: how many simultaneous calls.
        workdir: where the child's stderr goes.

    Returns:
        The running process (close its stdin to end it).

    Raises:
        BenchError: it exited or did not print ``ready`` in time.
    """
    err_path = workdir / f"{client.name}-idle{calls}.stderr"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(client.argv(client.idle_argv, url=url, calls=calls),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                env=_environ(client.env), cwd=ROOT)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if line != "ready":
        proc.kill()
        proc.wait()
        raise BenchError(f"{client.name} idle x{calls}: expected 'ready', got {line!r}\n"
                         + _stderr_tail(err_path))
    return proc


def read_status_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a live process, in KiB, from ``/proc/PID/status``."""
    out: dict[str, int] = {}
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def trace_since(path: pathlib.Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete trace lines written after byte `offset`; returns them and the new offset."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    end = data.rfind(b"\n") + 1
    lines = [json.loads(x) for x in data[:end].splitlines() if x.strip()]
    return lines, offset + end


class SimProcess:
    """``agentrun sim --port 0 --scenario FILE --trace FILE`` in its own process.

    Args:
        scenario: the scenario as a dict (written to a YAML file in `workdir`).
        workdir: where the scenario, trace and sim stderr go.
        label: file-name stem.
        agentrun: the ``agentrun`` executable.
    """

    def __init__(self, scenario: dict[str, Any], workdir: pathlib.Path, label: str,
                 agentrun: str) -> None:
        self.scenario_path = workdir / f"{label}.scenario.yaml"
        self.trace_path = workdir / f"{label}.trace.jsonl"
        self.err_path = workdir / f"{label}.sim.stderr"
        self.scenario_path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        self.trace_path.write_bytes(b"")
        self._argv = [agentrun, "sim", "--port", "0", "--scenario", str(self.scenario_path),
                      "--trace", str(self.trace_path)]
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.offset = 0

    def __enter__(self) -> SimProcess:
        with open(self.err_path, "wb") as err:
            self._proc = subprocess.Popen(self._argv, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
        assert self._proc.stdout is not None
        first = self._proc.stdout.readline().decode().strip()
        prefix = "listening on "
        if not first.startswith(prefix):
            self._stop()
            raise BenchError(f"agentrun sim: expected 'listening on ws://…', got {first!r}\n"
                             + _stderr_tail(self.err_path))
        self.url = first[len(prefix):]
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    def events(self, until: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        """The trace lines since the last call, once `count` events of type `until` are in.

        The simulator flushes its trace when a connection ends, so this polls until the
        events the step expects have landed.

        Args:
            until: an event type (``response.done``) whose arrival ends the step.
            count: how many of them to wait for.
            timeout: seconds before giving up.

        Returns:
            The new trace lines, in order.

        Raises:
            BenchError: they did not appear in time.
        """
        lines: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            new, self.offset = trace_since(self.trace_path, self.offset)
            lines += new
            if sum(1 for x in lines if x["type"] == until) >= count:
                return lines
            if time.monotonic() > deadline:
                raise BenchError(f"trace {self.trace_path}: expected {count} x {until}, got "
                                 f"{sum(1 for x in lines if x['type'] == until)}")
            time.sleep(0.01)


@contextlib.contextmanager
def workspace(keep: pathlib.Path | None) -> Iterator[pathlib.Path]:
    """A directory for scenarios, traces and stderr: `keep` if given, else a temporary one."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="agentrun-bench-") as tmp:
        yield pathlib.Path(tmp)


if __name__ == "__main__":  # pragma: no cover - a helper module, not a script
    sys.exit("run bench/compare.py")
