"""Commands for people writing agent files: ``check``, ``render``, ``schema`` and ``new``.

Only wiring: the work is in ``agentrun.spec`` (imported inside each command so that
``agentrun --help`` and the other commands stay fast). Problems are raised as ``SpecErrors``;
the ``main`` group prints them and exits with code 2.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from agentrun.cli import main
from agentrun.errors import SpecError, SpecErrors

if TYPE_CHECKING:
    from pathlib import Path

    from agentrun.agent import Agent
    from agentrun.spec import AgentSpec


# json, datetime and pathlib are imported inside the commands: `agentrun --help` and the other
# commands should not pay for them.

__all__ = ["check", "explain", "new", "parse_assignments", "render", "schema"]

_CALL_FACTS = ("caller", "call_id")
"""The ``call.*`` names templates see (``spec/_template.py``); ``render --call`` sets them."""


def parse_assignments(values: Iterable[str], option: str = "--var") -> dict[str, str]:
    """``["company=Acme", "count=3"]`` → ``{"company": "Acme", "count": "3"}``.

    Args:
        values: the option's values, each NAME=VALUE.
        option: the option name, for the message.

    Returns:
        Values by name (text; ``render_instructions`` converts them to the declared types).

    Raises:
        click.BadParameter: a value without ``=`` or with an empty name.
    """
    result: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"'{item}' is not NAME=VALUE (e.g. {option} company=Acme)",
                                     param_hint=option)
        result[name.strip()] = value
    return result


def _connect_problems(agent: Agent, file: str, listing: list[str]) -> list[SpecError]:
    """Start or reach the agent's MCP servers; list their tools; check names against them."""
    import asyncio

    if not agent.tools.has_servers:
        return []

    async def survey() -> list[SpecError]:
        async with agent.tools.open(report=lambda level, message: None,
                                    remote=True) as opened:
            for server in opened.servers:
                if server.tools:
                    offered = ", ".join(tool.name for tool in server.tools)
                    listing.append(f"{file}: MCP server '{server.name}' ({server.transport} "
                                   f"{server.target}) offers: {offered}")
            return opened.problems

    return asyncio.run(survey())


def _warning_line(warning: SpecError) -> str:
    """``FILE:LINE:COL: warning: message (hint)``: a tool that serves the model badly."""
    return f"{warning.location}: warning: {str(warning).removeprefix(warning.location + ': ')}"


def _phone_audio_note(spec: AgentSpec, file: str) -> str:
    """A note when ``audio:`` asks for something phone calls cannot have (it does not fail).

    Twilio Media Streams carry G.711 μ-law at 8 kHz both ways, so ``agentrun serve`` runs phone
    calls with ``audio/pcmu`` whatever the file says and passes the caller's audio through
    unchanged; the ``audio:`` block applies to the microphone, WAV and browser callers.
    """
    place = spec.location(("audio",), key=True)
    if ("audio" not in spec.model_fields_set or place is None
            or (spec.audio.input.format == "pcmu" and spec.audio.output.format == "pcmu")):
        return ""  # no audio: block (the defaults say nothing), or already phone audio
    return (f"{file}:{place[0]}:{place[1]}: note: phone calls (agentrun serve) use μ-law 8 kHz "
            "both ways (audio/pcmu); `audio:` applies to the microphone, WAV and browser")


@main.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="Give a variable a value, as for `agentrun run` (repeatable). With several "
                   "files, each value goes to the files that declare it.")
@click.option("--connect", is_flag=True,
              help="Also start (or reach) each MCP server, list the tools it offers and check "
                   "allowed_tools, rename and tool names against them.")
