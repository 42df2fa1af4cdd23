"""Client events: strict models, exact wire JSON, dialect facts (grok-realtime.md §2, §6)."""

from __future__ import annotations

import json
import uuid

import pytest
from agentrun.protocol import (
    GROK,
    AudioConfig,
    AudioInput,
    AudioOutput,
    ClientEvent,
    ConversationItemCreate,
    ErrorClass,
    ErrorDetail,
    FileSearchTool,
    FunctionCallOutputItem,
    FunctionTool,
    InputAudioBufferCommit,
    McpTool,
    PcmFormat,
    PcmuFormat,
    ResponseCreate,
    SessionProperties,
    SessionUpdate,
    Tool,
    TurnDetection,
    XSearchTool,
)
from pydantic import TypeAdapter, ValidationError


def wire(event: object) -> dict[str, object]:
    data = json.loads(event.model_dump_json(exclude_none=True))  # type: ignore[attr-defined]
    data.pop("event_id")
    return data


def test_manual_turns_serialise_as_an_explicit_null_type() -> None:
    """§2 notes: exclude_none must not turn manual turns into {} (pipecat's bug)."""
    update = SessionUpdate(session=SessionProperties(turn_detection=TurnDetection(type=None)))
    assert update.model_dump_json(exclude_none=True).endswith(
        '"session":{"turn_detection":{"type":null}}}')
    assert SessionProperties(turn_detection=TurnDetection(type=None)).manual_turns


def test_none_fields_are_omitted_never_null() -> None:
    session = SessionProperties(instructions="x", turn_detection=TurnDetection(threshold=0.5),
                                audio=AudioConfig(input=AudioInput(format=PcmuFormat()),
                                                  output=AudioOutput(format=PcmFormat(rate=22050))))
    assert wire(SessionUpdate(session=session)) == {"type": "session.update", "session": {
        "instructions": "x", "turn_detection": {"type": "server_vad", "threshold": 0.5},
        "audio": {"input": {"format": {"type": "audio/pcmu"}},
                  "output": {"format": {"type": "audio/pcm", "rate": 22050}}}}}


def test_session_properties_has_no_model_field() -> None:
    """Known bug §7.3: the model goes only in the URL."""
    with pytest.raises(ValidationError):
        SessionProperties(model="grok-voice-latest")  # type: ignore[call-arg]


def test_client_events_refuse_unknown_fields_and_always_carry_an_event_id() -> None:
    with pytest.raises(ValidationError):
        ResponseCreate(modalities=["audio"])  # type: ignore[call-arg]
    first, second = InputAudioBufferCommit(), InputAudioBufferCommit()
    assert first.event_id != second.event_id
    assert str(uuid.UUID(first.event_id)) == first.event_id


def test_function_call_output_is_the_string_as_is() -> None:
    """Known bug §7.7: no double JSON encoding."""
    event = ConversationItemCreate(item=FunctionCallOutputItem(call_id="call_1",
                                                               output='{"t": 75}'))
    assert '"output":"{\\"t\\": 75}"' in event.model_dump_json(exclude_none=True)


def test_tools_serialise_in_the_flat_grok_shape() -> None:
    mcp = McpTool.model_validate({"server_url": "https://mcp.example", "server_label": "ex"})
    tools: list[Tool] = [FunctionTool(name="f", description="d"),
                         XSearchTool(allowed_x_handles=["xai"]),
                         FileSearchTool(vector_store_ids=["collection_1"], max_num_results=5), mcp]
    assert wire(SessionUpdate(session=SessionProperties(tools=tools)))["session"] == {"tools": [
        {"type": "function", "name": "f", "description": "d",
         "parameters": {"type": "object", "properties": {}}},
        {"type": "x_search", "allowed_x_handles": ["xai"]},
        {"type": "file_search", "vector_store_ids": ["collection_1"], "max_num_results": 5},
        {"type": "mcp", "server_url": "https://mcp.example", "server_label": "ex"}]}


def test_client_event_union_round_trips_what_we_send() -> None:
    adapter: TypeAdapter[ClientEvent] = TypeAdapter(ClientEvent)
    event = ResponseCreate()
    assert adapter.validate_json(event.model_dump_json(exclude_none=True)) == event


# ---- dialect ------------------------------------------------------------------------------

def test_connection_url_puts_the_quoted_model_in_the_query() -> None:
    assert GROK.connection_url("wss://api.x.ai/v1/realtime", "grok-voice-latest") == \
        "wss://api.x.ai/v1/realtime?model=grok-voice-latest"
    assert GROK.connection_url("ws://127.0.0.1:9/v1/realtime?model=&x=1", "a b/c") == \
        "ws://127.0.0.1:9/v1/realtime?x=1&model=a%20b%2Fc"


def test_connection_url_keeps_a_model_the_url_already_names() -> None:
    # `--url wss://proxy/v1/realtime?model=grok-x`: the command line wins over the agent file
    url = "ws://127.0.0.1:9/v1/realtime?model=grok-voice-beta&x=1"
    assert GROK.connection_url(url, "grok-voice-latest") == url


@pytest.mark.parametrize(("error", "verdict"), [
    ({"code": "response_cancel_not_active", "message": "x"}, ErrorClass.NO_ACTIVE_RESPONSE),
    ({"message": "Cancellation failed: no active response found"},
     ErrorClass.NO_ACTIVE_RESPONSE),
    ({"code": "conversation_already_has_active_response", "message": "x"},
     ErrorClass.ALREADY_ACTIVE),
    ({"message": "Conversation already has an active response"}, ErrorClass.ALREADY_ACTIVE),
    ({"type": "authentication_error", "message": "denied"}, ErrorClass.FATAL),
    ({"code": "invalid_api_key", "message": "x"}, ErrorClass.FATAL),
    ({"code": 401, "message": "x"}, ErrorClass.FATAL),
    ({"type": "insufficient_quota", "message": "x"}, ErrorClass.FATAL),
    ({"code": "rate-limit-exceeded-for-billing", "message": "x"}, ErrorClass.FATAL),
    ({"message": "Incorrect API key provided"}, ErrorClass.FATAL),
    ({"message": "You have exceeded your quota"}, ErrorClass.FATAL),
    ({"type": "server_error", "message": "Internal error"}, ErrorClass.OTHER),
    ({"code": 500, "message": "boom"}, ErrorClass.OTHER),
])
def test_error_classification_by_code_type_and_message(error: dict[str, object],
                                                       verdict: ErrorClass) -> None:
    assert GROK.classify_error(ErrorDetail.model_validate(error)) is verdict
    assert verdict.benign is (verdict in (ErrorClass.NO_ACTIVE_RESPONSE,
                                          ErrorClass.ALREADY_ACTIVE))


def test_reserved_names_only_for_enabled_builtins() -> None:
    assert GROK.reserved_names(["web_search"]) == {"web_search": "web_search",
                                                   "browse_page": "web_search"}
    assert GROK.reserved_names([]) == {}
    assert GROK.is_builtin_call("x_keyword_search")
    assert not GROK.is_builtin_call("lookup_order")
