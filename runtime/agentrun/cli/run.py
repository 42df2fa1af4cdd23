"""``agentrun run`` (also ``agentrun FILE``) and ``agentrun sim``: talk to an agent, or serve
the simulator.

Only wiring: spec → tools → config → :class:`agentrun.engine.session.Session` over a transport
to the live API, a ``--url``, or the embedded simulator. Errors are ``AgentrunError`` and are
reported by the group in ``agentrun.cli`` (one line, an exit code, no traceback).
Start-up time is part of the product: asyncio, the session and the simulator are imported only
by the commands that use them (``--dry-run`` needs none; ``--url`` needs no simulator).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from typing import Any

import click

from agentrun._secrets import RedactingFilter, redact_data, remember
from agentrun.cli import EXIT_CODES, INTERRUPTED, env_name, main
from agentrun.cli._listen import Port, listen_error

__all__ = ["dry_run_document", "run", "sim"]

def _quiet_logging(verbose: bool) -> None:
    """Keep library log records (and any traceback they carry) off the user's terminal."""
    for name in ("agentrun", "websockets"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("agentrun: debug: %(name)s: %(message)s"))
        handler.addFilter(RedactingFilter())
        logging.getLogger("websockets").addHandler(handler)
        logging.getLogger("websockets").setLevel(logging.INFO)


def _parse_vars(pairs: tuple[str, ...]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--var")
        values[name.strip()] = value
    return values


def dry_run_document(config: Any, url: str, key_env: str, key_set: bool, *,
                     custom_url: bool = False) -> dict[str, Any]:
    """What ``--dry-run`` prints: the URL, the (redacted) auth header and the exact
    ``session.update`` event, with a fixed ``event_id`` so the output is reproducible.

    Args:
        config: the ``ConversationConfig``.
        url: the connection URL.
        key_env: the environment variable the key comes from.
        key_set: whether that variable is set (its value is never shown).
        custom_url: the URL came from ``--url``: without a key it is still what a run talks
            to (only the default URL falls back to the embedded simulator).

    Returns:
        A JSON-serialisable document.
    """
    from agentrun.protocol import SessionUpdate

    event = SessionUpdate(event_id="dry-run", session=config.session)
    if key_set:
        authorization = f"Bearer ${key_env} (redacted)"
    elif custom_url:
        authorization = f"none: {key_env} is not set, so no key is sent to this URL"
    else:
        authorization = f"none: {key_env} is not set (the embedded simulator would answer)"
    return {
        "url": url,
        "authorization": authorization,
        "greeting": config.greeting,
        "session.update": json.loads(event.model_dump_json(exclude_none=True)),
    }


class _RealtimeUrl(click.ParamType):  # type: ignore[type-arg]  # generic only in click 8.5+
    """A ``ws://`` or ``wss://`` URL with a host, checked before anything connects."""

    name = "url"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> str:
        from urllib.parse import urlsplit

        text = str(value).strip()
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018  (raises ValueError for a port out of range)
        except ValueError as exc:
            self.fail(f"{text!r} is not a URL ({exc})", param, ctx)
        if parts.scheme in ("http", "https"):
            secure = "s" if parts.scheme == "https" else ""
            self.fail(f"{text!r} is an HTTP URL; a realtime endpoint is WebSocket: "
                      f"ws{secure}://{text.split('://', 1)[1]}", param, ctx)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            self.fail(f"{text!r} is not a WebSocket URL (e.g. ws://127.0.0.1:8765/v1/realtime)",
                      param, ctx)
        return text


_RUN_HELP = """Talk to the agent in FILE (a YAML agent file).

\b
With the audio extra, a microphone and a speaker, and a terminal, you talk: speak, and
the agent answers on the speaker (typed lines still work). Otherwise it is a text call
and the first status line says why. Each line you type is one turn; the agent's reply
streams back as `agent: …` lines. End the call with Ctrl-D (or end of a piped input):
the current reply, including any tool calls, finishes first. Status lines go to stderr,
the conversation to stdout.

\b
Without XAI_API_KEY (and without --url) agentrun starts its embedded simulator: the
conversation runs offline with simulated replies, and your tools are real. Type
`/call lookup_order order_id=1234` to make the simulated model call a tool.

\b
Examples:
  agentrun agents/support.yaml                       offline, or live with XAI_API_KEY
  echo "Where is order 1234?" | agentrun agents/support.yaml --text
  agentrun agents/support.yaml --var company=Acme    set a template variable
  agentrun agents/support.yaml --dry-run             show the session.update, send nothing
  agentrun agents/support.yaml --url ws://127.0.0.1:8765/v1/realtime
  agentrun agents/support.yaml --record records      keep transcript, audio and report
  agentrun agents/support.yaml --voice --input-device usb     talk through a USB headset
  agentrun agents/support.yaml --caller-wav q1.wav --caller-wav q2.wav --fast
                                                     call it with recorded speech
"""


@main.command("run", help=_RUN_HELP, epilog=EXIT_CODES)
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--text", "text_mode", is_flag=True,
              help="Text console: typed turns, printed replies (default when there is no "
                   "microphone and speaker, or input is not a terminal).")
