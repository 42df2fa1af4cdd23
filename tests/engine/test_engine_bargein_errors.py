"""Barge-in, error classification, transcripts and metrics (grok-realtime.md §3.2, §7.2, §7.11)."""

from __future__ import annotations

import json

from _engine_helpers import (
    assistant_item,
    audio_delta,
    error,
    event_of,
    make_conv,
    norm,
    receive_and_get,
    response_created,
    response_done,
    speech_started,
    speech_stopped,
    transcript_delta,
    transcript_done,
    user_transcript,
)
from agentrun.engine import (
    EmitTranscript,
    EndConversation,
    PlayAudio,
    RecordMetric,
    Report,
    State,
    StopPlayback,
)

CANCEL = ("send", {"type": "response.cancel"})
PCM_100MS = b"\x00\x00" * 2400  # 100 ms at 24 kHz


def speaking(conv, rid="resp_1", item="item_a1", chunks=3):
    receive_and_get(conv, response_created(rid), assistant_item(item, rid))
    for _ in range(chunks):
        receive_and_get(conv, audio_delta(rid, item, PCM_100MS))


# ---- barge-in -----------------------------------------------------------------------------

def test_speech_during_a_reply_stops_playback_cancels_and_records_what_was_heard() -> None:
    conv = make_conv()
    speaking(conv)
    conv.playback_progress("item_a1", 120)
    assert receive_and_get(conv, speech_started()) == [
        StopPlayback("caller started speaking"), CANCEL,
        RecordMetric("reply_heard", 0.12, "s", 0),
        Report("debug", "barge-in: the caller heard 120 ms of 300 ms of reply item_a1")]
    record = conv.replies["item_a1"]
    assert (record.generated_ms, record.played_ms, record.interrupted) == (300, 120, True)


def test_audio_of_a_cancelled_response_is_never_played() -> None:
    conv = make_conv()
    speaking(conv)
    receive_and_get(conv, speech_started())
    assert receive_and_get(conv, audio_delta("resp_1", "item_a1", PCM_100MS),
                           transcript_delta("resp_1", "item_a1", "and more")) == []
    assert receive_and_get(conv, speech_started()) == [StopPlayback("caller started speaking")]
    assert receive_and_get(conv, response_done("resp_1", "cancelled")) == []
    assert conv.state is State.IDLE


def test_no_cancel_after_response_done_but_playback_still_stops() -> None:
    """Known bug §7.2: response.cancel after the reply finished -> 'no active response'."""
    conv = make_conv()
    speaking(conv)
    receive_and_get(conv, response_done("resp_1"))
    conv.playback_progress("item_a1", 250)
    assert receive_and_get(conv, speech_started()) == [
        StopPlayback("caller started speaking"),
        RecordMetric("reply_heard", 0.25, "s", 0),
        Report("debug", "barge-in: the caller heard 250 ms of 300 ms of reply item_a1")]


def test_barge_in_never_sends_truncate() -> None:
    """Known bug §7.11: Grok has no conversation.item.truncate."""
    conv = make_conv()
    speaking(conv)
    actions = norm(conv.interrupt(1.0))
    assert [a[1]["type"] for a in actions if isinstance(a, tuple)] == ["response.cancel"]
    assert not conv.config.dialect.supports_truncate


def test_manual_interrupt_also_clears_the_input_buffer() -> None:
    conv = make_conv(manual=True)
    speaking(conv, chunks=0)
    assert norm(conv.interrupt(1.0)) == [
        StopPlayback("interrupted by the user"), CANCEL,
        ("send", {"type": "input_audio_buffer.clear"})]


# ---- errors -------------------------------------------------------------------------------

def test_benign_cancel_race_is_debug_and_the_conversation_goes_on() -> None:
    """Known bug §7.2: 'Cancellation failed: no active response found' must not stall us."""
    conv = make_conv()
    assert receive_and_get(conv, error("Cancellation failed: no active response found",
                                       code="invalid_request_error")) == [
        Report("debug", "benign race (invalid_request_error): Cancellation failed: no active "
                        "response found")]
    assert norm(conv.send_user_text("Hi", 1.0))[-1] == ("send", {"type": "response.create"})


def test_int_code_and_unknown_errors_are_reported_and_the_conversation_goes_on() -> None:
    conv = make_conv()
    assert receive_and_get(conv, error("Something broke", code=500, kind="server_error")) == [
        Report("error", "server error (server_error/500): Something broke")]
    speaking(conv, chunks=1)
    assert receive_and_get(conv, audio_delta("resp_1", "item_a1", b"\x01\x00")) == [
        PlayAudio(b"\x01\x00", "resp_1", "item_a1")]


def test_auth_error_ends_the_conversation_with_exit_code_3() -> None:
    conv = make_conv()
    assert receive_and_get(conv, error("Incorrect API key provided", kind="invalid_request_error",
                                       code="invalid_api_key")) == [EndConversation(
        "the service refused the session (invalid_request_error/invalid_api_key): Incorrect API "
        "key provided — check XAI_API_KEY and your xAI account", exit_code=3)]
    assert conv.state is State.CLOSED
    assert receive_and_get(conv, speech_started()) == []


def test_refused_response_create_returns_to_idle() -> None:
    conv = make_conv()
    create = event_of(conv.send_user_text("Hi", 0.0)[-1])
    assert receive_and_get(conv, error("bad request", kind="invalid_request_error",
                                       event_id=create.event_id)) == [
        Report("error", "server error (invalid_request_error): bad request")]
    assert conv.state is State.IDLE and conv.idle


