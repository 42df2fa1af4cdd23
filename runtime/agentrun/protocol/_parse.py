"""``parse_server_event``: raw text frame in, one typed server event out.

Each event model validates the raw JSON text directly (pydantic's fast path: no ``json.loads``
first). The model is picked by the frame's ``type``, found with two string searches (compact
JSON, what servers send) or a regular expression, and then *checked* by the model itself (its
``type`` is a ``Literal``): a frame whose first ``"type": "…"`` is not its own (a nested item's,
an escaped or repeated key) fails that check and takes the slow path, which parses the JSON to
find the real type. So the result is exactly what the discriminated union :data:`ServerEvent`
gives, without building all 33 event validators at import (~80 ms, ~2 MiB): each is built the
first time its type arrives, and a session sees about a dozen types. The audio-delta path costs
about the same as the union did (the search replaces the union's dispatch and the
``TypeAdapter`` wrapper). An unknown ``type`` is not an error: it becomes an
:class:`UnknownServerEvent` the engine logs once and skips. Error messages name the event type
and the field path, never the payload (a frame can hold megabytes of base64 audio).

Tolerance (issue 9): a known event whose fields are null, or of a harmless unexpected type
(``"output": null``, ``"output_index": "x"``, ``"usage": []``, a null element in a list), is
*repaired*: each field at fault is dropped, so its default applies, and the event is validated
again. An event agentrun needs, such as ``response.done``, therefore still takes effect; only a
frame missing a field that has no sensible default (an audio delta without ``delta``) is
refused.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass, field
from typing import Any

import pydantic_core
from pydantic import BaseModel, ValidationError

from agentrun.errors import RemoteProtocolError
from agentrun.protocol._server_events import ServerEvent

__all__ = ["UnknownServerEvent", "parse_server_event"]

_MAX_TYPE_CHARS = 80  # an unknown type is quoted in logs; cap it
_search_text = re.compile(r'"type"\s*:\s*"([^"\\]{1,200})"').search
_search_bytes = re.compile(rb'"type"\s*:\s*"([^"\\]{1,200})"').search


def _wire_models() -> dict[str, type[BaseModel]]:
    """Wire ``type`` -> its model, read from the members of :data:`ServerEvent`."""
    union = typing.get_args(ServerEvent)[0]
    return {wire: member for member in typing.get_args(union)
            for wire in typing.get_args(member.model_fields["type"].annotation)}


_MODELS = _wire_models()
_VALIDATE: dict[str, Any] = {}  # wire type -> its model's validate_json, built on first use


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
        # The hot path (audio deltas): compact JSON text, a type seen before; no regex, no
        # build. Without '"type":"' the slice is junk that no type matches (KeyError); bytes
        # have no str find (TypeError): both take the general path below.
        start = text.find('"type":"') + 8  # type: ignore[arg-type]
        kind = text[start:text.find('"', start)]  # type: ignore[arg-type]
        validate = _VALIDATE[kind]  # type: ignore[index]
    except (KeyError, TypeError):
        return _general_path(text)
    try:
        return validate(text)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recheck(text, kind, exc)  # type: ignore[arg-type]


def _general_path(text: str | bytes) -> ServerEvent | UnknownServerEvent:
    """A type seen for the first time, spaced JSON, bytes, or no ``"type"`` in sight."""
    kind = _guess(text)
    validate = _validator(kind) if kind else None
    if validate is None:
        return _slow_path(text)
    try:
        return validate(text)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _recheck(text, kind, exc)  # type: ignore[arg-type]


def _recheck(text: str | bytes, kind: str, exc: ValidationError,
             ) -> ServerEvent | UnknownServerEvent:
    """A frame failed the model its first ``"type"`` named: report it, or, when that type was
    not the frame's own (or the frame is not an object), parse it to find the real one."""
    errors = _errors(exc)
    if all(err["loc"] and err["loc"][0] != "type" for err in errors):
        return _repair(text, kind, errors)
    return _slow_path(text)


