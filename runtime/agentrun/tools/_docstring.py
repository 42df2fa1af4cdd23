"""Docstring → the tool's description and per-parameter descriptions.

Understands the two styles plugin authors actually write: Google (``Args:`` sections) and NumPy
(``Parameters`` underlined with dashes). Anything else still yields the summary. Imports nothing
of ours.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]

_GOOGLE_ARGS = {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments"}
_GOOGLE_SECTIONS = _GOOGLE_ARGS | {
    "returns", "return", "yields", "raises", "examples", "example", "note", "notes",
    "attributes", "see also", "warnings", "warning", "todo", "references",
}
# `name (type): text` or `name: text` at the start of a Google entry.
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(?P<name>[A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(?P<text>.*)$")
# `name : type` (or bare `name`) at the start of a NumPy entry.
_NUMPY_ENTRY = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*(?::.*)?$")


@dataclass(frozen=True, slots=True)
class Docstring:
    """What a tool's docstring says, split for the schema.

    Attributes:
        summary: the first paragraph, joined into one line (the tool's description).
        params: parameter name → its description, one line each.
    """

    summary: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(text: str | None) -> Docstring:
    """Split a docstring into a summary and parameter descriptions.

    Args:
        text: the raw ``__doc__`` (may be None).

    Returns:
        The summary (first paragraph) and the documented parameters; empty when absent.
    """
    if not text:
        return Docstring()
    lines = inspect.cleandoc(text).splitlines()
    summary_lines: list[str] = []
    for index, line in enumerate(lines):
        if not line.strip() or _is_section_start(lines, index):
            break
        summary_lines.append(line.strip())
    params = _google_params(lines) or _numpy_params(lines)
    return Docstring(summary=" ".join(summary_lines), params=params)


def _is_section_start(lines: list[str], index: int) -> bool:
    stripped = lines[index].strip()
    if stripped.endswith(":") and stripped[:-1].lower() in _GOOGLE_SECTIONS:
        return True
    return index + 1 < len(lines) and set(lines[index + 1].strip()) == {"-"}


def _google_params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    in_args = False
    base_indent = 0
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if stripped.endswith(":") and stripped[:-1].lower() in _GOOGLE_SECTIONS and indent == 0:
            in_args = stripped[:-1].lower() in _GOOGLE_ARGS
            base_indent = -1
            current = None
            continue
        if not in_args or not stripped:
            continue
        if base_indent < 0:
            base_indent = indent
        if indent == 0:
            in_args = False
            continue
        match = _GOOGLE_ENTRY.match(stripped)
        if indent == base_indent and match:
            current = match["name"]
            params[current] = match["text"].strip()
        elif current is not None:
            params[current] = f"{params[current]} {stripped}".strip()
    return params


def _numpy_params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    current: str | None = None
    in_params = False
    for index, line in enumerate(lines):
        stripped = line.strip()
        next_line = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if next_line and set(next_line) == {"-"} and stripped:
            in_params = stripped.lower() in {"parameters", "other parameters"}
            current = None
            continue
        if set(stripped) == {"-"} or not in_params or not stripped:
            continue
        indent = len(line) - len(line.lstrip())
        match = _NUMPY_ENTRY.match(stripped)
        if indent == 0 and match:
            current = match["name"]
            params[current] = ""
        elif current is not None:
            params[current] = f"{params[current]} {stripped}".strip()
    return params