def check(files: tuple[str, ...], variables: tuple[str, ...], connect: bool) -> None:
    """Find every mistake in agent files, without connecting to anything.

    Checks each FILE completely and reports every problem at once: YAML syntax, unknown or
    misspelt keys, values out of range, the instructions and the greeting (rendered once),
    every tool (a Grok built-in, or provided by an installed plugin, with a valid config:),
    and the value of every variable, read as `agentrun run` reads them (--var, then the
    environment for from_env, then the default). A file that checks ok runs. Prints
    "FILE: ok" for each file when all are fine (exit 0); otherwise prints every problem as
    FILE:LINE:COL: message (hint) and exits with 2. http and mcp tool blocks are checked
    offline; with --connect the MCP servers are also started (and stopped again) and their
    tools listed. A test file (NAME.test.yaml) is checked with the agent it tests: its mocks,
    scripted calls and expected tools exist, its variables fit, its WAV files are audio.

    \b
    Examples:
      agentrun check agents/support.yaml
      agentrun check agents/*.yaml            agent files and their *.test.yaml files
      agentrun check agents/booking.yaml --var clinic="Smile Dental"
      agentrun check --connect agents/clinic.yaml
    """
    from agentrun.agent import Agent

    given = parse_assignments(variables)
    several = len(files) > 1
    problems: list[SpecError] = []
    passed: list[str] = []
    declared: set[str] = set()
    for file in files:
        if file.endswith((".test.yaml", ".test.yml")):
            from agentrun.testing import load_test_file

            try:
                count = len(load_test_file(file).plans)
            except SpecErrors as exc:
                problems.extend(exc.errors)
            else:
                passed.append(f"{file}: ok ({count} scenario{'s' if count != 1 else ''})")
            continue
        try:
            agent = Agent.load(file, variables=given,
                               unknown_variables="ignore" if several else "error")
        except SpecErrors as exc:
            problems.extend(exc.errors)
            continue
        declared.update(agent.spec.variables)
        for warning in agent.tools.warnings:  # they do not fail the check
            click.echo(_warning_line(warning), err=True)
        note = _phone_audio_note(agent.spec, file)
        if note:
            click.echo(note, err=True)
        if connect:
            found = _connect_problems(agent, file, passed)
            if found:
                problems.extend(found)
                continue
        passed.append(f"{file}: ok")
    if several and not problems and set(given) - declared:
        unknown = sorted(set(given) - declared)[0]
        raise click.BadParameter(f"none of these agent files declares a variable '{unknown}'",
                                 param_hint="--var")
    if problems:
        raise SpecErrors(problems)
    for line in passed:
        click.echo(line)


@main.command()
@click.argument("file")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE",
              help="Give a variable a value (repeatable); it is converted to the type the "
                   "variable declares.")
@click.option("--call", "call", multiple=True, metavar="KEY=VALUE",
              help="Pretend call facts for call.* in the template, e.g. --call caller=+4930123.")
@click.option("--now", "now", metavar="TIME", default=None,
              help="Pretend it is this time, e.g. 2026-03-02T09:30 (in the agent's timezone).")
@click.option("--greeting", "greeting", is_flag=True,
              help="Print the greeting (also a template) instead of the instructions.")
def render(file: str, variables: tuple[str, ...], call: tuple[str, ...], now: str | None,
           greeting: bool) -> None:
    """Print the agent's final instructions, exactly as the model will read them.

    Fills the instructions template of FILE with its variables (defaults, from_env values and
    --var values), the current time as `now`, `agent` and `call`. Use it to proofread a
    template before you run the agent. Values from the environment (from_env) are shown as
    [hidden $NAME]: the agent gets them, your screen does not.

    \b
    Examples:
      agentrun render agents/support.yaml
      agentrun render agents/booking.yaml --var clinic="Smile Dental" --var max_party=4
      agentrun render agents/support.yaml --now 2026-03-02T09:30 --call caller=+4930123
      agentrun render agents/booking.yaml --greeting
    """
    from datetime import datetime

    from agentrun.spec import load_spec, render_greeting, render_instructions

    values = parse_assignments(variables)
    facts = _call_facts(parse_assignments(call, "--call"))
    moment = None
    if now is not None:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            raise click.BadParameter(f"'{now}' is not a time like 2026-03-02T09:30",
                                     param_hint="--now") from None
    spec = load_spec(file)
    if greeting:
        text = render_greeting(spec, values, call=facts, now=moment, hide_secrets=True)
        if text is None:
            raise SpecError("this agent has no greeting (the caller speaks first)", path=file,
                            hint="add 'greeting: ...' to have the agent speak first")
    else:
        text = render_instructions(spec, values, call=facts, now=moment, hide_secrets=True)
    click.echo(text)
    if "[hidden $" in text:
        click.echo("agentrun: values from the environment are shown as [hidden $NAME]; the "
                   "agent gets the real ones", err=True)


