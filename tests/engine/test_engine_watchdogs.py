"""Watchdogs through tick(now)/next_deadline, and the races of issue 9 (events in, actions out)."""

from __future__ import annotations

from _engine_helpers import (
    CONVERSATION_CREATED,
    arguments_done,
    call_item,
    error,
    event_of,
    make_config,
    make_conv,
    norm,
    receive_and_get,
    response_created,
    response_done,
    speech_stopped,
)
from agentrun.engine import (
    Conversation,
    EmitTranscript,
    EndConversation,
    Report,
    RunTool,
    State,
)
from agentrun.engine.setup import DEFAULT_APOLOGY

CREATE = ("send", {"type": "response.create"})
CANCEL = ("send", {"type": "response.cancel"})
APOLOGY = ("send", {"type": "conversation.item.create", "item": {
    "type": "force_message", "role": "assistant", "content": [{"type": "text",
                                                               "text": DEFAULT_APOLOGY}],
    "interruptible": True}})


def output_echo(item_id: str, call_id: str) -> dict:
    return {"type": "conversation.item.added", "event_id": "echo", "previous_item_id": None,
            "item": {"id": item_id, "type": "function_call_output", "call_id": call_id,
                     "output": "ok"}}


def tool_round(conv: Conversation) -> None:
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"),
                    arguments_done("c1", "lookup_order"), response_done("resp_1"))


# ---- bug 1: a tool result that loses the race with a VAD response -------------------------

def test_tool_output_racing_a_vad_response_is_asked_for_again_after_it() -> None:
    conv = make_conv()
    tool_round(conv)
    actions = conv.tool_finished("c1", '{"status": "shipped"}', 1.0)
    output = event_of(actions[-2]).item
    create = event_of(actions[-1])
    # the caller spoke while the tool ran: the server started its own response before it
    # added our output, then refused our create naming it
    assert receive_and_get(conv, response_created("resp_vad"), output_echo(output.id, "c1"), {
        "type": "error", "error": {"code": "conversation_already_has_active_response",
                                   "message": "Conversation already has an active response",
                                   "event_id": create.event_id}}, now=1.1) == [
        Report("debug", "benign race (conversation_already_has_active_response): "
                        "Conversation already has an active response; asking again after "
                        "the active response")]
    # that response never saw the output: once it ends, the result is asked for again
    assert receive_and_get(conv, response_done("resp_vad"), now=2.0) == [CREATE]
    assert conv.state is State.RESPONDING


def test_a_response_started_after_the_output_was_added_answers_it_no_second_create() -> None:
    conv = make_conv()
    tool_round(conv)
    actions = conv.tool_finished("c1", "ok", 1.0)
    output, create = event_of(actions[-2]).item, event_of(actions[-1])
    receive_and_get(conv, output_echo(output.id, "c1"), response_created("resp_auto"),
                    error("Conversation already has an active response",
                          code="conversation_already_has_active_response",
                          event_id=create.event_id))
    assert receive_and_get(conv, response_done("resp_auto")) == []
    assert conv.idle


# ---- bug 2: a refused or unanswered session.update -----------------------------------

def test_configuration_never_confirmed_ends_the_call_at_the_deadline_pings_or_not() -> None:
    conv = Conversation(make_config())
    receive_and_get(conv, CONVERSATION_CREATED, now=100.0)
    assert conv.next_deadline == 115.0
    for t in range(101, 115):  # pings never extend the wait
        assert receive_and_get(conv, {"type": "ping", "timestamp": t}, now=float(t)) == []
        assert conv.tick(float(t)) == []
    assert conv.tick(115.0) == [EndConversation(
        "the server did not confirm the session configuration (no session.updated within "
        "15 s)", exit_code=1)]
    assert conv.state is State.CLOSED and conv.next_deadline is None


# ---- the create watchdog ---------------------------------------------------------------

