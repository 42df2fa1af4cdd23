"""Small value parsers and the one way spec validators report a problem.

Owns: voice names, typed variable values, did-you-mean hints, and
:func:`fail`, which raises a pydantic error carrying a plain-language message, an optional hint
and an optional sub-path (``at``) so the error lands on the exact YAML node; :class:`Problems`
does the same for every problem one validator finds, so none hides behind another.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any, NoReturn

from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

__all__ = [
    "BUILTIN_TOOLS",
    "BUILTIN_VARIABLES",
    "RESERVED_FUNCTION_NAMES",
    "SYNONYMS",
    "VARIABLE_TYPES",
    "VOICES",
    "Problems",
    "coerce_variable",
    "did_you_mean",
    "fail",
    "shown",
]

VOICES: tuple[str, ...] = ("Ara", "Rex", "Sal", "Eve", "Leo")
BUILTIN_TOOLS: tuple[str, ...] = ("web_search", "x_search", "file_search")
# grok-realtime.md §4.1: a client function with one of these names makes the server fail.
RESERVED_FUNCTION_NAMES: tuple[str, ...] = (
    "web_search", "browse_page", "x_keyword_search", "x_semantic_search", "x_user_search",
    "x_thread_fetch", "collections_search", "file_search",
)
BUILTIN_VARIABLES: tuple[str, ...] = ("now", "agent", "call")
VARIABLE_TYPES: tuple[str, ...] = ("string", "integer", "number", "boolean")

_TRUE = {"true", "yes", "on", "1", "y"}
_FALSE = {"false", "no", "off", "0", "n"}


def fail(message: str, hint: str | None = None, at: Sequence[str | int] = ()) -> NoReturn:
    """Raise a validation error whose text the author reads as is.

    Args:
        message: what is wrong, in plain language.
        hint: what to try, shown in parentheses.
        at: a path below the validated value where the problem sits (e.g. ``["rate"]``).

    Raises:
        PydanticCustomError: always; ``agentrun.spec`` turns it into a located SpecError.
    """
    raise _problem(message, hint, at)


def _problem(message: str, hint: str | None, at: Sequence[str | int]) -> PydanticCustomError:
    return PydanticCustomError("agentrun", "{message}",
                               {"message": message, "hint": hint, "at": list(at)})


class Problems:
    """Every problem one validator finds, raised together (``agentrun check`` shows them all).

    A validator that calls :func:`fail` stops at its first problem, and the author meets the
    next one only after fixing it. Collect them instead and raise once at the end::

        problems = Problems()
        if bad: problems.add("what is wrong", "what to try", at=["body"])
        problems.raise_any()

    pydantic places every collected problem below the validated value, so each one becomes its
    own located SpecError (``agentrun.spec._located``), exactly as a :func:`fail` would.
    """

    def __init__(self) -> None:
        self._found: list[PydanticCustomError] = []

    def add(self, message: str, hint: str | None = None, at: Sequence[str | int] = ()) -> None:
        """Note one problem; the arguments are :func:`fail`'s."""
        self._found.append(_problem(message, hint, at))

    def raise_any(self) -> None:
        """Raise what was noted; return when nothing was.

        Raises:
            PydanticCustomError: one problem was noted.
            ValidationError: several were (pydantic adds each of its errors to the model's).
        """
        if len(self._found) == 1:
            raise self._found[0]
        if self._found:
            raise ValidationError.from_exception_data("agentrun", [
                InitErrorDetails(type=problem, loc=(), input=None) for problem in self._found])


# Other names people use for an allowed value (the value → what they write instead).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "server_vad": ("vad", "auto", "automatic", "server", "semantic_vad", "voice_activity",
                   "voice_activity_detection", "silence"),
    "manual": ("push_to_talk", "pushtotalk", "ptt", "none", "off", "client", "button"),
    "pcm": ("wav", "linear16", "pcm16", "pcm_s16le", "s16le", "lpcm", "l16", "raw", "linear"),
    "pcmu": ("ulaw", "mulaw", "u_law", "mu_law", "µ_law", "μ_law", "g711_ulaw", "g711u",
             "g.711u", "g711", "g.711"),
    "pcma": ("alaw", "a_law", "g711_alaw", "g711a", "g.711a"),
    "string": ("str", "text", "words"),
    "integer": ("int", "whole", "whole_number", "count"),
    "number": ("float", "decimal", "double", "real", "numeric"),
    "boolean": ("bool", "flag", "yes_no", "true_false"),
}


def _synonym(word: str, options: list[str]) -> str | None:
    spelled = re.sub(r"[\s-]+", "_", word.strip().lower())
    for value, names in SYNONYMS.items():
        if value in options and spelled in names:
            return value
    return None


def did_you_mean(word: str, choices: Iterable[str], *, listing: bool = True) -> str | None:
    """A hint like ``did you mean 'Ara'? allowed: Ara, Rex`` (None when nothing helps).

    A common other name for an allowed value (``vad`` for ``server_vad``, ``ulaw`` for
    ``pcmu``, ``int`` for ``integer``) points to it, as does a close spelling.

    Args:
        word: what the author wrote.
        choices: the allowed spellings, in the order to list them.
        listing: also list every allowed choice.

    Returns:
        The hint text, or None.
    """
    options = list(choices)
    lowered = {c.lower(): c for c in options}
    synonym = _synonym(word, options)
    close = [synonym] if synonym else [lowered[c] for c in difflib.get_close_matches(
        word.lower(), list(lowered), n=1, cutoff=0.6)]
    parts = []
    if close:
        parts.append(f"did you mean '{close[0]}'?")
    if listing and options:
        parts.append("allowed: " + ", ".join(options))
    return " ".join(parts) or None


def shown(value: Any) -> str:
    """How a wrong value appears after ``got``: quoted text, numbers as is, kinds by name."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f"'{text}'"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def coerce_variable(kind: str, value: Any) -> int | float | bool | str:
    """Turn a value (often text from ``--var`` or the environment) into the declared type.

    Args:
        kind: one of ``string``, ``integer``, ``number``, ``boolean``.
        value: the raw value.

    Returns:
        The typed value.

    Raises:
        ValueError: with a short reason such as ``expected a whole number``.
    """
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise ValueError("expected text")
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
            return value.strip().lower() in _TRUE
        raise ValueError("expected true or false")
    if kind == "integer":
        if isinstance(value, bool):
            raise ValueError("expected a whole number")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
            return int(value)
        raise ValueError("expected a whole number")
    if kind == "number":
        if isinstance(value, bool):
            raise ValueError("expected a number")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                raise ValueError("expected a number") from None
            if number == number and number not in (float("inf"), float("-inf")):
                return int(number) if re.fullmatch(r"\s*[-+]?\d+\s*", value) else number
        raise ValueError("expected a number")
    raise ValueError(f"unknown type '{kind}'")
