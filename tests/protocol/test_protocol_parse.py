"""parse_server_event: tolerant where the live server is loose, precise when it is broken."""

from __future__ import annotations

import json
import typing

import pytest
from agentrun.errors import RemoteProtocolError
from agentrun.protocol import (
    ConversationItemInputAudioTranscriptionCompleted,
    ErrorEvent,
    McpEvent,
    Ping,
    ResponseDone,
    ResponseOutputAudioDelta,
    ServerEvent,
    SessionCreated,
    SessionUpdated,
    UnknownServerEvent,
    parse_server_event,
)

# One sample per union member, shaped as grok-realtime.md §3.1 shows them.
SAMPLES: dict[str, dict[str, object]] = {
    "error": {"error": {"message": "m"}},
    "ping": {"timestamp": 1734567890123},
    "session.created": {"session": {"voice": "xai_ara", "turn_detection": {"type": None}}},
    "session.updated": {"session": {"voice": "human_Ara"}},
    "conversation.created": {"conversation": {"id": "c", "object": "realtime.conversation"}},
    "conversation.item.added": {"item": {"id": "i", "type": "message", "role": "user"}},
    "conversation.item.deleted": {"item_id": ""},
    "conversation.item.truncated": {"item_id": "i", "audio_end_ms": 10},
    "conversation.item.input_audio_transcription.completed": {"item_id": "u", "transcript": "t"},
    "conversation.item.input_audio_transcription.updated": {"item_id": "u", "transcript": "t"},
    "input_audio_buffer.speech_started": {"item_id": "u"},
    "input_audio_buffer.speech_stopped": {"item_id": "u"},
    "input_audio_buffer.committed": {"item_id": "u", "previous_item_id": None},
    "input_audio_buffer.cleared": {},
    "input_audio_buffer.timeout_triggered": {},
    "input_audio_buffer.dtmf_event_received": {"event": "5", "received_at": 1},
    "response.created": {"response": {"id": "r", "object": "realtime.response",
                                      "status": "in_progress", "output": []}},
    "response.output_item.added": {"response_id": "r", "output_index": 0, "item": {"id": "i"}},
    "response.output_item.done": {"response_id": "r", "output_index": 0, "item": {"id": "i"}},
    "response.content_part.added": {"response_id": "r", "item_id": "i", "output_index": 0,
                                    "content_index": 0, "part": {"type": "audio"}},
    "response.content_part.done": {"response_id": "r", "item_id": "i", "output_index": 0,
                                   "content_index": 0},
    "response.output_audio.delta": {"response_id": "r", "item_id": "i", "output_index": 0,
                                    "content_index": 0, "delta": "AAAA"},
    "response.output_audio.done": {"response_id": "r", "item_id": "i"},
    "response.output_audio_transcript.delta": {"response_id": "r", "item_id": "i", "delta": "a"},
    "response.output_audio_transcript.done": {"response_id": "r", "item_id": "i"},
    "response.text.delta": {"response_id": "r", "item_id": "i", "delta": "a"},
    "response.text.done": {"response_id": "r", "item_id": "i", "text": "a"},
    "response.output_text.delta": {"response_id": "r", "item_id": "i", "delta": "a"},
    "response.output_text.done": {"response_id": "r", "item_id": "i"},
    "response.function_call_arguments.delta": {"call_id": "c", "delta": "{"},
    "response.function_call_arguments.done": {"call_id": "c", "name": "f", "arguments": "{}"},
    "response.done": {"response": {"id": "r", "object": "realtime.response",
                                   "status": "completed", "output": []}},
    "mcp_list_tools.in_progress": {}, "mcp_list_tools.completed": {},
    "mcp_list_tools.failed": {}, "response.mcp_call_arguments.delta": {},
    "response.mcp_call_arguments.done": {}, "response.mcp_call.in_progress": {},
    "response.mcp_call.completed": {}, "response.mcp_call.failed": {},
}


def wire_types() -> set[str]:
    types: set[str] = set()
    for member in typing.get_args(typing.get_args(ServerEvent)[0]):
        types |= set(typing.get_args(member.model_fields["type"].annotation))
    return types


def test_samples_cover_every_union_member() -> None:
    assert set(SAMPLES) == wire_types()


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_each_event_parses_without_event_id_and_with_unknown_fields(kind: str) -> None:
    event = parse_server_event(json.dumps({"type": kind, "surprise": [1, 2], **SAMPLES[kind]}))
    assert not isinstance(event, UnknownServerEvent)
    assert event.type == kind
    assert event.event_id is None
    assert not hasattr(event, "surprise")


def test_class_names_follow_the_wire_type() -> None:
    for member in typing.get_args(typing.get_args(ServerEvent)[0]):
        if member is McpEvent or member is ErrorEvent:
            continue  # a family of MCP types; "error" is a builtin-shadowing name
        (wire,) = typing.get_args(member.model_fields["type"].annotation)
        expected = "".join(part.capitalize() for part in wire.replace(".", "_").split("_"))
        assert member.__name__ == expected


