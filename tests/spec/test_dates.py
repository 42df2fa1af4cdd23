"""Dates in the agent's language: `language:` and the Babel date filters in templates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from agentrun.errors import SpecErrors
from agentrun.spec import AgentSpec, render_greeting, render_instructions

Loaded = Callable[[str], AgentSpec]
Problems = Callable[[str], list[str]]
SUNDAY = datetime(2026, 1, 4, 17, 45, tzinfo=ZoneInfo("UTC"))


def test_a_spanish_agent_says_domingo(loaded: Loaded) -> None:
    spec = loaded("name: T\nlanguage: es\ntimezone: Europe/Madrid\ninstructions: |\n"
                  "  Hoy es {{ now | format_date('EEEE') }}, {{ now | format_date('full') }}.\n"
                  "  Son las {{ now | format_time }}.\n"
                  "greeting: \"Buenas tardes, {{ now | format_date('EEEE d MMMM') }}\"\n")
    assert render_instructions(spec, now=SUNDAY) == (
        "Hoy es domingo, domingo, 4 de enero de 2026.\nSon las 18:45.")
    assert render_greeting(spec, now=SUNDAY) == "Buenas tardes, domingo 4 enero"


def test_english_is_the_default_and_a_value_can_name_another_language(loaded: Loaded) -> None:
    spec = loaded("name: T\ntimezone: America/New_York\ninstructions: |\n"
                  "  {{ now | format_date('full') }} {{ now | format_time }}\n"
                  "  {{ now | format_date('EEEE', locale='de') }} {{ '2026-02-14' | format_date "
                  "}}\n  {{ now | format_datetime('short', locale='fr-CA') }}\n")
    assert render_instructions(spec, now=SUNDAY).splitlines() == [
        "Sunday, January 4, 2026 12:45\u202fPM", "Sonntag Feb 14, 2026", "2026-01-04 12 h 45"]


def test_a_date_filter_on_something_else_is_a_plain_error(loaded: Loaded) -> None:
    spec = loaded("name: T\ninstructions: '{{ agent.name | format_date }}'\n")
    with pytest.raises(SpecErrors) as info:
        render_instructions(spec, now=SUNDAY)
    assert str(info.value) == (
        "good.yaml:2:16: instructions line 1 (\"{{ agent.name | format_date }}\"): cannot be "
        "rendered: format_date needs a date or time such as now or '2026-01-04', got 'T'")


def test_a_misspelt_date_filter_is_found_when_the_file_loads(problems: Problems) -> None:
    assert problems("name: T\ninstructions: '{{ now | format_dat }}'\n") == [
        "bad.yaml:2:16: instructions line 1 (\"{{ now | format_dat }}\"): unknown filter "
        "'format_dat' (did you mean 'format_date'?)"]
