"""``agentrun explain KEY``: what a key of the agent file means, from the models themselves.

Owns: the index of every key an author can write (``turn_detection.silence_duration_ms``,
``tools.timeout``, ``variables.NAME.from_env``), finding a key as people type it (a bare leaf
name, ``tools[0].timeout``, any case) with did-you-mean, and the explanation: meaning, type,
unit, default, where it applies and an example in YAML. The words come from the same pydantic
models (descriptions, examples, bounds) as ``agentrun schema`` and docs/agent-file.md.
"""

from __future__ import annotations

import difflib
import re
import textwrap
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from agentrun.spec._duration import duration_unit

__all__ = ["KeyInfo", "all_keys", "explain", "find_keys", "suggest"]

_ENTRY = "NAME"  # stands for a name the author chooses (a variable's name)
_UNITS = {"rate": "Hz (samples per second)", "speed": "times the normal speaking speed",
          "threshold": "0.1 (hears quiet speech) to 0.9 (only clear speech)"}


@dataclass(frozen=True)
class KeyInfo:
    """One key of the agent file.

    Attributes:
        key: the dotted key (``turn_detection.silence_duration_ms``; ``NAME`` for a name the
            author chooses, as in ``variables.NAME.type``).
        model: the model the key belongs to.
        field: the field's Python name in that model.
        steps: the way down from the top: (key, how it nests: ``map``, ``list`` or ``names``).
        applies: when the key applies (``when turn_detection type is server_vad``), or "".
    """

    key: str
    model: type[BaseModel]
    field: str
    steps: tuple[tuple[str, str], ...]
    applies: str = ""


def _models_of(tp: Any) -> tuple[list[tuple[type[BaseModel], str | None]], str]:
    """The models a field holds, each with its union tag, and how it nests (map/list/names)."""
    nesting = "map"
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            args = typing.get_args(tp)
            tp = args[0]
            continue
        if origin is list:
            nesting, tp = "list", typing.get_args(tp)[0]
            continue
        if origin is dict:
            nesting, tp = "names", typing.get_args(tp)[1]
            continue
        break
    found: list[tuple[type[BaseModel], str | None]] = []
    members = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union,
                                                                 types.UnionType) else (tp,)
    for member in members:
        tag = None
        if typing.get_origin(member) is typing.Annotated:
            tag = next((m.tag for m in typing.get_args(member)[1:]
                        if isinstance(getattr(m, "tag", None), str)), None)
            member = typing.get_args(member)[0]
        nested = typing.get_origin(member) in (list, dict, typing.Union, types.UnionType)
        inner, _ = _models_of(member) if nested else ([], "")
        if isinstance(member, type) and issubclass(member, BaseModel):
            found.append((member, tag))
        else:
            found.extend(inner)
    return found, nesting


def _walk(model: type[BaseModel], prefix: tuple[tuple[str, str], ...], applies: str,
          depth: int, into: list[KeyInfo]) -> None:
    for name, info in model.model_fields.items():
        key = info.alias or name
        parts = [k for k, _ in prefix] + [key]
        into.append(KeyInfo(".".join(parts), model, name, (*prefix, (key, "map")), applies))
        if depth >= 4:
            continue
        children, nesting = _models_of(info.annotation)
        tagged = len(children) > 1
        for child, tag in children:
            step = (*prefix, (key, nesting))
            if nesting == "names":
                step = (*step, (_ENTRY, "map"))
            note = f"when {key} type is {tag}" if tagged and tag else applies
            _walk(child, step, note, depth + 1, into)


_INDEX: list[KeyInfo] = []


def all_keys() -> list[KeyInfo]:
    """Every key an agent file may hold, top-level keys first, in the models' order."""
    if not _INDEX:
        from agentrun.spec._models import AgentSpec

        _walk(AgentSpec, (), "", 0, _INDEX)
    return _INDEX


def _parts(text: str) -> list[str]:
    """``tools[0].Timeout`` → ``["tools", "timeout"]``."""
    cleaned = re.sub(r"\[[^\]]*\]", "", text.strip().lower())
    return [p for p in re.split(r"[.\s/]+|:\s*", cleaned) if p and not p.isdigit()]


def _matches(pattern: list[str], wanted: list[str]) -> bool:
    """``NAME`` in the index matches one chosen name, or nothing."""
    if not pattern:
        return not wanted
    head, rest = pattern[0], pattern[1:]
    if head == _ENTRY:
        return _matches(rest, wanted) or (bool(wanted) and _matches(rest, wanted[1:]))
    return bool(wanted) and wanted[0] == head.lower() and _matches(rest, wanted[1:])


def find_keys(text: str) -> list[KeyInfo]:
    """The keys ``text`` names: a full dotted key, or a leaf name used by a single key (or by
    several, such as ``rate`` under both ``audio.input`` and ``audio.output``)."""
    wanted = _parts(text)
    if not wanted:
        return []
    exact = [k for k in all_keys() if _matches(k.key.split("."), wanted)]
    if exact:
        return exact
    return [k for k in all_keys() if k.key.lower().split(".")[-len(wanted):] == wanted]


