"""MCP servers: their tools, callable by the model like plugin tools (the official ``mcp`` SDK).

One :class:`McpConnection` per ``tools: [{name, mcp: ...}]`` entry. Its connection lives in an
owner task of its own: the SDK's task groups and the server process belong to that task, so a
server that crashes, hangs or speaks nonsense can fail only its own task, never the call
(STYLE §6). ``start`` is bounded by the entry's ``startup_timeout``; a server that cannot start
is one line through ``report`` and the call goes on without its tools. A server that dies
mid-call fails the pending call with an error output and every later call of its tools at once.
``aclose`` stops what was started (stdin closed, then SIGTERM, then SIGKILL, in the SDK) within
bounded time. :class:`McpTool` validates the model's arguments against the tool's input schema
before calling and turns the result (text and structured content) into one output.
Imports ``mcp`` (the ``agentrun-voice[mcp]`` extra) only when a server starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from agentrun._secrets import Redactor
from agentrun.tools._result import ToolResult, encode_output, error_output
from agentrun.tools._tool import DEFAULT_TIMEOUT

__all__ = ["McpConnection", "McpTool", "ServerState", "model_name"]

Report = Callable[[str, str], None]
"""``report(level, message)``: one status line for the person running the call."""

_log = logging.getLogger("agentrun.tools")
_STOP_SECONDS = 8.0  # the SDK's own shutdown is bounded (2 s + 2 s + 2 s); then we cancel
_MAX_PAGES = 50  # a server whose tools/list never ends cannot hang the start
_INSTALL_HINT = "install the MCP extra: pip install 'agentrun-voice[mcp]'"


class ServerState(Enum):
    """Where a server is in its life."""

    NEW = "new"
    STARTING = "starting"
    READY = "ready"
    FAILED = "failed"  # never became ready
    LOST = "lost"  # was ready, then stopped answering or exited
    CLOSED = "closed"  # stopped by us


def model_name(server: Any, tool: str) -> str:
    """The name the model sees for a server's tool: ``rename:``, else ``prefix:`` + name.

    Characters a function name cannot hold become ``_`` (MCP names may contain ``.`` and ``/``).
    """
    name = server.rename.get(tool) or f"{server.prefix}{tool}"
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in name)
    return cleaned[:64]


def _last_line(handle: Any) -> str:
    try:
        handle.flush()
        handle.seek(0)
        lines = [line.strip() for line in handle.read().splitlines() if line.strip()]
    except (OSError, ValueError):
        return ""
    return lines[-1][:200] if lines else ""


@dataclass
class McpConnection:
    """One MCP server of an agent, from start to stop.

    Attributes:
        name: the entry's ``name`` (in messages).
        server: the ``mcp:`` block (``agentrun.spec.McpServer``).
        base_dir: the agent file's folder (a stdio server's default working directory).
        environ: where ``env:`` and ``secrets:`` values are read.
        report: where one-line problems go (start failures, a server lost mid-call).
        state: where the server is in its life.
        problem: why it failed or was lost (one line), or None.
        tools: the server's tools as listed (``mcp.types.Tool``), in its order.
    """

    name: str
    server: Any
    base_dir: Path | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ, repr=False)
    report: Report | None = field(default=None, repr=False)
    state: ServerState = ServerState.NEW
    problem: str | None = None
    tools: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._client: Any = None
        self._http: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._stderr: Any = None
        # every value handed to the server, by its variable: what the model sees names it only
        variables = [*self.server.secrets.values(), *self.server.env.values()]
        self.redact = Redactor({self.environ[var]: var for var in variables
                                if self.environ.get(var)})

    @property
    def transport(self) -> str:
        """``stdio`` or ``http``."""
        return str(self.server.transport)

    @property
    def target(self) -> str:
        """The command line or URL, for messages (no secrets: those are never in it)."""
        if self.server.command is not None:
            return " ".join([self.server.command, *self.server.args])
        return str(self.server.url)

    def missing_environment(self) -> list[tuple[str, str, str]]:
        """``(key, what, variable)`` for each env/secret whose environment variable is unset."""
        found = [(key, "env", var) for key, var in self.server.env.items()
                 if self.environ.get(var) is None]
        found += [(key, "secret", var) for key, var in self.server.secrets.items()
                  if self.environ.get(var) is None]
        return found

    async def start(self) -> None:
        """Start (stdio) or reach (http) the server and list its tools; never raises.

        Waits at most the entry's ``startup_timeout``. On failure ``state`` is FAILED,
        ``problem`` says why in one line, and that line is reported.
        """
        self.state = ServerState.STARTING
        missing = self.missing_environment()
        if missing:
            key, what, var = missing[0]
            return self._fail(f"environment variable {var} (for {what} {key}) is not set")
        try:
            transport = self._transport()
        except ImportError:
            return self._fail(f"the mcp package is not installed ({_INSTALL_HINT})")
        self._task = asyncio.create_task(self._own(transport), name=f"agentrun-mcp-{self.name}")
        try:
            async with asyncio.timeout(float(self.server.startup_timeout)):
                await self._ready.wait()
        except TimeoutError:
            await self._halt()
            detail = _last_line(self._stderr) if self._stderr else ""
            return self._fail(f"no answer within {self.server.startup_timeout:g} s"
                              + (f" (last stderr line: {detail})" if detail else ""))
        if self.state is not ServerState.READY:
            await self._halt()
            self._fail(self.problem or "stopped while starting")

    def _fail(self, why: str) -> None:
        self.state = ServerState.FAILED
        self.problem = self.redact(why)
        if self.report is not None:
            self.report("warning", f"MCP server '{self.name}' ({self.target}) cannot start: "
                        f"{self.problem}; the call goes on without its tools")

    def _transport(self) -> Any:
        if self.server.command is None:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            from agentrun.spec import render_tool_template

            secrets = {key: self.environ.get(var, "") for key, var in
                       self.server.secrets.items()}
            headers = {key: render_tool_template(value, {"secrets": secrets})
                       for key, value in self.server.headers.items()}
            self._http = create_mcp_http_client(headers=headers or None)
            return streamable_http_client(self.server.url, http_client=self._http)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        command = self.server.command
        if command in ("python", "python3"):
            command = sys.executable  # the Python running agentrun (it has the SDK)
        cwd = Path(self.server.cwd) if self.server.cwd else None
        if self.base_dir is not None:
            cwd = self.base_dir / cwd if cwd is not None else self.base_dir
        env = {key: self.environ[var] for key, var in self.server.env.items()}
        # The server's stderr goes to a file: its tracebacks must not flood the caller's
        # terminal, and its last line explains a failed start.
        self._stderr = tempfile.TemporaryFile(  # noqa: SIM115 - closed by aclose
            "w+", encoding="utf-8", errors="replace")
        params = StdioServerParameters(command=command, args=list(self.server.args), env=env,
                                       cwd=cwd)
        return stdio_client(params, errlog=self._stderr)

    async def _own(self, transport: Any) -> None:
        """The owner task: the connection is entered, used and left here, and only here."""
        from mcp import Client

        try:
            async with Client(transport) as client:
                tools: list[Any] = []
                cursor = None
                for _ in range(_MAX_PAGES):
                    page = await client.list_tools(cursor=cursor)
                    tools.extend(page.tools)
                    cursor = page.next_cursor
                    if not cursor:
                        break
                self.tools = tools
                self._client = client
                self.state = ServerState.READY
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # the server's failure must stay here
            self._lost(self._describe(exc))
        finally:
            self._client = None
            self._ready.set()
            if self.state in (ServerState.READY, ServerState.STARTING) and self._stop.is_set():
                self.state = ServerState.CLOSED

    def _describe(self, exc: BaseException) -> str:
        while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
            exc = exc.exceptions[0]
        text = str(exc).strip().splitlines()
        detail = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
        if isinstance(exc, FileNotFoundError):
            detail = f"command not found: {self.server.command}"
        stderr = _last_line(self._stderr) if self._stderr else ""
        return self.redact(detail + (f" (last stderr line: {stderr})" if stderr else ""))

    def _lost(self, why: str) -> None:
        if self.state is ServerState.READY and not self._stop.is_set():
            self.state = ServerState.LOST
            self.problem = why
            if self.report is not None:
                self.report("warning", f"MCP server '{self.name}' stopped: {why}; its tools "
                            "now answer with an error")
        elif self.state is ServerState.STARTING:
            self.problem = why

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call one tool of the server (the caller bounds the time).

        Returns:
            The ``CallToolResult``.

        Raises:
            ServerUnavailable: the server is not running (failed, lost or closed), or the
                connection closed during the call.
            mcp.MCPError: the server answered with a JSON-RPC error.
        """
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED

        client = self._client
        if client is None or self.state is not ServerState.READY:
            raise ServerUnavailable(self.problem or "it is not running")
        try:
            return await client.call_tool(tool, arguments)
        except MCPError as exc:
            if exc.code != CONNECTION_CLOSED:
                raise
            await asyncio.sleep(0.05)  # let the owner task see the process exit
            self._lost(self._describe(exc) if self.problem is None else self.problem)
            raise ServerUnavailable(self.problem or "the connection closed") from exc
        except (OSError, RuntimeError) as exc:
            self._lost(self._describe(exc))
            raise ServerUnavailable(self.problem or "the connection failed") from exc

    async def _halt(self) -> None:
        """Stop the owner task within bounded time."""
        self._stop.set()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), _STOP_SECONDS)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, _STOP_SECONDS)
        except BaseException:  # stopping must not fail the caller; the operator may look
            _log.debug("stopping an MCP server failed", exc_info=True)

    async def aclose(self) -> None:
        """Stop the server if agentrun started it; close the connection. Idempotent."""
        if self.state is ServerState.READY:
            self.state = ServerState.CLOSED
        await self._halt()
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.close()
            self._stderr = None
        if self._http is not None:
            with contextlib.suppress(Exception):
                await self._http.aclose()
            self._http = None


