"""A tool's return value or failure → the text of one ``function_call_output``.

Values are encoded exactly once (grok-realtime.md §7 item 7: a JSON string of a JSON string makes
the model read escaped quotes). Failures become ``{"error": "..."}`` so the model can tell the user
or retry. Imports nothing of ours.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

import pydantic_core
from pydantic import BaseModel

__all__ = ["MAX_OUTPUT_CHARS", "ToolResult", "UnencodableResult", "encode_output",
           "error_output"]

MAX_OUTPUT_CHARS = 16 * 1024
"""Outputs longer than this are cut: a huge result costs latency and crowds the model's context."""

_JSON_TYPES = (dict, list, tuple, int, float, bool, type(None), BaseModel, Enum)
_BINARY = (bytes, bytearray, memoryview)
# values JSON writes as a string (a date, a decimal): sent as that text, like a str
_TEXT_LIKE = (datetime.date, datetime.time, datetime.timedelta, Decimal, UUID, PurePath)


class UnencodableResult(TypeError):
    """A tool returned a value that cannot become text for the model (bytes, an object)."""


def _refuse(value: Any) -> Any:
    # pydantic_core.to_json calls this for any value it has no JSON form for
    name = type(value).__name__
    article = "an" if name[:1].lower() in "aeiou" else "a"
    raise UnencodableResult(f"returned {article} {name}, which agentrun cannot send "
                            "to the model; return text, numbers, lists, dicts, dataclasses or "
                            "pydantic models")


def _check_binary(value: Any, depth: int = 0) -> None:
    """Bytes anywhere in a plain container are refused (JSON has no bytes; base64 or a
    lossy decode would be a guess)."""
    if isinstance(value, _BINARY):
        raise UnencodableResult(f"returned {type(value).__name__}, which agentrun cannot send "
                                "to the model; decode it to text first")
    if depth < 20 and isinstance(value, dict | list | tuple | set | frozenset):
        for item in value.values() if isinstance(value, dict) else value:
            _check_binary(item, depth + 1)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one call, ready to send as ``function_call_output``.

    Attributes:
        output: what the model receives; on failure an error text it can act on.
        ok: False when the call failed (unknown tool, bad arguments, timeout, exception).
        error: on failure, the full local log line (tool, call id, cause); None on success.
        seconds: wall time from arguments received to output ready.
        name: the tool name the model called.
        call_id: the call id the model sent.
        traceback: on an exception, its full traceback (for the operator, never the model).
        logs: the records the tool logged during the call, formatted
            (``LEVEL name: message``), for the operator and the call record.
    """

    output: str
    ok: bool = True
    error: str | None = None
    seconds: float = 0.0
    name: str = ""
    call_id: str = ""
    traceback: str | None = None
    logs: tuple[str, ...] = ()


def encode_output(value: Any, *, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Turn a tool's return value into output text, cut to ``limit`` characters.

    Args:
        value: what the tool returned. ``str`` is sent as is, and so is the JSON text of a
            date, time, duration, decimal, UUID or path; dicts, lists, numbers, bools, None,
            enums, pydantic models and dataclass instances as JSON (nested values too: datetimes,
            dates, decimals, UUIDs, paths, sets, enums…).
        limit: the maximum length before the output is cut with a note saying so.

    Returns:
        The output text.

    Raises:
        UnencodableResult: bytes (anywhere), or an object with no JSON form: the tool's result
            is then an error output, never a Python repr.
    """
    if isinstance(value, str):
        text = str.__str__(value)  # a str-based Enum member is sent as its value, not "Cls.A"
    elif isinstance(value, _TEXT_LIKE):  # alone as inside a dict: its JSON form, unquoted
        text = str(json.loads(pydantic_core.to_json(value)))
    elif isinstance(value, (*_JSON_TYPES, set, frozenset)) or (
        dataclasses.is_dataclass(value) and not isinstance(value, type)
    ):
        _check_binary(value)
        try:
            # NaN and infinities are not JSON: null, as JavaScript's JSON.stringify writes them
            text = pydantic_core.to_json(value, fallback=_refuse, inf_nan_mode="null").decode()
        except pydantic_core.PydanticSerializationError as exc:
            # pydantic wraps our message: "Error serializing to JSON: UnencodableResult: …"
            raise UnencodableResult(str(exc).split("UnencodableResult: ", 1)[-1]) from None
    else:
        _check_binary(value)
        _refuse(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (e.g. a surrogateescape'd file name)
        text = text.encode("utf-8", "replace").decode("utf-8")  # would fail on the wire
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[output cut: {len(text)} characters, only the first {limit} shown]"


def error_output(message: str) -> str:
    """The one error shape the model sees: ``{"error": message}``.

    Args:
        message: what went wrong and, where useful, what to try.

    Returns:
        The JSON text.
    """
    return json.dumps({"error": message}, ensure_ascii=False)
