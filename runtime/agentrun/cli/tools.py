"""``agentrun tools``: list installed tools, ``agentrun tools show NAME`` for one in full.

Only wiring: the catalog lives in ``agentrun.tools``, imported inside the commands so that
``agentrun --help`` does not import pydantic or any plugin.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from agentrun.cli import main

if TYPE_CHECKING:
    from agentrun.tools._catalog import CatalogEntry

__all__ = ["tools"]

_DESCRIPTION_WIDTH = 60


@main.group("tools", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object per tool).")
@click.option("--agent", "agent_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="List the tools of this agent file instead: plugin, http and MCP tools as "
                   "the model sees them (its MCP servers are started, listed and stopped).")
@click.pass_context
def tools(ctx: click.Context, as_json: bool, agent_file: str | None) -> None:
    """List the tools installed plugins provide (and the server's built-ins).

    A tool is a Python function in a pip-installed plugin. Name it under
    `tools:` in an agent file; options are all optional:

    \b
      tools:
        - lookup_order                  # by its name in this list
        - name: create_ticket
          as: file_ticket               # the name the model sees
          description: Open a ticket.   # replaces the docstring summary
          timeout: 5s                   # per call (default 10s)
          config:                       # see `agentrun tools show NAME`
            database: ~/acme/orders.db
        - web_search                    # built-in, runs on the server

    \b
    Examples:
      agentrun tools                    table of every installed tool
      agentrun tools --agent agents/clinic.yaml   the tools of one agent, MCP ones included
      agentrun tools show lookup_order  its parameters and config options
      agentrun tools --json             the same for scripts
    """
    if ctx.invoked_subcommand is not None:
        return
    if agent_file is not None:
        from agentrun.cli._agent_tools import list_agent_tools

        list_agent_tools(agent_file, as_json)
        return
    from agentrun.tools._catalog import catalog, catalog_notes

    entries = catalog()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2, ensure_ascii=False))
        return
    usable = [e for e in entries if e.problem is None]
    if not [e for e in entries if not e.builtin]:
        click.echo("no tool plugins installed (see 'Writing a tool plugin' in the README)")
    notes = catalog_notes(entries)
    plugin_names = [e.name for e in entries if not e.builtin]
    ambiguous = {name for name in plugin_names
                 if plugin_names.count(name) > 1 or name in {e.name for e in entries if e.builtin}}
    rows = [("NAME", "DISTRIBUTION", "VERSION", "DESCRIPTION", "PARAMETERS")]
    rows += [(e.qualified_name if e.name in ambiguous and not e.builtin else e.name,
              e.distribution, e.version, _short(e.description), _parameters(e))
             for e in usable]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[4]]).rstrip())
    # on stderr, each once: broken plugins, clashing or shadowing names, weak descriptions
    lines = [e.problem for e in entries if e.problem is not None] + notes
    lines += [warning for e in usable for warning in e.warnings]
    for line in lines:
        click.echo(f"agentrun: warning: {line}", err=True)


@tools.command("show")
@click.argument("name", metavar="NAME")
@click.option("--json", "as_json", is_flag=True, help="Print the entry as JSON.")
def show(name: str, as_json: bool) -> None:
    """Show one tool: the JSON Schema the model sees and its config options.

    NAME is the tool's name, or DISTRIBUTION/NAME when two plugins provide it.

    \b
    Examples:
      agentrun tools show create_ticket
      agentrun tools show agentrun-orders/create_ticket
    """
    from agentrun.tools._catalog import catalog_entry

    entry = catalog_entry(name)
    if as_json:
        click.echo(json.dumps(entry.to_json(), indent=2, ensure_ascii=False))
        return
    if entry.builtin:
        click.echo(f"{entry.name}: built-in tool, {entry.description}")
        return
    for warning in entry.warnings:
        click.echo(f"agentrun: warning: {warning}", err=True)
    click.echo(f"{entry.name}  ({entry.distribution} {entry.version}, "
               f"entry point {entry.name} = {entry.entry_point})")
    click.echo(f"\n{entry.description or '(no description: give the function a docstring)'}\n")
    click.echo("What the model sees (session.tools[] entry):")
    schema = {"type": "function", "name": entry.name, "description": entry.description,
              "parameters": entry.parameters}
    click.echo(json.dumps(schema, indent=2, ensure_ascii=False))
    click.echo("\nConfig options (the tool's `config:` block in an agent file):")
    for line in _config_lines(entry.config):
        click.echo(f"  {line}")


def _short(text: str) -> str:
    return text if len(text) <= _DESCRIPTION_WIDTH else text[: _DESCRIPTION_WIDTH - 1] + "…"


def _parameters(entry: CatalogEntry) -> str:
    schema = entry.parameters or {}
    required = set(schema.get("required", ()))
    return ", ".join(
        f"{name}{'' if name in required else '?'}: {_type(prop)}"
        for name, prop in schema.get("properties", {}).items()
    )


def _type(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return "|".join(str(value) for value in prop["enum"])
    if "anyOf" in prop:
        return "|".join(_type(option) for option in prop["anyOf"])
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list[{_type(prop.get('items', {}))}]"
    return str(kind)


def _config_lines(config: dict[str, Any] | None) -> list[str]:
    if config is None:
        return ["none (the tool has no ToolContext parameter; a config: block is an error)"]
    properties = config.get("properties")
    if not properties:
        return ["any mapping (passed to the tool as a dict, not validated)"]
    required = set(config.get("required", ()))
    lines = []
    for name, prop in properties.items():
        facts = [_type(prop), "required" if name in required else "optional"]
        if "default" in prop:
            facts.append(f"default {json.dumps(prop['default'])}")
        line = f"{name}: {', '.join(facts)}"
        if prop.get("description"):
            line += f". {prop['description']}"
        lines.append(line)
    return lines
