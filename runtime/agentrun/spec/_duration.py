"""Durations, written the same way in every field: ``800ms``, ``0.8s``, ``2m`` or a bare number
in the field's own unit.

Owns: :func:`duration`, the annotated type every duration field of the agent file uses, and the
unit-mistake checks (``silence_duration_ms: 0.5`` is seconds written where milliseconds are
meant; ``timeout: 5000`` is milliseconds where seconds are meant). Imports only ``spec._fields``.
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

import annotated_types
from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

from agentrun.spec._fields import fail, shown

__all__ = ["DURATION_PATTERN", "DurationUnit", "duration", "duration_unit", "to_unit"]

Unit = Literal["ms", "s"]

DURATION_PATTERN = r"^\s*(\d+(\.\d+)?|\.\d+)\s*(ms|s|sec|seconds?|m|min|minutes?)?\s*$"
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|sec|seconds?|m|min|minutes?)?\s*$")
_PER_SECOND: dict[str, Decimal] = {"ms": Decimal(1000), "s": Decimal(1)}
_UNIT_WORDS = {"ms": "milliseconds", "s": "seconds"}
# a bare number of seconds from this on is taken for milliseconds (`timeout: 3000`): no call
# waits 50 minutes for a tool, a reply or a scenario; with its unit (`'3000s'`) it is accepted
_MS_LIKE = 1000
_EXAMPLES = {"ms": "500, '500ms' or '0.5s'", "s": "5, '5s' or '500ms'"}


@dataclass(frozen=True)
class DurationUnit:
    """Marks a field as a duration in ``unit`` (read by ``agentrun explain`` and the docs).

    Attributes:
        unit: ``ms`` or ``s``: what a bare number in this field means.
        suspicious_below: a bare number above 0 and below this is taken for the other unit
            (seconds written where milliseconds are meant); None disables the check.
    """

    unit: Unit
    suspicious_below: float | None = None

    @property
    def words(self) -> str:
        """``milliseconds`` or ``seconds``."""
        return _UNIT_WORDS[self.unit]


def _number(text: Decimal) -> int | float:
    return int(text) if text == text.to_integral_value() else float(text)


def to_unit(value: Any, unit: Unit) -> tuple[int | float, bool] | None:
    """A duration in ``unit``, and whether the author wrote its unit.

    Args:
        value: a number (already in ``unit``) or text such as ``'800ms'``, ``'0.8s'``, ``'2m'``.
        unit: the field's unit.

    Returns:
        ``(number, explicit)``, or None when ``value`` is not a duration at all.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value, False
    if not isinstance(value, str):
        return None
    match = _DURATION.match(value)
    if not match:
        return None
    amount, written = Decimal(match.group(1)), match.group(2)
    if written is None:
        return _number(amount), False
    if written == "ms":
        seconds = amount / 1000
    elif written.startswith("m"):
        seconds = amount * 60
    else:
        seconds = amount
    return _number(seconds * _PER_SECOND[unit]), True


def _checker(marker: DurationUnit, limit: float | None) -> Any:
    """The before-validator of one duration field (``limit``: its largest allowed value)."""

    def check(value: Any, info: ValidationInfo) -> Any:
        name = info.field_name or "this duration"
        parsed = to_unit(value, marker.unit)
        if parsed is None:
            if isinstance(value, str):
                fail(f"{name} must be a duration like {_EXAMPLES[marker.unit]}, got "
                     f"{shown(value)}")
            return value  # not text: the number validator names the wrong kind
        number, explicit = parsed
        if explicit:
            return number
        if marker.unit == "ms" and marker.suspicious_below is not None and \
                0 < number < marker.suspicious_below:
            right = _number(Decimal(str(number)) * 1000)
            hint = f"write {right} or '{number}s'"
            if float(number).is_integer():
                hint += f"; '{number}ms' if you do mean milliseconds"
            fail(f"{name} is in milliseconds: {number} looks like seconds", hint)
        over = limit is not None and number > limit
        if marker.unit == "s" and (over or number >= _MS_LIKE) and \
                (limit is None or number / 1000 <= limit):
            right = _number(Decimal(str(number)) / 1000)
            hint = f"write {right} or '{number}ms'"
            if not over:
                hint += f"; '{number}s' if you do mean seconds"
            fail(f"{name} is in seconds: {number} looks like milliseconds", hint)
        return number

    return check


def duration(unit: Unit, *, ge: float | None = None, gt: float | None = None,
             le: float | None = None, suspicious_below: float | None = None) -> Any:
    """The annotated type of a duration field.

    A bare number is in ``unit``; text may name its unit (``800ms``, ``0.8s``, ``2m``). Fields in
    milliseconds hold whole numbers, fields in seconds any number.

    Args:
        unit: ``ms`` or ``s``.
        ge: smallest allowed value, in ``unit``.
        gt: the value must be above this, in ``unit``.
        le: largest allowed value, in ``unit``.
        suspicious_below: ms fields only: bare numbers above 0 and below this are refused as
            seconds written by mistake (``'5ms'`` with its unit is still accepted).

    Returns:
        ``Annotated[int | float, ...]`` for a pydantic field (its JSON Schema accepts a number
        or duration text).
    """
    marker = DurationUnit(unit, suspicious_below)
    number: dict[str, Any] = {"type": "integer" if unit == "ms" else "number"}
    bounds: list[Any] = []
    if ge is not None:
        number["minimum"] = ge
        bounds.append(annotated_types.Ge(ge))
    if gt is not None:
        number["exclusiveMinimum"] = gt
        bounds.append(annotated_types.Gt(gt))
    if le is not None:
        number["maximum"] = le
        bounds.append(annotated_types.Le(le))
    schema = {"anyOf": [number, {"type": "string", "pattern": DURATION_PATTERN}]}
    base: Any = int if unit == "ms" else float
    return Annotated[base, BeforeValidator(_checker(marker, le)), *bounds, marker,
                     WithJsonSchema(schema)]


def duration_unit(info: Any) -> DurationUnit | None:
    """The unit marker of a pydantic field (also inside ``duration(...) | None``), or None.

    Args:
        info: a ``FieldInfo``.
    """
    found = [m for m in getattr(info, "metadata", ()) if isinstance(m, DurationUnit)]
    for member in typing.get_args(getattr(info, "annotation", None)):
        if typing.get_origin(member) is Annotated:
            found += [m for m in member.__metadata__ if isinstance(m, DurationUnit)]
    return found[0] if found else None