@click.option("--voice", is_flag=True,
              help="Talk through the microphone and speaker (needs the audio extra); typed "
                   "lines still work.")
@click.option("--input-device", metavar="DEVICE",
              help="Microphone: an index or part of a name (see `agentrun devices`).")
@click.option("--output-device", metavar="DEVICE",
              help="Speaker: an index or part of a name (see `agentrun devices`).")
@click.option("--caller-wav", "caller_wavs", multiple=True, metavar="WAV",
              type=click.Path(dir_okay=True),
              help="Call the agent with recorded speech: each file is one caller turn, spoken "
                   "after the previous reply (repeatable). The call ends after the last reply.")
@click.option("--fast", is_flag=True,
              help="Stream --caller-wav files as fast as the server takes them, not in "
                   "real time.")
@click.option("--url", type=_RealtimeUrl(), metavar="URL",
              help="Realtime endpoint to use instead of wss://api.x.ai/v1/realtime "
                   "(a proxy, `agentrun sim`, a test server). ?model= is added unless the "
                   "URL has one.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
              help="Value of a template variable (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Print the URL and the exact session.update as JSON (key redacted); "
                   "connect to nothing.")
@click.option("--api-key-env", default="XAI_API_KEY", show_default=True, metavar="NAME",
              callback=env_name,
              help="Environment variable holding the API key.")
@click.option("--now", "now_text", metavar="ISO-TIME",
              help="Render instructions as if it were this time (reproducible dry runs).")
@click.option("--record", "record_to", metavar="DIR",
              help="Record the call in a new folder under DIR: transcript, stereo audio, wire "
                   "events, report (see `agentrun report`). Overrides record: in the file.")
@click.option("--no-record", is_flag=True, help="Do not record, whatever the file says.")
@click.option("-v", "--verbose", is_flag=True, help="Also show debug status lines.")
def run(file: str, text_mode: bool, voice: bool, input_device: str | None,
        output_device: str | None, caller_wavs: tuple[str, ...], fast: bool, url: str | None,
        var_pairs: tuple[str, ...], dry_run: bool, api_key_env: str, now_text: str | None,
        record_to: str | None, no_record: bool,
        verbose: bool) -> None:
    from agentrun.agent import Agent
    from agentrun.engine.setup import DEFAULT_BASE_URL, connection_url

    _quiet_logging(verbose)
    now = None
    if now_text:
        try:
            now = dt.datetime.fromisoformat(now_text)
        except ValueError as exc:
            raise click.BadParameter(f"not an ISO time: {now_text!r}",
                                     param_hint="--now") from exc
    api_key = os.environ.get(api_key_env) or None
    remember(api_key, api_key_env)  # never printed, logged or recorded
    agent = Agent.load(file, variables=_parse_vars(var_pairs))
    if dry_run:
        target = connection_url(agent.spec, url or DEFAULT_BASE_URL)
        config = agent.config(now=now, secrets=False)
        if agent.tools.has_servers:  # their tools are declared too: start them, then stop
            import asyncio

            config = asyncio.run(_opened_config(agent, now))
        document = dry_run_document(config, target, api_key_env, api_key is not None,
                                    custom_url=url is not None)
        # environment values (from_env variables) show as [hidden $NAME]
        click.echo(json.dumps(redact_data(document), indent=2, ensure_ascii=False))
        return
    record = False if no_record else record_to
    folder = agent.record_dir(record)
    if folder is not None:
        from agentrun.record import prepare_root

        prepare_root(folder)  # an unwritable folder is one line and exit 2, before the call
    import asyncio

    from agentrun.cli.voice import choose_channel

    channel = choose_channel(agent, text=text_mode, voice=voice, caller_wavs=caller_wavs,
                             fast=fast, input_device=input_device, output_device=output_device,
                             verbose=verbose, offline=url is None and api_key is None)
    interrupted: list[int] = []
    code, message = asyncio.run(_noting_ctrl_c(
        _talk(agent, channel, url, api_key, api_key_env, now, record), interrupted))
    if interrupted:  # the call may have ended cleanly meanwhile: Ctrl-C is still exit 130
        raise KeyboardInterrupt
    if message:
        click.echo(f"agentrun: {message}", err=True)
    sys.exit(code)


async def _noting_ctrl_c(talk: Any, interrupted: list[int]) -> tuple[int, str]:
    """Await ``talk``, noting a Ctrl-C in ``interrupted``.

    asyncio turns Ctrl-C into a cancellation of the call; when the call finishes at that moment
    anyway (its input ended too), the cancellation is lost and the process would exit 0. The
    handler asyncio installed still runs; this only remembers that the person pressed Ctrl-C.
    """
    import signal

    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(number: int, frame: Any) -> None:
        interrupted.append(number)
        if callable(previous):
            previous(number, frame)

    signal.signal(signal.SIGINT, on_sigint)
    try:
        result: tuple[int, str] = await talk
        return result
    finally:
        signal.signal(signal.SIGINT, previous)


