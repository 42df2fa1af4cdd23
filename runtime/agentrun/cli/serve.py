"""``agentrun serve``: put the agents of a file or folder on phone numbers (and web pages).

Only wiring: options → :class:`agentrun.serve.ServeOptions` → :func:`agentrun.serve.run`.
Starlette, uvicorn and the rest of the ``serve`` extra are imported only by this command.
"""

from __future__ import annotations

import os

import click

from agentrun.cli import main
from agentrun.cli._listen import Port, listen_error
from agentrun.errors import AgentrunError

__all__ = ["serve"]

_HELP = """Serve every agent in PATH (an agent file or a folder of them) to callers.

\b
Each agent that passes `agentrun check` is served under its file stem:
  POST /twilio/STEM          Twilio voice webhook (phone calls via Media Streams)
  GET  /talk/STEM            talk page: a call from the browser (GET / lists them)
  GET  /healthz  /readyz  /metrics    liveness, readiness, Prometheus metrics
Files that fail are listed with their errors and not served. Files are watched:
the next call uses a changed file if it passes its check (the last good version
stays otherwise); calls in progress keep their version.

\b
Calls go to Grok when XAI_API_KEY is set, to --url when given, and otherwise to
the embedded simulator (one per worker process). Set TWILIO_AUTH_TOKEN so that
only Twilio can place calls (webhook signatures are checked).

\b
The talk page and its socket are served over plain HTTP only to this machine
(localhost); other clients need https (a TLS proxy sending X-Forwarded-Proto)
unless --allow-insecure-http. The socket takes pages of this service's own
origin only, plus each --allow-origin.

\b
SIGTERM drains: /readyz fails, new calls are refused politely, calls in progress
may go on for --drain-timeout seconds, then end cleanly; exit code 0.

\b
Examples:
  agentrun serve agents/
  agentrun serve agents/ --public-url https://voice.example.com --workers 2
  agentrun serve agents/support.yaml --port 9000 --max-calls 50 --record calls/
"""


@main.command("serve", help=_HELP)
@click.argument("path", type=click.Path())
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0 for every interface).")
@click.option("--port", type=Port(), default=8080, show_default=True,
              help="TCP port, 1-65535 (0: any free port).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Worker processes sharing the port [default: the number of cores].")
@click.option("--public-url", metavar="URL",
              help="The public base URL Twilio reaches, e.g. https://voice.example.com "
                   "(default: the proxy's X-Forwarded-* headers, else Host).")
@click.option("--url", metavar="URL",
              help="Realtime endpoint for every call instead of Grok or the simulator.")
@click.option("--record", metavar="DIR", type=click.Path(file_okay=False),
              help="Record every call in DIR.")
@click.option("--max-calls", type=click.IntRange(min=1), default=100, show_default=True,
              help="Simultaneous calls per worker process; more are refused cleanly.")
@click.option("--drain-timeout", type=click.FloatRange(min=0), default=30.0, show_default=True,
              help="Seconds calls in progress may go on after SIGTERM before they are ended.")
@click.option("--var", "var_pairs", multiple=True, metavar="NAME=VALUE",
              help="Value of a template variable for every agent (repeatable).")
@click.option("--no-reload", is_flag=True, help="Do not watch the agent files.")
@click.option("--api-key-env", default="XAI_API_KEY", show_default=True, metavar="NAME",
              help="Environment variable holding the API key.")
@click.option("--allow-origin", "allowed_origins", multiple=True, metavar="ORIGIN",
              help="Also accept talk sockets from pages of ORIGIN, e.g. "
                   "https://www.example.com (repeatable; * for any).")
@click.option("--allow-insecure-http", is_flag=True,
              help="Serve the talk page over plain HTTP to any client, not only localhost "
                   "(microphone audio then crosses the network unencrypted).")
@click.option("-v", "--verbose", is_flag=True, help="Debug logs (calls, transcripts, requests).")
def serve(path: str, host: str, port: int, workers: int | None, public_url: str | None,
          url: str | None, record: str | None, max_calls: int, drain_timeout: float,
          var_pairs: tuple[str, ...], no_reload: bool, api_key_env: str,
          allowed_origins: tuple[str, ...], allow_insecure_http: bool, verbose: bool) -> None:
    try:
        from agentrun.serve import ServeOptions, run
    except ImportError as exc:
        raise AgentrunError(f"agentrun serve needs the serve extra ({exc.name} is missing): "
                            "pip install 'agentrun-voice[serve]'") from None
    from agentrun.cli.author import parse_assignments

    if public_url and not public_url.startswith(("http://", "https://")):
        raise click.BadParameter("expected http(s)://HOST[/PREFIX]", param_hint="--public-url")
    for origin in allowed_origins:
        if origin != "*" and not origin.startswith(("http://", "https://")):
            raise click.BadParameter(f"expected http(s)://HOST[:PORT] or *, got {origin!r}",
                                     param_hint="--allow-origin")
    if record is not None:
        _check_record_support(record)
    options = ServeOptions(path=path, url=url, api_key_env=api_key_env, public_url=public_url,
                           record=record, max_calls=max_calls, drain_timeout=drain_timeout,
                           reload=not no_reload, variables=parse_assignments(var_pairs),
                           allowed_origins=allowed_origins,
                           allow_insecure_http=allow_insecure_http)
    try:
        code = run(options, host=host, port=port, workers=workers or os.cpu_count() or 1,
                   verbose=verbose)
    except OSError as exc:
        raise listen_error(host, port, exc) from exc
    raise SystemExit(code)


def _check_record_support(record: str) -> None:
    from agentrun.record import prepare_root

    prepare_root(record)  # a folder that cannot be written: one line and exit 2, before serving
