"""``report.md`` from ``report.json``, and the one-row-per-call table of a folder of calls.

Pure text building plus reading ``report.json`` files (what ``agentrun report`` shows).
Imports ``agentrun.errors`` only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agentrun.errors import RecordError

__all__ = ["CALL_FILES", "find_calls", "load_report", "render_listing", "render_markdown"]

CALL_FILES = ("transcript.jsonl", "audio.wav", "events.jsonl", "report.json", "report.md")
"""What every call folder holds."""

_LISTING_HEADER = ("call", "started (UTC)", "agent", "channel", "caller", "duration", "turns",
                   "latency median", "latency p90", "tools (failed)", "barge-ins",
                   "reconnects", "errors", "result")


def _s(value: float | None) -> str:
    """Seconds for people: ``0.412 s``; ``–`` when unknown."""
    return "–" if value is None else f"{value:.3f} s"


def _cell(value: Any) -> str:
    """A Markdown table cell: one line, pipes escaped, long text shortened."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return text if len(text) <= 120 else text[:117] + "…"


def _table(header: tuple[str, ...] | list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _result(report: dict[str, Any]) -> str:
    result = report.get("result") or {}
    code = result.get("exit_code")
    if code == 0:
        return "ok"
    if code == 130:
        return "interrupted"
    return f"failed ({code}): {result.get('reason') or '?'}"


def render_markdown(report: dict[str, Any]) -> str:
    """The human report of one call.

    Args:
        report: the content of ``report.json``.

    Returns:
        Markdown text ending in a newline.
    """
    latency = report.get("latency") or {}
    audio = report.get("audio") or {}
    out = [f"# Call {report.get('call_id', '?')} — {report.get('agent', '?')}", ""]
    facts = [
        ("started (UTC)", report.get("started_at", "?")),
        ("duration", _s(report.get("duration"))),
        ("channel", report.get("channel") or "–"),
        ("caller", report.get("caller") or "–"),
        ("agent file", report.get("agent_file") or "–"),
        ("service", report.get("service") or "–"),
        ("audio", f"audio.wav: {audio.get('rate', '?')} Hz stereo (left caller, right agent); "
                  f"session {(audio.get('input') or {}).get('encoding', '?')} "
                  f"{(audio.get('input') or {}).get('rate', '?')} Hz in, "
                  f"{(audio.get('output') or {}).get('encoding', '?')} "
                  f"{(audio.get('output') or {}).get('rate', '?')} Hz out"),
        ("result", _result(report)),
    ]
    out += [f"- **{name}**: {value}" for name, value in facts]
    turns = report.get("turns") or []
    out += ["", "## Turns", ""]
    out.append(f"Response latency (end of caller speech to first agent audio): median "
               f"{_s(latency.get('median'))}, p90 {_s(latency.get('p90'))} over "
               f"{latency.get('count', 0)} turn{'' if latency.get('count') == 1 else 's'}.")
    if turns:
        rows = []
        for turn in turns:
            user, agent = turn.get("user") or {}, turn.get("agent")
            said = agent["text"] + (" (interrupted)" if agent.get("interrupted") else "") \
                if agent else "(no reply)"
            rows.append([turn.get("turn"), _s(user.get("end")), user.get("text") or "…",
                         _s(turn.get("latency")), said, ", ".join(turn.get("tools") or [])])
        out += ["", *_table(["#", "caller ended", "caller", "latency", "agent", "tools"], rows)]
    tools = report.get("tool_calls") or []
    out += ["", "## Tool calls", ""]
    if tools:
        out += _table(["tool", "at", "latency", "outcome", "arguments", "output"],
                      [[t.get("name"), _s(t.get("start")), _s(t.get("latency")),
                        "ok" if t.get("ok") else "failed (see Errors)",
                        t.get("arguments"), t.get("output")] for t in tools])
    else:
        out.append("None.")
    barge = report.get("barge_ins") or []
    out += ["", "## Barge-ins", ""]
    if barge:
        out += _table(["at", "heard", "cut", "what the caller heard", "reason"],
                      [[_s(b.get("at")), _s(b.get("heard_s")), _s(b.get("cut_s")),
                        b.get("heard_text") or "–", b.get("reason")] for b in barge])
    else:
        out.append("None.")
    reconnects = report.get("reconnects") or []
    out += ["", "## Reconnects", ""]
    out += [f"- at {_s(r.get('at'))} (reconnect {r.get('count')})" for r in reconnects] \
        or ["None."]
    tokens = report.get("tokens") or {}
    out += ["", "## Token usage", ""]
    out += [f"- {name}: {value:g}" for name, value in tokens.items()] or ["Not reported."]
    errors = report.get("errors") or []
    out += ["", "## Errors", ""]
    for error in errors:
        out.append(f"- at {_s(error.get('at'))}, {error.get('source')}: {error.get('message')}")
        if error.get("traceback"):
            out += ["", "  ```", *("  " + line for line in error["traceback"].splitlines()),
                    "  ```"]
    if not errors:
        out.append("None.")
    warnings = report.get("warnings") or []
    if warnings:
        out += ["", "## Warnings", ""]
        out += [f"- at {_s(w.get('at'))}: {w.get('message')}" for w in warnings]
    return "\n".join(out) + "\n"


def load_report(folder: Path) -> dict[str, Any]:
    """Read a call folder's ``report.json``.

    Args:
        folder: a call folder.

    Returns:
        The report.

    Raises:
        RecordError: the folder has no readable report (a call still running, or not a call
            record at all).
    """
    path = folder / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        hint = ("the call may still be running, or it ended without finishing its record"
                if (folder / "events.jsonl").exists() else
                "give a call folder (it holds report.json) or a folder of call folders")
        raise RecordError(f"{folder}: no report.json", hint=hint) from None
    except (OSError, ValueError) as exc:
        raise RecordError(f"{path}: cannot read it: {getattr(exc, 'strerror', None) or exc}",
                          ) from None
    if not isinstance(report, dict):
        raise RecordError(f"{path}: not a call report (expected a JSON object)")
    return report


def find_calls(folder: Path) -> list[Path]:
    """The call folders directly inside ``folder``, oldest first (their names start with the
    UTC start time); a call still running (no report yet) is included.

    Raises:
        OSError: the folder cannot be listed.
    """
    return sorted(p for p in folder.iterdir() if p.is_dir() and (
        (p / "report.json").is_file() or (p / "events.jsonl").is_file()))


def render_listing(calls: list[tuple[Path, dict[str, Any] | None]]) -> str:
    """One Markdown table row per call.

    Args:
        calls: (call folder, its report or None when it has none yet), in the order to show.

    Returns:
        Markdown text ending in a newline.
    """
    rows: list[list[Any]] = []
    for folder, report in calls:
        if report is None:
            rows.append([folder.name, *["–"] * (len(_LISTING_HEADER) - 2),
                         "no report (running, or ended without one)"])
            continue
        latency = report.get("latency") or {}
        tools = report.get("tool_calls") or []
        failed = sum(1 for t in tools if not t.get("ok"))
        rows.append([folder.name, report.get("started_at", "?"), report.get("agent", "?"),
                     report.get("channel") or "–", report.get("caller") or "–",
                     _s(report.get("duration")), len(report.get("turns") or []),
                     _s(latency.get("median")), _s(latency.get("p90")),
                     f"{len(tools)} ({failed})", len(report.get("barge_ins") or []),
                     len(report.get("reconnects") or []), len(report.get("errors") or []),
                     _result(report)])
    return "\n".join(_table(_LISTING_HEADER, rows)) + "\n"
