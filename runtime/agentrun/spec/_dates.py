"""Dates and times in the agent's language: the ``format_date``, ``format_time`` and
``format_datetime`` template filters, through Babel (CLDR data).

``{{ now | format_date('EEEE') }}`` says "domingo" for an agent with ``language: es`` where
``now.strftime('%A')`` would say "Sunday". The filters read the language from ``agent.language``
in the template context, so one sandbox serves every agent. Babel is imported on first use.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

__all__ = ["DATE_FILTERS", "FORMATS"]

FORMATS = ("short", "medium", "long", "full")
"""The named formats; anything else is a CLDR pattern such as ``EEEE`` or ``d MMMM``."""


def _locale(context: Any, locale: str | None) -> Any:
    """The Babel locale: ``locale`` when given, else the agent's ``language``."""
    from babel import Locale, UnknownLocaleError

    agent = context.get("agent") if hasattr(context, "get") else None
    chosen = locale or (agent.get("language") if isinstance(agent, dict) else None) or "en"
    try:
        return Locale.parse(str(chosen).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"unknown language {chosen!r} (use a tag such as es or de-CH)") from None


def _moment(value: Any, name: str) -> dt.date | dt.datetime | dt.time:
    """A date, datetime or time; ISO text (``2026-01-04``, ``2026-01-04T09:30``) is parsed."""
    if isinstance(value, dt.date | dt.time):
        return value
    if isinstance(value, str):
        for parse in (dt.datetime.fromisoformat, dt.time.fromisoformat):
            try:
                return parse(value.strip())
            except ValueError:
                continue
    raise ValueError(f"{name} needs a date or time such as now or '2026-01-04', got "
                     f"{value!r}")


def format_date(context: Any, value: Any, format: str = "medium",
                locale: str | None = None) -> str:
    """``{{ now | format_date('full') }}`` → "domingo, 4 de enero de 2026" (``language: es``).

    Args:
        context: the template context (gives ``agent.language``).
        value: a date or datetime (``now``), or ISO text.
        format: short, medium, long, full, or a CLDR pattern (``EEEE`` is the weekday).
        locale: another language for this one value (``'de'``).

    Raises:
        ValueError: not a date, or an unknown locale or pattern.
    """
    from babel.dates import format_date as babel_format_date

    moment = _moment(value, "format_date")
    if isinstance(moment, dt.time):
        raise ValueError("format_date needs a date; use format_time for a time of day")
    return babel_format_date(moment, format=format, locale=_locale(context, locale))


def format_time(context: Any, value: Any, format: str = "short",
                locale: str | None = None) -> str:
    """``{{ now | format_time }}`` → "9:30" (``es``), "9:30 AM" (``en``), in the agent's time
    zone.

    Args:
        context: the template context (gives ``agent.language``).
        value: a datetime (``now``) or time, or ISO text.
        format: short, medium, long, full, or a CLDR pattern (``HH:mm``).
        locale: another language for this one value.

    Raises:
        ValueError: not a time, or an unknown locale or pattern.
    """
    from babel.dates import format_time as babel_format_time

    moment = _moment(value, "format_time")
    if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime):
        raise ValueError("format_time needs a time; use format_date for a date")
    zone = moment.tzinfo if isinstance(moment, dt.datetime) else None
    return babel_format_time(moment, format=format, tzinfo=zone, locale=_locale(context, locale))


def format_datetime(context: Any, value: Any, format: str = "medium",
                    locale: str | None = None) -> str:
    """``{{ now | format_datetime('long') }}``: date and time together, in the agent's language.

    Args:
        context: the template context (gives ``agent.language``).
        value: a datetime (``now``) or ISO text.
        format: short, medium, long, full, or a CLDR pattern (``EEEE d MMMM, HH:mm``).
        locale: another language for this one value.

    Raises:
        ValueError: not a datetime, or an unknown locale or pattern.
    """
    from babel.dates import format_datetime as babel_format_datetime

    moment = _moment(value, "format_datetime")
    if not isinstance(moment, dt.datetime):
        raise ValueError("format_datetime needs a date and time such as now")
    return babel_format_datetime(moment, format=format, tzinfo=moment.tzinfo,
                                 locale=_locale(context, locale))


DATE_FILTERS = {"format_date": format_date, "format_time": format_time,
                "format_datetime": format_datetime}
"""The filters by name; ``spec._template`` registers them with Jinja's ``pass_context``."""