class ServerUnavailable(Exception):
    """The server cannot take calls (it failed to start, was lost or was closed)."""


@dataclass
class McpTool:
    """One tool of an MCP server, as the model calls it.

    Attributes:
        name: the name the model sees (after ``prefix:``/``rename:``).
        server_name: the tool's name on the server.
        connection: the server.
        description: the server's description of the tool.
        parameters: its input schema (the JSON Schema the model sees).
        timeout: seconds one call may take (the entry's ``timeout:``).
    """

    name: str
    server_name: str
    connection: McpConnection
    description: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        self.source = f"mcp {self.connection.name}.{self.server_name}"
        self._validator: Any = None

    def check_schema(self) -> str | None:
        """Why the input schema cannot validate arguments (None when it can)."""
        import jsonschema

        try:
            cls = jsonschema.validators.validator_for(self.parameters,
                                                      jsonschema.Draft202012Validator)
            cls.check_schema(self.parameters)
            self._validator = cls(self.parameters)
        except jsonschema.SchemaError as exc:
            return f"its input schema is invalid ({exc.message})"
        return None

    def function_schema(self) -> dict[str, Any]:
        """The tool as ``session.tools[]`` wants it (grok-realtime.md §4.1, flat shape)."""
        return {"type": "function", "name": self.name, "description": self.description,
                "parameters": self.parameters}

    async def run(self, arguments_json: str, *, call_id: str = "",
                  variables: Mapping[str, str] | None = None,
                  state: dict[str, Any] | None = None) -> ToolResult:
        """Validate the arguments against the input schema, call the server, convert.

        Returns:
            The result; never raises except ``asyncio.CancelledError``.
        """
        from mcp import MCPError

        start = time.perf_counter()
        try:
            arguments = json.loads(arguments_json or "{}")
        except ValueError as exc:
            return self._failed(start, call_id, f"invalid arguments: not valid JSON ({exc})")
        if not isinstance(arguments, dict):
            return self._failed(start, call_id, "invalid arguments: expected a JSON object")
        problem = self._invalid(arguments)
        if problem:
            return self._failed(start, call_id, f"invalid arguments: {problem}")
        try:
            async with asyncio.timeout(self.timeout):
                result = await self.connection.call(self.server_name, arguments)
        except TimeoutError:
            return self._failed(start, call_id, f"{self.name} did not answer within "
                                f"{self.timeout:g} s")
        except ServerUnavailable as exc:
            return self._failed(start, call_id, f"{self.name} is unavailable: the "
                                f"'{self.connection.name}' tool server stopped ({exc})")
        except MCPError as exc:
            return self._failed(start, call_id, f"{self.name} failed: {exc.message}")
        except Exception as exc:  # an SDK validation error on a foreign result, and the like
            return self._failed(start, call_id, f"{self.name} failed: "
                                f"{type(exc).__name__}: {str(exc)[:300]}")
        text = self.connection.redact(result_text(result))
        if getattr(result, "is_error", False):
            return self._failed(start, call_id, text or f"{self.name} failed")
        return ToolResult(output=text, seconds=time.perf_counter() - start, name=self.name,
                          call_id=call_id)

    def _invalid(self, arguments: dict[str, Any]) -> str | None:
        if self._validator is None and self.check_schema() is not None:
            return None  # left out of the session at start; kept callable for embedders
        errors = sorted(self._validator.iter_errors(arguments), key=lambda e: list(e.path))
        if not errors:
            return None
        parts = []
        for error in errors[:5]:
            where = ".".join(str(p) for p in error.path)
            parts.append(f"{where}: {error.message}" if where else error.message)
        return "; ".join(parts)

    def _failed(self, start: float, call_id: str, text: str) -> ToolResult:
        seconds = time.perf_counter() - start
        text = self.connection.redact(text)
        line = f"tool {self.name} [{self.source}] call {call_id or '-'}: {text} ({seconds:.3f} s)"
        _log.warning("%s", line)
        return ToolResult(output=error_output(text), ok=False, error=line, seconds=seconds,
                          name=self.name, call_id=call_id)