def _call_facts(facts: dict[str, str]) -> dict[str, str]:
    """Refuse a ``--call`` name templates never see: a typo would render as an empty value.

    Raises:
        click.BadParameter: an unknown name, with the closest known one.
    """
    import difflib

    for name in facts:
        if name not in _CALL_FACTS:
            close = difflib.get_close_matches(name, _CALL_FACTS, n=1)
            known = ", ".join(_CALL_FACTS)
            hint = f"did you mean '{close[0]}'? known: {known}" if close else f"known: {known}"
            raise click.BadParameter(f"templates have no call.{name} ({hint})",
                                     param_hint="--call")
    return facts


@main.command()
@click.argument("key", required=False)
def explain(key: str | None) -> None:
    """Explain a key of the agent file: what it means, its type, unit, default and an example.

    KEY is written with dots, as it nests in the file (turn_detection.silence_duration_ms,
    audio.input.rate, tools.timeout, variables.NAME.from_env); a key's last part alone works
    when it is unique. Without KEY, lists the top-level keys. The text comes from the same
    models that check agent files (and docs/agent-file.md).

    \b
    Examples:
      agentrun explain turn_detection.silence_duration_ms
      agentrun explain timeout
      agentrun explain audio
      agentrun explain
    """
    from agentrun.spec._explain import all_keys, explain, find_keys, suggest

    if key is None or not key.strip():
        top = [k for k in all_keys() if len(k.steps) == 1]
        width = max(len(k.key) for k in top)
        click.echo("The keys of an agent file (agentrun explain KEY for one of them):")
        for info in top:
            summary = (info.model.model_fields[info.field].description or "").split(". ")[0]
            click.echo(f"  {info.key:<{width}}  {summary.rstrip('.')}")
        return
    found = find_keys(key)
    if not found:
        hint = suggest(key) or "agentrun explain lists every top-level key"
        raise click.BadParameter(f"no key '{key}' in agent files ({hint})", param_hint="KEY")
    click.echo("\n\n".join(explain(info) for info in found))


@main.command()
@click.option("--markdown", is_flag=True,
              help="Print the YAML reference as Markdown (docs/agent-file.md) instead.")
@click.option("--tests", is_flag=True,
              help="The JSON Schema of test files (*.test.yaml) instead.")
def schema(markdown: bool, tests: bool) -> None:
    """Print the JSON Schema of agent files, for editor completion and checking.

    Editors with YAML language support (VS Code's YAML extension, JetBrains, Neovim's
    yaml-language-server) complete and check keys when the agent file's first line points at
    the schema, as the example agents do.

    \b
    Examples:
      agentrun schema > agentrun.schema.json
      # then start your agent file with:
      # yaml-language-server: $schema=agentrun.schema.json
      agentrun schema --markdown > docs/agent-file.md
      agentrun schema --tests > agentrun.test.schema.json
    """
    import json

    from agentrun.spec import json_schema, markdown_reference

    if tests:
        if markdown:
            raise click.UsageError("--markdown describes agent files only; test files are "
                                   "described in the README (Test your agent)")
        from agentrun import testing

        click.echo(json.dumps(testing.json_schema(), indent=2, ensure_ascii=False))
    elif markdown:
        click.echo(markdown_reference(), nl=False)
    else:
        click.echo(json.dumps(json_schema(), indent=2, ensure_ascii=False))


_STARTER = """\
{modeline}# {title}: a voice agent for agentrun.
# Any key explained (meaning, unit, default, example):  agentrun explain KEY
#   e.g. agentrun explain turn_detection.silence_duration_ms      (agentrun explain: all keys)
# Try it:   agentrun check {file}    then    agentrun {file}

name: {name}
description: What this agent is for, in one sentence.
voice: Ara                      # Ara, Rex, Sal, Eve or Leo (agentrun explain voice)
language: en                    # the language it speaks; dates below are written in it

# What the agent should do. {{{{ ... }}}} fills in a variable (declared below), `now` (the time in
# `timezone`), `agent.name` or `call.caller`; `format_date` writes a date in `language`.
instructions: |
  You are {{{{ agent.name }}}}, a friendly voice assistant for {{{{ company }}}}.
  Keep answers short: this is a phone call. Today is {{{{ now | format_date('EEEE, d MMMM') }}}}.

variables:                      # agentrun explain variables
  company: Example Inc          # shorthand for {{default: Example Inc}}
  # customer_id: {{type: string, required: true, description: Given with --var}}
  # api_token: {{from_env: EXAMPLE_TOKEN}}      # secrets only ever come from the environment

timezone: UTC                   # an IANA name, e.g. Europe/Berlin
greeting: Hello! This is {{{{ company }}}}. How can I help you today?   # a template too

turn_detection:                 # agentrun explain turn_detection
  type: server_vad              # the server hears when the caller stops; or: manual
  silence_duration_ms: 500      # 500 ms; '0.5s' works too

audio:                          # agentrun explain audio.input.format
  input: {{format: pcm, rate: 24000}}     # pcm (8000-48000 Hz), or pcmu / pcma (8000 Hz)
  output: {{format: pcm, rate: 24000, speed: 1.0}}

tools: []                       # agentrun explain tools
# tools:
#   - web_search                # Grok searches the web
#   - lookup_order              # a tool from an installed plugin (see: agentrun tools)
"""