def test_unanswered_create_is_retried_once_then_the_caller_hears_an_apology() -> None:
    conv = make_conv()
    assert norm(conv.send_user_text("hi", 10.0))[-1] == CREATE
    assert conv.next_deadline == 20.0
    assert conv.tick(19.9) == []
    assert norm(conv.tick(20.0)) == [
        Report("warning", "the server did not answer response.create within 10 s; asking "
                          "again"), CREATE]
    assert norm(conv.tick(30.0)) == [
        Report("error", "the server did not answer response.create within 10 s again; "
                        "telling the caller something went wrong"), APOLOGY]
    assert norm(conv.tick(40.0)) == [
        Report("error", "the server did not answer the apology within 10 s; the service is not "
                        "answering, so this turn gets no reply; waiting for the caller")]
    assert conv.idle and conv.next_deadline is None


def test_a_completed_response_resets_the_retry_budget() -> None:
    conv = make_conv()
    conv.send_user_text("hi", 0.0)
    conv.tick(10.0)  # retried once
    receive_and_get(conv, response_created("resp_1"), response_done("resp_1"), now=11.0)
    conv.send_user_text("again", 12.0)
    assert norm(conv.tick(22.0))[-1] == CREATE  # a retry again, not the apology


# ---- the stall watchdog ----------------------------------------------------------------

def test_a_stalled_response_is_cancelled_and_asked_again_then_apologised_for() -> None:
    conv = make_conv()
    conv.send_user_text("hi", 0.0)
    receive_and_get(conv, response_created("resp_1"), now=1.0)
    assert conv.next_deadline == 21.0
    receive_and_get(conv, {"type": "response.output_audio_transcript.delta",
                           "response_id": "resp_1", "item_id": "a1", "delta": "Sure"}, now=5.0)
    receive_and_get(conv, {"type": "ping", "timestamp": 1}, now=20.0)  # pings do not count
    assert conv.next_deadline == 25.0
    assert norm(conv.tick(25.0)) == [
        CANCEL, Report("warning", "response resp_1 stalled: nothing from the server for 20 s; "
                                  "asking again"), CREATE]
    # the stalled response's late output is dropped; its done does not end the new request
    assert receive_and_get(conv, {"type": "response.output_audio_transcript.delta",
                                  "response_id": "resp_1", "item_id": "a1", "delta": "x"},
                           response_done("resp_1", "cancelled"), now=26.0) == [
        EmitTranscript("agent", "Sure", True, "a1")]  # what was shown before the stall
    assert conv.state is State.RESPONDING
    receive_and_get(conv, response_created("resp_2"), now=27.0)
    assert norm(conv.tick(47.0)) == [
        CANCEL, Report("error", "response resp_2 stalled: nothing from the server for 20 s "
                                "again; telling the caller something went wrong"), APOLOGY]


def test_a_failed_response_twice_ends_in_the_apology() -> None:
    conv = make_conv()
    conv.send_user_text("hi", 0.0)
    receive_and_get(conv, response_created("resp_1"))
    assert norm(conv.receive_message(
        '{"type":"response.done","response":{"id":"resp_1","status":"failed"}}', 1.0))[-1] \
        == CREATE
    receive_and_get(conv, response_created("resp_2"))
    actions = norm(conv.receive_message(
        '{"type":"response.done","response":{"id":"resp_2","status":"failed"}}', 2.0))
    assert actions[-1] == APOLOGY


# ---- the turn watchdog -----------------------------------------------------------------

def test_a_caller_turn_the_server_never_answers_gets_a_response_create() -> None:
    conv = make_conv()
    receive_and_get(conv, speech_stopped(), now=3.0)
    assert conv.next_deadline == 11.0
    assert norm(conv.tick(11.0)) == [
        Report("warning", "the server did not answer the caller's turn within 8 s; asking for "
                          "a response"), CREATE]


