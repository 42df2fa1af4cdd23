"""``agentrun tools --agent FILE``: the tools one agent gives its model, MCP servers included.

Only wiring: loads the file, opens its tools (starting or reaching every MCP server, also those
Grok calls itself, then stopping them) and prints what the model sees. Problems (a server that
cannot start, an ``allowed_tools`` name a server does not offer) are printed as
FILE:LINE:COL lines and make the exit code 2.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import click

from agentrun.errors import SpecErrors

__all__ = ["list_agent_tools"]

_WIDTH = 60


def list_agent_tools(file: str, as_json: bool) -> None:
    """Print the agent's tools (a table, or JSON with ``as_json``).

    Raises:
        SpecErrors: the file is invalid, or a server or name problem was found (exit 2).
    """
    from agentrun.spec import load_spec
    from agentrun.tools import ToolRegistry

    spec = load_spec(file)
    registry = ToolRegistry.for_spec(spec)
    problems = [*registry.problems, *registry.environment_problems()]
    if problems:
        raise SpecErrors(problems)
    rows, servers, problems = asyncio.run(_survey(registry))
    builtins = [ref.tool for ref in spec.tools if ref.is_builtin]
    if as_json:
        click.echo(json.dumps({"tools": rows, "servers": servers, "builtins": builtins},
                              indent=2, ensure_ascii=False))
    elif not rows and not builtins and not servers:
        click.echo(f"{file} gives its model no tools (add them under tools:; `agentrun tools` "
                   "lists the installed ones)")
    else:
        table = [("NAME", "KIND", "FROM", "DESCRIPTION")]
        table += [(r["name"], r["kind"], r["from"], _short(r["description"])) for r in rows]
        table += [(name, "built-in", "Grok", "runs on the xAI server") for name in builtins]
        table += [(f"{s['name']}:*", "mcp (grok)", s["target"], "Grok calls this server")
                  for s in servers if s["called_by"] == "grok"]
        widths = [max(len(row[i]) for row in table) for i in range(3)]
        for row in table:
            click.echo("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)),
                                  row[3]]).rstrip())
    if problems:
        raise SpecErrors(problems)


async def _survey(registry: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Any]]:
    async with registry.open(report=lambda level, message: None, remote=True) as opened:
        rows = []
        for tool in opened.tools.values():
            kind = type(tool).__name__.removesuffix("Tool").lower() or "plugin"
            rows.append({"name": tool.name, "kind": {"": "plugin"}.get(kind, kind),
                         "from": getattr(tool, "source", ""),
                         "description": tool.function_schema().get("description", ""),
                         "parameters": tool.function_schema().get("parameters")})
        servers = [{"name": s.name, "transport": s.transport, "target": s.target,
                    "called_by": s.server.called_by, "state": s.state.value,
                    "problem": s.problem, "offers": [t.name for t in s.tools]}
                   for s in opened.servers]
        return rows, servers, list(opened.problems)


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _WIDTH else text[: _WIDTH - 1] + "…"