def suggest(text: str) -> str | None:
    """``did you mean 'turn_detection.silence_duration_ms'?`` for an unknown key, or None."""
    keys = list(dict.fromkeys(k.key for k in all_keys()))
    wanted = _parts(text)
    if not wanted:
        return None
    parent = [k for k in keys if len(wanted) > 1 and _matches(k.split("."), wanted[:-1])]
    if parent:  # the part before the last dot is right: compare the last part with its keys
        inside = {k.rsplit(".", 1)[-1].lower(): k for k in keys
                  if any(k.startswith(p + ".") and k.count(".") == p.count(".") + 1
                         for p in parent)}
        close = difflib.get_close_matches(wanted[-1], list(inside), n=1, cutoff=0.4)
        return f"did you mean '{inside[close[0]]}'?" if close else None
    leaves = {k.rsplit(".", 1)[-1].lower(): k for k in keys}
    close = difflib.get_close_matches(".".join(wanted), [k.lower() for k in keys], n=1,
                                      cutoff=0.6)
    if close:
        return f"did you mean '{next(k for k in keys if k.lower() == close[0])}'?"
    close = difflib.get_close_matches(wanted[-1], list(leaves), n=1, cutoff=0.6)
    return f"did you mean '{leaves[close[0]]}'?" if close else None


def _scalar(value: Any) -> str:
    """A value as written in YAML, quoted when YAML would read it otherwise."""
    import json

    from agentrun.spec._schema import _inline

    text = _inline(value)
    if isinstance(value, str) and (value[:1] in "{[&*!|>'\"%@`#" or ": " in value
                                   or " #" in value):
        return json.dumps(value, ensure_ascii=False)
    return text


def _example_yaml(info: KeyInfo, value: Any) -> list[str]:
    """``value`` written at the key's place in a YAML file, in block style."""
    lines: list[str] = []
    indent, dash = "", False
    steps = list(info.steps)
    for position, (key, nesting) in enumerate(steps):
        key = "company" if key == _ENTRY else key
        lead = f"{indent}- " if dash else indent
        if dash:
            indent, dash = indent + "  ", False
        if position == len(steps) - 1:
            lines.append(f"{lead}{key}: {_scalar(value)}")
            break
        lines.append(f"{lead}{key}:")
        indent += "  "
        if nesting == "list":
            if key == "tools" and steps[position + 1][0] != "name":
                lines.append(f"{indent}- name: lookup_order")  # an entry needs its name
                indent += "  "
            else:
                dash = True
    return lines


def _children(info: KeyInfo) -> list[str]:
    """The keys written inside ``info`` (through a ``NAME`` step for named entries)."""
    depth = len(info.steps)
    found = []
    for other in all_keys():
        below = other.steps[depth:]
        if [k for k, _ in other.steps[:depth]] != [k for k, _ in info.steps]:
            continue
        if len(below) == 1 or (len(below) == 2 and below[0][0] == _ENTRY):
            found.append(below[-1][0])
    return list(dict.fromkeys(found))


def explain(info: KeyInfo) -> str:
    """The explanation of one key, as ``agentrun explain`` prints it.

    Args:
        info: the key (from :func:`find_keys`).

    Returns:
        Plain text, several lines, ending without a newline.
    """
    from agentrun.spec._schema import _default, _duration_text, _type_text, json_schema

    field = info.model.model_fields[info.field]
    schema = json_schema()
    defs = schema.get("$defs", {})
    model_schema = schema if info.model.__name__ == "AgentSpec" else defs.get(
        info.model.__name__, {})
    if "anyOf" in model_schema:
        model_schema = next(p for p in model_schema["anyOf"] if "properties" in p)
    key = info.key.rsplit(".", 1)[-1]
    prop = model_schema.get("properties", {}).get(key, {})
    kind = _duration_text(field, prop) or _type_text(prop, defs)
    kind = re.sub(r", see \[[^\]]+\]\(#[^)]*\)", "", kind)  # the docs' links to sections
    rows = [("type", kind)]
    marker = duration_unit(field)
    if marker is not None:
        rows.append(("unit", f"{marker.words} (a bare number); 800ms, 0.8s and 2m work too"))
    elif key in _UNITS:
        rows.append(("unit", _UNITS[key]))
    default = _default(info.model, info.field).replace("`", "").replace("**", "")
    rows.append(("default", "each key has its own" if default == "see its section"
                 else default))
    if info.applies:
        rows.append(("applies", info.applies))
    children = _children(info)
    if children:
        rows.append(("keys", f"{', '.join(children)}  (agentrun explain {info.key}.KEY)"))
    width = max(len(label) for label, _ in rows)
    text = [info.key, *textwrap.wrap(field.description or "", 96, initial_indent="  ",
                                     subsequent_indent="  "), ""]
    text += [f"  {label:<{width}}  {value}" for label, value in rows]
    if field.examples:
        text.append(f"  {'example':<{width}}")
        text += [f"    {line}" for line in _example_yaml(info, field.examples[0])]
    return "\n".join(text)
