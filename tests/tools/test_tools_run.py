"""Running calls: validation, sync vs async, timeouts, failures, result encoding."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import pytest
from agentrun.tools import MAX_OUTPUT_CHARS, Tool, ToolContext, ToolRegistry, ToolResult
from pydantic import BaseModel


def run(tool: Tool, arguments: str = "{}", **kwargs: Any) -> ToolResult:
    return asyncio.run(ToolRegistry([tool]).call(tool.name, arguments, call_id="call_7",
                                                 **kwargs))


def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


async def add_async(a: int, b: int = 1) -> int:
    """Add two numbers, asynchronously."""
    await asyncio.sleep(0)
    return a + b


def test_sync_tools_run_in_a_worker_thread_async_tools_on_the_loop() -> None:
    threads: dict[str, int] = {}

    def sync_tool() -> str:
        """Record the thread."""
        threads["sync"] = threading.get_ident()
        return "ok"

    async def async_tool() -> str:
        """Record the thread."""
        threads["async"] = threading.get_ident()
        return "ok"

    assert run(Tool.from_function(sync_tool)).output == "ok"
    assert run(Tool.from_function(async_tool)).output == "ok"
    assert threads["async"] == threading.get_ident()
    assert threads["sync"] != threading.get_ident()


@pytest.mark.parametrize("function", [add, add_async])
def test_success(function: Any) -> None:
    result = run(Tool.from_function(function), '{"a": 2, "b": 3}')
    assert (result.output, result.ok, result.error) == ("5", True, None)
    assert (result.name, result.call_id) == (function.__name__, "call_7")
    assert 0 < result.seconds < 10  # measured, in seconds (a loaded machine may be slow)


@pytest.mark.parametrize(("arguments", "message"), [
    ('{"b": 2}', "invalid arguments: a: Field required"),
    ('{"a": "two"}', "invalid arguments: a: Input should be a valid integer, unable to parse "
                     "string as an integer"),
    ('{"a": 1,', "invalid arguments: not valid JSON (EOF while parsing a value at line 1 "
                 "column 8)"),
    ("[1, 2]", "invalid arguments: Input should be an object"),
])
def test_invalid_arguments_tell_the_model_what_to_fix(arguments: str, message: str) -> None:
    called: list[int] = []

    def tool(a: int, b: int = 1) -> None:
        """T."""
        called.append(a)

    result = run(Tool.from_function(tool), arguments)
    assert not result.ok and called == []
    assert json.loads(result.output) == {"error": message}
    assert result.error == f"tool tool call call_7: rejected {message} ({result.seconds:.3f} s)"


def test_empty_arguments_mean_none_and_extra_ones_are_ignored() -> None:
    assert run(Tool.from_function(add), '{"a": 1, "c": 9}').output == "2"

    def no_args() -> str:
        """T."""
        return "fine"

    assert run(Tool.from_function(no_args), "").output == "fine"


def test_an_exception_becomes_an_error_output_without_traceback(
        caplog: pytest.LogCaptureFixture) -> None:
    def explode(order_id: str) -> None:
        """T."""
        raise RuntimeError(f"disk on fire while reading {order_id}")

    caplog.set_level(logging.DEBUG, logger="agentrun.tools")
    result = run(Tool.from_function(explode, source="acme 1.0"), '{"order_id": "42"}')
    assert not result.ok
    # the model gets no internals: the message of an arbitrary exception stays local
    assert json.loads(result.output) == {
        "error": "explode failed with an internal error (RuntimeError)"}
    assert "Traceback" not in result.output and "disk" not in result.output
    assert result.traceback is not None and "Traceback" in result.traceback \
        and "disk on fire while reading 42" in result.traceback
    assert result.error == ("tool explode [acme 1.0] call call_7: raised RuntimeError: disk on "
                            f"fire while reading 42 ({result.seconds:.3f} s)")
    warning, debug = caplog.records
    assert (warning.levelno, warning.getMessage()) == (logging.WARNING, result.error)
    assert debug.levelno == logging.DEBUG and debug.exc_info is not None


@pytest.mark.parametrize("is_async", [True, False])
def test_a_slow_tool_times_out_and_the_conversation_goes_on(is_async: bool) -> None:
    release = threading.Event()

    async def slow_async() -> str:
        """T."""
        await asyncio.sleep(5)
        return "late"

    def slow_sync() -> str:
        """T."""
        release.wait(5)
        return "late"

    tool = Tool.from_function(slow_async if is_async else slow_sync, name="slow", timeout=0.05)
    try:
        result = run(tool)
    finally:
        release.set()
    assert not result.ok and 0.05 <= result.seconds < 4  # not the tool's 5 s
    assert json.loads(result.output) == {"error": "slow timed out after 0.05 s"}
    assert result.error is not None and "timed out after 0.05 s" in result.error


def test_a_tools_own_timeout_error_is_a_failure_not_our_timeout() -> None:
    async def flaky() -> None:
        """T."""
        raise TimeoutError("upstream took too long")

    result = run(Tool.from_function(flaky))
    assert json.loads(result.output) == {
        "error": "flaky failed: TimeoutError: upstream took too long"}


def test_cancelling_a_call_cancels_the_tool() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        """T."""
        started.set()
        await asyncio.sleep(60)

    async def scenario() -> None:
        registry = ToolRegistry([Tool.from_function(forever)])
        task = asyncio.create_task(registry.call("forever", "{}", call_id="c"))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())


class Order(BaseModel):
    id: str
    when: date


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Mood(str, Enum):  # noqa: UP042  (the old style: str() gives "Mood.HAPPY")
    HAPPY = "happy"


class Level(Enum):
    HIGH = 3


class Opaque:
    def __str__(self) -> str:
        return "<opaque thing>"


@pytest.mark.parametrize(("value", "output"), [
    ("plain text", "plain text"),
    ('{"already": "json"}', '{"already": "json"}'),
    ({"status": "shipped", "eta": date(2026, 12, 1), "raw": '{"a": 1}'},
     '{"status":"shipped","eta":"2026-12-01","raw":"{\\"a\\": 1}"}'),
    ([1, "two", None], '[1,"two",null]'),
    (42, "42"),
    (2.5, "2.5"),
    (True, "true"),
    (None, "null"),
    (Order(id="1", when=date(2026, 1, 2)), '{"id":"1","when":"2026-01-02"}'),
    (Point(1, 2), '{"x":1,"y":2}'),
    ({"nested": Point(3, 4), "ü": "ünïcode"}, '{"nested":{"x":3,"y":4},"ü":"ünïcode"}'),
    (Mood.HAPPY, "happy"),
    (Level.HIGH, "3"),
    ({"when": date(2026, 1, 2), "tags": {"a"}}, '{"when":"2026-01-02","tags":["a"]}'),
    # what a dict may hold, a tool may return alone (it was refused: "returned a date")
    (date(2026, 1, 2), "2026-01-02"),
    (datetime(2026, 1, 2, 9, 30), "2026-01-02T09:30:00"),
    (Decimal("9.99"), "9.99"),
    (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
    ({"mean": float("nan"), "max": float("inf")}, '{"mean":null,"max":null}'),  # valid JSON
])
def test_results_are_encoded_once(value: Any, output: str) -> None:
    def tool() -> Any:
        """T."""
        return value

    result = run(Tool.from_function(tool))
    assert (result.ok, result.output) == (True, output)


def test_a_huge_result_is_cut_with_a_note() -> None:
    def big() -> str:
        """T."""
        return "x" * 100_000

    output = run(Tool.from_function(big)).output
    assert output == "x" * MAX_OUTPUT_CHARS + (
        f"\n[output cut: 100000 characters, only the first {MAX_OUTPUT_CHARS} shown]")


def test_a_result_that_cannot_be_encoded_is_a_failure() -> None:
    class Broken:
        def __str__(self) -> str:
            raise ValueError("no text for you")

    def tool() -> Any:
        """T."""
        return Broken()

    result = run(Tool.from_function(tool))
    assert json.loads(result.output) == {"error": (
        "tool failed: it returned a Broken, which agentrun cannot send to the model; return "
        "text, numbers, lists, dicts, dataclasses or pydantic models")}


@pytest.mark.parametrize(("value", "message"), [
    (b"\xff\x00", "tool failed: it returned bytes, which agentrun cannot send to the model; "
                   "decode it to text first"),
    ({"blob": bytearray(b"x")}, "tool failed: it returned bytearray, which agentrun cannot "
                                "send to the model; decode it to text first"),
    (Opaque(), "tool failed: it returned an Opaque, which agentrun cannot send to the model; "
               "return text, numbers, lists, dicts, dataclasses or pydantic models"),
    ([1, Opaque()], "tool failed: it returned an Opaque, which agentrun cannot send to the "
                    "model; return text, numbers, lists, dicts, dataclasses or pydantic models"),
])
def test_bytes_and_objects_are_error_outputs_never_a_repr(value: Any, message: str) -> None:
    def tool() -> Any:
        """T."""
        return value

    result = run(Tool.from_function(tool))
    assert not result.ok
    assert json.loads(result.output) == {"error": message}
    assert "<" not in result.output and "b'" not in result.output


def test_a_request_error_is_told_to_the_model_in_one_line() -> None:
    def lookup(order_id: str) -> None:
        """T."""
        raise LookupError(f"no order {order_id}\n(at /srv/orders.db)")

    result = run(Tool.from_function(lookup), '{"order_id": "7"}')
    assert json.loads(result.output) == {"error": "lookup failed: LookupError: no order 7"}


def test_records_the_tool_logs_during_its_call_come_back_with_the_result() -> None:
    def noisy(ctx: ToolContext) -> str:
        """T."""
        ctx.logger.info("looking up %s", "42")
        logging.getLogger("elsewhere").warning("not the tool's")
        try:
            raise KeyError("k")
        except KeyError:
            ctx.logger.exception("lookup failed")
        return "done"

    result = run(Tool.from_function(noisy))
    assert result.logs[0] == "INFO agentrun.tools.noisy: looking up 42"
    assert result.logs[1].startswith("ERROR agentrun.tools.noisy: lookup failed\nTraceback")
    assert len(result.logs) == 2


def test_only_declared_tools_can_be_called() -> None:
    registry = ToolRegistry.from_functions(add, add_async)
    result = asyncio.run(registry.call("os_system", '{"cmd": "rm -rf /"}', call_id="c9"))
    assert not result.ok
    assert json.loads(result.output) == {
        "error": "unknown tool 'os_system'; the tools you can call are: add, add_async"}
    assert result.error == "tool os_system call c9: the model called an undeclared tool"


def test_the_context_carries_config_variables_call_id_logger_and_shared_state() -> None:
    seen: list[ToolContext[Any]] = []

    def remember(item: str, ctx: ToolContext) -> int:
        """T."""
        seen.append(ctx)
        ctx.state.setdefault("cart", []).append(item)
        return len(ctx.state["cart"])

    async def count(ctx: ToolContext) -> int:
        """T."""
        return len(ctx.state["cart"])

    registry = ToolRegistry([Tool.from_function(remember, config={"k": "v"}),
                             Tool.from_function(count)])

    async def conversation() -> list[str]:
        outputs = []
        for name, arguments in [("remember", '{"item": "a"}'), ("remember", '{"item": "b"}'),
                                ("count", "{}")]:
            result = await registry.call(name, arguments, call_id=f"c{len(outputs)}",
                                         variables={"caller": "+1555"})
            outputs.append(result.output)
        return outputs

    assert asyncio.run(conversation()) == ["1", "2", "2"]
    ctx = seen[1]
    assert (ctx.name, ctx.config, dict(ctx.variables), ctx.call_id) == (
        "remember", {"k": "v"}, {"caller": "+1555"}, "c1")
    assert ctx.logger.name == "agentrun.tools.remember"
    assert registry.state == {"cart": ["a", "b"]}
    other: dict[str, Any] = {}
    asyncio.run(registry.call("remember", '{"item": "z"}', call_id="x", state=other))
    assert other == {"cart": ["z"]} and registry.state == {"cart": ["a", "b"]}


def test_function_schemas_and_names_follow_the_registry() -> None:
    registry = ToolRegistry.from_functions(add, add_async)
    assert registry.function_names == frozenset({"add", "add_async"})
    assert [s["name"] for s in registry.function_schemas()] == ["add", "add_async"]
    with pytest.raises(ValueError, match="two tools are named 'add'"):
        ToolRegistry.from_functions(add, add)


class Greeter:
    """Greet someone by name."""

    async def __call__(self, name: str, /, punctuation: str = "!") -> str:
        return f"hello {name}{punctuation}"


def test_callable_objects_and_positional_only_parameters() -> None:
    tool = Tool.from_function(Greeter(), name="greet")
    assert tool.info.is_async and tool.description == "Greet someone by name."
    assert run(tool, '{"name": "Ada", "punctuation": "?"}').output == "hello Ada?"


def test_an_output_with_undecodable_bytes_can_still_be_sent() -> None:
    """A file name read with surrogateescape (os.listdir) holds lone surrogates."""
    def list_files() -> str:
        """List the files."""
        return "caf\udce9.txt"

    result = run(Tool.from_function(list_files))
    assert result.ok
    assert result.output == "caf?.txt"
    result.output.encode("utf-8")  # what the wire needs
