"""Handshake, held audio and the greeting (grok-realtime.md §1.1, §2, §7.1, §7.5, §7.16)."""

from __future__ import annotations

import base64

import pytest
from _engine_helpers import (
    CONVERSATION_CREATED,
    SESSION_CREATED,
    event_of,
    make_config,
    norm,
    receive_and_get,
    response_created,
    response_done,
    session_updated,
    speech_started,
)
from agentrun.engine import Conversation, EndConversation, Report, State, StopPlayback
from agentrun.errors import LocalProtocolError

SESSION = {
    "instructions": "Be brief.", "voice": "Ara", "turn_detection": {"type": "server_vad"},
    "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}},
              "output": {"format": {"type": "audio/pcm", "rate": 24000}}},
}


def append(pcm: bytes) -> tuple[str, dict[str, str]]:
    return ("send", {"type": "input_audio_buffer.append", "audio": base64.b64encode(pcm).decode()})


def test_session_created_first_is_accepted_and_nothing_sent_before_conversation_created() -> None:
    conv = Conversation(make_config())
    assert receive_and_get(conv, SESSION_CREATED) == [
        Report("debug", "session sess_1 created (model grok-voice-latest)")]
    assert conv.state is State.CONNECTING


def test_conversation_created_sends_the_full_session_update() -> None:
    conv = Conversation(make_config())
    assert receive_and_get(conv, CONVERSATION_CREATED) == [
        ("send", {"type": "session.update", "session": SESSION})]
    assert conv.state is State.CONFIGURING


def test_audio_before_session_updated_is_held_then_sent_in_order() -> None:
    """Known bug §7.1: audio sent before the rate is configured is read at 24 kHz."""
    conv = Conversation(make_config())
    assert conv.send_user_audio(b"\x01\x00" * 10, 0.0) == []
    receive_and_get(conv, CONVERSATION_CREATED)
    assert conv.send_user_audio(b"\x02\x00" * 10, 0.1) == []
    assert receive_and_get(conv, session_updated()) == [
        append(b"\x01\x00" * 10), append(b"\x02\x00" * 10)]
    assert conv.state is State.IDLE
    assert conv.idle
    assert norm(conv.send_user_audio(b"\x03\x00", 0.2)) == [append(b"\x03\x00")]


def test_held_audio_is_bounded_and_the_drop_is_reported_once() -> None:
    conv = Conversation(make_config(input_rate=8000, hold_seconds=0.01))  # 160 bytes held
    assert conv.send_user_audio(b"a" * 100, 0.0) == []
    assert conv.send_user_audio(b"b" * 100, 0.0) == [Report(
        "warning", "the session is not configured yet: holding only the last 0.01 s of caller "
        "audio, older audio is dropped")]
    assert conv.send_user_audio(b"c" * 100, 0.0) == []
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated()) == [append(b"b" * 60), append(b"c" * 100)]


def test_greeting_is_a_force_message_after_held_audio_and_no_response_create_follows() -> None:
    conv = Conversation(make_config(greeting="Hi, Acme here."))
    conv.send_user_audio(b"\x00\x00", 0.0)
    receive_and_get(conv, SESSION_CREATED, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated()) == [
        append(b"\x00\x00"),
        ("send", {"type": "conversation.item.create", "item": {
            "type": "force_message", "role": "assistant",
            "content": [{"type": "text", "text": "Hi, Acme here."}], "interruptible": True}}),
    ]
    assert conv.state is State.RESPONDING
    assert not conv.idle
    assert receive_and_get(conv, response_created("resp_g"), response_done("resp_g")) == []
    assert conv.idle