def _guess(text: str | bytes) -> str | None:
    """The value of the first ``"type": "…"`` in the frame, or None (unchecked: a guess)."""
    found = _search_text(text) if isinstance(text, str) else _search_bytes(text)
    if found is None:
        return None
    kind = found[1]
    return kind.decode("utf-8", "replace") if isinstance(kind, bytes) else kind


def _validator(kind: str) -> Any:
    """``validate_json`` of the model for ``kind`` (built now if this is its first frame)."""
    validate = _VALIDATE.get(kind)
    if validate is not None:
        return validate
    model = _MODELS.get(kind)
    if model is None:
        return None
    model.model_rebuild()  # builds a deferred model (a no-op when another type built it)
    validate = _VALIDATE[kind] = model.__pydantic_validator__.validate_json
    return validate


def _slow_path(text: str | bytes) -> ServerEvent | UnknownServerEvent:
    """Parse the JSON to find the frame's own ``type`` (frames the fast search misread)."""
    try:
        data = pydantic_core.from_json(text)
    except ValueError as exc:
        raise RemoteProtocolError(f"malformed JSON from the server: {exc}") from None
    if not isinstance(data, dict) or "type" not in data:
        raise RemoteProtocolError("server frame is not an event object with a 'type'")
    kind = data["type"]
    if not isinstance(kind, str):
        raise RemoteProtocolError("server event has a non-string 'type'")
    validate = _validator(kind)
    if validate is None:
        return UnknownServerEvent(type=kind[:_MAX_TYPE_CHARS], raw=_as_str(text))
    try:
        return validate(text)  # type: ignore[no-any-return]
    except ValidationError as exc:
        return _repair(text, kind, _errors(exc))


_MAX_REPAIRS = 4  # rounds of dropping fields (a nested fault can hide another)


def _repair(text: str | bytes, kind: str, errors: list[Any]) -> ServerEvent:
    """Drop every field at fault (its default then applies) and validate again.

    Raises:
        RemoteProtocolError: a required field without a default is missing or unusable.
    """
    try:
        data = pydantic_core.from_json(text)
    except ValueError as exc:
        raise RemoteProtocolError(f"malformed JSON from the server: {exc}") from None
    model = _MODELS[kind]
    for _ in range(_MAX_REPAIRS):
        if not isinstance(data, dict) or not _drop_faults(data, errors):
            break
        try:
            return model.model_validate(data)  # type: ignore[return-value]
        except ValidationError as exc:
            errors = _errors(exc)
    raise _invalid(kind, errors)


def _drop_faults(data: dict[str, Any], errors: list[Any]) -> bool:
    """Remove the deepest existing node on each error's path; False when nothing was removed.

    A path may go past what exists (pydantic names the union member tried, e.g.
    ``error.code.str``): the last node that exists is the one at fault.
    """
    targets: list[tuple[Any, Any]] = []
    for err in errors:
        if err["type"] == "missing":
            continue
        parent, key, node = None, None, data
        for part in err["loc"]:
            if not _has(node, part):
                break
            parent, key, node = node, part, node[part]
        if parent is not None and (id(parent), key) not in {(id(p), k) for p, k in targets}:
            targets.append((parent, key))
    # list elements from the highest index down, so earlier indexes stay valid
    targets.sort(key=lambda t: t[1] if isinstance(t[1], int) else -1, reverse=True)
    for parent, key in targets:
        del parent[key]
    return bool(targets)


def _has(node: Any, part: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(part, str) and part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


def _errors(exc: ValidationError) -> list[Any]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if errors and errors[0]["type"] == "json_invalid":
        detail = str(errors[0]["msg"]).removeprefix("Invalid JSON: ")
        raise RemoteProtocolError(f"malformed JSON from the server: {detail}") from None
    return errors


def _invalid(kind: str, errors: list[Any]) -> RemoteProtocolError:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '(event)'}: {err['msg']}"
        for err in errors[:3]
    )
    more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
    return RemoteProtocolError(f"invalid {kind!r} event from the server: {problems}{more}")


def _as_str(text: str | bytes) -> str:
    return text.decode("utf-8", errors="replace") if isinstance(text, bytes) else text
