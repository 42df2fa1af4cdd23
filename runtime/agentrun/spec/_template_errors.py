"""Jinja's errors in plain words: what the author wrote wrong, on which line of the template.

Owns: turning a Jinja syntax error (``expected token 'end of print statement', got 'name'``) or
a rendering failure (``'datetime.datetime object' has no attribute 'strftme'``) into a sentence
a person who does not program can act on, quoting the template line it is about. Imports no
Jinja at module level; reads Jinja's node classes only when it looks for the failing name.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from agentrun.spec._fields import did_you_mean

__all__ = ["COMMON_FILTERS", "at_line", "render_problem", "syntax_problem"]

Problem = tuple[str, str | None]  # (message, hint)

# The filters worth naming when an unknown one is used (Jinja has ~50; these are what agents use).
COMMON_FILTERS = ("upper", "lower", "title", "capitalize", "trim", "replace", "default", "join",
                  "round", "int", "format_date", "format_time", "format_datetime")
_TAGS = ("if", "elif", "else", "for", "set", "with", "filter", "macro", "call", "raw")
_TOKENS = {
    "end of print statement": "'}}'", "end of statement block": "'%}'",
    "begin of print statement": "'{{'", "begin of statement block": "'{%'",
    "end of template": "the end of the text", "string": "text in quotes", "integer": "a number",
    "float": "a number", "name": "a name",
}
_OPENERS = {")": "(", "]": "[", "}": "{"}
_KINDS = {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
          "dict": "a mapping", "list": "a list", "tuple": "a list", "NoneType": "an empty value",
          "datetime.datetime": "a date and time", "datetime": "a date and time",
          "builtin_function_or_method": "a method (call it with ( ))",
          "method": "a method (call it with ( ))"}
_ATTRIBUTES: dict[str, list[str]] = {
    "datetime.datetime": [n for n in dir(datetime) if not n.startswith("_")],
    "str": [n for n in dir(str) if not n.startswith("_")],
}
# The keys of the built-in mappings templates see (see spec._render).
KNOWN_KEYS = {"call": ["caller", "id", "call_id"], "agent": ["name", "description", "voice"]}


def _token(text: str) -> str:
    return _TOKENS.get(text, f"'{text}'")


def _kind(type_name: str) -> str:
    return _KINDS.get(type_name, type_name)


def at_line(label: str, source: str, line: int | None) -> str:
    """``instructions line 2 ("Today {{ now.strftme('%A') }}")``: where in the template.

    Args:
        label: ``instructions`` or ``greeting``.
        source: the template text.
        line: 1-based line inside the template (None: the whole template).
    """
    lines = source.splitlines() or [""]
    if line is None or not 1 <= line <= len(lines):
        return label
    text = lines[line - 1].strip()
    if len(text) > 60:
        text = text[:57] + "..."
    return f'{label} line {line} ("{text}")'


def syntax_problem(message: str, filters: list[str], tests: list[str]) -> Problem:
    """A Jinja ``TemplateSyntaxError`` message → plain words and a hint.

    Args:
        message: ``exc.message``.
        filters: the filter names templates may use (for did-you-mean).
        tests: the test names (``is defined``) templates may use.
    """
    text = message.strip()
    if m := re.fullmatch(r"unexpected '(.)', expected '(.)'", text):
        found, closer = m.groups()
        opener = _OPENERS.get(closer, closer)
        return (f"a '{opener}' is never closed with '{closer}'",
                f"add '{closer}' before the '{found}'")
    if m := re.fullmatch(r"unexpected '(.)'", text):
        char = m.group(1)
        hint = "close '{{' with '}}' and '{%' with '%}'" if char == "}" else \
            f"remove it, or add the '{_OPENERS.get(char, char)}' it closes"
        return f"'{char}' closes nothing that was opened", hint
    if m := re.fullmatch(r"unexpected char (['\"])(.)\1 at \d+", text):
        char = m.group(2)
        if char in "'\"":
            return ("a quote mark is never closed",
                    "end the quoted text with the same quote mark")
        return (f"'{char}' cannot be used inside {{{{ }}}} or {{% %}}",
                "write it outside the tags, or in quotes as text")
    if m := re.fullmatch(r"unexpected end of template, expected '(.+?)'\.?", text):
        want = _token(m.group(1))
        opener = {"'}}'": "'{{'", "'%}'": "'{%'"}.get(want)
        if opener:
            return f"{opener} is never closed with {want}", f"add {want} where it should end"
        return f"the text ends where {want} was expected", None
    if m := re.fullmatch(r"Unexpected end of template\. Jinja was looking for the following "
                         r"tags: .*\. The innermost block that needs to be closed is '(\w+)'\.",
                         text, flags=re.S):
        block = m.group(1)
        return (f"the '{{% {block} %}}' block is never closed",
                f"add '{{% end{block} %}}' where it should end")
    if m := re.fullmatch(r"Encountered unknown tag '(\w+)'\. Jinja was looking for the "
                         r"following tags: .*\. The innermost block that needs to be closed is "
                         r"'(\w+)'\.", text, flags=re.S):
        tag, block = m.groups()
        return (f"'{{% {tag} %}}' does not close the open '{{% {block} %}}'",
                f"close it with '{{% end{block} %}}' first")
    if m := re.fullmatch(r"Encountered unknown tag '(\w+)'\.", text):
        tag = m.group(1)
        if tag.startswith("end") or tag in ("else", "elif"):
            return (f"'{{% {tag} %}}' has no open block to belong to",
                    "remove it, or open the block before it")
        return f"unknown tag '{{% {tag} %}}'", did_you_mean(tag, _TAGS)
    if m := re.fullmatch(r"expected token '(.+?)', got '(.+?)'", text):
        want, got = _token(m.group(1)), _token(m.group(2))
        hint = None
        if want == "'}}'":
            hint = ("{{ }} holds one value, e.g. {{ company }}; put text in quotes and join "
                    "values with ~")
        elif want == "'%}'" and got == "'='":
            hint = "compare with '==', e.g. {% if count == 1 %}"
        return f"expected {want} but found {got}", hint
    if m := re.fullmatch(r"Expected an expression, got '(.+?)'", text):
        if m.group(1) == "end of print statement":
            return "'{{ }}' is empty", "put a variable inside, e.g. {{ company }}"
        return f"a value is missing before {_token(m.group(1))}", None
    if m := re.fullmatch(r"No filter named '(\w+)'\.?", text):
        name = m.group(1)
        close = did_you_mean(name, filters, listing=False)
        return f"unknown filter '{name}'", close or "filters: " + ", ".join(COMMON_FILTERS)
    if m := re.fullmatch(r"No test named '(\w+)'\.?", text):
        return f"unknown test '{m.group(1)}'", did_you_mean(m.group(1), tests, listing=False)
    if text == "expected name or number":
        return "a '.' must be followed by a name", "e.g. {{ agent.name }}"
    if text.startswith("Missing end of comment tag"):
        return "a '{#' comment is never closed with '#}'", "add '#}' where the comment ends"
    return text.rstrip("."), "check the {{ }} and {% %} tags"


def _owner(ast: Any, line: int | None, attr: str) -> str | None:
    """The name whose attribute ``attr`` was read on ``line`` (``now`` in ``now.strftme``)."""
    if ast is None:
        return None
    from jinja2 import nodes

    for node in ast.find_all(nodes.Getattr):
        if node.attr == attr and (line is None or node.lineno == line):
            parts: list[str] = []
            target = node.node
            while isinstance(target, nodes.Getattr):
                parts.insert(0, target.attr)
                target = target.node
            if isinstance(target, nodes.Name):
                return ".".join([target.name, *parts])
    return None


def render_problem(exc: BaseException, ast: Any, line: int | None) -> Problem:
    """A failure while rendering → plain words and a hint.

    Args:
        exc: what Jinja or Python raised.
        ast: the parsed template (to name the value a missing attribute was read from).
        line: the failing template line, when known.
    """
    text = str(getattr(exc, "message", None) or exc).strip()
    if m := re.fullmatch(r"'(.+) object' has no attribute '(.+)'", text):
        kind, attr = m.groups()
        owner = _owner(ast, line, attr)
        choices = KNOWN_KEYS.get(owner or "", _ATTRIBUTES.get(kind, []))
        who = owner or _kind(kind)
        return f"{who} has no '{attr}'", did_you_mean(attr, choices, listing=False)
    if m := re.fullmatch(r"(\w+) object has no element (.+)", text):
        return (f"{_kind(m.group(1))} has no item {m.group(2)}",
                "items are counted from 0")
    if m := re.fullmatch(r"unsupported operand type\(s\) for (.+): '(\w+)' and '(\w+)'", text):
        op, left, right = m.groups()
        return (f"cannot use {op} between {_kind(left)} and {_kind(right)}",
                "join text and values with ~, or convert first, e.g. {{ count | int }}")
    if m := re.fullmatch(r'can only concatenate str \(not "(\w+)"\) to str', text):
        return (f"cannot add {_kind(m.group(1))} to text with +",
                "join text and values with ~, e.g. {{ 'Room ' ~ number }}")
    if m := re.fullmatch(r"'(\w+)' object is not callable", text):
        return f"{_kind(m.group(1))} cannot be called with ( )", "remove the ( )"
    if isinstance(exc, ZeroDivisionError):
        return "division by zero", None
    if m := re.fullmatch(r"access to attribute '(.+)' of '(\w+)' object is unsafe\.", text):
        return (f"'{m.group(1)}' cannot be reached from a template",
                "templates can read values but cannot change them or reach Python internals")
    if "unsafe" in text:
        return (text.rstrip("."),
                "templates can read values but cannot change them or reach Python internals")
    return text.rstrip(".") or type(exc).__name__, None