def test_an_error_without_event_id_while_a_create_awaits_its_response_returns_to_idle() -> None:
    # Not every server error names the event it refuses; waiting for a response that will never
    # come would leave the caller in silence, so an unattributed error counts as the refusal.
    conv = make_conv()
    conv.send_user_text("Hi", 0.0)
    assert receive_and_get(conv, error("bad request", kind="invalid_request_error")) == [
        Report("error", "server error (invalid_request_error): bad request")]
    assert conv.state is State.IDLE and conv.idle
    second = [event_of(a).type for a in conv.send_user_text("Again", 1.0)]
    assert second == ["conversation.item.create", "response.create"]


def test_an_unattributed_error_during_an_active_response_keeps_it() -> None:
    conv = make_conv()
    conv.send_user_text("Hi", 0.0)
    receive_and_get(conv, response_created("resp_1"))
    receive_and_get(conv, error("something odd", kind="invalid_request_error"))
    assert conv.state is State.RESPONDING and not conv.idle


def test_failed_response_is_reported_with_its_details_and_asked_again_once() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, response_done("resp_1", "failed")
                           | {"response": {"id": "resp_1", "status": "failed", "output": [],
                                           "status_details": {"error": {"code": "x"}}}}) == [
        Report("error", 'response resp_1 failed: {"error":{"code":"x"}}'),
        Report("warning", "response resp_1 failed; asking again"),
        ("send", {"type": "response.create"})]
    assert conv.state is State.RESPONDING


def test_malformed_and_unknown_frames_never_stop_reception() -> None:
    conv = make_conv()
    assert conv.receive_message('{"type": "response.output_audio.delta", "delta": "' + "A" * 5000,
                                0.0) == [Report(
        "warning", "skipped a server frame: malformed JSON from the server: EOF while parsing a "
        "string at line 1 column 5050")]
    frame = json.dumps({"type": "rate_limits.updated", "rate_limits": []})
    assert conv.receive_message(frame, 0.0) == [
        Report("debug", "ignoring unknown server event type 'rate_limits.updated'")]
    assert conv.receive_message(frame, 0.0) == []  # once per type
    speaking(conv, chunks=0)
    assert conv.state is State.RESPONDING


# ---- transcripts and metrics --------------------------------------------------------------

def test_user_partials_and_a_single_final_per_item() -> None:
    """Known bug §7.10: partials arrive as …completed with status in_progress."""
    conv = make_conv()
    assert receive_and_get(conv, user_transcript("u1", "What's", "in_progress"),
                           {"type": "conversation.item.input_audio_transcription.updated",
                            "item_id": "u1", "transcript": "What's the"},
                           user_transcript("u1", "What's the weather?"),
                           user_transcript("u1", "What's the weather?"),
                           user_transcript("u1", "  ")) == [
        EmitTranscript("user", "What's", False, "u1"),
        EmitTranscript("user", "What's the", False, "u1"),
        EmitTranscript("user", "What's the weather?", True, "u1")]


def test_agent_transcript_deltas_then_one_final_line() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), assistant_item("a1", "resp_1"))
    assert receive_and_get(conv, transcript_delta("resp_1", "a1", "Sure, "),
                           transcript_delta("resp_1", "a1", "it ships."),
                           {"type": "response.text.delta", "response_id": "resp_1",
                            "item_id": "a1", "delta": "Sure, it ships."},
                           transcript_done("resp_1", "a1"), response_done("resp_1")) == [
        EmitTranscript("agent", "Sure, ", False, "a1"),
        EmitTranscript("agent", "it ships.", False, "a1"),
        EmitTranscript("agent", "Sure, it ships.", True, "a1")]


def test_text_only_reply_is_final_at_response_done_and_output_text_is_not_doubled() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, {"type": "response.text.delta", "response_id": "resp_1",
                                  "item_id": "a1", "delta": "Hello"},
                           {"type": "response.output_text.delta", "response_id": "resp_1",
                            "item_id": "a1", "delta": "Hello"},
                           response_done("resp_1")) == [
        EmitTranscript("agent", "Hello", False, "a1"),
        EmitTranscript("agent", "Hello", True, "a1")]


def test_latency_from_end_of_speech_to_first_audio_and_token_usage() -> None:
    conv = make_conv()
    receive_and_get(conv, speech_stopped(), now=10.0)
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, audio_delta("resp_1", "a1", b"\x00\x00"), now=10.5) == [
        PlayAudio(b"\x00\x00", "resp_1", "a1"), RecordMetric("response_latency", 0.5, "s", 1)]
    assert receive_and_get(conv, audio_delta("resp_1", "a1", b"\x00\x00"), now=10.6) == [
        PlayAudio(b"\x00\x00", "resp_1", "a1")]
    usage = {"total_tokens": 120, "input_tokens": 100, "output_tokens": 20}
    assert receive_and_get(conv, response_done("resp_1", usage=usage)) == [
        RecordMetric("total_tokens", 120.0, "tokens", 1),
        RecordMetric("input_tokens", 100.0, "tokens", 1),
        RecordMetric("output_tokens", 20.0, "tokens", 1)]


def test_empty_usage_gives_no_metric() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, response_done("resp_1", usage={})) == []


def test_barge_in_before_our_response_exists_cancels_it_once_created() -> None:
    conv = make_conv()
    conv.send_user_text("Tell me a story", 0.0)
    assert receive_and_get(conv, speech_started()) == [StopPlayback("caller started speaking")]
    assert receive_and_get(conv, response_created("resp_1")) == [CANCEL]
    assert receive_and_get(conv, audio_delta("resp_1", "a1", PCM_100MS)) == []
    assert receive_and_get(conv, response_done("resp_1", "cancelled")) == []
    assert conv.idle
