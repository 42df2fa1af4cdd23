"""Docstring → the tool's description and per-parameter descriptions.

The parsing is docstring-parser's (Google ``Args:``, reST/Sphinx ``:param x:``, NumPy
``Parameters`` and Epydoc, detected per docstring); this module only shapes its result for a
tool schema: the summary is the first paragraph on one line, each parameter's text on one line.
Imports nothing of ours.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]


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
        The summary (first paragraph) and the documented parameters; empty when absent. A
        docstring no style recognises still gives its summary.
    """
    if not text or not text.strip():
        return Docstring()
    import docstring_parser  # here: a listing or a check pays for it, `agentrun --help` does not

    cleaned = inspect.cleandoc(text)
    try:
        parsed = docstring_parser.parse(cleaned)
    except docstring_parser.ParseError:
        return Docstring(summary=_one_line(cleaned.split("\n\n", 1)[0]))
    summary = parsed.short_description or ""
    if parsed.long_description and not parsed.blank_after_short_description:
        # a summary wrapped over several lines: docstring-parser keeps only its first line short
        summary += "\n" + parsed.long_description.split("\n\n", 1)[0]
    params = {param.arg_name.lstrip("*"): _one_line(param.description or "")
              for param in parsed.params if param.args[:1] != ["attribute"]}
    return Docstring(summary=_one_line(summary), params=params)


def _one_line(text: str) -> str:
    return " ".join(text.split())
