"""Run scenarios: each its own call, with fresh state, under a time limit that always ends it.

Offline (the default) every scenario run gets its own embedded simulator, scripted turn by turn
from the test file's ``model:`` lines. Live (``--live`` or a ``--url``) it talks to that service
and the script is ignored: only the expectations count. A scenario that runs out of time is
stopped and says where (connecting, waiting for the greeting, waiting for the reply to turn 2,
a tool still running); a second, wider limit covers the clean-up, so nothing here can hang.
A refused key or exhausted quota (``ServiceError``) ends the whole run: no later scenario
could pass. Imports the agent, the simulator (offline) and the test modules.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from agentrun.errors import AgentrunError, ServiceError
from agentrun.testing._caller import ScriptedCaller
from agentrun.testing._expect import Failure, check_scenario, describe_calls
from agentrun.testing._load import ScenarioPlan, TestSuite
from agentrun.testing._mocks import MockedTools
from agentrun.testing._models import Turn
from agentrun.testing._record import Recorder

__all__ = ["Mode", "RunResult", "ScenarioResult", "run_scenario", "run_suites", "select"]

_CLEANUP_GRACE = 30.0  # seconds clean-up (closing sockets, the simulator) may add to a limit


@dataclass(frozen=True)
class Mode:
    """Where scenarios run.

    Attributes:
        live: talk to a real service (Grok, or ``url``); the scripted model lines are ignored.
        url: the realtime endpoint for live runs (None: Grok).
        api_key: the API key for live runs (None: read from ``api_key_env``).
        api_key_env: where the key comes from (never printed).
        timeout: seconds per scenario for every scenario (None: each file's own).
    """

    live: bool = False
    url: str | None = None
    api_key: str | None = None
    api_key_env: str = "XAI_API_KEY"
    timeout: float | None = None


@dataclass
class RunResult:
    """One run of one scenario.

    Attributes:
        failure: why it failed, or None when it passed.
        conversation: what was said and done, as ``(who, text)`` lines.
        seconds: how long it took.
    """

    failure: Failure | None
    conversation: list[tuple[str, str]]
    seconds: float

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return self.failure is None


@dataclass
class ScenarioResult:
    """Every run of one scenario (one unless ``--repeat``).

    Attributes:
        plan: the scenario.
        runs: its runs, in order.
        min_pass_rate: the share of runs that must pass (1.0: all).
    """

    plan: ScenarioPlan
    runs: list[RunResult] = field(default_factory=list)
    min_pass_rate: float = 1.0

    @property
    def passed_runs(self) -> int:
        """How many runs passed."""
        return sum(run.passed for run in self.runs)

    @property
    def passed(self) -> bool:
        """True when enough runs passed."""
        return bool(self.runs) and self.passed_runs >= self.min_pass_rate * len(self.runs) - 1e-9

    @property
    def first_failure(self) -> tuple[int, RunResult] | None:
        """The first failed run (1-based number, result), or None."""
        return next(((n, run) for n, run in enumerate(self.runs, 1) if not run.passed), None)

    @property
    def seconds(self) -> float:
        """Time spent in all runs."""
        return sum(run.seconds for run in self.runs)


def _entries(turn: Turn) -> list[object]:
    """What the simulated model does for a turn, as simulator scenario entries."""
    from agentrun.sim import Scenario

    script = turn.model
    if script is None:
        return []  # the simulator's templated default reply
    calls = script.all_calls
    if calls:
        responses: list[dict[str, object]] = [
            {"calls": [{"name": c.name, "arguments": c.arguments} for c in calls]},
            {} if script.then is None else {"say": script.then}]
    else:
        responses = [{"say": script.say}]
    return list(Scenario.load({"responses": responses}).entries)


async def run_scenario(plan: ScenarioPlan, mode: Mode = Mode()) -> RunResult:
    """Run one scenario once, as its own call.

    Args:
        plan: the scenario.
        mode: offline or live.

    Returns:
        The result (a timeout or a lost connection is a failed result, not an exception).

    Raises:
        ServiceError: the service refused the API key or the quota is used up.
    """
    recorder = Recorder()
    mocks = MockedTools(plan.mocks)
    simulators: list[object] = []

    def before_turn(turn: Turn) -> None:
        for sim in simulators:
            sim.script(_entries(turn))  # type: ignore[attr-defined]

    caller = ScriptedCaller(plan.spec.turns, recorder, audio_path=plan.audio_path,
                            before_turn=None if mode.live else before_turn, realtime=mode.live)
    limit = mode.timeout or plan.timeout
    started = time.monotonic()
    stopped: Failure | None = None
    try:
        async with asyncio.timeout(limit + _CLEANUP_GRACE):
            try:
                async with asyncio.timeout(limit) as scope:
                    await _call(plan, mode, caller, recorder, mocks, simulators)
            except TimeoutError:
                if not scope.expired():
                    raise
                stopped = Failure(f"did not finish within {limit:g} s: stopped while "
                                  f"{_where(caller, recorder, mode)} (timeout: in the test "
                                  "file sets the limit)")
    except ServiceError:
        raise
    except TimeoutError:
        stopped = stopped or Failure(f"did not finish within {limit:g} s, and closing the call "
                                     "took too long")
    except AgentrunError as exc:
        if recorder.result is not None:  # the call ran and ended on a failure: say why
            recorder.end_reason = " ".join(str(exc).split())
        else:
            stopped = Failure(f"the call could not start: {exc}")
    if recorder.ended_by_agent and stopped is None:
        reason = recorder.end_reason or str(getattr(recorder.result, "reason", "") or "")
        recorder.note(f"the call ended: {reason or 'no reason given'}")
    failure = check_scenario(plan, recorder, mocks, stopped)
    return RunResult(failure, list(recorder.lines), time.monotonic() - started)


async def _call(plan: ScenarioPlan, mode: Mode, caller: ScriptedCaller, recorder: Recorder,
                mocks: MockedTools, simulators: list[object]) -> None:
    async with contextlib.AsyncExitStack() as stack:
        url = mode.url
        api_key = mode.api_key
        if not mode.live:
            from agentrun.sim import Simulator

            simulator = await stack.enter_async_context(Simulator())
            simulators.append(simulator)
            url, api_key = simulator.url, "offline"  # never send a real key to the simulator
        # opened here (not by Agent.run) so the mocks stand in front of the opened tools
        mocks.registry = await stack.enter_async_context(
            plan.agent.tools.open(report=lambda level, text: caller.show_status(
                "error" if level == "error" else "warning" if level == "warning" else "info",
                text)))
        result = await plan.agent.run(caller, url=url, api_key=api_key,
                                      api_key_env=mode.api_key_env, call=plan.call,
                                      channel="test", observers=[recorder], now=plan.now,
                                      tools=mocks,  # type: ignore[arg-type]  # a ToolRunner
                                      open_tools=mocks.registry)
        if result.exit_code == ServiceError.exit_code:
            raise ServiceError(result.reason)


def _where(caller: ScriptedCaller, recorder: Recorder, mode: Mode) -> str:
    """Where a scenario stopped, in words."""
    if not recorder.connected:
        target = (mode.url or "Grok") if mode.live else "the embedded simulator"
        return f"connecting to the realtime service ({target.split('?')[0]})"
    if not recorder.ready:
        return "waiting for the realtime service to set up the session"
    where = caller.where
    running = recorder.running()
    if running:
        longest = time.monotonic() - min(call.started for call in running)
        verb = "was" if len(running) == 1 else "were"
        where += f"; tool {describe_calls(running)} {verb} still running after {longest:.1f} s"
    return where


def select(suites: Iterable[TestSuite], keywords: Sequence[str] = ()) -> list[ScenarioPlan]:
    """The scenarios to run: all, or those whose name (or ``FILE::NAME``) contains a keyword.

    Args:
        suites: the loaded files.
        keywords: ``-k`` values; case is ignored; empty selects everything.

    Returns:
        The scenarios, in file order.
    """
    plans = [plan for suite in suites for plan in suite.plans]
    if not keywords:
        return plans
    wanted = [word.casefold() for word in keywords]
    return [plan for plan in plans if any(word in plan.id.casefold() for word in wanted)]


async def run_suites(plans: Sequence[ScenarioPlan], mode: Mode = Mode(), *, repeat: int = 1,
                     min_pass_rate: float = 1.0,
                     on_result: Callable[[ScenarioResult], None] | None = None,
                     ) -> list[ScenarioResult]:
    """Run scenarios one after another, each ``repeat`` times.

    Args:
        plans: the scenarios.
        mode: offline or live.
        repeat: runs per scenario (a live model is not deterministic).
        min_pass_rate: the share of runs that must pass for the scenario to pass.
        on_result: called as each scenario finishes (to print it at once).

    Returns:
        One result per scenario.

    Raises:
        ServiceError: the service refused the API key or the quota is used up.
    """
    results = []
    for plan in plans:
        result = ScenarioResult(plan, min_pass_rate=min_pass_rate)
        for _ in range(repeat):
            result.runs.append(await run_scenario(plan, mode))
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results
