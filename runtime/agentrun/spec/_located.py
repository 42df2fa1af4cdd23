"""Pydantic validation errors → plain-language SpecErrors at FILE:LINE:COL.

Owns: the translation of every pydantic error type an author can trigger into one sentence
(``threshold must be between 0.1 and 0.9, got 1.5``) and the mapping of an error's ``loc``
onto the YAML node it concerns. Imports only ``errors`` and ``spec`` private modules.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from agentrun.errors import SpecError
from agentrun.spec._fields import did_you_mean, shown
from agentrun.spec._misplaced import belongs
from agentrun.spec._models import ToolRef
from agentrun.spec._yaml import Locations

__all__ = ["translate"]

Loc = tuple[str | int, ...]


def _unwrap(tp: Any) -> Any:
    """Strip Annotated / Optional layers until something we can walk remains."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _tag_of(member: Any) -> str | None:
    if typing.get_origin(member) is typing.Annotated:
        for meta in typing.get_args(member)[1:]:
            tag = getattr(meta, "tag", None)
            if isinstance(tag, str):
                return tag
    return None


def _field(model: type[BaseModel], key: str) -> tuple[str, FieldInfo] | None:
    for name, info in model.model_fields.items():
        if key in (info.alias, name):
            return info.alias or name, info
    return None


def _resolve(root: type[BaseModel], loc: Loc) -> tuple[Any, str | None, FieldInfo | None]:
    """Follow ``loc`` through the model types.

    Returns:
        The type reached, the last field's YAML key and that field's FieldInfo.
    """
    tp: Any = root
    key: str | None = None
    info: FieldInfo | None = None
    for part in loc:
        tp = _unwrap(tp)
        origin = typing.get_origin(tp)
        if origin in (typing.Union, types.UnionType):
            members = typing.get_args(tp)
            chosen = next((m for m in members if _tag_of(m) == part), None)
            if chosen is not None:
                tp = chosen
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
            found = _field(tp, part)
            if found is not None:
                key, info = found
                tp = info.annotation
            continue
        if origin is dict and isinstance(part, str):
            tp = typing.get_args(tp)[1]
            key, info = part, None
            continue
        if origin is list and isinstance(part, int):
            tp = typing.get_args(tp)[0]
    return _unwrap(tp), key, info


def _data_path(data: Any, loc: Loc) -> Loc:
    """The part of ``loc`` that names nodes really written in the YAML file."""
    path: list[str | int] = []
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if not (in_dict or in_list):
            continue
        current = current[part]
        path.append(part)
    return tuple(path)


def _metadata(info: FieldInfo | None) -> list[Any]:
    """A field's constraints, also those inside ``Annotated[...] | None``."""
    if info is None:
        return []
    found = list(info.metadata)
    for member in typing.get_args(info.annotation):
        if typing.get_origin(member) is typing.Annotated:
            found.extend(member.__metadata__)
    return found


def _list_syntax(key: str, value: str) -> str:
    """How to write ``value`` (``Acme, order number``) as the list ``key`` expects."""
    items = [item.strip() for item in value.split(",") if item.strip()] or [value]
    shown_items = ", ".join(json.dumps(i, ensure_ascii=False) if any(c in i for c in ":#[]{},")
                            else i for i in items)
    return f"write a list: {key}: [{shown_items}], or one '- item' line per item below it"


def _hertz(value: str) -> int | None:
    """``24kHz``, ``24 khz``, ``16k``, ``8000Hz`` → Hz, or None."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(k|khz|hz)\s*", value, flags=re.IGNORECASE)
    if not match:
        return None
    number = float(match.group(1)) * (1 if match.group(2).lower() == "hz" else 1000)
    return int(number) if number.is_integer() else None


def _value_at(data: Any, loc: Loc) -> Any:
    """The written value at ``loc`` (parts not in the file, like union tags, are skipped)."""
    current = data
    for part in loc:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
    return current


def _range(info: FieldInfo | None) -> str | None:
    """``between 0.1 and 0.9`` (or ``more than 0 and at most 3600``) from a field's bounds."""
    low = high = None
    for meta in _metadata(info):
        if getattr(meta, "ge", None) is not None:
            low = ("between", meta.ge)
        if getattr(meta, "gt", None) is not None:
            low = ("more than", meta.gt)
        if getattr(meta, "le", None) is not None:
            high = ("at most", meta.le)
        if getattr(meta, "lt", None) is not None:
            high = ("less than", meta.lt)
    if low is None or high is None:
        return None
    if low[0] == "between" and high[0] == "at most":
        return f"between {low[1]} and {high[1]}"
    return f"{'at least' if low[0] == 'between' else low[0]} {low[1]} and {high[0]} {high[1]}"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _percent(value: Any, info: FieldInfo | None) -> str | None:
    """``threshold: 85`` in a field from 0.1 to 0.9: a percentage where a fraction is meant."""
    low = next((m.ge for m in _metadata(info) if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in _metadata(info) if getattr(m, "le", None) is not None), None)
    if not _number(value) or low is None or high is None or high > 10:
        return None
    fraction = value / 100
    return f"a percentage? write {fraction:g}" if low <= fraction <= high else None


def _what(key: str | None, loc: Loc) -> str:
    if loc and isinstance(loc[-1], int):
        return f"item {loc[-1] + 1} of {key}" if key else f"item {loc[-1] + 1}"
    return key or "this value"


_KINDS = {
    "float_parsing": "a number", "float_type": "a number",
    "int_parsing": "a whole number", "int_type": "a whole number",
    "int_from_float": "a whole number", "bool_parsing": "true or false",
    "bool_type": "true or false", "string_type": "text", "list_type": "a list",
    "dict_type": "a mapping (key: value lines)", "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
}


