"""The ``agentrun`` command line: one click group that only wires the packages together.

``agentrun FILE.yaml`` means ``agentrun run FILE.yaml``. Every ``AgentrunError`` becomes a message
on stderr and its ``exit_code`` here, in one place; commands never print tracebacks.
Each command lives in a sibling module (``author``, ``tools``, ``run``) that registers on ``main``.
"""

from __future__ import annotations

import difflib
import os
import sys
from typing import Any

import click

from agentrun.errors import AgentrunError

__all__ = ["main"]


class _AgentrunGroup(click.Group):
    """A group whose default command is ``run`` and which reports our errors itself."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `agentrun agents/support.yaml --text` -> `agentrun run agents/support.yaml --text`
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            _refuse_misspelt_command(ctx, args[0], list(self.commands))
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AgentrunError as exc:
            click.echo(str(exc), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def _refuse_misspelt_command(ctx: click.Context, word: str, commands: list[str]) -> None:
    """``agentrun chek x.yaml`` is a typo for ``check``, not an agent file named ``chek``."""
    if os.path.exists(word) or "." in word or os.sep in word:
        return
    close = difflib.get_close_matches(word, commands, n=1)
    if close:
        raise click.UsageError(f"no command '{word}' (did you mean '{close[0]}'?)", ctx)


@click.group(cls=_AgentrunGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="agentrun-voice")
def main() -> None:
    """Run a voice agent described in one YAML file.

    \b
    Examples:
      agentrun agents/support.yaml            talk to the agent (offline simulator
                                              when XAI_API_KEY is not set)
      agentrun agents/support.yaml --dry-run  show what would be sent, send nothing
      agentrun check agents/*.yaml            find every mistake in agent files
      agentrun new my-agent                   start a new agent file
    """


def run_main() -> None:  # pragma: no cover - console entry used by `python -m agentrun`
    sys.exit(main())


from agentrun.cli import author, run, tools  # noqa: E402,F401  (commands register on `main`)