def test_an_answered_turn_disarms_its_watchdog() -> None:
    conv = make_conv()
    receive_and_get(conv, speech_stopped(), response_created("resp_1"),
                    response_done("resp_1"), now=3.0)
    assert conv.next_deadline is None and conv.tick(100.0) == []


# ---- RunTool audit: final arguments, exactly once, only while expected -------------------

def call_done(rid: str, call_id: str, status: str, arguments: str = "{}") -> dict:
    return {"type": "response.done", "event_id": "d", "response": {
        "id": rid, "status": "cancelled", "output": [{
            "id": f"item_{call_id}", "type": "function_call", "call_id": call_id,
            "name": "lookup_order", "arguments": arguments, "status": status}]}}


def barged_call(conv: Conversation) -> None:
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    conv.interrupt(1.0)  # the caller barged in: response.cancel is on its way


def test_a_call_the_server_drops_after_a_barge_in_never_runs() -> None:
    conv = make_conv()
    barged_call(conv)
    assert receive_and_get(conv, arguments_done("c1", "lookup_order")) == [
        Report("debug", "call c1 (lookup_order) waits: its response was interrupted")]
    assert receive_and_get(conv, call_done("resp_1", "c1", "incomplete")) == [
        Report("info", "call c1 (lookup_order) not run: the caller interrupted and the server "
                       "dropped it")]
    assert conv.idle


def test_a_call_the_server_keeps_after_a_barge_in_runs_once() -> None:
    conv = make_conv()
    barged_call(conv)
    receive_and_get(conv, arguments_done("c1", "lookup_order", '{"order_id": "1"}'))
    assert receive_and_get(conv, call_done("resp_1", "c1", "completed")) == [
        RunTool("c1", "lookup_order", '{"order_id": "1"}')]


def test_partial_arguments_of_an_incomplete_item_never_run() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    assert receive_and_get(conv, call_done("resp_1", "c1", "incomplete", '{"order_')) == [
        Report("debug", "call c1 (lookup_order) ended without final arguments; not run")]


def test_arguments_without_a_call_id_are_matched_by_their_item() -> None:
    conv = make_conv()
    receive_and_get(conv, response_created("resp_1"), call_item("c1", "lookup_order"))
    assert receive_and_get(conv, {"type": "response.function_call_arguments.done",
                                  "item_id": "item_c1", "call_id": None, "name": "lookup_order",
                                  "arguments": "{}"}) == [RunTool("c1", "lookup_order", "{}")]


# ---- session limit -------------------------------------------------------------------------

def test_the_session_limit_error_is_one_info_line_not_an_error() -> None:
    conv = make_conv()
    assert receive_and_get(conv, error("Your session hit the maximum duration of 60 minutes.",
                                       code="session_expired",
                                       kind="invalid_request_error")) == [
        Report("info", "the service ended the session (invalid_request_error/session_expired): "
                       "Your session hit the maximum duration of 60 minutes.; agentrun will "
                       "reconnect and resume")]
    assert conv.state is State.IDLE


def test_a_call_held_after_a_barge_in_is_dropped_when_the_connection_is_lost() -> None:
    conv = make_conv()
    barged_call(conv)
    receive_and_get(conv, arguments_done("c1", "lookup_order"))
    assert Report("debug", "dropped call c1 (lookup_order): the connection ended before it "
                           "could run") in conv.connection_lost(2.0)
    receive_and_get(conv, {"type": "conversation.created"}, {"type": "session.updated"})
    conv.send_user_text("still there?", 3.0)
    assert conv.state is State.RESPONDING  # nothing held blocks the next response


def test_a_call_held_for_a_stalled_response_is_dropped_not_left_blocking() -> None:
    conv = make_conv()
    barged_call(conv)
    receive_and_get(conv, arguments_done("c1", "lookup_order"))
    actions = conv.tick(100.0)
    assert actions[0] == Report("debug", "call c1 (lookup_order) not run: its response stalled")
    assert norm(actions)[-1] == CREATE
