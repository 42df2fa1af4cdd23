"""AgentSpec -> session.update, URL and ConversationConfig (grok-realtime.md §1, §4, §7.3, §7.8)."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest
from _engine_helpers import event_of
from agentrun.engine import Conversation, ConversationConfig, connection_url, session_properties
from agentrun.errors import SpecErrors
from agentrun.protocol import SessionProperties
from agentrun.spec import AgentSpec, load_spec

LOOKUP = {"type": "function", "name": "lookup_order", "description": "Find an order.",
          "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                         "required": ["order_id"]}}

FULL = """\
name: Test agent
model: grok-voice-think-fast-2.0
instructions: Be brief.
voice: eve
greeting: Hello.
greeting_interruptible: false
turn_detection: {type: manual}
audio:
  input: {format: pcmu, transcription: {language_hint: en, keyterms: [Acme]}}
  output: {format: pcm, rate: 22050, speed: 1.2}
tools:
  - lookup_order
  - {name: x_search, allowed_x_handles: [xai]}
  - {name: file_search, vector_store_ids: [collection_1], max_num_results: 3}
  - web_search
"""

MINIMAL = """\
name: Minimal
instructions: Hi.
turn_detection: {type: server_vad, silence_duration_ms: 500}
"""


def spec_from(tmp_path: pathlib.Path, text: str) -> AgentSpec:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return load_spec(path)


def wire(session: SessionProperties) -> dict[str, Any]:
    return json.loads(session.model_dump_json(exclude_none=True))


def test_full_spec_maps_to_the_grok_session_shape(tmp_path: pathlib.Path) -> None:
    spec = spec_from(tmp_path, FULL)
    assert wire(session_properties(spec, "Be brief.", [LOOKUP])) == {
        "instructions": "Be brief.",
        "voice": "Eve",
        "turn_detection": {"type": None},
        "audio": {"input": {"format": {"type": "audio/pcmu"},
                            "transcription": {"language_hint": "en", "keyterms": ["Acme"]}},
                  "output": {"format": {"type": "audio/pcm", "rate": 22050}, "speed": 1.2}},
        "tools": [LOOKUP,
                  {"type": "x_search", "allowed_x_handles": ["xai"]},
                  {"type": "file_search", "vector_store_ids": ["collection_1"],
                   "max_num_results": 3},
                  {"type": "web_search"}],
    }


def test_defaults_send_server_vad_and_24k_pcm_without_model(tmp_path: pathlib.Path) -> None:
    spec = spec_from(tmp_path, MINIMAL)
    session = wire(session_properties(spec, "Hi.", []))
    assert session == {
        "instructions": "Hi.", "voice": "Ara",
        "turn_detection": {"type": "server_vad", "threshold": 0.85, "silence_duration_ms": 500,
                           "prefix_padding_ms": 333},
        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000}},
                  "output": {"format": {"type": "audio/pcm", "rate": 24000}}},
        "tools": []}
    assert "model" not in json.dumps(session)


def test_model_goes_only_in_the_url(tmp_path: pathlib.Path) -> None:
    """Known bug §7.3: without ?model= the server used a deprecated default."""
    assert connection_url(spec_from(tmp_path, FULL)) == \
        "wss://api.x.ai/v1/realtime?model=grok-voice-think-fast-2.0"
    local = "ws://127.0.0.1:8765/v1/realtime"
    assert connection_url(spec_from(tmp_path, MINIMAL), base_url=local) == \
        f"{local}?model=grok-voice-latest"


def test_config_from_spec(tmp_path: pathlib.Path) -> None:
    config = ConversationConfig.from_spec(spec_from(tmp_path, FULL), instructions="Be brief.",
                                          function_tools=[LOOKUP])
    assert (config.greeting, config.greeting_interruptible) == ("Hello.", False)
    assert config.function_names == frozenset({"lookup_order"})
    assert config.manual_turns
    assert (config.input_bytes_per_second, config.output_bytes_per_second) == (8000, 44100)
    assert config.hold_seconds == 10.0


def test_function_named_like_an_enabled_builtins_internal_tool_is_refused(
        tmp_path: pathlib.Path) -> None:
    """Known bug §7.8: such a name makes the first response fail with server_error."""
    spec = spec_from(tmp_path, FULL)
    with pytest.raises(SpecErrors) as info:
        session_properties(spec, "x", [LOOKUP | {"name": "x_keyword_search"}])
    assert str(info.value) == (
        f"{tmp_path / 'agent.yaml'}: function tool name 'x_keyword_search' is reserved by the "
        "built-in x_search tool; the server would fail the first response (rename it with `as:`)")
    # Without the built-in enabled the name is free.
    assert session_properties(spec_from(tmp_path, MINIMAL), "x",
                              [LOOKUP | {"name": "x_keyword_search"}]).tools is not None


def test_session_update_always_carries_the_audio_config(tmp_path: pathlib.Path) -> None:
    """Known bug §7.16: an update without the audio config reset the formats and voice."""
    config = ConversationConfig.from_spec(spec_from(tmp_path, FULL), instructions="x",
                                          function_tools=[])
    conv = Conversation(config)
    for _ in range(2):  # first connect and a resume
        (action,) = conv.receive_message('{"type":"conversation.created"}', 0.0)
        session = wire(event_of(action).session)
        assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 22050}
        assert session["voice"] == "Eve"
        conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
        conv.connection_lost(1.0)
