"""Where a misplaced key belongs: the indentation mistakes authors make.

Owns: :func:`belongs`, which, for a key unknown where it was written, looks one level deeper
(``silence_duration_ms`` written beside ``turn_detection:`` instead of under it), two levels
deeper (``format`` at the top instead of under ``audio: input:``) and one level up
(``greeting`` indented under ``turn_detection:``), through the models. Imports only pydantic.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel

__all__ = ["belongs"]

Loc = tuple[str | int, ...]
Step = tuple[str | None, type[BaseModel], bool]  # (YAML key that led here, model, an entry)


def _members(tp: Any) -> list[Any]:
    """The types a field can hold, through Annotated, unions, lists and dict values."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _members(arg)]
    if origin is list:
        return _members(typing.get_args(tp)[0])
    if origin is dict:
        return _members(typing.get_args(tp)[1])
    return [tp]


def _children(model: type[BaseModel]) -> list[tuple[str, type[BaseModel]]]:
    """(YAML key, model) for every field of ``model`` that holds a mapping of keys."""
    found = []
    for name, info in model.model_fields.items():
        for member in _members(info.annotation):
            if isinstance(member, type) and issubclass(member, BaseModel):
                found.append((info.alias or name, member))
    return found


def _keys(model: type[BaseModel]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}


def _tag(member: Any) -> str | None:
    if typing.get_origin(member) is typing.Annotated:
        for meta in typing.get_args(member)[1:]:
            if isinstance(getattr(meta, "tag", None), str):
                return str(meta.tag)
    return None


def _into(tp: Any, parts: list[str | int]) -> tuple[type[BaseModel] | None, bool]:
    """Follow a field's type (consuming list indexes, dict keys and union tags from ``parts``)
    to the model it holds; also says whether it is one entry of a list or mapping."""
    via_list = False
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [m for m in typing.get_args(tp) if m is not type(None)]
            tagged = next((m for m in members if parts and _tag(m) == parts[0]), None)
            if tagged is not None:
                parts.pop(0)
                tp = tagged
                continue
            models = [m for m in members if any(isinstance(x, type) and issubclass(x, BaseModel)
                                                for x in _members(m))]
            if len(models) != 1:
                return None, via_list
            tp = models[0]
        elif origin is list:
            if parts and isinstance(parts[0], int):
                parts.pop(0)
            via_list, tp = True, typing.get_args(tp)[0]
        elif origin is dict:
            if parts:
                parts.pop(0)
            via_list, tp = True, typing.get_args(tp)[1]
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            return tp, via_list
        else:
            return None, via_list


def _chain(root: type[BaseModel], loc: Loc) -> list[Step]:
    """The models ``loc`` passes through, from the root, with the key that led to each."""
    chain: list[Step] = [(None, root, False)]
    parts = list(loc)
    model = root
    while parts:
        part = parts.pop(0)
        info = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        if info is None:
            break
        inner, via_list = _into(info.annotation, parts)
        if inner is None:
            break
        model = inner
        chain.append((str(part), model, via_list))
    return chain


def _names(keys: list[str]) -> str:
    quoted = [f"'{k}:'" for k in dict.fromkeys(keys)]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def belongs(root: type[BaseModel], loc: Loc, written: set[str]) -> tuple[str, str] | None:
    """Where the unknown key at ``loc`` belongs, when it is a key one level away.

    Args:
        root: the model validated (``AgentSpec``).
        loc: pydantic's location of the unknown key (its last part).
        written: the keys written beside it (to say whether the parent key exists yet).

    Returns:
        ``(message, hint)``, or None when the key is not valid one level deeper or up either.
    """
    key = str(loc[-1])
    chain = _chain(root, loc[:-1])
    here_key, here, here_list = chain[-1]
    deeper = [name for name, child in _children(here) if key in _keys(child)]
    if deeper:
        if len(deeper) == 1 and deeper[0] not in written:
            hint = f"write it indented below a '{deeper[0]}:' line"
        else:
            hint = f"an indentation mistake: indent it below {_names(deeper)}"
        return f"'{key}' is not a key here; it belongs under {_names(deeper)}", hint
    twice = [f"{name}: {inner}" for name, child in _children(here)
             for inner, grandchild in _children(child) if key in _keys(grandchild)]
    if twice:
        places = " or ".join(f"'{place}:'" for place in dict.fromkeys(twice))
        return (f"'{key}' is not a key here; it belongs under {places}",
                "an indentation mistake: write it two levels further in")
    if len(chain) >= 2 and here_key is not None:
        up_key, up, _ = chain[-2]
        siblings = [name for name, child in _children(up)
                    if name != here_key and key in _keys(child)]
        if siblings and key not in _keys(up):
            return (f"'{key}' is not a key of '{here_key}:'; it belongs under "
                    f"{_names(siblings)}", f"move it to {_names(siblings)}")
        if key in _keys(up):
            inside = f"a '{here_key}' entry" if here_list else f"'{here_key}:'"
            where = "at the top level" if up_key is None else f"under '{up_key}:'"
            return (f"'{key}' is not a key of {inside}; it belongs {where}",
                    f"an indentation mistake: move it left, in line with '{here_key}:'")
    return None
