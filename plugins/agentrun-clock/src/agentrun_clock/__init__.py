"""agentrun-clock: the current time in a timezone and date arithmetic, as agentrun tools.

Needs nothing from agentrun: a tool is a typed function with a docstring. Errors are
``ValueError`` with a message the model can act on (agentrun sends it as the call's output).
"""

from __future__ import annotations

import calendar
import difflib
from datetime import date as Date  # the tools have a parameter named `date`
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = ["add_to_date", "current_time", "days_between"]
__version__ = "0.1.0"


def current_time(timezone: str = "UTC") -> dict[str, str]:
    """The current date, time and weekday in a timezone.

    Args:
        timezone: IANA timezone name such as "Europe/Berlin" or "America/New_York".
    """
    now = datetime.now(_zone(timezone))
    return {
        "timezone": timezone,
        "date": now.date().isoformat(),
        "time": now.strftime("%H:%M"),
        "weekday": now.strftime("%A"),
        "utc_offset": now.strftime("%z")[:3] + ":" + now.strftime("%z")[3:],
        "iso": now.isoformat(timespec="seconds"),
    }


def add_to_date(date: str, days: int = 0, weeks: int = 0, months: int = 0) -> dict[str, str]:
    """Add (or, with negative numbers, subtract) days, weeks and months to a date.

    Args:
        date: The start date as YYYY-MM-DD.
        days: Days to add.
        weeks: Weeks to add.
        months: Calendar months to add; the day is clamped to the month's end (Jan 31 + 1 month
            is Feb 28 or 29).
    """
    start = _date(date, "date")
    month_index = start.year * 12 + start.month - 1 + months
    year, month = divmod(month_index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("the result is outside the years 1 to 9999")
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    try:
        result = Date(year, month + 1, day) + timedelta(days=days, weeks=weeks)
    except OverflowError as exc:
        raise ValueError("the result is outside the years 1 to 9999") from exc
    return {"date": result.isoformat(), "weekday": result.strftime("%A")}


def days_between(start: str, end: str) -> dict[str, int | str]:
    """Count the days from one date to another (negative when end is before start).

    Args:
        start: The first date as YYYY-MM-DD.
        end: The second date as YYYY-MM-DD.
    """
    first, second = _date(start, "start"), _date(end, "end")
    return {
        "days": (second - first).days,
        "start_weekday": first.strftime("%A"),
        "end_weekday": second.strftime("%A"),
    }


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        close = difflib.get_close_matches(name.strip(), _zones(), n=3, cutoff=0.5)
        hint = (" (did you mean " + " or ".join(repr(z) for z in close) + "?)") if close else \
            ' (use an IANA name such as "Europe/Berlin")'
        raise ValueError(f"unknown timezone {name!r}{hint}") from exc


@cache
def _zones() -> list[str]:
    return sorted(available_timezones())


def _date(text: str, parameter: str) -> Date:
    try:
        return Date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{parameter}: {text!r} is not a date as YYYY-MM-DD ({exc}); for "
                         "today's date call current_time") from exc
