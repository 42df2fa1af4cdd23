"""``agentrun test``: run the conversation tests in ``*.test.yaml`` files.

Only wiring: finding, loading and running scenarios is ``agentrun.testing``'s job. Results go
to stdout as they come (one line per scenario, the conversation of a failing one, a summary
line); the mode line goes to stderr. Exit codes: 0 every scenario passed, 1 one failed, 2 a
bad test file or usage, 3 the service refused the key (live), 130 interrupted.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import click

from agentrun.cli import EXIT_CODES, main
from agentrun.errors import SpecError

__all__ = ["test"]

_HELP = """Run conversation tests: every *.test.yaml file in PATHs (default: here and below).

\b
Each scenario is its own call with fresh state. A caller says the scenario's turns (typed, or
spoken from WAV files) and each turn's expectations are checked: the greeting or reply
contains/matches, a tool was called with arguments, a tool's output, the call ended, the reply
latency. Prints one line per scenario (a failing one with its first failed expectation and the
conversation so far), then a summary; exits 0 only if all passed.

\b
Offline (the default) the embedded simulator plays the model as the file's `model:` lines
script it: fast, deterministic, no key needed; your tools run for real unless mocked.
--live runs the same files against Grok (XAI_API_KEY): the model lines are ignored and the
expectations are the evaluation; use --repeat to get a pass rate per scenario.

\b
Examples:
  agentrun test                                   every test file here and below
  agentrun test agents/support.test.yaml -k order
  agentrun test --junit results.xml               for CI
  agentrun test --live --repeat 5 --min-pass-rate 80
"""


def _quiet_logging() -> None:
    """Keep library log records (tool warnings are in the report) off the terminal."""
    for name in ("agentrun", "websockets"):
        logger = logging.getLogger(name)
        if not logger.handlers:
            logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _limit(text: str | None) -> float | None:
    if text is None:
        return None
    from agentrun.spec._duration import to_unit

    parsed = to_unit(text.strip(), "s") if text.strip() else None
    if parsed is None or not 0 < parsed[0] <= 3600:
        raise click.BadParameter(f"'{text}' is not a time limit like 30, '30s' or '2m' (at "
                                 "most an hour)", param_hint="--timeout")
    return float(parsed[0])


@main.command("test", help=_HELP, epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, metavar="[PATH]...")
@click.option("-k", "keywords", multiple=True, metavar="NAME",
              help="Only scenarios whose name (or FILE::NAME) contains NAME (repeatable; case "
                   "is ignored).")
@click.option("--live", is_flag=True,
              help="Talk to Grok (needs XAI_API_KEY); scripted model lines are ignored.")
@click.option("--url", metavar="URL",
              help="Talk to this realtime endpoint instead (implies --live), e.g. a proxy or "
                   "`agentrun sim`.")
@click.option("--repeat", type=click.IntRange(1, 1000), default=1, show_default=True,
              metavar="N", help="Run each scenario N times and report its pass rate.")
@click.option("--min-pass-rate", type=click.FloatRange(0, 100), default=100.0,
              show_default=True, metavar="PERCENT",
              help="With --repeat: the share of runs that must pass for a scenario to pass.")
@click.option("--junit", "junit_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write the results as JUnit XML (for CI systems).")
@click.option("--timeout", "timeout_text", metavar="SECONDS",
              help="Time limit per scenario, instead of the files' (default 60 s).")
@click.option("--api-key-env", default="XAI_API_KEY", show_default=True, metavar="NAME",
              help="Environment variable holding the API key (live).")
@click.option("-v", "--verbose", is_flag=True,
              help="Print every scenario's conversation, not only failing ones.")
def test(paths: tuple[str, ...], keywords: tuple[str, ...], live: bool, url: str | None,
         repeat: int, min_pass_rate: float, junit_path: str | None, timeout_text: str | None,
         api_key_env: str, verbose: bool) -> None:
    import asyncio

    from agentrun.testing import (
        Mode,
        conversation_lines,
        find_test_files,
        junit_xml,
        load_test_files,
        result_line,
        run_suites,
        select,
        summary_line,
    )

    _quiet_logging()
    limit = _limit(timeout_text)
    if junit_path is not None and not os.path.isdir(os.path.dirname(junit_path) or "."):
        raise SpecError("cannot write the JUnit report: its folder does not exist",
                        path=junit_path, hint="create the folder first")
    files = find_test_files(paths)
    if not files:
        where = ", ".join(paths) if paths else "."
        raise SpecError("no test files (*.test.yaml) here or below", path=where,
                        hint="'agentrun new NAME' writes an agent with a starter test")
    suites = load_test_files(files)
    plans = select(suites, keywords)
    if not plans:
        names = ", ".join(repr(plan.name) for suite in suites for plan in suite.plans)
        raise click.UsageError(f"no scenario matches -k {' -k '.join(keywords)} "
                               f"(scenarios: {names})")
    api_key = os.environ.get(api_key_env) or None
    live = live or url is not None
    if live and url is None and api_key is None:
        raise click.UsageError(f"--live talks to Grok and needs the API key in {api_key_env} "
                               "(or give --url for another realtime endpoint)")
    mode = Mode(live=live, url=url, api_key=api_key, api_key_env=api_key_env, timeout=limit)
    where = ((url or "Grok").split("?")[0] + " (scripted model lines ignored)" if live
             else "offline: embedded simulator, model scripted by the test files")
    count = f"{len(plans)} scenario{'s' if len(plans) != 1 else ''}"
    click.echo(f"agentrun: {count} in {len(suites)} file{'s' if len(suites) != 1 else ''}, "
               f"{where}", err=True)

    def show(result: object) -> None:
        click.echo(result_line(result))  # type: ignore[arg-type]
        failed = result.first_failure  # type: ignore[attr-defined]
        if failed is not None and not result.passed:  # type: ignore[attr-defined]
            click.echo("      conversation so far:")
            click.echo("\n".join(conversation_lines(failed[1], indent="        ")))
        elif verbose:
            click.echo("      conversation:")
            click.echo("\n".join(conversation_lines(result.runs[-1],  # type: ignore[attr-defined]
                                                    indent="        ")))
        sys.stdout.flush()

    started = time.monotonic()
    results = asyncio.run(run_suites(plans, mode, repeat=repeat,
                                     min_pass_rate=min_pass_rate / 100, on_result=show))
    click.echo(summary_line(results, time.monotonic() - started))
    if junit_path is not None:
        try:
            with open(junit_path, "w", encoding="utf-8") as handle:
                handle.write(junit_xml(results))
        except OSError as exc:
            raise SpecError(f"cannot write the JUnit report: {exc.strerror or exc}",
                            path=junit_path) from None
    click.get_current_context().exit(0 if all(result.passed for result in results) else 1)