def _schema_modeline(target: Path, schema: str = "agentrun.schema.json") -> str:
    """The yaml-language-server line, when a committed ``schema`` is found above ``target``."""
    here = target.resolve().parent
    for folder in (here, *here.parents):
        candidate = folder / schema
        if candidate.is_file():
            relative = os.path.relpath(candidate, here).replace(os.sep, "/")
            return f"# yaml-language-server: $schema={relative}\n"
    return ""


def _starter_path(name: str) -> Path:
    """NAME → the file ``new`` writes; a name that is empty or names a folder is refused.

    Raises:
        click.BadParameter: nothing to name the file after, or the name is a folder.
    """
    from pathlib import Path

    example = "e.g. agentrun new pizza-orders"
    if not name.strip():
        raise click.BadParameter(f"the agent needs a name ({example})", param_hint="NAME")
    if name.endswith(("/", os.sep)) or Path(name).is_dir() or Path(name).name in (".", ".."):
        raise click.BadParameter(f"'{name}' is a folder; give a file name in it "
                                 f"(e.g. agentrun new {name.rstrip('/' + os.sep)}/my-agent)",
                                 param_hint="NAME")
    file = Path(name if name.endswith((".yaml", ".yml")) else f"{name}.yaml")
    if not file.name.removesuffix(".yaml").removesuffix(".yml").strip(" .-_"):
        raise click.BadParameter(f"'{name}' has no name before .yaml ({example})",
                                 param_hint="NAME")
    if not file.parent.is_dir():
        raise click.BadParameter(f"the folder {file.parent} does not exist (create it first)",
                                 param_hint="NAME")
    return file


@main.command()
@click.argument("name")
def new(name: str) -> None:
    """Write NAME.yaml, a commented starter agent, and NAME.test.yaml, its conversation tests;
    both pass `agentrun check` and the tests pass `agentrun test`.

    Never overwrites: if either file exists, nothing is written and the command exits with 2.

    \b
    Examples:
      agentrun new pizza-orders          # writes pizza-orders.yaml and pizza-orders.test.yaml
      agentrun new agents/front-desk     # writes agents/front-desk.yaml and its test
    """
    import json
    import shlex

    from agentrun.testing import starter_test

    file = _starter_path(name)
    test_file = file.with_name(file.stem + ".test.yaml")
    title = file.stem.replace("-", " ").replace("_", " ").strip().title() or "My Agent"
    text = _STARTER.format(modeline=_schema_modeline(file), title=title,
                           file=shlex.quote(str(file)), name=json.dumps(title, ensure_ascii=False))
    tests = starter_test(file, _schema_modeline(test_file, "agentrun.test.schema.json"))
    for target in (file, test_file):
        if target.exists():
            raise SpecError("already exists; nothing was written", path=str(target),
                            hint="choose another name or remove the file first")
    for target, content in ((file, text), (test_file, tests)):
        try:
            with target.open("x", encoding="utf-8") as handle:
                handle.write(content)
        except FileExistsError:
            raise SpecError("already exists; nothing more was written", path=str(target),
                            hint="choose another name or remove the file first") from None
        except OSError as exc:
            raise SpecError(f"cannot write this file: {exc.strerror or exc}",
                            path=str(target)) from None
        click.echo(f"wrote {target}")
    click.echo(f"next: agentrun check {shlex.quote(str(file))}    then    "
               f"agentrun test {shlex.quote(str(test_file))}")