def _message(error: dict[str, Any], root: type[BaseModel], beside: Any = (),
             ) -> tuple[str, str | None, Loc, bool]:
    """One pydantic error → (message, hint, extra path, point at the key?).

    ``beside``: the keys written next to the erring one (for "add that key first").
    """
    kind, loc, value = error["type"], tuple(error["loc"]), error.get("input")
    ctx = error.get("ctx") or {}
    tp, key, info = _resolve(root, loc)
    what = _what(key, loc)
    if kind == "agentrun":
        at = list(ctx.get("at") or [])
        on_key = bool(at) and at[-1] == "#key"
        return ctx["message"], ctx.get("hint"), tuple(a for a in at if a != "#key"), on_key
    if kind == "extra_forbidden":
        parent, _, _ = _resolve(root, loc[:-1])
        allowed = [f.alias or n for n, f in parent.model_fields.items()] if (
            isinstance(parent, type) and issubclass(parent, BaseModel)) else []
        misplaced = belongs(root, loc, set(beside))
        if misplaced is not None:
            return misplaced[0], misplaced[1], (), True
        hint = did_you_mean(str(loc[-1]), allowed)
        if parent is ToolRef and hint and "did you mean" not in hint:
            hint = "a tool's own settings go under config:; " + hint
        return f"unknown key '{loc[-1]}'", hint, (), True
    if kind == "missing":
        return f"missing required key '{key or loc[-1]}'", None, (), False
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        span = _range(info)
        if span is not None:
            return f"{what} must be {span}, got {shown(value)}", _percent(value, info), (), \
                False
        limit = next(iter(ctx.values()), None)
        word = {"greater_than_equal": "at least", "less_than_equal": "at most",
                "greater_than": "more than", "less_than": "less than"}[kind]
        return f"{what} must be {word} {limit}, got {shown(value)}", None, (), False
    if kind == "literal_error":
        choices = [str(c) for c in typing.get_args(tp)] if typing.get_origin(tp) is \
            typing.Literal else []
        if isinstance(value, str) and value in choices:  # `rate: "24000"`
            return f"{what} must be written without quotes, got {shown(value)}", None, (), False
        hertz = _hertz(value) if isinstance(value, str) else None
        if hertz is not None:  # `rate: 24kHz`
            return (f"{what} is a number of Hz without a unit, got {shown(value)}",
                    f"write {what}: {hertz}", (), False)
        hint = did_you_mean(value, choices) if choices and isinstance(value, str) else (
            "allowed: " + ", ".join(choices) if choices else None)
        if _number(value) and str(round(value * 1000)) in choices:  # `rate: 24` (kHz)
            hint = f"rates are in Hz: write {round(value * 1000)}"
        if hint is None and ctx.get("expected"):
            hint = f"allowed: {ctx['expected']}"
        return f"unknown {what} {shown(value)}", hint, (), False
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tags = [str(t).strip("'") for t in str(ctx.get("expected_tags", "")).split(", ") if t]
        tag = ctx.get("tag")
        return (f"unknown {what} type {shown(tag)}", did_you_mean(str(tag), tags), ("type",),
                False)
    if kind in ("string_too_short", "too_short"):
        if kind == "string_too_short" and ctx.get("min_length") == 1:
            return f"{what} must not be empty", None, (), False
        return f"{what} needs at least {ctx.get('min_length')} items", None, (), False
    if kind == "string_too_long":
        return (f"{what} must be at most {ctx.get('max_length')} characters, got "
                f"{len(str(value))}", None, (), False)
    if kind == "too_long":
        count = ctx.get("actual_length") or (len(value) if isinstance(value, list) else "?")
        return f"{what} must have at most {ctx.get('max_length')} items, got {count}", None, (), \
            False
    if kind == "string_pattern_mismatch":
        return f"{what} cannot contain {shown(value)}", "use letters, digits, '_', '-' or '.' " \
            "without spaces", (), False
    if kind in _KINDS:
        hint = None
        if kind == "string_type" and isinstance(value, int | float):
            hint = "put it in quotes"
        elif kind == "list_type" and isinstance(value, str):
            hint = _list_syntax(key or "items", value)
        elif what == "turn_detection" and isinstance(value, str):
            hint = f"write turn_detection: {{type: {value}}}"
        return f"{what} must be {_KINDS[kind]}, got {shown(value)}", hint, (), False
    return f"{what}: {error['msg']}", None, (), False


def translate(exc: ValidationError, root: type[BaseModel], data: Any, locations: Locations,
              shown_path: str) -> list[SpecError]:
    """Turn every error of ``exc`` into a located SpecError.

    Args:
        exc: the pydantic error.
        root: the model that was validated.
        data: the plain data that was validated (to find which nodes exist in the file).
        locations: where each node of ``data`` sits.
        shown_path: the file name for messages.

    Returns:
        One SpecError per problem, in file order.
    """
    found: list[SpecError] = []
    for error in exc.errors(include_url=False):
        container = _value_at(data, tuple(error["loc"])[:-1])
        beside = list(container) if isinstance(container, dict) else []
        message, hint, extra, on_key = _message(dict(error), root, beside)
        path = _data_path(data, (*error["loc"], *extra))
        full = tuple(error["loc"]) + extra
        if on_key and path == _data_path(data, full) and path and path[-1] == full[-1]:
            line, column = locations.key(path) or locations.nearest(path)
        else:
            line, column = locations.value(path) or locations.nearest(path)
        found.append(SpecError(message, path=shown_path, line=line, column=column, hint=hint))
    return found
