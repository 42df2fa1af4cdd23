"""File paths in a tool's ``config:`` block are relative to the agent file.

Owns: :func:`resolve_paths`, which rewrites every value the tool's config model types as a path
(``pathlib.Path`` and its kin, pydantic's ``FilePath``/``DirectoryPath``/``NewPath``, also
inside ``Optional``, lists and nested models) the way ``instructions_file`` is read: ``~`` is
the home folder and a relative path starts at the agent file's folder, not at whatever folder
agentrun was started from (where a relative SQLite path would silently create a new, empty
database). Plain ``str`` fields are left alone: only the tool's own types say what is a path.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel

__all__ = ["resolve_paths"]


def _is_path(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, PurePath)


def _fields(model: Any) -> dict[str, Any]:
    """Field key (as written in YAML) → annotation, for a pydantic model or a dataclass."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return {info.alias or name: info.annotation for name, info in model.model_fields.items()}
    if dataclasses.is_dataclass(model) and isinstance(model, type):
        hints = typing.get_type_hints(model, include_extras=True)
        return {f.name: hints.get(f.name, Any) for f in dataclasses.fields(model)}
    return {}


def _resolve(value: Any, tp: Any, base: Path) -> Any:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _resolve(value, typing.get_args(tp)[0], base)
    if origin in (typing.Union, types.UnionType):
        members = [m for m in typing.get_args(tp) if m is not type(None)]
        if any(_is_path(typing.get_args(m)[0] if typing.get_origin(m) is typing.Annotated
                        else m) for m in members) and isinstance(value, str):
            return _path(value, base)
        for member in members:
            if _fields(member) and isinstance(value, Mapping):
                return resolve_paths(member, value, base)
        return value
    if origin in (list, tuple, set, frozenset) and isinstance(value, list):
        args = [a for a in typing.get_args(tp) if a is not Ellipsis]
        return [_resolve(item, args[0], base) for item in value] if args else value
    if origin is dict and isinstance(value, Mapping):
        inner = typing.get_args(tp)[1] if typing.get_args(tp) else Any
        return {k: _resolve(v, inner, base) for k, v in value.items()}
    if _is_path(tp) and isinstance(value, str):
        return _path(value, base)
    if _fields(tp) and isinstance(value, Mapping):
        return resolve_paths(tp, value, base)
    return value


def _path(text: str, base: Path) -> str:
    expanded = os.path.expanduser(text)
    return expanded if os.path.isabs(expanded) else str(base / expanded)


def resolve_paths(model: Any, config: Mapping[str, Any], base: Path | None) -> dict[str, Any]:
    """``config`` with every path-typed value made absolute, before the model validates it.

    Args:
        model: the tool's config type (``ToolContext[Model]``): a pydantic model or dataclass.
        config: the YAML ``config:`` block as written.
        base: the agent file's folder; None (an agent built in code) expands ``~`` only.

    Returns:
        A new dict; values of keys the model does not know are left for it to report.
    """
    fields = _fields(model)
    result = dict(config)
    for key, value in config.items():
        if key in fields:
            result[key] = _resolve(value, fields[key], base if base is not None else Path())
    return result
