"""Turns (server VAD, manual, text) and tool calls (grok-realtime.md §3.3, §7.2, §7.7, §7.9)."""

from __future__ import annotations

import pytest
from _engine_helpers import (
    arguments_done,
    call_item,
    event_of,
    make_conv,
    norm,
    receive_and_get,
    response_created,
    response_done,
    speech_started,
    speech_stopped,
)
from agentrun.engine import RecordMetric, Report, RunTool, State
from agentrun.errors import LocalProtocolError

USER_HI = ("send", {"type": "conversation.item.create", "item": {
    "type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}})
CREATE = ("send", {"type": "response.create"})


def output(call_id: str, text: str) -> tuple[str, dict[str, object]]:
    return ("send", {"type": "conversation.item.create", "item": {
        "type": "function_call_output", "call_id": call_id, "output": text}})


def test_server_vad_turn_sends_nothing_on_speech_stopped() -> None:
    conv = make_conv()
    assert receive_and_get(conv, speech_started()) == []  # nothing plays: nothing to stop
    assert receive_and_get(conv, speech_stopped()) == []
    assert conv.state is State.IDLE


def test_text_turn_sends_item_then_response_create() -> None:
    conv = make_conv()
    assert norm(conv.send_user_text("Hi", 1.0)) == [USER_HI, CREATE]
    assert conv.state is State.RESPONDING and not conv.idle


def test_response_create_is_queued_while_a_response_is_active() -> None:
    """Known bug §7.2: a second response.create gets 'already has an active response'."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert norm(conv.send_user_text("Hi", 1.0)) == [USER_HI]
    assert norm(conv.send_user_text("Hi", 1.1)) == [USER_HI]
    assert receive_and_get(conv, response_done("resp_1")) == [CREATE]  # exactly one
    assert receive_and_get(conv, response_created("resp_2"), response_done("resp_2")) == []
    assert conv.idle


def test_manual_turn_commits_then_creates_a_response() -> None:
    conv = make_conv(manual=True)
    assert norm(conv.end_user_turn(2.0)) == [
        ("send", {"type": "input_audio_buffer.commit"}), CREATE]


def test_end_user_turn_is_refused_under_server_vad() -> None:
    conv = make_conv()
    with pytest.raises(LocalProtocolError, match="end_user_turn is for manual turns"):
        conv.end_user_turn(0.0)
    assert conv.state is State.IDLE


def test_one_call_runs_and_its_output_is_followed_by_one_response_create() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("call_1", "lookup_order"))
    assert receive_and_get(conv, arguments_done("call_1", "lookup_order", '{"order_id":"1"}'),
                           now=5.0) == [RunTool("call_1", "lookup_order", '{"order_id":"1"}')]
    assert receive_and_get(conv, response_done("resp_1")) == []
    assert not conv.idle
    assert norm(conv.tool_finished("call_1", '{"status": "shipped"}', 5.25)) == [
        RecordMetric("tool_latency", 0.25, "s", 0),
        output("call_1", '{"status": "shipped"}'),
        CREATE,
    ]


def test_output_is_encoded_once() -> None:
    """Known bug §7.7: pipecat double-encoded JSON outputs."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("call_1", "lookup_order"),
                    arguments_done("call_1", "lookup_order"), response_done("resp_1"))
    event = event_of(conv.tool_finished("call_1", '{"t": 75}', 1.0)[1])
    assert '"output":"{\\"t\\": 75}"' in event.model_dump_json(exclude_none=True)


def test_calls_of_one_response_run_together_and_answer_once() -> None:
    conv = make_conv(tools=("a", "b"))
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "a"), call_item("c2", "b"))
    assert receive_and_get(conv, arguments_done("c1", "a"), arguments_done("c2", "b")) == [
        RunTool("c1", "a", "{}"), RunTool("c2", "b", "{}")]
    assert norm(conv.tool_finished("c2", "B", 0.0)) == [RecordMetric("tool_latency", 0.0, "s", 0)]
    assert receive_and_get(conv, response_done("resp_1")) == []
    assert norm(conv.tool_finished("c1", "A", 0.0)) == [
        RecordMetric("tool_latency", 0.0, "s", 0), output("c1", "A"), output("c2", "B"), CREATE]
    assert receive_and_get(conv, response_created("resp_2"), response_done("resp_2")) == []
    assert conv.idle


