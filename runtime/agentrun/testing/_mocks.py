"""Mocked tools: a tool runner that answers some calls from the test file instead of the tool.

A mock replaces only what the tool *does*. The model still sees the tool's declared schema,
its arguments are still validated against it before the mock answers (a mock must not hide a
wrong argument), the tool's timeout still applies and results are encoded like a real tool's.
For a function tool this is the tool itself with its function swapped (``Tool.run`` does the
rest); any other kind of tool (HTTP, MCP) is wrapped, with its arguments checked against its
JSON Schema. Each scenario run gets its own :class:`MockedTools`, so "results in turn" start
over and no state leaks between scenarios. Imports tools (not the session).
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from agentrun.errors import ToolFailed
from agentrun.testing._models import Mock, MockResult
from agentrun.tools import Tool, ToolRegistry, ToolResult
from agentrun.tools._result import encode_output, error_output

__all__ = ["MockedTools"]


class MockedTools:
    """The agent's tools with the mocked ones answered by their mocks (``ToolRunner``).

    Args:
        mocks: tool name → mock.
        registry: the agent's tools, opened for the call (unmocked tools run for real); may be
            set later through :attr:`registry`, once the call has opened them.

    Attributes:
        problems: call id → what went wrong with the mock itself (its list of results was
            used up), in plain language, for the test report.
        deliberate: ids of calls that failed because a mock said so (an ``error:``, or a delay
            past the tool's timeout): failures the author asked for.
    """

    def __init__(self, mocks: Mapping[str, Mock], registry: ToolRegistry | None = None) -> None:
        self.registry = registry
        self._mocks = dict(mocks)
        self._counts: Counter[str] = Counter()
        self.problems: dict[str, str] = {}
        self.deliberate: set[str] = set()

    async def call(self, name: str, arguments_json: str, *, call_id: str,
                   variables: Mapping[str, str] | None = None,
                   state: dict[str, Any] | None = None) -> ToolResult:
        """Run one call: the mock's answer when the tool is mocked, else the real tool.

        Returns:
            The result; never raises except ``asyncio.CancelledError``.
        """
        registry = self.registry
        if registry is None:
            raise RuntimeError("MockedTools.registry is not set: open the agent's tools first")
        mock = self._mocks.get(name)
        tool = registry.tools.get(name)
        if mock is None or tool is None:
            return await registry.call(name, arguments_json, call_id=call_id,
                                             variables=variables, state=state)
        # set once the arguments passed and the mock answers with an error or a delay: a
        # failure after that is the one the author asked for
        asked: list[bool] = []
        answer = self._answer(name, call_id, mock, tool, asked)
        if isinstance(tool, Tool):
            stand_in: Any = dataclasses.replace(
                tool, function=answer, info=dataclasses.replace(tool.info, is_async=True))
        else:
            stand_in = _Wrapped(tool, answer)
        result: ToolResult = await stand_in.run(arguments_json, call_id=call_id,
                                                variables=variables, state=state)
        if not result.ok and asked:
            self.deliberate.add(call_id)
        return result

    def problem_of(self, call_id: str) -> str | None:
        """What went wrong with the mock answering this call, or None."""
        return self.problems.get(call_id)

    def _answer(self, name: str, call_id: str, mock: Mock, tool: Any, asked: list[bool],
                ) -> Callable[..., Any]:
        """The coroutine function standing in for the tool's function for one call."""
        async def answer(*args: Any, **kwargs: Any) -> Any:
            self._counts[name] += 1
            count = self._counts[name]
            outcome: MockResult = mock
            if mock.results is not None:
                if count > len(mock.results):
                    self.problems[call_id] = (
                        f"{name} was called {count} times, but its mock lists only "
                        f"{len(mock.results)} result{'s' if len(mock.results) > 1 else ''}")
                    raise ToolFailed("the test's mock has no answer for this call", tool=name)
                outcome = mock.results[count - 1]
            delay = outcome.delay if outcome.delay is not None else mock.delay
            if delay or outcome.error is not None:
                asked.append(True)
            if delay:
                await asyncio.sleep(delay)
            if mock.runs_real_tool:
                return await _real(tool, args, kwargs)
            if outcome.error is not None:
                raise ToolFailed(outcome.error, tool=name)  # as if the tool raised it
            return outcome.result
        return answer


async def _real(tool: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """Call the real tool's function (a delay-only mock)."""
    if isinstance(tool, Tool):
        if tool.info.is_async:
            return await tool.function(*args, **kwargs)
        value = await asyncio.to_thread(tool.function, *args, **kwargs)
        return await value if inspect.isawaitable(value) else value
    raise _RunWrapped  # _Wrapped runs the real tool itself


class _RunWrapped(Exception):
    """A delay-only mock of a non-function tool: the wrapper runs the real tool."""


class _Wrapped:
    """A mocked tool that is not a function tool (HTTP, MCP): checks its arguments against its
    JSON Schema, then answers from the mock under the tool's timeout."""

    def __init__(self, tool: Any, answer: Callable[..., Any]) -> None:
        self._tool = tool
        self._answer = answer
        self.name: str = tool.name

    async def run(self, arguments_json: str, *, call_id: str = "",
                  variables: Mapping[str, str] | None = None,
                  state: dict[str, Any] | None = None) -> ToolResult:
        start = time.perf_counter()
        schema = self._tool.function_schema().get("parameters") or {}
        problem = _schema_problem(arguments_json, schema)
        if problem is not None:
            return self._failed(start, call_id, f"invalid arguments: {problem}")
        timeout = float(getattr(self._tool, "timeout", 10.0))
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                value = await self._answer()
        except _RunWrapped:
            return await self._tool.run(arguments_json, call_id=call_id, variables=variables,
                                        state=state)
        except TimeoutError:
            return self._failed(start, call_id, f"{self.name} timed out after {timeout:g} s")
        except Exception as exc:  # the mock's error (or its list used up)
            return self._failed(start, call_id, f"{self.name} failed: {exc}")
        return ToolResult(output=encode_output(value), seconds=time.perf_counter() - start,
                          name=self.name, call_id=call_id)

    def _failed(self, start: float, call_id: str, text: str) -> ToolResult:
        return ToolResult(output=error_output(text), ok=False,
                          error=f"tool {self.name} call {call_id or '-'}: {text} (mocked)",
                          seconds=time.perf_counter() - start, name=self.name, call_id=call_id)


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),),
}


def _schema_problem(arguments_json: str, schema: Mapping[str, Any]) -> str | None:
    """The first way the arguments break the (flat) JSON Schema of a tool, or None.

    Covers what a tool's ``parameters`` use: an object, required names, known names (when
    ``additionalProperties`` is false), each value's type and ``enum``.
    """
    try:
        arguments = json.loads(arguments_json or "{}")
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    if not isinstance(arguments, dict):
        return "expected a JSON object"
    properties: Mapping[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or ():
        if name not in arguments:
            return f"{name}: Field required"
    for name, value in arguments.items():
        spec = properties.get(name)
        if spec is None:
            if schema.get("additionalProperties") is False:
                return f"{name}: Extra inputs are not permitted"
            continue
        kinds = spec.get("type")
        names = [kinds] if isinstance(kinds, str) else list(kinds or ())
        allowed = tuple(t for kind in names for t in _JSON_TYPES.get(kind, ()))
        bad_bool = isinstance(value, bool) and "boolean" not in names
        if allowed and (not isinstance(value, allowed) or bad_bool):
            return f"{name}: expected {' or '.join(names)}"
        if "enum" in spec and value not in spec["enum"]:
            return f"{name}: expected one of {', '.join(map(str, spec['enum']))}"
    return None
