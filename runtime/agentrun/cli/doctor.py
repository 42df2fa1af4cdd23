"""``agentrun doctor``: check this machine's setup and say what to do about each problem.

Only wiring and layout: the checks live in ``agentrun.doctor``.
"""

from __future__ import annotations

import click

from agentrun.cli import env_name, main

__all__ = ["doctor"]

_DOCTOR_HELP = """Check this machine's setup and say what to do about each problem.

\b
Checks the Python running agentrun, the installation (a look-alike package, which
`agentrun` your shell runs), the tool plugins (ones that cannot load, names two
plugins share, plugins changed since they were installed), the audio extra and
devices (microphone and speaker), and the API key: whether it is set and, when it
is, whether the service accepts it (one HTTPS request; --no-network skips it).

\b
Examples:
  agentrun doctor
  agentrun doctor --no-network
"""

_EXIT = """\b
Exit codes:
  0    nothing is wrong (warnings may be shown)
  1    a problem was found (each says what to do)
  2    bad usage
  3    the service rejected the API key
  130  interrupted (Ctrl-C)
"""

def _http_url(ctx: click.Context, param: click.Parameter, value: str) -> str:
    """``--api-base`` is an http(s) URL (the REST API, not the realtime WebSocket)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise click.BadParameter(f"{value!r} is not an http(s) URL (e.g. https://api.x.ai/v1)")
    return value


_MARK = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}


@main.command("doctor", help=_DOCTOR_HELP, epilog=_EXIT)
@click.option("--no-network", is_flag=True,
              help="Do not ask the service whether it accepts the API key.")
@click.option("--api-key-env", default="XAI_API_KEY", show_default=True, metavar="NAME",
              callback=env_name, help="Environment variable holding the API key.")
@click.option("--api-base", envvar="AGENTRUN_API_BASE", metavar="URL", callback=_http_url,
              default="https://api.x.ai/v1", show_default=True,
              help="REST base URL the key is checked against (env AGENTRUN_API_BASE).")
def doctor(no_network: bool, api_key_env: str, api_base: str) -> None:
    from agentrun.doctor import DoctorOptions, Level, exit_code, run_checks

    click.echo("agentrun doctor: checking this machine")
    findings = run_checks(DoctorOptions(network=not no_network, api_key_env=api_key_env,
                                        api_base=api_base,
                                        devices_command="devices" in main.commands))
    width = max(len(f.topic) for f in findings)
    for finding in findings:
        mark = _MARK[finding.level.value]
        click.echo(f"  {mark:<8} {finding.topic:<{width}}  {finding.summary}")
        if finding.fix:
            click.echo(f"  {'':<8} {'':<{width}}  what to do: {finding.fix}")
    problems = sum(f.level is Level.PROBLEM for f in findings)
    warnings = sum(f.level is Level.WARNING for f in findings)
    click.echo(f"{_count(problems, 'problem')}, {_count(warnings, 'warning')}"
               + (": agentrun is ready" if not problems else ""))
    raise SystemExit(exit_code(findings))


def _count(n: int, word: str) -> str:
    return f"{'no' if n == 0 else n} {word}{'' if n == 1 else 's'}"
