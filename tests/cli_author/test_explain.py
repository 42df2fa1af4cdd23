"""`agentrun explain KEY`: a key's meaning, type, unit, default and example, from the models."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.spec._explain import all_keys, explain, find_keys
from click.testing import Result

Invoke = Callable[..., Result]


def test_a_duration_key_says_its_unit_default_and_example(invoke: Invoke) -> None:
    result = invoke("explain", "turn_detection.silence_duration_ms")
    assert result.exit_code == 0
    assert result.stdout == (
        "turn_detection.silence_duration_ms\n"
        "  Silence that ends the caller's turn, in milliseconds (500, '500ms' or '0.5s'). Leave "
        "out to\n  use the server's default.\n\n"
        "  type     duration in milliseconds 0–10000\n"
        "  unit     milliseconds (a bare number); 800ms, 0.8s and 2m work too\n"
        "  default  unset\n"
        "  applies  when turn_detection type is server_vad\n"
        "  example\n"
        "    turn_detection:\n"
        "      silence_duration_ms: 500\n")


def test_keys_are_found_as_people_write_them(invoke: Invoke) -> None:
    assert invoke("explain", "timeout").stdout.splitlines()[0] == "tools.timeout"
    assert invoke("explain", "tools[0].timeout").stdout.splitlines()[0] == "tools.timeout"
    assert invoke("explain", "Audio.Input.Rate").stdout.splitlines()[0] == "audio.input.rate"
    named = invoke("explain", "variables.company.from_env").stdout
    assert named.splitlines()[0] == "variables.NAME.from_env"
    assert "    variables:\n      company:\n        from_env: CRM_TOKEN\n" in named
    both = invoke("explain", "rate").stdout
    assert [line for line in both.splitlines() if line and not line.startswith(" ")] == [
        "audio.input.rate", "audio.output.rate"]
    assert "  unit     Hz (samples per second)\n" in both


def test_a_mapping_lists_its_keys(invoke: Invoke) -> None:
    text = invoke("explain", "audio").stdout
    assert "  keys     input, output  (agentrun explain audio.KEY)\n" in text
    tools = invoke("explain", "tools").stdout
    assert "    tools: [lookup_order, web_search]\n" in tools


@pytest.mark.parametrize(("typed", "message"), [
    ("turn_detection.silense", "no key 'turn_detection.silense' in agent files (did you mean "
     "'turn_detection.silence_duration_ms'?)"),
    ("silence_duraton_ms", "no key 'silence_duraton_ms' in agent files (did you mean "
     "'turn_detection.silence_duration_ms'?)"),
    ("xyzzy", "no key 'xyzzy' in agent files (agentrun explain lists every top-level key)"),
])
def test_an_unknown_key_gets_did_you_mean(invoke: Invoke, typed: str, message: str) -> None:
    result = invoke("explain", typed)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_without_a_key_every_top_level_key_is_listed(invoke: Invoke) -> None:
    result = invoke("explain")
    lines = result.stdout.splitlines()
    assert lines[0] == "The keys of an agent file (agentrun explain KEY for one of them):"
    listed = [line.split()[0] for line in lines[1:]]
    assert listed[:4] == ["name", "description", "model", "voice"]
    assert "language" in listed and "turn_detection" in listed


def test_every_key_explains_itself() -> None:
    keys = all_keys()
    assert len({k.key for k in keys}) > 60
    for info in keys:
        text = explain(info)
        assert text.splitlines()[1].strip(), f"{info.key} has no description"
        assert "  type     " in text and "  default  " in text


def test_the_starter_points_to_keys_that_explain_knows(invoke: Invoke, tmp_path: Path) -> None:
    assert invoke("new", "desk").exit_code == 0
    text = (tmp_path / "desk.yaml").read_text()
    named = [k for k in re.findall(r"agentrun explain ([\w.]+)", text) if k != "KEY"]
    assert "turn_detection.silence_duration_ms" in named and len(named) >= 5
    for key in named:
        assert find_keys(key), key
    assert "docs/agent-file.md" not in text  # not installed with the package
