"""Expectations against what a scenario's call did: the first one that fails, in words.

Pure functions of the scenario (as written) and its recording: no I/O, no clock. Each failure
says what was expected and what was seen instead, in terms the author wrote ("expected a call
to lookup_order with order_id "1234", but it was called with order_id "5678""), with the turn
and the test file line it concerns. Checks run in conversation order (the greeting, then each
turn: tool failures, tool calls, no tool, reply, latency, the end of the call), so the first
failure reported is the first thing that went wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentrun.testing._models import TextCheck, ToolCheck, Turn
from agentrun.testing._record import Recorder, ToolCallRecord, TurnRecord

if TYPE_CHECKING:
    from agentrun.testing._load import ScenarioPlan

__all__ = ["Failure", "check_scenario"]

_SHOWN_TEXT = 240  # characters of a reply or an output quoted in a failure


@dataclass(frozen=True)
class Failure:
    """Why a scenario failed.

    Attributes:
        message: what was expected and what happened instead, in plain language.
        turn: 1-based turn it concerns; 0 for the greeting; None for the whole call.
        line: the test file line it concerns, or None.
    """

    message: str
    turn: int | None = None
    line: int | None = None

    @property
    def place(self) -> str:
        """``turn 2 (line 31)``, ``greeting (line 8)`` or ``line 5``; "" when unknown."""
        what = "greeting" if self.turn == 0 else f"turn {self.turn}" if self.turn else ""
        line = f"line {self.line}" if self.line else ""
        if what and line:
            return f"{what} ({line})"
        return what or line

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


def _cut(text: str, limit: int = _SHOWN_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _said(text: str, nothing: str = "the agent said nothing") -> str:
    return f'the agent said: "{_cut(text)}"' if text.strip() else nothing


def text_problem(what: str, text: str, check: TextCheck, seen: str) -> str | None:
    """Why ``text`` fails ``check``, or None.

    Args:
        what: what the text is, for the message (``the reply``).
        text: the text.
        check: what it must contain, match or exclude (case is ignored).
        seen: how to show the text after "but" (``the agent said: "…"``).
    """
    plain = " ".join(text.split()).casefold()
    for word in check.contains:
        if " ".join(word.split()).casefold() not in plain:
            return f'expected {what} to contain "{word}", but {seen}'
    pattern = check.pattern
    if pattern is not None and not pattern.search(text):
        return f"expected {what} to match {check.matches}, but {seen}"
    for word in check.excludes:
        if " ".join(word.split()).casefold() in plain:
            return f'expected {what} not to contain "{word}", but {seen}'
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def same_value(expected: Any, actual: Any) -> bool:
    """Whether an argument matches: mappings by subset, lists item by item, text ignoring case
    and surrounding spaces, and 1234 the same as "1234"."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            key in actual and same_value(value, actual[key]) for key, value in expected.items())
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(actual) == len(expected)
                and all(same_value(e, a) for e, a in zip(expected, actual, strict=True)))
    if expected is None or actual is None:
        return expected is actual
    if isinstance(expected, bool) or isinstance(actual, bool):
        return str(expected).casefold() == str(actual).casefold()
    left, right = _number(expected), _number(actual)
    if left is not None and right is not None:
        return left == right
    return " ".join(str(expected).split()).casefold() == " ".join(str(actual).split()).casefold()


def _shown_value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _arguments_text(arguments: dict[str, Any] | None, raw: str) -> str:
    if arguments is None:
        return f"arguments {_cut(raw, 80)!r} (not a JSON object)"
    if not arguments:
        return "no arguments"
    return ", ".join(f"{key} {_cut(_shown_value(value), 60)}" for key, value in arguments.items())


def _tool_problem(check: ToolCheck, turn: TurnRecord) -> str | None:
    calls = [call for call in turn.tools if call.name == check.name]
    wanted = check.arguments or {}
    expected = f"a call to {check.name}" + (f" with {_arguments_text(wanted, '')}"
                                             if wanted else "")
    if not calls:
        others = sorted({call.name for call in turn.tools})
        seen = ("the model called no tool" if not others
                else "the model called only " + ", ".join(others))
        return f"expected {expected}, but {seen}"
    matching = [call for call in calls
                if same_value(wanted, call.parsed_arguments if call.parsed_arguments is not None
                              else {})]
    if not matching:
        closest = max(calls, key=lambda call: _agreement(wanted, call.parsed_arguments or {}))
        actual = closest.parsed_arguments
        differences = [f"without {key}" if actual is None or key not in actual
                       else f"{key} {_cut(_shown_value(actual[key]), 60)}"
                       for key, value in wanted.items()
                       if actual is None or not same_value(value, actual.get(key))]
        times = f" ({len(calls)} calls, the closest)" if len(calls) > 1 else ""
        return (f"expected {expected}, but it was called with {', '.join(differences)}{times}")
    call = matching[0]
    if check.fails is True and call.ok:
        return (f"expected the call to {check.name} to fail, but it succeeded and returned: "
                f"{_cut(call.output or '')}")
    if check.fails is False and call.ok is False:
        return f"expected the call to {check.name} to succeed, but it failed: {call.model_error}"
    if check.output is not None:
        output = call.output or ""
        seen = f"it returned: {_cut(output)}" if output else "it returned nothing"
        problem = text_problem(f"the output of {check.name}", output, check.output, seen)
        if problem is not None:
            return problem
    return None


def _agreement(wanted: dict[str, Any], actual: dict[str, Any]) -> int:
    return sum(1 for key, value in wanted.items()
               if key in actual and same_value(value, actual[key]))


