"""The example agents load and say what they claim to show."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from agentrun.spec import (
    ManualTurns,
    ServerVad,
    load_spec,
    render_greeting,
    render_instructions,
)

AGENTS = Path(__file__).resolve().parents[2] / "agents"


@pytest.mark.parametrize("name", ["support.yaml", "booking.yaml", "clinic.yaml"])
def test_examples_start_with_the_schema_line(name: str) -> None:
    first = (AGENTS / name).read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=../agentrun.schema.json"


def test_support_agent() -> None:
    spec = load_spec(AGENTS / "support.yaml")
    assert (spec.name, spec.voice_id, spec.timezone) == ("Acme Support", "Ara", "Europe/Berlin")
    assert spec.greeting == "Hi, this is {{ company }} support. How can I help you today?"
    assert render_greeting(spec) == "Hi, this is Acme support. How can I help you today?"
    assert spec.turn_detection == ServerVad(silence_duration_ms=500)
    assert (spec.audio.input.format, spec.audio.input.rate) == ("pcm", 24000)
    assert [(t.name, t.is_builtin) for t in spec.tools] == [
        ("lookup_order", False), ("create_ticket", False), ("web_search", True)]
    assert spec.tools[1].timeout == 5.0
    assert "database" in spec.tools[0].config
    text = render_instructions(spec, now=datetime(2026, 3, 2, 8, 0, tzinfo=ZoneInfo("UTC")))
    assert text.splitlines()[:2] == [
        "You are Acme Support, the friendly phone support agent of Acme.",
        "Today is Monday, 02 March 2026; it is 09:00 in Berlin."]


def test_booking_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINIC_EMERGENCY_LINE", raising=False)
    spec = load_spec(AGENTS / "booking.yaml")
    assert spec.voice_id == "Rex"
    assert spec.turn_detection == ManualTurns(type="manual")
    assert (spec.audio.input.format, spec.audio.input.rate) == ("pcmu", 8000)
    assert (spec.audio.output.format, spec.audio.output.rate) == ("pcmu", 8000)
    assert spec.variables["clinic"].default == "Smile Dental"
    assert spec.variables["max_party"].type == "integer"
    assert render_greeting(spec, {"clinic": "Bright Smiles"}) == (
        "Bright Smiles booking line. Who am I speaking with?")
    assert spec.variables["emergency_line"].from_env == "CLINIC_EMERGENCY_LINE"
    assert [t.tool for t in spec.tools] == ["current_time"]
    text = render_instructions(spec, {"clinic": "Smile Dental", "max_party": "4"},
                               now=datetime(2026, 3, 2, 14, 30, tzinfo=ZoneInfo("UTC")))
    assert text.splitlines()[:3] == [
        "You take appointment requests for Smile Dental by phone.",
        "The current time is Monday 09:30 (America/New_York).",
        "You may book at most 4 people in one call."]


def test_clinic_agent_declares_its_tools_in_yaml() -> None:
    spec = load_spec(AGENTS / "clinic.yaml")
    assert [(t.name, t.kind) for t in spec.tools] == [("services", "http"), ("calendar", "mcp")]
    services, calendar = spec.tools
    assert services.http is not None and services.http.response.field == "services"
    assert services.http.arguments["kind"].enum == ["cleaning", "check-up"]
    assert calendar.mcp is not None and calendar.mcp.allowed_tools == ["free_slots", "book_slot"]
    assert (calendar.mcp.command, calendar.mcp.called_by, calendar.timeout) == (
        "python", "agentrun", 5.0)


def test_reservas_speaks_spanish_dates() -> None:
    spec = load_spec(AGENTS / "reservas.yaml")
    assert spec.language == "es"
    text = render_instructions(spec, now=datetime(2026, 1, 4, 12, 30, tzinfo=ZoneInfo("UTC")))
    assert "Hoy es domingo, 4 de enero de 2026 y son las 13:30." in text