def test_voice_echoes_and_null_turn_detection_parse() -> None:
    """Known bugs §7.4 / §7.5: session.created with xai_ara and turn_detection null."""
    created = parse_server_event(json.dumps({"type": "session.created", "event_id": "evt-1",
                                             "session": {"id": "sess-1", "voice": "xai_ara",
                                                         "turn_detection": {"type": None},
                                                         "modalities": ["audio"]}}))
    assert isinstance(created, SessionCreated)
    assert created.session.voice == "xai_ara"
    assert created.session.turn_detection is not None
    assert created.session.turn_detection.type is None


def test_any_pcm_rate_echo_parses() -> None:
    """Known bug §7.6: pipecat's Literal rejected 22050."""
    event = parse_server_event(json.dumps({"type": "session.updated", "session": {
        "audio": {"output": {"format": {"type": "audio/pcm", "rate": 22050}}}}}))
    assert isinstance(event, SessionUpdated)
    assert event.session.output_format() == ("audio/pcm", 22050)


def test_error_code_may_be_an_int() -> None:
    event = parse_server_event('{"type":"error","error":{"code":400,"message":"bad"}}')
    assert isinstance(event, ErrorEvent)
    assert (event.error.code, event.error.message) == (400, "bad")


def test_empty_usage_and_partial_transcript_status() -> None:
    done = parse_server_event('{"type":"response.done","response":{"id":"r","output":[],'
                              '"usage":{}},"usage":{}}')
    assert isinstance(done, ResponseDone) and done.usage is not None
    assert done.usage.total_tokens is None
    partial = parse_server_event(json.dumps({
        "type": "conversation.item.input_audio_transcription.completed", "item_id": "u",
        "transcript": "Wha", "status": "in_progress"}))
    assert isinstance(partial, ConversationItemInputAudioTranscriptionCompleted)
    assert partial.status == "in_progress"


def test_unknown_type_is_a_value_not_an_error() -> None:
    text = '{"type":"rate_limits.updated","event_id":"e","rate_limits":[]}'
    event = parse_server_event(text)
    assert event == UnknownServerEvent(type="rate_limits.updated", raw=text)
    assert "raw" not in repr(event)


def test_bytes_frames_parse() -> None:
    assert isinstance(parse_server_event(b'{"type":"ping","timestamp":1}'), Ping)


def test_audio_delta_keeps_its_base64_text_and_hides_it_from_repr() -> None:
    payload = "QUJD" * 1000
    event = parse_server_event(json.dumps({"type": "response.output_audio.delta",
                                           "response_id": "r", "item_id": "i",
                                           "output_index": 0, "content_index": 0,
                                           "delta": payload}))
    assert isinstance(event, ResponseOutputAudioDelta)
    assert event.delta == payload
    assert payload not in repr(event)


@pytest.mark.parametrize(("text", "message"), [
    ('{"type": "ping", "timestamp": ', "malformed JSON from the server: EOF while parsing a "
                                       "value at line 1 column 30"),
    ("[1, 2]", "server frame is not an event object with a 'type'"),
    ('{"event_id": "x"}', "server frame is not an event object with a 'type'"),
    ('{"type": 7}', "server event has a non-string 'type'"),
    ('{"type": "response.output_audio.delta", "response_id": "r", "item_id": "i"}',
     "invalid 'response.output_audio.delta' event from the server: delta: Field required"),
    ('{"type": "response.output_audio.delta", "response_id": "r", "delta": null}',
     "invalid 'response.output_audio.delta' event from the server: delta: Field required"),
])
def test_broken_frames_raise_remote_protocol_error_with_a_precise_message(
        text: str, message: str) -> None:
    with pytest.raises(RemoteProtocolError) as info:
        parse_server_event(text)
    assert str(info.value) == message


def test_error_message_never_contains_the_payload() -> None:
    payload = "Z" * 100_000
    text = json.dumps({"type": "response.output_audio.delta", "delta": 5,
                       "item_id": payload})
    with pytest.raises(RemoteProtocolError) as info:
        parse_server_event(text)
    assert "ZZZZ" not in str(info.value)
    assert len(str(info.value)) < 300


def test_a_session_snapshot_that_does_not_fit_still_parses_as_empty() -> None:
    """session.updated gates caller audio (§7.1): an odd snapshot must not drop the event."""
    event = parse_server_event(json.dumps({"type": "session.updated", "session": {
        "voice": {"id": "ara"}, "audio": {"output": {"format": {"rate": "fast"}}},
        "tools": "none"}}))
    assert isinstance(event, SessionUpdated)
    assert event.session.voice is None
    assert event.session.output_format() == (None, None)
