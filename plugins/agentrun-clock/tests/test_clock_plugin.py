"""agentrun-clock: plain functions, tested directly and through agentrun's entry points."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from agentrun.tools import Tool, ToolRegistry, installed_tools
from agentrun_clock import add_to_date, current_time, days_between


def test_current_time_in_a_timezone() -> None:
    before = datetime.now(UTC)
    answer = current_time("Asia/Kolkata")
    assert answer["timezone"] == "Asia/Kolkata" and answer["utc_offset"] == "+05:30"
    moment = datetime.fromisoformat(answer["iso"])
    assert abs((moment - before).total_seconds()) < 5
    assert answer["weekday"] == moment.strftime("%A") and answer["date"] == str(moment.date())
    assert current_time()["utc_offset"] == "+00:00"


def test_unknown_timezone_suggests_the_closest_names() -> None:
    with pytest.raises(ValueError, match=r"^unknown timezone 'Europe/Berln' \(did you mean "
                                         r"'Europe/Berlin'"):
        current_time("Europe/Berln")
    with pytest.raises(ValueError, match=r'use an IANA name such as "Europe/Berlin"'):
        current_time("nowhere at all")


@pytest.mark.parametrize(("start", "change", "expected"), [
    ("2026-11-26", {"days": 5}, ("2026-12-01", "Tuesday")),
    ("2026-11-26", {"weeks": -2}, ("2026-11-12", "Thursday")),
    ("2026-01-31", {"months": 1}, ("2026-02-28", "Saturday")),
    ("2028-01-31", {"months": 1}, ("2028-02-29", "Tuesday")),
    ("2026-12-15", {"months": 2, "days": 1}, ("2027-02-16", "Tuesday")),
])
def test_add_to_date(start: str, change: dict[str, int], expected: tuple[str, str]) -> None:
    assert add_to_date(start, **change) == {"date": expected[0], "weekday": expected[1]}


def test_bad_dates_say_what_is_wrong() -> None:
    with pytest.raises(ValueError, match=r"^date: '2026-02-30' is not a date as YYYY-MM-DD"):
        add_to_date("2026-02-30", days=1)
    with pytest.raises(ValueError, match=r"^end: 'next friday' is not a date"):
        days_between("2026-01-01", "next friday")
    with pytest.raises(ValueError, match="outside the years 1 to 9999"):
        add_to_date("9999-12-01", months=1)


def test_days_between_counts_in_both_directions() -> None:
    assert days_between("2026-11-26", "2026-12-24") == {
        "days": 28, "start_weekday": "Thursday", "end_weekday": "Thursday"}
    assert days_between("2026-12-24", "2026-11-26")["days"] == -28


def test_tools_are_found_through_entry_points_and_errors_reach_the_model() -> None:
    installed = installed_tools()
    tools = []
    for name in ("current_time", "add_to_date", "days_between"):
        (entry,) = installed[name]
        assert entry.distribution == "agentrun-clock"
        tools.append(Tool.from_function(entry.load(), name=name))
    registry = ToolRegistry(tools)
    assert registry.function_schemas()[0]["parameters"] == {
        "type": "object",
        "properties": {"timezone": {
            "default": "UTC",
            "description": 'IANA timezone name such as "Europe/Berlin" or "America/New_York".',
            "type": "string"}},
        "required": [],
    }
    result = asyncio.run(registry.call("current_time", '{"timezone": "Mars/Olympus"}',
                                       call_id="c1"))
    assert not result.ok
    assert json.loads(result.output) == {
        "error": "current_time failed: ValueError: unknown timezone 'Mars/Olympus' "
                 '(use an IANA name such as "Europe/Berlin")'}