def test_text_typed_during_the_greeting_waits_for_it_to_finish() -> None:
    conv = Conversation(make_config(greeting="Hello."))
    receive_and_get(conv, CONVERSATION_CREATED, session_updated(), response_created("resp_g"))
    assert norm(conv.send_user_text("Hi", 1.0)) == [
        ("send", {"type": "conversation.item.create", "item": {
            "type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "Hi"}]}})]
    assert receive_and_get(conv, response_done("resp_g")) == [("send", {"type": "response.create"})]


def test_non_interruptible_greeting_is_not_stopped_by_caller_speech() -> None:
    conv = Conversation(make_config(greeting="This call is recorded.",
                                    greeting_interruptible=False))
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated())[0][1]["item"]["interruptible"] is False
    receive_and_get(conv, response_created("resp_g"))
    assert receive_and_get(conv, speech_started()) == [
        Report("debug", "caller spoke during the non-interruptible greeting")]
    assert conv.interrupt(1.0) == [
        Report("debug", "the greeting is not interruptible; not interrupting")]
    receive_and_get(conv, response_done("resp_g"), response_created("resp_2"))
    assert receive_and_get(conv, speech_started()) == [
        StopPlayback("caller started speaking"), ("send", {"type": "response.cancel"})]


def test_refused_force_message_falls_back_to_response_create_with_instructions() -> None:
    conv = Conversation(make_config(greeting="Hello."))
    receive_and_get(conv, CONVERSATION_CREATED)
    greeting_event = event_of(conv.receive_message(
        '{"type":"session.updated","session":{}}', 0.0)[0])
    actions = receive_and_get(conv, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "unknown item type force_message",
        "event_id": greeting_event.event_id}})
    assert actions == [
        Report("error", "server error (invalid_request_error): unknown item type force_message"),
        Report("warning", "the server refused force_message; greeting by response.create instead"),
        ("send", {"type": "response.create", "response": {"instructions": (
            "Greet the caller by saying exactly this, and nothing else: Hello.")}}),
    ]
    assert conv.state is State.RESPONDING


def test_a_refusal_naming_no_event_still_falls_back_from_force_message() -> None:
    conv = Conversation(make_config(greeting="Hello."))
    receive_and_get(conv, CONVERSATION_CREATED)
    conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
    actions = receive_and_get(conv, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "unknown item type force_message"}})
    assert actions[1:] == [
        Report("warning", "the server refused force_message; greeting by response.create instead"),
        ("send", {"type": "response.create", "response": {"instructions": (
            "Greet the caller by saying exactly this, and nothing else: Hello.")}}),
    ]


def test_voice_echo_and_other_rate_are_accepted_and_the_rate_mismatch_reported() -> None:
    """Known bugs §7.4 (voice echo) and §7.6 (22050): session.updated still makes us ready."""
    conv = Conversation(make_config(output_rate=22050))
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated(rate=22050, voice="xai_ara")) == []
    assert conv.state is State.IDLE
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated(rate=44100)) == [Report(
        "warning", "the server reports output audio at 44100 Hz; agentrun plays it at the "
        "configured 24000 Hz")]


def test_a_second_conversation_created_is_ignored_and_session_update_not_resent() -> None:
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED, session_updated())
    assert receive_and_get(conv, CONVERSATION_CREATED) == [
        Report("warning", "unexpected conversation.created while idle; ignored")]


def test_close_ends_once_and_input_after_close_is_refused_or_dropped() -> None:
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED, session_updated())
    assert conv.close(1.0) == [EndConversation("conversation closed")]
    assert conv.close(1.0) == []
    assert conv.state is State.CLOSED and conv.idle
    assert conv.send_user_audio(b"\x00\x00", 1.0) == []
    assert receive_and_get(conv, speech_started()) == []
    with pytest.raises(LocalProtocolError, match=r"^send_user_text: the conversation is closed$"):
        conv.send_user_text("hello", 1.0)


def test_a_refused_session_update_ends_the_call_instead_of_waiting_in_silence() -> None:
    conv = Conversation(make_config())
    (action,) = conv.receive_message('{"type":"conversation.created"}', 0.0)
    conv.send_user_audio(b"\x00\x00", 0.1)
    assert receive_and_get(conv, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "Invalid voice 'Aria'",
        "event_id": event_of(action).event_id}}) == [EndConversation(
            "the server refused the session configuration (invalid_request_error): "
            "Invalid voice 'Aria'", exit_code=1)]
    assert conv.state is State.CLOSED


def test_an_error_naming_another_event_while_configuring_is_only_reported() -> None:
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, {"type": "error", "error": {"message": "hiccup",
                                                             "event_id": "evt_other"}}) == [
        Report("error", "server error: hiccup")]
    assert conv.state is State.CONFIGURING


def test_an_error_naming_no_event_while_configuring_refuses_the_update() -> None:
    """Issue 9, bug 2: the refusal of session.update may carry no event_id; waiting on would
    hang the call forever (pings keep the socket open)."""
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, {"type": "error", "error": {
        "type": "invalid_request_error", "message": "Unknown parameter: 'session.foo'."}}) == [
        EndConversation("the server refused the session configuration "
                        "(invalid_request_error): Unknown parameter: 'session.foo'.",
                        exit_code=1)]
    assert conv.state is State.CLOSED and conv.next_deadline is None


def test_non_interruptible_greeting_is_protected_before_its_response_exists() -> None:
    conv = Conversation(make_config(greeting="This call is recorded.",
                                    greeting_interruptible=False))
    receive_and_get(conv, CONVERSATION_CREATED, session_updated())
    assert receive_and_get(conv, speech_started()) == [
        Report("debug", "caller spoke during the non-interruptible greeting")]
    assert receive_and_get(conv, response_created("resp_g")) == []