def test_outputs_wait_for_response_done_before_being_sent() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    arguments_done("c1", "lookup_order"))
    assert norm(conv.tool_finished("c1", "ok", 0.0)) == [RecordMetric("tool_latency", 0.0, "s", 0)]
    assert receive_and_get(conv, response_done("resp_1")) == [output("c1", "ok"), CREATE]


def test_the_normal_pair_of_item_events_for_one_call_is_not_reported() -> None:
    """§3.3: one call item comes in response.output_item.added and conversation.item.added,
    in either order; -v must not call that a duplicate on every tool call."""
    for first, second in (("response.output_item.added", "conversation.item.added"),
                          ("conversation.item.added", "response.output_item.added")):
        conv = make_conv()
        receive_and_get(conv, response_created("resp_1"))
        assert receive_and_get(conv, call_item("c1", "lookup_order", via=first),
                               call_item("c1", "lookup_order", via=second)) == []
        assert receive_and_get(conv, arguments_done("c1", "lookup_order")) == [
            RunTool("c1", "lookup_order", "{}")]


def test_duplicate_items_and_arguments_for_one_call_run_it_once() -> None:
    """Known bug §7.10: Grok may send conversation.item.added twice for one call."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    call_item("c1", "lookup_order", via="conversation.item.added"))
    assert receive_and_get(conv, call_item("c1", "lookup_order", via="conversation.item.added")) \
        == [Report("debug", "duplicate item for call c1 ignored")]
    assert receive_and_get(conv, arguments_done("c1", "lookup_order"),
                           arguments_done("c1", "lookup_order")) == [
        RunTool("c1", "lookup_order", "{}"),
        Report("debug", "duplicate arguments for call c1 ignored")]


def test_server_side_builtin_calls_are_never_answered() -> None:
    """Known bug §7.9: answering x_keyword_search makes the server apologise in a 2nd response."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, arguments_done("cx", "x_keyword_search", '{"q":"xai"}')) == [
        Report("debug", "server-side call 'x_keyword_search' (cx) not answered")]
    receive_and_get(conv, call_item("cw", "web_search"))
    assert receive_and_get(conv, arguments_done("cw", "web_search")) == [
        Report("debug", "server-side call 'web_search' (cw) not answered")]
    assert receive_and_get(conv, response_done("resp_1")) == []
    assert conv.idle


def test_untracked_call_of_a_declared_tool_still_runs() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"))
    assert receive_and_get(conv, arguments_done("c9", "lookup_order")) == [
        Report("debug", "call c9 (lookup_order) had no function_call item; running it because "
                        "the tool is declared"),
        RunTool("c9", "lookup_order", "{}")]


def test_unknown_tool_from_the_model_gets_an_error_output_at_once() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "cancel_order"))
    assert receive_and_get(conv, arguments_done("c1", "cancel_order")) == [
        Report("warning", "the model called unknown tool 'cancel_order'")]
    assert receive_and_get(conv, response_done("resp_1")) == [
        output("c1", "Error: there is no tool named 'cancel_order'. Available tools: "
                     "lookup_order."),
        CREATE]


def test_bad_json_arguments_are_passed_raw_to_the_runner() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    assert receive_and_get(conv, arguments_done("c1", "lookup_order", '{"order_id": 12')) == [
        RunTool("c1", "lookup_order", '{"order_id": 12')]


def test_tool_finished_for_an_unknown_call_is_a_local_error() -> None:
    conv = make_conv()
    with pytest.raises(LocalProtocolError, match="'nope', which is not running"):
        conv.tool_finished("nope", "x", 0.0)


