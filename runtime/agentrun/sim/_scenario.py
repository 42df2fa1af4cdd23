"""Scenarios: what the simulated model does on each response, and which faults it injects.

A scenario is a YAML/JSON file or a dict (Contract 4). It is validated once when loaded, so a
typo in a test script fails loudly with its path instead of silently doing nothing. The entries
are consumed in order, one per response the simulator creates, shared by every connection of one
:class:`~agentrun.sim.Simulator` (so a reconnect continues where the script was). This module
imports only ``agentrun.errors``.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml  # type: ignore[import-untyped]

from agentrun.errors import SpecError

__all__ = ["ERROR_PRESETS", "Call", "Entry", "Fault", "Scenario"]

FAULT_KINDS = (
    "close", "malformed_json", "unknown_event", "duplicate_item", "error", "slow", "burst",
    "auto_response_race", "failed_response", "stall", "null_fields", "out_of_order",
    "error_names_event",
)

ERROR_PRESETS: dict[str, dict[str, str]] = {
    # Shapes follow reference §3.1; xAI's real codes are undocumented (§3.1 note), so the
    # messages carry the substrings clients match on (§3.2).
    "invalid_request_error": {"type": "invalid_request_error", "code": "invalid_value",
                              "message": "Invalid value for 'session.voice'."},
    "server_error": {"type": "server_error", "code": "server_error",
                     "message": "The server had an error while processing your request."},
    "response_cancel_not_active": {"type": "invalid_request_error",
                                   "code": "response_cancel_not_active",
                                   "message": "Cancellation failed: no active response found"},
    "conversation_already_has_active_response": {
        "type": "invalid_request_error", "code": "conversation_already_has_active_response",
        "message": "Conversation already has an active response in progress."},
    "rate_limit_exceeded": {"type": "rate_limit_error", "code": "rate_limit_exceeded",
                            "message": "Rate limit reached. Please retry later."},
    "authentication_error": {"type": "authentication_error", "code": "invalid_api_key",
                             "message": "Incorrect API key provided."},
    "insufficient_quota": {"type": "insufficient_quota", "code": "insufficient_quota",
                           "message": "You exceeded your current quota."},
}


@dataclass(frozen=True, slots=True)
class Call:
    """One function call the simulated model makes."""

    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fault:
    """Faults injected into one response (all optional; several may combine)."""

    close: int | None = None
    malformed_json: bool = False
    unknown_event: bool = False
    duplicate_item: bool = False
    error: dict[str, str] | None = None
    slow_ms: int = 0
    burst: bool = False
    auto_response_race: bool = False
    failed_response: bool = False
    stall_ms: int = 0  # pause this long halfway through the reply (a server that stalls)
    null_fields: bool = False  # optional fields sent as null (and odd types), as some servers do
    out_of_order: bool = False  # arguments.done before its function_call item
    error_names_event: bool = False  # the injected error names the client's last event_id


@dataclass(frozen=True, slots=True)
class Entry:
    """What the model does on one response: say text, call tools, or the default reply."""

    say: str | None = None
    audio_ms: int | None = None
    calls: tuple[Call, ...] = ()
    fault: Fault = field(default_factory=Fault)
    repeat: int = 1


@dataclass(slots=True)
class Scenario:
    """A validated script: audio pacing plus the response entries, in order.

    Attributes:
        chunk_ms: size of each output audio delta (20–40 ms is realistic).
        realtime: pace audio deltas at real time instead of as fast as possible.
        ping_interval: seconds between ``ping`` events (None: no pings).
        entries: the scripted responses.
    """

    chunk_ms: int = 40
    realtime: bool = False
    ping_interval: float | None = 15.0
    entries: list[Entry] = field(default_factory=list)

    @classmethod
    def load(cls, source: str | pathlib.Path | Mapping[str, Any] | None) -> Scenario:
        """Build a scenario from a YAML/JSON file or a dict.

        Args:
            source: a path, a mapping, or None for the empty scenario (default replies only).

        Returns:
            The validated scenario.

        Raises:
            SpecError: the file is missing or unreadable, or an entry is malformed (the message
                names the entry, e.g. ``responses[2].fault``).
        """
        if source is None:
            return cls()
        where: str | None = None
        if isinstance(source, Mapping):
            data: Any = dict(source)
        else:
            where = str(source)
            try:
                text = pathlib.Path(source).read_text(encoding="utf-8")
                data = json.loads(text) if where.endswith(".json") else yaml.safe_load(text)
            except (OSError, ValueError, yaml.YAMLError) as exc:
                raise _read_error(where, exc) from exc
        return _parse(data or {}, where)


def _read_error(where: str, exc: Exception) -> SpecError:
    """One line for a scenario file that cannot be read or parsed, at its line when known."""
    if isinstance(exc, OSError):
        return SpecError(f"cannot read scenario: {exc.strerror or exc}", path=where)
    if isinstance(exc, json.JSONDecodeError):
        return SpecError(f"scenario is not valid JSON: {exc.msg}", path=where,
                         line=exc.lineno, column=exc.colno)
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        from agentrun.spec._yaml_syntax import explain_syntax

        said = explain_syntax(exc)
        return SpecError(f"scenario is not valid YAML: {said.problem}", path=where,
                         line=said.line, column=said.column, hint=said.hint)
    reason = " ".join(str(exc).split())
    return SpecError(f"cannot read scenario: {reason}", path=where)


def _fail(where: str | None, path: str, message: str) -> SpecError:
    return SpecError(f"scenario {path}: {message}", path=where)


def _parse(data: Any, where: str | None) -> Scenario:
    if not isinstance(data, dict):
        raise _fail(where, "(top level)", "expected a mapping with 'responses'")
    unknown = set(data) - {"audio", "responses", "ping_interval"}
    if unknown:
        raise _fail(where, "(top level)", f"unknown key(s) {sorted(unknown)}")
    audio = data.get("audio") or {}
    if not isinstance(audio, dict) or set(audio) - {"chunk_ms", "pace"}:
        raise _fail(where, "audio", "expected {chunk_ms: 20..40, pace: fast|realtime}")
    chunk_ms = audio.get("chunk_ms", 40)
    if not isinstance(chunk_ms, int) or not 5 <= chunk_ms <= 200:
        raise _fail(where, "audio.chunk_ms", "expected an integer between 5 and 200")
    pace = audio.get("pace", "fast")
    if pace not in ("fast", "realtime"):
        raise _fail(where, "audio.pace", "expected 'fast' or 'realtime'")
    ping = data.get("ping_interval", 15.0)
    if ping is not None and (not isinstance(ping, int | float) or ping <= 0):
        raise _fail(where, "ping_interval", "expected a positive number of seconds or null")
    responses = data.get("responses") or []
    if not isinstance(responses, list):
        raise _fail(where, "responses", "expected a list")
    entries = [_entry(item, f"responses[{i}]", where) for i, item in enumerate(responses)]
    return Scenario(chunk_ms=chunk_ms, realtime=pace == "realtime",
                    ping_interval=None if ping is None else float(ping), entries=entries)


def _entry(item: Any, path: str, where: str | None) -> Entry:
    if not isinstance(item, dict):
        raise _fail(where, path, "expected a mapping (say/call/calls/fault)")
    unknown = set(item) - {"say", "audio_ms", "call", "arguments", "calls", "fault", "repeat"}
    if unknown:
        raise _fail(where, path, f"unknown key(s) {sorted(unknown)}")
    say = item.get("say")
    if say is not None and not isinstance(say, str):
        raise _fail(where, f"{path}.say", "expected text")
    audio_ms = item.get("audio_ms")
    if audio_ms is not None and (not isinstance(audio_ms, int) or audio_ms < 0):
        raise _fail(where, f"{path}.audio_ms", "expected a non-negative integer")
    calls: list[Call] = []
    if "call" in item:
        calls.append(_call({"name": item["call"], "arguments": item.get("arguments", {})},
                           path, where))
    for j, spec in enumerate(item.get("calls") or []):
        calls.append(_call(spec, f"{path}.calls[{j}]", where))
    if say is not None and calls:
        raise _fail(where, path, "use either 'say' or 'call'/'calls', not both")
    repeat = item.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise _fail(where, f"{path}.repeat", "expected a positive integer")
    fault = _fault(item.get("fault"), f"{path}.fault", where)
    return Entry(say=say, audio_ms=audio_ms, calls=tuple(calls), fault=fault, repeat=repeat)


def _call(spec: Any, path: str, where: str | None) -> Call:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise _fail(where, path, "expected {name: TOOL, arguments: {...}}")
    arguments = spec.get("arguments", {})
    if not isinstance(arguments, dict):
        raise _fail(where, f"{path}.arguments", "expected a mapping")
    return Call(name=spec["name"], arguments=arguments)


def _fault(spec: Any, path: str, where: str | None) -> Fault:
    if spec is None:
        return Fault()
    if isinstance(spec, str):
        spec = {spec: True}
    if isinstance(spec, list):
        merged: dict[str, Any] = {}
        for part in spec:
            merged.update({part: True} if isinstance(part, str) else part)
        spec = merged
    if not isinstance(spec, dict):
        raise _fail(where, path, f"expected one of {', '.join(FAULT_KINDS)}")
    unknown = set(spec) - set(FAULT_KINDS)
    if unknown:
        raise _fail(where, path, f"unknown fault(s) {sorted(unknown)}; "
                                 f"known: {', '.join(FAULT_KINDS)}")
    close = spec.get("close")
    if close is not None and (not isinstance(close, int) or not 1000 <= close <= 4999):
        raise _fail(where, f"{path}.close", "expected a WebSocket close code (e.g. 1011)")
    slow = spec.get("slow", 0)
    if slow is True or not isinstance(slow, int) or slow < 0:
        raise _fail(where, f"{path}.slow", "expected milliseconds between events")
    stall = spec.get("stall", 0)
    if stall is True or not isinstance(stall, int) or stall < 0:
        raise _fail(where, f"{path}.stall", "expected milliseconds to pause mid-reply")
    return Fault(
        close=close,
        malformed_json=bool(spec.get("malformed_json")),
        unknown_event=bool(spec.get("unknown_event")),
        duplicate_item=bool(spec.get("duplicate_item")),
        error=_error(spec.get("error"), f"{path}.error", where) if "error" in spec else None,
        slow_ms=slow,
        burst=bool(spec.get("burst")),
        auto_response_race=bool(spec.get("auto_response_race")),
        failed_response=bool(spec.get("failed_response")),
        stall_ms=stall,
        null_fields=bool(spec.get("null_fields")),
        out_of_order=bool(spec.get("out_of_order")),
        error_names_event=bool(spec.get("error_names_event")),
    )


def _error(spec: Any, path: str, where: str | None) -> dict[str, str]:
    if spec is True:
        return dict(ERROR_PRESETS["server_error"])
    if isinstance(spec, str):
        if spec not in ERROR_PRESETS:
            raise _fail(where, path, f"unknown error kind {spec!r}; known: "
                                     f"{', '.join(ERROR_PRESETS)}")
        return dict(ERROR_PRESETS[spec])
    if not isinstance(spec, dict) or not isinstance(spec.get("message", ""), str):
        raise _fail(where, path, "expected a kind name or {type, code, message}")
    base = dict(ERROR_PRESETS.get(str(spec.get("type", "server_error")),
                                  ERROR_PRESETS["server_error"]))
    base.update({k: str(v) for k, v in spec.items() if k in ("type", "code", "message", "param")})
    return base
