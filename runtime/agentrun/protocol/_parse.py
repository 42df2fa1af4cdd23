"""``parse_server_event``: raw text frame in, one typed server event out.

One module-level ``TypeAdapter`` validates the raw JSON text directly (pydantic's fast path: no
``json.loads`` first), and the discriminator picks exactly one model. That keeps the 50-per-second
audio deltas cheap. An unknown ``type`` is not an error: it becomes an
:class:`UnknownServerEvent` the engine logs once and skips. Error messages name the event type
and the field path, never the payload (a frame can hold megabytes of base64 audio).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError

from agentrun.errors import RemoteProtocolError
from agentrun.protocol._server_events import ServerEvent

__all__ = ["UnknownServerEvent", "parse_server_event"]

_ADAPTER: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)
_MAX_TYPE_CHARS = 80  # an unknown type is quoted in logs; cap it


@dataclass(frozen=True, slots=True)
class UnknownServerEvent:
    """A well-formed event whose ``type`` agentrun does not know (logged once, skipped).

    Attributes:
        type: the wire ``type`` string.
        raw: the frame text as received (kept out of ``repr``: it may be large).
    """

    type: str
    raw: str = field(repr=False)


def parse_server_event(text: str | bytes) -> ServerEvent | UnknownServerEvent:
    """Parse one server frame.

    Args:
        text: the frame exactly as received (JSON text).

    Returns:
        The typed event, or :class:`UnknownServerEvent` for a type not in :data:`ServerEvent`.

    Raises:
        RemoteProtocolError: the frame is not a JSON object with a string ``type``, or a known
            event lacks a required field or has a field of the wrong type. The message names the
            event type and field path only.
    """
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as exc:
        return _unknown_or_raise(text, exc)


def _unknown_or_raise(text: str | bytes, exc: ValidationError) -> UnknownServerEvent:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    kind = first["type"]
    if kind == "json_invalid":
        detail = str(first["msg"]).removeprefix("Invalid JSON: ")
        raise RemoteProtocolError(f"malformed JSON from the server: {detail}") from None
    if kind == "union_tag_invalid":
        event_type = _type_of(text)
        if event_type is not None:
            return UnknownServerEvent(type=event_type[:_MAX_TYPE_CHARS], raw=_as_str(text))
        raise RemoteProtocolError("server event has a non-string 'type'") from None
    if kind == "union_tag_not_found" or not first["loc"]:
        raise RemoteProtocolError("server frame is not an event object with a 'type'") from None
    event_type = str(first["loc"][0])
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc'][1:]) or '(event)'}: {err['msg']}"
        for err in errors[:3]
    )
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    raise RemoteProtocolError(f"invalid {event_type!r} event from the server: {problems}{more}") \
        from None


def _type_of(text: str | bytes) -> str | None:
    """The ``type`` of a frame known to be valid JSON (slow path: unknown events only)."""
    data: Any = json.loads(text)
    value = data.get("type") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _as_str(text: str | bytes) -> str:
    return text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
