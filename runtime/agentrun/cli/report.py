"""``agentrun report PATH``: show a call record, or one row per call for a folder of them.

Only wiring: reading and formatting live in ``agentrun.record`` (no numpy, no audio import).
Problems are ``RecordError`` (one line, exit code 2), reported by the group in ``agentrun.cli``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from agentrun.cli import main

__all__ = ["report"]

_REPORT_HELP = """Show the record of a call made with --record (or record: in the agent file).

\b
PATH is either one call folder (it holds report.json): its report.md is printed;
or a folder of call folders: one table row per call, oldest first (started,
agent, channel, caller, duration, turns, latency median and p90, tool calls,
barge-ins, reconnects, errors, result).

\b
Examples:
  agentrun report records/20250101T120000Z-support-1a2b3c4d
  agentrun report records
"""


@main.command("report", help=_REPORT_HELP)
@click.argument("path", type=click.Path(path_type=Path))
def report(path: Path) -> None:
    from agentrun.errors import RecordError
    from agentrun.record import find_calls, load_report, render_listing, render_markdown

    if not path.is_dir():
        problem = "not a folder" if path.exists() else "no such folder"
        raise RecordError(f"{path}: {problem}",
                          hint="give a call folder or a folder made by --record DIR")
    if (path / "report.json").is_file() or (path / "events.jsonl").is_file():
        document = load_report(path)
        markdown = path / "report.md"
        try:
            text = markdown.read_text(encoding="utf-8")
        except OSError:
            text = render_markdown(document)  # report.md lost: rebuild it from report.json
        click.echo(text, nl=False)
        return
    try:
        calls = find_calls(path)
    except OSError as exc:
        raise RecordError(f"{path}: cannot list it: {exc.strerror or exc}") from None
    if not calls:
        raise RecordError(f"{path}: no call records here",
                          hint="give a folder made by --record DIR, or one call folder in it")
    rows: list[tuple[Path, dict[str, Any] | None]] = []
    for folder in calls:
        try:
            rows.append((folder, load_report(folder)))
        except RecordError:  # still running, or ended without its report: say so in its row
            rows.append((folder, None))
    # calls started in the same second share the name's time: order by the exact start
    rows.sort(key=lambda row: ((row[1] or {}).get("started_at", ""), row[0].name))
    click.echo(render_listing(rows), nl=False)