def _unexpected_failure(turn: Turn, record: TurnRecord, mocks: Any) -> str | None:
    """A call that failed although nobody asked for it (no mocked error, no ``fails: true``)."""
    allowed = {check.name for check in turn.expect.tool_checks if check.fails is True}
    for call in record.tools:
        problem = mocks.problem_of(call.call_id) if mocks is not None else None
        if problem is not None:
            return f"{problem} (add results to its mock, or expect fewer calls)"
        if call.ok is not False or call.name in allowed:
            continue
        if mocks is not None and call.call_id in mocks.deliberate:
            continue
        error = call.model_error
        if error.startswith("invalid arguments"):
            return (f"the model called {call.name} with arguments it does not accept "
                    f"({_arguments_text(call.parsed_arguments, call.arguments)}): "
                    f"{error.removeprefix('invalid arguments: ')}")
        return (f"the call to {call.name} failed: {error} (if this failure is what you test, "
                "mock the tool with error: or expect it with fails: true)")
    return None


def _turn_problem(turn: Turn, record: TurnRecord, mocks: Any) -> tuple[str, tuple[str, ...]] | None:
    """The first failed expectation of a turn and the key (below ``expect``) it concerns."""
    expect = turn.expect
    problem = _unexpected_failure(turn, record, mocks)
    if problem is not None:
        return problem, ()
    for index, check in enumerate(expect.tool_checks):
        problem = _tool_problem(check, record)
        if problem is not None:
            key: tuple[Any, ...] = (("tool",) if expect.tool is not None and index == 0
                                    else ("tools", index - (expect.tool is not None)))
            return problem, key
    if expect.no_tool and record.tools:
        calls = "; ".join(f"{call.name} ({_arguments_text(call.parsed_arguments, call.arguments)})"
                          for call in record.tools)
        return f"expected no tool call, but the model called {calls}", ("no_tool",)
    if expect.reply is not None:
        problem = text_problem("the reply", record.reply, expect.reply, _said(record.reply))
        if problem is not None:
            return problem, ("reply",)
    if expect.latency_under is not None:
        bound = f"{expect.latency_under:g} s"
        if record.latency is None:
            return f"expected the reply to begin within {bound}, but the agent did not speak", \
                ("latency_under",)
        if record.latency >= expect.latency_under:
            return (f"expected the reply to begin within {bound}, but it took "
                    f"{record.latency:.2f} s"), ("latency_under",)
    return None


def check_scenario(plan: ScenarioPlan, recorder: Recorder, mocks: Any = None,
                   stopped: Failure | None = None) -> Failure | None:
    """The first expectation of a scenario that failed, or None when all hold.

    Args:
        plan: the scenario.
        recorder: what its call did.
        mocks: the call's ``MockedTools`` (which failures were asked for), or None.
        stopped: why the call stopped early (its time limit, a lost connection), or None.

    Returns:
        The failure, or None.
    """
    if recorder.ended_by_agent and recorder.ended_turn == 0 and stopped is None:
        return Failure(f"the call ended before the first turn: {_reason(recorder)}", None,
                       plan.line())
    greeting = plan.spec.expect.greeting
    if greeting is not None and (len(recorder.turns) > 1 or stopped is None
                                 or recorder.turns[0].reply):
        said = recorder.turns[0].reply
        nothing = ("the agent said no greeting" + ("" if plan.agent.spec.greeting else
                                                   " (its agent file has no greeting:)"))
        problem = text_problem("the greeting", said, greeting, _said(said, nothing))
        if problem is not None:
            return Failure(problem, 0, plan.line("expect", "greeting"))
    for number, turn in enumerate(plan.spec.turns, 1):
        here = ("turns", number - 1)
        if number >= len(recorder.turns):  # never begun
            if stopped is not None and number == 1:  # stopped before the first turn
                return Failure(stopped.message, None, plan.line())
            if stopped is not None:
                return _placed(stopped, number, plan.line(*here))
            ended = recorder.ended_turn
            return Failure(f"the call ended during turn {ended}, so this turn never happened: "
                           f"{_reason(recorder)}", number, plan.line(*here))
        record = recorder.turns[number]
        answered = number < len(recorder.turns) - 1 or recorder.hung_up
        if not answered and stopped is not None:
            return _placed(stopped, number, plan.line(*here))
        found = _turn_problem(turn, record, mocks)
        if found is not None:
            problem, key = found
            return Failure(problem, number, plan.line(*here, "expect", *key) if key
                           else plan.line(*here))
        ended_here = recorder.ended_by_agent and recorder.ended_turn == number
        if turn.expect.ended is True and not ended_here:
            return Failure("expected the call to end in this turn, but it was still going",
                           number, plan.line(*here, "expect", "ended"))
        if ended_here and turn.expect.ended is not True:
            line = plan.line(*here, "expect", "ended") if turn.expect.ended is False else \
                plan.line(*here)
            return Failure(f"the call ended during this turn: {_reason(recorder)}", number, line)
    if stopped is not None:
        return stopped
    return None


def _placed(stopped: Failure, turn: int, line: int | None) -> Failure:
    return Failure(stopped.message, stopped.turn if stopped.turn is not None else turn,
                   stopped.line or line)


def _reason(recorder: Recorder) -> str:
    reason = recorder.end_reason or str(getattr(recorder.result, "reason", "") or "")
    return reason or "no reason given"


def describe_calls(calls: list[ToolCallRecord]) -> str:
    """``lookup_order (order_id "1234")``, for notes about running tools."""
    return ", ".join(f"{call.name} ({_arguments_text(call.parsed_arguments, call.arguments)})"
                     for call in calls)
