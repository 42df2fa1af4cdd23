"""One callable tool: a function, its schema, its validated config, and how a call runs.

A call never raises (except cancellation): bad JSON, invalid arguments, a timeout, an exception or
an unencodable result all become a ``ToolResult`` with ``ok=False``, an ``{"error": ...}`` output
for the model and a full line for the local log, so no path leaves the model waiting
(STYLE.md checklist item 6).

What the model sees of a failure is short and free of internals: for an ``agentrun.ToolError``,
``ValueError`` or ``LookupError`` (errors about the request, which a tool words for its caller)
the first line of the message; for anything else (``OSError``, database errors, bugs) only the
exception's type. The operator gets everything: the full line, the traceback
(``ToolResult.traceback``) and every record the tool logged during the call
(``ToolResult.logs``), which the session shows with ``-v`` and hands to the call record.

Plain functions run in a daemon thread of their own, so they never block audio and a hung one
never keeps the process alive (issue 9): when the call times out or ends, the tool's
``ToolContext.abandoned`` is set, the thread runs on until the function returns, and its result
is dropped. Async functions are cancelled instead.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import difflib
import inspect
import logging
import re
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ValidationError

from agentrun.errors import ToolError, ToolLoadError
from agentrun.tools._context import ToolContext
from agentrun.tools._paths import resolve_paths
from agentrun.tools._result import ToolResult, UnencodableResult, encode_output, error_output
from agentrun.tools._schema import FunctionInfo, describe_function
from agentrun.tools._stdout import end_print_capture, start_print_capture

__all__ = ["DEFAULT_TIMEOUT", "Tool", "ToolConfigError", "format_validation_error"]

DEFAULT_TIMEOUT = 10.0
"""Seconds a call may take unless the YAML says ``timeout:``."""

_log = logging.getLogger("agentrun.tools")

# Records a tool logs during a call (its ctx.logger is a child of agentrun.tools) are collected
# for that call: a context variable names the call's list, and a context-copying thread carries
# it into a plain function's thread. Records of other calls and other code are not touched.
_CAPTURE: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "agentrun_tool_logs", default=None)
_MAX_LOG_LINES = 200


class _CallLogs(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sink = _CAPTURE.get()
        if sink is None or len(sink) >= _MAX_LOG_LINES or record.name == _log.name:
            return  # (agentrun's own line about the call is in ToolResult.error)
        try:
            line = f"{record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info and record.exc_info[0] is not None:
                line += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
        except Exception:  # a record that cannot format must not break the tool
            line = f"{record.levelname} {record.name}: (unformattable log record)"
        sink.append(line)


_log.addHandler(_CallLogs())
if _log.level == logging.NOTSET:
    _log.setLevel(logging.INFO)  # a tool's info lines are for the operator (-v, call record)

# Exception types whose message is about the request and worded for the caller; any other
# exception's text may hold internals (paths, SQL, hosts) and stays with the operator.
_TOLD_TO_MODEL = (ToolError, ValueError, LookupError)


class ToolConfigError(ToolLoadError):
    """The YAML ``config:`` block does not fit the tool (invalid, or the tool takes none).

    Attributes:
        problems: one ``(path inside config, message, hint)`` per invalid key, so a caller that
            knows where the block sits in the YAML can point at each key.
    """

    def __init__(self, message: str, *, tool: str | None = None,
                 problems: tuple[tuple[tuple[str | int, ...], str, str | None], ...] = ()
                 ) -> None:
        super().__init__(message, tool=tool)
        self.problems = problems


def config_problems(exc: ValidationError, model: Any
                    ) -> tuple[tuple[tuple[str | int, ...], str, str | None], ...]:
    """Plain-language problems of a ``config:`` block, with did-you-mean for unknown keys.

    Args:
        exc: the validation error of the config model.
        model: the config type (a pydantic model lists its allowed keys).

    Returns:
        ``(path, message, hint)`` per error; the path is inside the ``config:`` mapping.
    """
    fields = sorted(getattr(model, "model_fields", {}) or ())
    found: list[tuple[tuple[str | int, ...], str, str | None]] = []
    for error in exc.errors(include_url=False, include_input=False):
        loc = tuple(error["loc"])
        key = str(loc[-1]) if loc else ""
        if error["type"] == "extra_forbidden":
            found.append(_unknown_key(loc, key, fields))
        elif error["type"] == "missing":
            found.append((loc, f"config key '{key}' is required", None))
        else:
            # pydantic appends the Python type (" for <class 'pathlib.Path'>"): noise to authors
            message = re.sub(r" for <class '[\w.]+'>", "", error["msg"])
            found.append((loc, f"config {key or 'block'}: {message}", None))
    return tuple(found)


def _unknown_key(loc: tuple[str | int, ...], key: str, fields: list[str]
                 ) -> tuple[tuple[str | int, ...], str, str | None]:
    close = difflib.get_close_matches(key, fields, n=1)
    allowed = f"allowed: {', '.join(fields)}" if fields else "it takes no keys"
    hint = f"did you mean '{close[0]}'? {allowed}" if close else allowed
    return loc, f"unknown config key '{key}'", hint


def unknown_config_keys(model: Any, config: Mapping[str, Any]) -> list[str]:
    """The keys of a ``config:`` block that ``model`` would silently drop.

    Pydantic ignores unknown keys unless a model says otherwise, so a plugin written the
    plain way (``class MyConfig(BaseModel)``) would run with its default where the author
    misspelt a key. A model that chose (``extra="ignore"`` or ``"allow"``) is taken at its word.

    Args:
        model: the tool's config type (a pydantic model or a dataclass; others: none).
        config: the block as written.

    Returns:
        The unknown keys, in the block's order.
    """
    if isinstance(model, type) and issubclass(model, BaseModel):
        if "extra" in model.model_config:
            return []
        known = set(model.model_fields)
        for info in model.model_fields.values():
            known |= {alias for alias in (info.alias, info.validation_alias)
                      if isinstance(alias, str)}
    elif dataclasses.is_dataclass(model) and isinstance(model, type):
        if "extra" in (getattr(model, "__pydantic_config__", None) or {}):
            return []
        known = {f.name for f in dataclasses.fields(model)}
    else:
        return []
    return [str(key) for key in config if key not in known]


_MAX_MESSAGE = 500  # an exception text longer than this is cut in the model's output


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call, configured for one agent.

    Build it with :meth:`from_function`; ``ToolRegistry`` does so for every tool an agent names.

    Attributes:
        name: the name the model sees and calls.
        function: the plugin's function.
        info: what was read from its signature and docstring.
        description: the description the model sees (docstring summary or YAML override).
        timeout: seconds a call may take.
        config: the validated ``config:`` (model instance, dict, or None without a context).
        source: where it came from, for messages (``agentrun-orders 0.1.0 (entry point …)``).
        logger: ``agentrun.tools.<name>``, handed to the tool as ``ToolContext.logger``.

    A timed-out plain function cannot be stopped: its daemon thread runs on (never keeping the
    process alive), ``ToolContext.abandoned`` is set so it can notice, and its result is
    dropped. Prefer ``async def`` for tools that wait on the network.
    """

    name: str
    function: Callable[..., Any]
    info: FunctionInfo
    description: str
    timeout: float = DEFAULT_TIMEOUT
    config: Any = None
    source: str = ""
    logger: logging.Logger = field(default_factory=lambda: _log, repr=False)

    @classmethod
    def from_function(
        cls,
        function: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        config: Mapping[str, Any] | None = None,
        source: str = "",
        config_base: Path | None = None,
    ) -> Tool:
        """Describe a function and validate its config.

        Args:
            function: the tool function (sync or async).
            name: the name the model sees; defaults to the function's ``__name__``.
            description: overrides the docstring summary.
            timeout: seconds per call; defaults to ``DEFAULT_TIMEOUT``.
            config: the YAML ``config:`` block, validated against the function's
                ``ToolContext[Model]`` annotation when it has one.
            source: where the function came from, used in messages.
            config_base: the agent file's folder: relative paths in ``config:`` (fields the
                config model types as paths) start there, and ``~`` is the home folder.

        Returns:
            The tool.

        Raises:
            ToolLoadError: the function is not callable or its signature has no JSON Schema.
            ToolConfigError: the config is invalid, or given to a tool that takes none.
        """
        tool_name = name or getattr(function, "__name__", "") or type(function).__name__
        if not callable(function):
            raise ToolLoadError(f"names nothing callable ({type(function).__name__})",
                                tool=tool_name)
        try:
            info = describe_function(function, name=tool_name)
        except TypeError as exc:
            raise ToolLoadError(str(exc), tool=tool_name) from exc
        config_value: Any = None
        if info.context_param is None:
            if config:
                raise ToolConfigError("takes no config (it has no ToolContext parameter); "
                                    "remove its config: block", tool=tool_name)
        elif info.config_adapter is None:
            config_value = dict(config or {})
        else:
            written = resolve_paths(info.config_type, config or {}, config_base)
            fields = sorted(getattr(info.config_type, "model_fields", {}) or ())
            problems = tuple(_unknown_key((key,), key, fields)
                             for key in unknown_config_keys(info.config_type, written))
            messages = [f"{message} ({hint})" for _, message, hint in problems]
            try:
                config_value = info.config_adapter.validate_python(written)
            except ValidationError as exc:
                problems += config_problems(exc, info.config_type)
                messages.append(format_validation_error(exc))
            if problems:
                raise ToolConfigError(f"invalid config: {'; '.join(messages)}", tool=tool_name,
                                      problems=problems)
        summary = (description or info.description or "").strip()
        return cls(
            name=tool_name,
            function=function,
            info=info,
            description=summary,
            timeout=DEFAULT_TIMEOUT if timeout is None else float(timeout),
            config=config_value,
            source=source,
            logger=logging.getLogger(f"agentrun.tools.{tool_name}"),
        )

    def function_schema(self) -> dict[str, Any]:
        """The tool as ``session.tools[]`` wants it (grok-realtime.md §4.1, flat shape)."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.info.parameters,
        }

    async def run(
        self,
        arguments_json: str,
        *,
        call_id: str = "",
        variables: Mapping[str, str] | None = None,
        state: dict[str, Any] | None = None,
        call: Mapping[str, str] | None = None,
    ) -> ToolResult:
        """Validate the model's arguments, run the tool under its timeout, encode the result.

        Args:
            arguments_json: the arguments exactly as the model sent them (a JSON object text;
                an empty string means no arguments).
            call_id: the call id, passed to the tool's context and into log lines.
            variables: the conversation's call variables (caller, …).
            state: the per-conversation dict shared between tools.
            call: facts about the call (``caller``, ``id``, ``channel``) for ``ToolContext.call``.

        Returns:
            The result; never raises except ``asyncio.CancelledError``.
        """
        start = time.perf_counter()
        try:
            arguments = self.info.arguments_model.model_validate_json(arguments_json or "{}")
        except ValidationError as exc:
            detail = format_validation_error(exc)
            return self._failed(start, call_id, f"invalid arguments: {detail}",
                                f"rejected invalid arguments: {detail}", None)
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for field_name, param, positional_only in self.info.fields:
            value = getattr(arguments, field_name)
            if positional_only:
                positional.append(value)
            else:
                keywords[param] = value
        abandoned = threading.Event()
        if self.info.context_param is not None:
            keywords[self.info.context_param] = ToolContext(
                name=self.name,
                config=self.config,
                variables=MappingProxyType(dict(variables or {})),
                call_id=call_id,
                logger=self.logger,
                state={} if state is None else state,
                abandoned=abandoned,
                call=MappingProxyType(dict(call or {})),
            )
        import asyncio  # here, not at the top: `agentrun check` builds tools but runs none

        logs: list[str] = []
        token = _CAPTURE.set(logs)
        printing = start_print_capture(self.logger)  # print() goes to the logs, not stdout
        scope = asyncio.timeout(self.timeout)
        try:
            async with scope:
                if self.info.is_async:
                    value = await self.function(*positional, **keywords)
                else:
                    value = await _in_daemon_thread(self.function, positional, keywords,
                                                    f"agentrun-tool-{self.name}")
                if inspect.isawaitable(value):
                    value = await value
            output = encode_output(value)
        except TimeoutError as exc:
            abandoned.set()
            if not scope.expired():  # the tool's own TimeoutError (e.g. an HTTP client's)
                return self._crashed(start, call_id, exc, logs)
            seconds = f"{self.timeout:g} s"
            return self._failed(start, call_id, f"{self.name} timed out after {seconds}",
                                f"timed out after {seconds} (abandoned)", None, logs)
        except UnencodableResult as exc:
            return self._failed(start, call_id, f"{self.name} failed: it {exc}",
                                f"returned a value agentrun cannot encode: {exc}", None, logs)
        except Exception as exc:  # a plugin may raise anything; the model still gets an answer
            return self._crashed(start, call_id, exc, logs)
        except BaseException:  # cancelled (the call ended): a tool still running is abandoned
            abandoned.set()
            raise
        finally:
            end_print_capture(printing)
            _CAPTURE.reset(token)
        return ToolResult(output=output, seconds=time.perf_counter() - start, name=self.name,
                          call_id=call_id, logs=tuple(logs))

    def _crashed(self, start: float, call_id: str, exc: BaseException,
                 logs: list[str] | None = None) -> ToolResult:
        kind = type(exc).__name__
        text = str(exc).strip()
        first = text.splitlines()[0][:_MAX_MESSAGE] if text else ""
        if isinstance(exc, (*_TOLD_TO_MODEL, TimeoutError)) and first:
            model_text = f"{self.name} failed: {kind}: {first}"
        else:
            model_text = f"{self.name} failed with an internal error ({kind})"
        return self._failed(start, call_id, model_text, f"raised {kind}: {text}", exc, logs)

    def _failed(self, start: float, call_id: str, model_text: str, log_text: str,
                exc: BaseException | None, logs: list[str] | None = None) -> ToolResult:
        seconds = time.perf_counter() - start
        origin = f" [{self.source}]" if self.source else ""
        line = f"tool {self.name}{origin} call {call_id or '-'}: {log_text} ({seconds:.3f} s)"
        _log.warning("%s", line)
        trace = None
        if exc is not None:
            _log.debug("tool %s call %s traceback", self.name, call_id, exc_info=exc)
            trace = "".join(traceback.format_exception(exc)).rstrip()
        return ToolResult(output=error_output(model_text), ok=False, error=line, seconds=seconds,
                          name=self.name, call_id=call_id, traceback=trace,
                          logs=tuple(logs or ()))


async def _in_daemon_thread(function: Callable[..., Any], args: list[Any],
                            kwargs: dict[str, Any], name: str) -> Any:
    """Run a plain function in a daemon thread of its own and await its result.

    Not ``asyncio.to_thread``: the default executor's threads are joined when the loop and the
    interpreter shut down, so one hung tool would keep the process alive forever. A daemon
    thread never does; cancelling this coroutine stops the wait, not the thread.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()
    context = contextvars.copy_context()  # the call's log capture goes along

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return  # abandoned: the result is dropped
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def work() -> None:
        try:
            result = context.run(function, *args, **kwargs)
        except BaseException as exc:  # handed to the awaiting task, which decides
            ok, result = False, exc
        else:
            ok = True
        # the loop may be gone (the process is ending): then nobody waits for this result
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, ok, result)

    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


def format_validation_error(exc: ValidationError) -> str:
    """One line per pydantic error, joined: ``order_id: Field required; days: …``.

    Args:
        exc: the validation error.

    Returns:
        A short text a model (or a YAML author) can act on; never the input payload.
    """
    parts: list[str] = []
    for error in exc.errors(include_url=False, include_input=False):
        if error["type"] == "json_invalid":
            parts.append(f"not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})")
            continue
        location = ".".join(str(part) for part in error["loc"])
        parts.append(f"{location}: {error['msg']}" if location else error["msg"])
    return "; ".join(parts)
