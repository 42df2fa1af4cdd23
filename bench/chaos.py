"""Chaos: N seeded simulated calls, each with a random fault schedule; invariants per call.

Each call gets its own simulator on 127.0.0.1 and a schedule drawn from one seed: closes with
every code (including the session-limit error followed by a normal close), malformed frames,
unknown events, error events of every class with and without ``event_id``, duplicate and
out-of-order items, null and odd-typed fields, bursts, a slow or stalling server, failed
responses, server auto-response races; tools that answer, raise, hang, time out or return junk;
caller barge-ins at random points. Invariants checked per call (printed as counts):

* every tool call run at most once, and answered (``function_call_output`` on the wire);
* every caller turn answered, or explicitly failed (an error line), never silent;
* no unhandled exception (an ``AgentrunError`` ending the call is an explicit failure);
* the call ends on time; no asyncio task and no tool thread left running;
* every final agent transcript line is what the server sent for that item.

Usage::

    python bench/chaos.py --calls 1000 --concurrency 20 --seed 1
    python bench/chaos.py --call 1234 -v          # reproduce one call, with its schedule

Exit code 0 when every invariant held for every call, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from agentrun.engine import ConversationConfig, EmitTranscript, Report, RunTool
from agentrun.engine.observe import ToolCallDone, WireFrame
from agentrun.engine.session import Session
from agentrun.engine.setup import Watchdogs
from agentrun.errors import AgentrunError
from agentrun.io import CallControl, CallerInput, CallerText, ToolCallView
from agentrun.protocol import SessionProperties, TurnDetection
from agentrun.sim import Scenario, Simulator
from agentrun.sim._scenario import ERROR_PRESETS
from agentrun.tools import Tool, ToolContext, ToolRegistry

__all__ = ["main", "run_call", "schedule"]

TURN_BUDGET = 25.0  # seconds a turn may take before it counts as silent
CALL_BUDGET = 90.0  # seconds a whole call may take
WATCHDOGS = Watchdogs(configure=2.0, create=1.5, stall=1.5, turn=1.5)
CLOSE_CODES = [1000, 1001, 1006, 1011, 1012, 1013, 1014, 1008]
SAYINGS = ["Sure.", "Your order ships tomorrow — ça va ✓", "日本語でも大丈夫です。",
           "Let me check that for you.", "Grüß Gott! 🎉", "One moment please."]
SESSION_LIMIT = {"type": "invalid_request_error", "code": "session_expired",
                 "message": "Your session hit the maximum duration of 60 minutes."}


# ---- tools: answer, raise, hang, time out, return junk ---------------------------------------

def lookup(order_id: str = "1") -> dict[str, str]:
    """Look up an order."""
    return {"order_id": order_id, "status": "shipped"}


def explode(order_id: str = "1") -> str:
    """Fail."""
    raise RuntimeError(f"database locked while reading {order_id}")


def hang(ctx: ToolContext) -> str:
    """Hang until abandoned (a cooperative tool: its thread ends when agentrun stops waiting)."""
    ctx.abandoned.wait(30)
    return "late"


async def slow() -> str:
    """Take a while."""
    await asyncio.sleep(0.2)
    return "slow but fine"


def junk(kind: str = "bytes") -> Any:
    """Return something that cannot be sent."""
    return b"\xff\x00" if kind == "bytes" else object()


def registry() -> ToolRegistry:
    return ToolRegistry([Tool.from_function(f, timeout=0.5)
                         for f in (lookup, explode, hang, slow, junk)])


TOOLS = ["lookup", "explode", "hang", "slow", "junk", "not_a_tool"]


# ---- the schedule ----------------------------------------------------------------------------

def _fault(rng: random.Random) -> dict[str, Any]:
    fault: dict[str, Any] = {}
    for kind, p in (("malformed_json", 0.08), ("unknown_event", 0.08), ("duplicate_item", 0.1),
                    ("burst", 0.1), ("auto_response_race", 0.1), ("failed_response", 0.06),
                    ("null_fields", 0.15), ("out_of_order", 0.1)):
        if rng.random() < p:
            fault[kind] = True
    roll = rng.random()
    if roll < 0.10:
        fault["close"] = rng.choice(CLOSE_CODES)
    elif roll < 0.14:
        fault.update(error=dict(SESSION_LIMIT), close=rng.choice([1000, 1001]))
    if rng.random() < 0.15:
        preset = rng.choice([k for k in ERROR_PRESETS
                             if k not in ("authentication_error", "insufficient_quota")]
                            + ["authentication_error"] * (rng.random() < 0.05))
        fault.setdefault("error", preset)
        fault["error_names_event"] = rng.random() < 0.5
    if rng.random() < 0.08:
        fault["stall"] = rng.choice([300, 2500])
    if rng.random() < 0.08:
        fault["slow"] = rng.randint(1, 5)
    return fault


def schedule(seed: int) -> dict[str, Any]:
    """The whole plan of one call, from its seed (printed with ``--call SEED -v``)."""
    rng = random.Random(seed)
    responses = []
    for _ in range(rng.randint(2, 7)):
        entry: dict[str, Any] = {}
        if rng.random() < 0.35:
            calls = [{"name": rng.choice(TOOLS),
                      "arguments": {"kind": rng.choice(["bytes", "object"])}}
                     if rng.random() < 0.2 else {"name": rng.choice(TOOLS), "arguments": {}}
                     for _ in range(rng.randint(1, 2))]
            entry["calls"] = [{"name": c["name"], "arguments": c["arguments"]
                               if c["name"] == "junk" else {}} for c in calls]
        else:
            entry["say"] = rng.choice(SAYINGS)
        if rng.random() < 0.55:
            entry["fault"] = _fault(rng)
        responses.append(entry)
    return {
        "scenario": {"responses": responses,
                     "ping_interval": rng.choice([None, 0.2, 15.0])},
        "greeting": rng.choice([None, "Hello — how can I help? ☎"]),
        "turns": [rng.choice(["Where is my order?", "Thanks!", "Can you check again?",
                              "Ça marche ?", "/call lookup"]) for _ in range(rng.randint(1, 4))],
        "barge_in": [rng.random() < 0.2 for _ in range(8)],
        "barge_delay": [rng.uniform(0, 0.08) for _ in range(8)],
    }


# ---- the caller and the observer -----------------------------------------------------------

@dataclass
class Outcome:
    """What one call did, for the invariants."""

    seed: int
    answered: int = 0
    failed_turns: int = 0
    silent_turns: int = 0
    ended: str = "ok"  # ok | error (an AgentrunError ended it, explicitly)
    why: str = ""  # what ended it, when it was an error
    violations: list[str] = field(default_factory=list)
    detail: list[str] = field(default_factory=list)
    seconds: float = 0.0


class ChaosCaller:
    """Types the scheduled turns, barges in at random points, and judges each turn."""

    def __init__(self, plan: dict[str, Any], outcome: Outcome) -> None:
        self.plan = plan
        self.outcome = outcome
        self.statuses: list[tuple[float, str, str]] = []
        self.agent_lines: list[tuple[str, str]] = []
        self.audio_bytes = 0
        self.barged = 0  # turns the caller interrupted on purpose

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        for n, turn in enumerate(self.plan["turns"]):
            await call.wait_idle()
            mark, started = call.responses, time.monotonic()
            yield CallerText(turn)
            if self.plan["barge_in"][n % 8]:
                await asyncio.sleep(self.plan["barge_delay"][n % 8])
                call.interrupt()
                self.barged += 1
            if await call.wait_reply(mark, timeout=TURN_BUDGET):
                self.outcome.answered += 1
            elif any(t >= started and level == "error" for t, level, _ in self.statuses):
                self.outcome.failed_turns += 1  # told: an error line, never silence
            else:
                self.outcome.silent_turns += 1
                self.outcome.detail.append(f"turn {n} ({turn!r}) got no reply and no error")

    def play_audio(self, audio: bytes, item_id: str) -> None:
        self.audio_bytes += len(audio)

    def stop_playback(self, reason: str) -> None:
        pass

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        if final and role == "agent":
            self.agent_lines.append((item_id, text))

    def show_tool_call(self, call: ToolCallView) -> None:
        pass

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        self.statuses.append((time.monotonic(), level, message))


class Watcher:
    """Observes the call: tool runs, tool outputs on the wire, transcripts on the wire."""

    def __init__(self) -> None:
        self.runs: Counter[str] = Counter()
        self.done: Counter[str] = Counter()
        self.outputs_sent: set[str] = set()
        self.said: dict[str, list[str]] = {}  # item id -> transcript texts from the server
        self.reports: list[Report] = []

    def observe(self, now: float, what: Any) -> None:
        kind = type(what)
        if kind is RunTool:
            self.runs[what.call_id] += 1
        elif kind is ToolCallDone:
            self.done[what.call_id] += 1
        elif kind is Report:
            self.reports.append(what)
        elif kind is WireFrame:
            if '"function_call_output"' in what.text and what.direction == "out":
                item = json.loads(what.text).get("item") or {}
                self.outputs_sent.add(str(item.get("call_id")))
            elif what.direction == "in" and "transcript" in what.text:
                self._said(what.text)
        elif kind is EmitTranscript:
            pass

    def _said(self, text: str) -> None:
        try:
            event = json.loads(text)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        item = str(event.get("item_id") or "")
        for key in ("delta", "transcript"):
            value = event.get(key)
            if isinstance(value, str) and event.get("type", "").startswith(
                    "response.output_audio_transcript"):
                self.said.setdefault(item, []).append(value)


# ---- one call --------------------------------------------------------------------------------

def config(plan: dict[str, Any]) -> ConversationConfig:
    tools = registry()
    return ConversationConfig(
        session=SessionProperties(instructions="Be brief.", voice="Ara",
                                  turn_detection=TurnDetection(type="server_vad"),
                                  tools=[]),
        greeting=plan["greeting"], function_names=frozenset(tools.function_names),
        watchdogs=WATCHDOGS)


async def run_call(seed: int) -> Outcome:
    """Run one scheduled call and check its invariants."""
    plan = schedule(seed)
    outcome = Outcome(seed)
    caller = ChaosCaller(plan, outcome)
    watcher = Watcher()
    started = time.monotonic()
    async with Simulator(Scenario.load(plan["scenario"]), record=False) as sim:
        session = Session.for_url(config(plan), sim.url, api_key=None, endpoint=caller,
                                  tools=registry(), observers=[watcher],
                                  backoff_delays=lambda: itertools.repeat(0.0),
                                  max_reconnect_attempts=3, handshake_timeout=2.0)
        try:
            result = await asyncio.wait_for(session.run(), CALL_BUDGET)
            exit_code = result.exit_code
        except TimeoutError:
            outcome.violations.append("not_on_time")
            exit_code = -1
        except AgentrunError as exc:  # explicit: one clear line, an exit code
            outcome.ended, exit_code = "error", exc.exit_code
            outcome.why = _kind_of(str(exc))
            outcome.detail.append(f"ended: {exc}")
        except Exception as exc:
            outcome.violations.append("unhandled_exception")
            outcome.detail.append(f"{type(exc).__name__}: {exc}")
            exit_code = -1
    outcome.seconds = time.monotonic() - started
    if exit_code not in (0, -1) and outcome.ended == "ok":
        outcome.ended = "error"
        outcome.why = _kind_of(result.reason)
        outcome.detail.append(f"ended with exit code {exit_code}: {result.reason}")
    _check(outcome, caller, watcher, exit_code)
    return outcome


def _kind_of(reason: str) -> str:
    """The reason an error ended a call, without ids and numbers (for the tally)."""
    return re.sub(r"\d+(\.\d+)?", "N", reason.split(":")[0])[:70]


def _check(outcome: Outcome, caller: ChaosCaller, watcher: Watcher, exit_code: int) -> None:
    twice = [c for c, n in watcher.runs.items() if n > 1]
    if twice:
        outcome.violations.append("tool_run_twice")
        outcome.detail.append(f"run twice: {twice}")
    if exit_code == 0:
        unanswered = [c for c in watcher.runs if watcher.done[c] != 1
                      or c not in watcher.outputs_sent]
        if unanswered:
            outcome.violations.append("tool_unanswered")
            outcome.detail.append(f"unanswered: {unanswered}")
    if outcome.silent_turns:
        outcome.violations.append("silent_turn")
    for item_id, text in caller.agent_lines:
        heard = "".join(watcher.said.get(item_id, []))
        whole = watcher.said.get(item_id, [])
        if not (text in heard or any(text in t for t in whole)):
            outcome.violations.append("transcript_not_on_wire")
            outcome.detail.append(f"line {text!r} of {item_id} not sent by the server")
            break
    # silent: the caller heard nothing and was told nothing, though some turn was not cut
    # short by the caller itself (a caller who interrupts every reply may hear nothing)
    heard = caller.agent_lines or caller.audio_bytes
    told = any(level == "error" for _, level, _ in caller.statuses)
    if outcome.ended == "ok" and not heard and not told \
            and caller.barged < len(caller.plan["turns"]):
        outcome.violations.append("silent_call")


def _leftovers() -> list[str]:
    current = asyncio.current_task()
    tasks = [t.get_name() for t in asyncio.all_tasks() if t is not current]
    threads = [t.name for t in threading.enumerate() if t.name.startswith("agentrun-tool")]
    return [f"task {n}" for n in tasks] + [f"thread {n}" for n in threads]


async def _settled(grace: float = 3.0) -> list[str]:
    """What is still running after a call's end, once abandoned tools had time to notice."""
    deadline = time.monotonic() + grace
    left = _leftovers()
    while left and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        left = _leftovers()
    return left


