"""The ``agentrun`` command line: one click group that only wires the packages together.

``agentrun FILE.yaml`` means ``agentrun run FILE.yaml``, with ``run``'s options before or after the
file. Every ``AgentrunError`` and every usage mistake becomes one line on stderr and an exit code
here, in one place (:data:`EXIT_CODES`); commands never print tracebacks.
Each command lives in a sibling module (``author``, ``tools``, ``run``, ``doctor``, ``report``,
``usage``) that registers on ``main``.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

import click

from agentrun.errors import AgentrunError, SpecError, SpecErrors

__all__ = ["EXIT_CODES", "INTERRUPTED", "env_name", "main"]

EXIT_CODES = """\b
Exit codes (the same for every command):
  0    ok
  1    the call failed (connection lost and not restored, server error)
  2    bad input or usage (agent file, arguments, files that cannot be read)
  3    the service rejected the API key, or the quota is used up
  130  interrupted (Ctrl-C)
"""
"""The exit-code table every ``--help`` that can end in more than ok/usage shows."""

INTERRUPTED = 130
"""Exit code after Ctrl-C (128 + SIGINT, the shell's convention)."""


class _AgentrunGroup(click.Group):
    """A group whose default command is ``run`` and which reports every error itself."""

    default_command = "run"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `agentrun agents/support.yaml --text` and `agentrun --dry-run agents/support.yaml`
        # both mean `agentrun run …`
        if args and args[0] not in self.commands and (
                not args[0].startswith("-") or self._is_run_option(ctx, args[0])):
            if not args[0].startswith("-"):
                _refuse_misspelt_command(ctx, args[0], list(self.commands))
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def _is_run_option(self, ctx: click.Context, word: str) -> bool:
        """``word`` is an option of ``run`` and not one of the group's own (``--help``...)."""
        name = word.split("=", 1)[0]
        if name in ctx.help_option_names or name == "--version":
            return False
        command = self.commands.get(self.default_command)
        if command is None:
            return False
        return any(name in (*p.opts, *p.secondary_opts) for p in command.params
                   if isinstance(p, click.Option))

    def invoke(self, ctx: click.Context) -> Any:
        _tolerant_streams()
        try:
            return super().invoke(ctx)
        except AgentrunError as exc:
            click.echo(_error_text(exc), err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("agentrun: interrupted", err=True)
            ctx.exit(INTERRUPTED)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        """Run the command line; usage mistakes are one ``agentrun:`` line and exit code 2.

        click's own report is three lines (usage, "Try --help", "Error: …"); a person who
        mistyped one option needs the one that says what is wrong and where to read more.
        """
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            click.echo(_usage_text(exc), err=True)
            # a file click could not open is bad input like any other (click says 1)
            sys.exit(2 if isinstance(exc, click.FileError) else exc.exit_code)
        except click.Abort:
            click.echo("agentrun: interrupted", err=True)
            sys.exit(INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)


def _tolerant_streams() -> None:
    """A conversation may hold any Unicode; a terminal or pipe that is not UTF-8 (LANG=C,
    PYTHONIOENCODING=latin-1) shows what it cannot encode as '?' instead of crashing the call
    (issue 9). Typed input it cannot decode keeps its bytes (the console sends them as
    U+FFFD) instead of ending the input. Only streams that would raise are changed."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "replace"),
                           (sys.stdin, "surrogateescape")):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            # a detached or closed stream has nothing to protect
            with contextlib.suppress(ValueError, OSError):
                stream.reconfigure(errors=errors)


def _error_text(exc: AgentrunError) -> str:
    """Agent-file problems keep the ``FILE:LINE:COL:`` form editors jump to; the rest get
    the ``agentrun:`` prefix on every line."""
    from agentrun._secrets import redact

    if isinstance(exc, SpecErrors):
        return "\n".join(_spec_line(e, redact) for e in exc.condensed())
    if isinstance(exc, SpecError):
        return _spec_line(exc, redact)
    text = redact(str(exc))
    return "\n".join(f"agentrun: {line}" for line in text.splitlines() or [type(exc).__name__])


def _spec_line(error: SpecError, redact: Any) -> str:
    """``FILE:LINE:COL: message (hint)`` with secrets cut from the words, not the place."""
    text = f"{error.location}: {redact(error.message)}"
    return text + (f" ({redact(error.hint)})" if error.hint else "")


def _usage_text(exc: click.ClickException) -> str:
    """One line: ``agentrun: <what is wrong> (see 'agentrun run --help')``."""
    message = _plain(" ".join(exc.format_message().split()).removesuffix("."))
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    # a bad value's message carries its own hint; "no such option" and the like point to --help
    if (ctx is not None and isinstance(exc, click.UsageError)
            and (not isinstance(exc, click.BadParameter) or isinstance(exc, click.MissingParameter))
            and not message.endswith(")")):
        message += f" (see '{ctx.command_path} --help')"
    return f"agentrun: {message}"


def env_name(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """Option callback: ``--api-key-env`` names an environment variable (letters, digits, ``_``).

    Raises:
        click.BadParameter: anything else (an empty name, a key pasted by mistake).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise click.BadParameter(f"{value!r} is not an environment variable name "
                                 "(e.g. XAI_API_KEY)")
    return value


# click's wording a non-programmer stumbles on → plain words
_PLAIN = (
    (re.compile(r"(\S+) is not in the range (-?[\d.]+)<=x<=(-?[\d.]+)"),
     r"\1 is not between \2 and \3"),
    (re.compile(r"(\S+) is not in the range x>=(-?[\d.]+)"), r"\1 is too small (at least \2)"),
    (re.compile(r"(\S+) is not in the range x<=(-?[\d.]+)"), r"\1 is too large (at most \2)"),
    (re.compile(r"[Gg]ot unexpected extra arguments? \((.*)\)"), r"unexpected extra argument: \1"),
)


def _plain(message: str) -> str:
    for pattern, replacement in _PLAIN:
        message = pattern.sub(replacement, message)
    return message


def _refuse_misspelt_command(ctx: click.Context, word: str, commands: list[str]) -> None:
    """``agentrun chek x.yaml`` is a typo for ``check``, not an agent file named ``chek``."""
    if os.path.exists(word) or "." in word or os.sep in word:
        return
    close = difflib.get_close_matches(word, commands, n=1)
    if close:
        raise click.UsageError(f"no command '{word}' (did you mean '{close[0]}'?)", ctx)


@click.group("agentrun", cls=_AgentrunGroup, epilog=EXIT_CODES,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="agentrun-voice")
def main() -> None:
    """Run a voice agent described in one YAML file.

    \b
    Examples:
      agentrun agents/support.yaml            talk to the agent (offline simulator
                                              when XAI_API_KEY is not set)
      agentrun --dry-run agents/support.yaml  show what would be sent, send nothing
      agentrun check agents/*.yaml            find every mistake in agent files
      agentrun new my-agent                   start a new agent file
      agentrun doctor                         check this machine's setup
      agentrun test                           run the *.test.yaml conversation tests
      agentrun help run                       the options of one command
    """


def run_main() -> None:  # pragma: no cover - console entry used by `python -m agentrun`
    sys.exit(main())


from agentrun.cli import (  # noqa: E402,F401  (commands register on `main`)
    author,
    doctor,
    report,
    run,
    serve,
    test,
    tools,
    usage,
    voice,
)
