"""``agentrun help [COMMAND]``: the same text as ``agentrun [COMMAND] --help``.

People type ``help`` before they think of ``--help``; without this command ``agentrun help`` was
taken for an agent file named ``help``.
"""

from __future__ import annotations

import difflib

import click

from agentrun.cli import main

__all__ = ["help_command"]


@main.command("help")
@click.argument("command", nargs=-1, metavar="[COMMAND]...")
@click.pass_context
def help_command(ctx: click.Context, command: tuple[str, ...]) -> None:
    """Show the help of agentrun, or of one command.

    \b
    Examples:
      agentrun help                 every command
      agentrun help run             how to talk to an agent
      agentrun help tools show      a subcommand
    """
    target: click.Command = main
    parent = ctx.parent if ctx.parent is not None else ctx
    target_ctx = parent
    for word in command:
        found = target.get_command(target_ctx, word) if isinstance(target, click.Group) else None
        if found is None:
            raise click.UsageError(_unknown(word, target, target_ctx), parent)
        target_ctx = click.Context(found, info_name=word, parent=target_ctx)
        target = found
    click.echo(target.get_help(target_ctx))


def _unknown(word: str, target: click.Command, ctx: click.Context) -> str:
    """``no command 'chek' (did you mean 'check'?)`` or the list of commands."""
    if not isinstance(target, click.Group):
        return f"'{ctx.command_path}' has no subcommands (no '{word}')"
    names = target.list_commands(ctx)
    close = difflib.get_close_matches(word, names, n=1)
    hint = f"did you mean '{close[0]}'?" if close else "commands: " + ", ".join(names)
    return f"no command '{word}' ({hint})"