# ---- the run ---------------------------------------------------------------------------------

async def run_all(seeds: list[int], concurrency: int, verbose: bool) -> list[Outcome]:
    outcomes: list[Outcome] = []
    for start in range(0, len(seeds), concurrency):
        batch = seeds[start:start + concurrency]
        outcomes += await asyncio.gather(*(run_call(s) for s in batch))
        left = await _settled()
        if left:  # attributed to every call of the batch: each reproduces alone
            for outcome in outcomes[-len(batch):]:
                outcome.violations.append("left_running")
                outcome.detail.append(f"left running after the batch: {left[:5]}")
        if verbose:
            print(f"  {len(outcomes)}/{len(seeds)} calls", file=sys.stderr, flush=True)
    return outcomes


def report(outcomes: list[Outcome], elapsed: float) -> str:
    violations = Counter(v for o in outcomes for v in o.violations)
    lines = [
        f"calls                      {len(outcomes)}",
        f"turns answered             {sum(o.answered for o in outcomes)}",
        f"turns failed explicitly    {sum(o.failed_turns for o in outcomes)}",
        f"turns silent               {sum(o.silent_turns for o in outcomes)}",
        f"calls ended by an error    {sum(o.ended == 'error' for o in outcomes)} "
        "(one clear line and an exit code: scheduled 1008/auth refusals, "
        "closes beyond the retry budget)",
        f"silent calls               {violations['silent_call']}",
        f"violations                 {sum(violations.values())}",
    ]
    lines += [f"  {name:<24} {count}" for name, count in sorted(violations.items())]
    whys = Counter(o.why for o in outcomes if o.ended == "error")
    lines += [f"  ended: {why} ×{count}" for why, count in whys.most_common()]
    lines.append(f"wall time                  {elapsed:.1f} s "
                 f"(slowest call {max((o.seconds for o in outcomes), default=0):.1f} s)")
    bad = [o for o in outcomes if o.violations]
    for outcome in bad[:20]:
        lines.append(f"FAILED seed {outcome.seed}: {', '.join(outcome.violations)} — "
                     f"reproduce: python bench/chaos.py --call {outcome.seed} -v")
        lines += [f"    {d}" for d in outcome.detail[:4]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1, help="first call's seed")
    parser.add_argument("--call", type=int, help="run only the call with this seed")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    for name in ("agentrun", "websockets"):  # the caller judges status lines; keep stderr clean
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    seeds = [args.call] if args.call is not None else list(
        range(args.seed, args.seed + args.calls))
    if args.call is not None and args.verbose:
        print(json.dumps(schedule(args.call), indent=1, ensure_ascii=False), file=sys.stderr)
    started = time.monotonic()
    outcomes = asyncio.run(run_all(seeds, args.concurrency, args.verbose))
    print(report(outcomes, time.monotonic() - started))
    if args.call is not None and args.verbose:
        for outcome in outcomes:
            print("\n".join(outcome.detail), file=sys.stderr)
    return 1 if any(o.violations for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