async def _opened_config(agent: Any, now: dt.datetime | None) -> Any:
    def report(level: str, message: str) -> None:
        click.echo(f"agentrun: {level}: {message}", err=True)

    async with agent.tools.open(report=report) as tools:
        return agent.config(now=now, tools=tools, secrets=False)


async def _talk(agent: Any, channel: Any, url: str | None, api_key: str | None,
                api_key_env: str, now: dt.datetime | None, record: Any) -> tuple[int, str]:
    console = channel.console
    for note in channel.notes:  # first: why this mode
        console.show_status("info", note)
    await channel.start()  # a missing or busy device fails here, before anything connects
    if sys.stdin.isatty() and (url is not None or api_key is not None):
        console.show_status("info", f"connecting to {(url or 'Grok').split('?')[0]}")
    completed = False
    try:
        result = await agent.run(channel.endpoint, url=url, api_key=api_key,
                                 api_key_env=api_key_env, channel=channel.kind, now=now,
                                 record=record)
        completed = True
    finally:
        await channel.finish(completed=completed)  # the last reply plays out; lines end
    console.show_status("info", result.summary(played=channel.kind != "console"))
    if result.record:
        console.show_status("info", f"call record: {result.record}")
    failure = channel.failure() if result.exit_code == 0 else None
    if failure:
        return 1, failure
    return result.exit_code, "" if result.exit_code == 0 else result.reason


_SIM_HELP = """Serve the Grok realtime simulator on 127.0.0.1 until killed.

\b
Point any realtime client (or `agentrun FILE --url`) at the printed URL. The first
line on stdout is `listening on ws://127.0.0.1:PORT/v1/realtime`.

\b
A scenario file scripts what the simulated model does on each response:
  audio: {chunk_ms: 20, pace: fast}          # or pace: realtime
  responses:
    - say: "Your order ships tomorrow."
    - call: lookup_order
      arguments: {order_id: "1234"}
      repeat: 3
    - fault: {close: 1011}                   # also: malformed_json, unknown_event,
                                             # duplicate_item, error, slow, burst,
                                             # auto_response_race, failed_response,
                                             # stall (ms), null_fields, out_of_order,
                                             # error_names_event

\b
Examples:
  agentrun sim --port 8765
  agentrun sim --scenario faults.yaml --trace trace.jsonl --require-key secret
"""


@main.command("sim", help=_SIM_HELP, epilog=EXIT_CODES.replace(
    "  130  interrupted (Ctrl-C)", "  130  stopped with Ctrl-C (SIGTERM stops it with 0)"))
@click.option("--port", type=Port(), default=0, show_default=True,
              help="TCP port, 1-65535 (0: any free port).")
@click.option("--scenario", "scenario_path", type=click.Path(dir_okay=False),
              help="YAML/JSON scenario: scripted responses and faults.")
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False),
              help="Write one JSON line per event sent or received (perf_counter_ns).")
@click.option("--require-key", metavar="KEY",
              help="Reject connections without `Authorization: Bearer KEY` (HTTP 401).")
def sim(port: int, scenario_path: str | None, trace_path: str | None,
        require_key: str | None) -> None:
    import asyncio

    from agentrun.sim import Scenario, Simulator

    _quiet_logging(False)
    scenario = Scenario.load(scenario_path)
    if trace_path is not None:
        _check_writable(trace_path, "--trace")
    try:
        code = asyncio.run(_serve(Simulator(scenario, api_key=require_key, trace=trace_path,
                                            port=port, record=False)))
    except OSError as exc:
        raise listen_error("127.0.0.1", port, exc) from exc
    sys.exit(code)


def _check_writable(path: str, option: str) -> None:
    """Fail before starting, in one line, when ``path`` cannot be written.

    Raises:
        click.BadParameter: the folder is missing, or the file cannot be opened for appending.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise click.BadParameter(f"cannot write {path}: the folder {folder} does not exist "
                                 "(create it first)", param_hint=option)
    try:
        open(path, "a", encoding="utf-8").close()  # writable? said before the call starts
    except OSError as exc:
        raise click.BadParameter(f"cannot write {path}: {exc.strerror or exc}",
                                 param_hint=option) from None


async def _serve(simulator: Any) -> int:
    """Serve until SIGINT (returns 130) or SIGTERM (returns 0)."""
    import asyncio
    import signal

    stop = asyncio.Event()
    received: list[int] = []
    loop = asyncio.get_running_loop()

    def on_signal(number: int) -> None:
        received.append(number)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    async with simulator:
        click.echo(f"listening on {simulator.url}")
        sys.stdout.flush()
        await stop.wait()
    return INTERRUPTED if received[:1] == [signal.SIGINT] else 0
