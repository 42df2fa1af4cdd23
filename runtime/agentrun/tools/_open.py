"""Opening a registry: start the MCP servers, share an HTTP client, gather their tools.

Owns the rules for a server's tools: ``allowed_tools`` (a name the server does not offer is a
located problem with did-you-mean), ``prefix:``/``rename:``, and names that clash with another
tool or a built-in's reserved names (located problem; the other tool keeps the name). Problems
found here are reported in one line each and kept, located, in ``problems`` (for
``agentrun check --connect``); the call goes on with every tool that works.
"""

from __future__ import annotations

import asyncio
import dataclasses
import difflib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrun.errors import SpecError
from agentrun.tools._http import HttpTool
from agentrun.tools._mcp import McpConnection, McpTool, ServerState, model_name
from agentrun.tools._tool import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from agentrun.tools._registry import Report, ToolRegistry

__all__ = ["server_tool", "start"]

_log = logging.getLogger("agentrun.tools")


def _log_report(level: str, message: str) -> None:
    _log.log(logging.WARNING if level in ("warning", "error") else logging.INFO, "%s", message)


async def start(base: ToolRegistry, report: Report | None, remote: bool) -> ToolRegistry:
    """A copy of ``base`` with an HTTP client and started MCP servers (see ``open``)."""
    from agentrun.tools._registry import ToolRegistry, _located, reserved_names

    say = report or _log_report
    spec = base._spec
    tools: list[Any] = list(base._tools.values())
    opened = ToolRegistry(problems=base.problems)
    opened._spec, opened._environ, opened._mcp_refs = spec, base._environ, base._mcp_refs
    opened.warnings = list(base.warnings)
    if any(isinstance(t, HttpTool) for t in tools):
        import httpx

        client = httpx.AsyncClient(follow_redirects=False)
        opened._closers.append(client.aclose)
        tools = [dataclasses.replace(t, client=client) if isinstance(t, HttpTool) else t
                 for t in tools]
    base_dir = Path(spec.path).parent if spec is not None and getattr(spec, "path", None) \
        else None
    entries = [(index, ref) for index, ref in base._mcp_refs
               if remote or ref.mcp.called_by == "agentrun"]
    connections = [McpConnection(ref.name, ref.mcp, base_dir=base_dir, environ=base._environ,
                                 report=say) for _, ref in entries]
    opened.servers = connections
    opened._closers.append(lambda: _close_all(connections))
    try:
        await asyncio.gather(*(c.start() for c in connections))
    except BaseException:
        await opened.aclose()
        raise
    reserved = reserved_names(getattr(spec, "tools", ()) or ())
    names = {t.name: getattr(t, "source", "") or "a plugin" for t in tools}
    problems: list[SpecError] = []

    def problem(index: int, message: str, hint: str | None = None,
                inner: tuple[str | int, ...] = ()) -> None:
        found = _located(spec, index, message, hint, inner=inner)
        problems.append(found)
        say("warning", str(found))

    for (index, ref), connection in zip(entries, connections, strict=True):
        if connection.state is not ServerState.READY:
            problems.append(_located(spec, index, f"MCP server '{ref.name}' cannot start: "
                                     f"{connection.problem}", None))
            continue
        offered = [tool.name for tool in connection.tools]
        for position, wanted in enumerate(ref.mcp.allowed_tools or ()):
            if wanted not in offered:
                problem(index, f"MCP server '{ref.name}' offers no tool '{wanted}'",
                        _hint(wanted, offered), inner=("mcp", "allowed_tools", position))
        for wanted in ref.mcp.rename:
            if wanted not in offered:
                problem(index, f"MCP server '{ref.name}' offers no tool '{wanted}' to rename",
                        _hint(wanted, offered), inner=("mcp", "rename", wanted))
        if ref.mcp.called_by == "grok":
            continue  # listed for check --connect; Grok calls them, not us
        allowed = set(ref.mcp.allowed_tools) if ref.mcp.allowed_tools is not None else None
        for listed in connection.tools:
            if allowed is not None and listed.name not in allowed:
                continue
            name = model_name(ref.mcp, listed.name)
            if name in reserved or name in names:
                owner = f"reserved by the built-in '{reserved[name]}'" if name in reserved \
                    else f"already taken by {names[name]}"
                problem(index, f"MCP server '{ref.name}' offers '{listed.name}', but '{name}' "
                        f"is {owner}; it is left out",
                        f"give it another name: rename: {{{listed.name}: "
                        f"{ref.name}_{listed.name}}} or prefix: {ref.name}_")
                continue
            tool = McpTool(name=name, server_name=listed.name, connection=connection,
                           description=(listed.description or "").strip(),
                           parameters=_parameters(listed.input_schema),
                           timeout=DEFAULT_TIMEOUT if ref.timeout is None else float(ref.timeout))
            broken = tool.check_schema()
            if broken:
                problem(index, f"MCP server '{ref.name}': tool '{listed.name}' is left out: "
                        f"{broken}")
                continue
            names[name] = tool.source
            tools.append(tool)
    # in YAML order: what the session declares reads like the file
    where = {ref.name: index for index, ref in enumerate(getattr(spec, "tools", ()) or ())
             if getattr(ref, "kind", "plugin") in ("plugin", "http")}
    where.update({tool.name: index for (index, _), c in zip(entries, connections, strict=True)
                  for tool in tools if isinstance(tool, McpTool) and tool.connection is c})
    tools.sort(key=lambda tool: where.get(tool.name, len(where)))
    opened._tools = {tool.name: tool for tool in tools}
    opened.function_names = frozenset(opened._tools)
    opened.problems = [*base.problems, *problems]
    return opened


async def _close_all(connections: list[McpConnection]) -> None:
    # concurrently: each may take the SDK's bounded shutdown (stdin, SIGTERM, SIGKILL)
    await asyncio.gather(*(c.aclose() for c in connections), return_exceptions=True)


def _hint(name: str, offered: list[str]) -> str:
    close = difflib.get_close_matches(name, offered, n=1, cutoff=0.6)
    listing = "it offers: " + (", ".join(offered) if offered else "no tools")
    return f"did you mean '{close[0]}'? {listing}" if close else listing


def _parameters(schema: Any) -> dict[str, Any]:
    """The input schema as the model's ``parameters`` (always an object schema)."""
    parameters = dict(schema or {})
    parameters.setdefault("type", "object")
    if parameters.get("type") == "object":
        parameters.setdefault("properties", {})
    parameters.pop("title", None)  # pydantic's "fooArguments": noise to the model
    return parameters


def server_tool(ref: Any, environ: Mapping[str, str], *, reveal: bool) -> dict[str, Any]:
    """The ``{"type": "mcp", ...}`` entry of a server Grok calls itself (grok-realtime.md §4.1).

    Keys follow xAI's remote MCP tool: ``server_url``, ``server_label``, ``server_description``,
    ``allowed_tools`` and ``headers``.
    """
    from agentrun.spec import render_tool_template

    server = ref.mcp
    secrets = {key: environ.get(var, "") if reveal else f"${{{var}}}"
               for key, var in server.secrets.items()}
    entry: dict[str, Any] = {"type": "mcp", "server_url": server.url, "server_label": ref.name}
    if ref.description:
        entry["server_description"] = ref.description
    if server.allowed_tools is not None:
        entry["allowed_tools"] = list(server.allowed_tools)
    if server.headers:
        entry["headers"] = {key: render_tool_template(value, {"secrets": secrets})
                            for key, value in server.headers.items()}
    return entry
