"""``/call``: a typed line that makes the simulated model call a tool (offline try-outs).

``/call lookup_order order_id=1234``, ``/call lookup_order order_id="12 34"`` or
``/call lookup_order {"order_id": "1234"}``. The line is checked against the tools the client
declared in ``session.update`` (the simulator knows nothing else): an unknown tool, an unknown
or missing argument, or a line that cannot be read is answered with a spoken explanation
instead of a call, so a mistake is heard, never silently turned into something else.
``key=value`` values are converted to the parameter's JSON type (text stays text). Imports only
``sim._scenario``.
"""

from __future__ import annotations

import difflib
import json
import shlex
from typing import Any

from agentrun.sim._scenario import Call

__all__ = ["BUILTIN_TYPES", "SLASH_CALL", "parse_slash_call"]

SLASH_CALL = "/call"
BUILTIN_TYPES = ("web_search", "x_search", "file_search")
_USAGE = "write /call NAME key=value ... or /call NAME {\"key\": \"value\"}"


def parse_slash_call(text: str, tools: list[Any]) -> Call | str | None:
    """Read a ``/call`` line.

    Args:
        text: the user's text turn.
        tools: the session's ``tools`` (function schemas and built-in tool entries).

    Returns:
        None when the text is not a ``/call`` line; the :class:`Call` to make; or, for a line
        that cannot be made into a call, the sentence the simulated model says instead.
    """
    text = text.strip()
    if text != SLASH_CALL and not text.startswith(SLASH_CALL + " "):
        return None
    rest = text[len(SLASH_CALL):].strip()
    name, _, tail = rest.partition(" ")
    if not name:
        return f"(simulated) /call needs a tool name: {_USAGE}"
    functions = {t["name"]: t for t in tools if isinstance(t, dict)
                 and t.get("type") == "function" and isinstance(t.get("name"), str)}
    builtins = [t.get("type") for t in tools if isinstance(t, dict)
                and t.get("type") in BUILTIN_TYPES]
    if name in builtins:
        schema: dict[str, Any] = {"properties": {"query": {"type": "string"}}}
    elif name in functions:
        schema = functions[name].get("parameters") or {}
    else:
        known = sorted([*functions, *builtins])
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        listing = ", ".join(known) or "none"
        return f"(simulated) /call: this agent has no tool named {name}.{hint} Its tools: " \
               f"{listing}."
    arguments = _arguments(tail.strip(), schema)
    if isinstance(arguments, str):
        return f"(simulated) /call {name}: {arguments}"
    properties = schema.get("properties") or {}
    unknown = [key for key in arguments if properties and key not in properties]
    if unknown:
        close = difflib.get_close_matches(unknown[0], list(properties), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"(simulated) /call {name}: unknown argument {unknown[0]}{hint}; it takes " \
               f"{', '.join(properties)}."
    missing = [key for key in schema.get("required") or () if key not in arguments]
    if missing:
        return f"(simulated) /call {name}: missing {', '.join(missing)}; {_USAGE}."
    return Call(name=name, arguments=arguments)


def _arguments(tail: str, schema: dict[str, Any]) -> dict[str, Any] | str:
    """``key=value`` words (shell quoting) or one JSON object → arguments, or what is wrong."""
    if not tail:
        return {}
    if tail.startswith("{"):
        try:
            value = json.loads(tail)
        except ValueError as exc:
            return f"the arguments are not valid JSON ({exc.msg} at character {exc.pos + 1})"
        return value if isinstance(value, dict) else "the JSON arguments must be an object"
    try:
        words = shlex.split(tail)
    except ValueError as exc:
        return f"cannot read the arguments ({exc}); {_USAGE}"
    arguments: dict[str, Any] = {}
    properties = schema.get("properties") or {}
    for word in words:
        key, sep, value = word.partition("=")
        if not sep or not key:
            return f"'{word}' is not key=value; {_USAGE}"
        arguments[key] = _typed(value, properties.get(key) or {})
    return arguments


def _typed(value: str, prop: dict[str, Any]) -> Any:
    """``value`` as the parameter's JSON type: numbers, booleans and lists parsed, text kept."""
    kinds = prop.get("type")
    kinds = set(kinds) if isinstance(kinds, list) else {kinds}
    if "string" in kinds or not kinds - {None}:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # argument validation in the tool runner says what is wrong with it