def test_text_typed_while_a_tool_runs_is_answered_with_the_tool_output_in_one_response() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    arguments_done("c1", "lookup_order"), response_done("resp_1"))
    assert norm(conv.send_user_text("Hi", 1.0)) == [USER_HI]
    assert norm(conv.tool_finished("c1", "ok", 1.5)) == [
        RecordMetric("tool_latency", 1.5, "s", 1), output("c1", "ok"), CREATE]
    assert not conv.idle


def test_server_auto_response_after_tool_output_is_a_benign_race() -> None:
    """PR #3960: Grok may auto-create a response before our response.create."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    arguments_done("c1", "lookup_order"), response_done("resp_1"))
    actions = conv.tool_finished("c1", "ok", 0.0)
    output, create = event_of(actions[-2]).item, event_of(actions[-1])
    echo = {"type": "conversation.item.added", "event_id": "ia", "previous_item_id": None,
            "item": {"id": output.id, "type": "function_call_output", "call_id": "c1",
                     "output": "ok"}}
    assert receive_and_get(conv, echo, response_created("resp_auto"), {
        "type": "error", "error": {"code": "conversation_already_has_active_response",
                                   "message": "Conversation already has an active response",
                                   "event_id": create.event_id}}) == [
        Report("debug", "benign race (conversation_already_has_active_response): "
                        "Conversation already has an active response")]
    assert receive_and_get(conv, response_done("resp_auto")) == []
    assert conv.idle


def test_a_late_duplicate_of_an_answered_call_is_not_run_again() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    arguments_done("c1", "lookup_order"), response_done("resp_1"))
    conv.tool_finished("c1", "ok", 0.0)
    assert receive_and_get(conv, call_item("c1", "lookup_order", via="conversation.item.added"),
                           arguments_done("c1", "lookup_order")) == [
        Report("debug", "duplicate arguments for call c1 ignored")]


def test_call_without_arguments_done_runs_from_the_response_output() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    done = response_done("resp_1")
    done["response"]["output"] = [{"id": "item_c1", "type": "function_call", "call_id": "c1",
                                   "name": "lookup_order", "arguments": '{"order_id":"7"}'}]
    assert receive_and_get(conv, done) == [RunTool("c1", "lookup_order", '{"order_id":"7"}')]
    assert not conv.idle


def test_call_that_never_gets_arguments_does_not_block_the_end_of_the_call() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    assert not conv.idle
    assert receive_and_get(conv, response_done("resp_1")) == [
        Report("debug", "call c1 (lookup_order) ended without final arguments; not run")]
    assert conv.idle


def test_arguments_arriving_after_their_response_is_done_are_still_answered() -> None:
    """Out of order: the call's response ended first; its output must still go to the model."""
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    response_done("resp_1"))
    assert receive_and_get(conv, arguments_done("c1", "lookup_order")) == [
        Report("debug", "call c1 (lookup_order) had no function_call item; running it because "
                        "the tool is declared"),
        RunTool("c1", "lookup_order", "{}")]
    assert norm(conv.tool_finished("c1", "ok", 1.0)) == [
        RecordMetric("tool_latency", 1.0, "s", 0), output("c1", "ok"), CREATE]


def test_a_call_item_arriving_after_its_response_is_done_does_not_block_the_end() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), response_done("resp_1"),
                    call_item("c1", "lookup_order"))
    assert conv.idle


def test_a_user_turn_refused_as_already_active_is_asked_again_after_that_response() -> None:
    """§7.2 race: the server started a response we had not heard of when we sent ours."""
    conv = make_conv()
    create = event_of(conv.send_user_text("Still there?", 1.0)[-1])
    assert receive_and_get(conv, response_created("resp_old")) == []
    assert receive_and_get(conv, {"type": "error", "error": {
        "code": "conversation_already_has_active_response",
        "message": "Conversation already has an active response",
        "event_id": create.event_id}}) == [
        Report("debug", "benign race (conversation_already_has_active_response): Conversation "
                        "already has an active response; asking again after the active "
                        "response")]
    assert not conv.idle
    assert receive_and_get(conv, response_done("resp_old")) == [CREATE]
    assert receive_and_get(conv, response_created("resp_new"), response_done("resp_new")) == []
    assert conv.idle