def result_text(result: Any) -> str:
    """One function output from a ``CallToolResult``: text and structured content together.

    Structured content alone is sent as JSON; text alone as the text (blocks joined by a
    newline); both: the structured JSON when the text only repeats it, else
    ``{"text": ..., "structured_content": ...}``. Images, audio and binary resources are
    named, not sent (a voice model cannot use them).
    """
    texts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(block.text)
        elif kind in ("image", "audio"):
            size = len(getattr(block, "data", "") or "") * 3 // 4
            texts.append(f"[{kind} {getattr(block, 'mime_type', '')}, {size} bytes, not shown]")
        elif kind == "resource":
            resource = block.resource
            texts.append(getattr(resource, "text", None)
                         or f"[resource {resource.uri}, not shown]")
        elif kind == "resource_link":
            texts.append(f"[resource {block.uri}" + (f": {block.name}]" if getattr(
                block, "name", None) else "]"))
    structured = getattr(result, "structured_content", None)
    if isinstance(structured, dict) and list(structured) == ["result"] and texts:
        structured = structured["result"]  # the SDK's wrapper around a non-object return
    text = "\n".join(texts)
    if structured is None:
        return encode_output(text)
    dumped = json.dumps(structured, ensure_ascii=False)
    if not texts or all(_repeats(t, structured, dumped) for t in texts):
        return encode_output(structured)  # a str stays text: not JSON-quoted
    return encode_output({"text": text, "structured_content": structured})


def _repeats(text: str, structured: Any, dumped: str) -> bool:
    with contextlib.suppress(ValueError):  # text that is not JSON is compared as text
        if json.loads(text) == structured:
            return True
    return text in dumped or json.dumps(text, ensure_ascii=False)[1:-1] in dumped
