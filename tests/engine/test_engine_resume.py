"""Reconnect and resume: resend the session, restore the conversation, no second greeting."""

from __future__ import annotations

from _engine_helpers import (
    CONVERSATION_CREATED,
    arguments_done,
    assistant_item,
    audio_delta,
    call_item,
    make_config,
    norm,
    receive_and_get,
    response_created,
    response_done,
    session_updated,
    transcript_done,
    user_transcript,
)
from agentrun.engine import Conversation, RecordMetric, Report, RunTool, State, StopPlayback

CREATE = ("send", {"type": "response.create"})


def item(**fields: object) -> tuple[str, dict[str, object]]:
    return ("send", {"type": "conversation.item.create", "item": fields})


def greeted_conversation() -> Conversation:
    conv = Conversation(make_config(greeting="Hello."))
    receive_and_get(conv, CONVERSATION_CREATED, session_updated(), response_created("r0"),
                    assistant_item("a0", "r0"), transcript_done("r0", "a0", "Hello."),
                    response_done("r0"))
    return conv


def test_resume_resends_session_restores_items_and_does_not_greet_again() -> None:
    conv = greeted_conversation()
    conv.send_user_text("Where is order 1?", 1.0)
    receive_and_get(conv, response_created("r1"), call_item("c1", "lookup_order", "r1"),
                    arguments_done("c1", "lookup_order", '{"order_id":"1"}', "r1"),
                    response_done("r1"))
    conv.tool_finished("c1", "shipped", 2.0)
    receive_and_get(conv, response_created("r2"), assistant_item("a2", "r2"),
                    transcript_done("r2", "a2", "It shipped."), response_done("r2"),
                    {"type": "conversation.item.added", "item": {
                        "id": "u3", "type": "message", "role": "user",
                        "content": [{"type": "input_audio"}]}},
                    user_transcript("u3", "Thanks!"))
    assert conv.connection_lost(3.0) == []
    assert conv.state is State.CONNECTING and not conv.idle
    session = receive_and_get(conv, CONVERSATION_CREATED)
    assert [a[1]["type"] for a in session] == ["session.update"]
    assert receive_and_get(conv, session_updated()) == [
        item(type="message", role="assistant", content=[{"type": "text", "text": "Hello."}]),
        item(type="message", role="user",
             content=[{"type": "input_text", "text": "Where is order 1?"}]),
        item(type="function_call", call_id="c1", name="lookup_order",
             arguments='{"order_id":"1"}'),
        item(type="function_call_output", call_id="c1", output="shipped"),
        item(type="message", role="assistant", content=[{"type": "text", "text": "It shipped."}]),
        item(type="message", role="user", content=[{"type": "input_text", "text": "Thanks!"}]),
        Report("info", "reconnected: conversation resumed, 6 items restored"),
    ]
    assert conv.idle


def test_a_reply_cut_by_the_drop_is_asked_for_again() -> None:
    conv = greeted_conversation()
    conv.send_user_text("Hi", 1.0)
    receive_and_get(conv, response_created("r1"), assistant_item("a1", "r1"),
                    audio_delta("r1", "a1", b"\x00\x00"))
    assert conv.connection_lost(2.0) == [StopPlayback("connection lost")]
    receive_and_get(conv, CONVERSATION_CREATED)
    actions = receive_and_get(conv, session_updated())
    assert actions[-2:] == [Report("info", "reconnected: conversation resumed, 2 items "
                                           "restored"), CREATE]
    assert conv.state is State.RESPONDING


def test_a_tool_running_across_the_drop_is_answered_after_resume() -> None:
    conv = greeted_conversation()
    receive_and_get(conv, response_created("r1"), call_item("c1", "lookup_order", "r1"))
    assert receive_and_get(conv, arguments_done("c1", "lookup_order", "{}", "r1"), now=1.0) == [
        RunTool("c1", "lookup_order", "{}")]
    receive_and_get(conv, call_item("c2", "lookup_order", "r1"))  # arguments never finished
    assert conv.connection_lost(2.0) == [
        StopPlayback("connection lost"),
        Report("debug", "dropped call c2 (lookup_order): the connection ended before it "
                        "could run")]
    assert conv.tool_finished("c1", "ok", 3.0) == [RecordMetric("tool_latency", 2.0, "s", 0)]
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated()) == [
        item(type="message", role="assistant", content=[{"type": "text", "text": "Hello."}]),
        item(type="function_call", call_id="c1", name="lookup_order", arguments="{}"),
        Report("info", "reconnected: conversation resumed, 2 items restored"),
        item(type="function_call_output", call_id="c1", output="ok"),
        CREATE,
    ]


def test_input_during_the_outage_is_held_and_sent_after_restore() -> None:
    conv = greeted_conversation()
    conv.connection_lost(1.0)
    assert conv.send_user_audio(b"\x05\x00", 1.1) == []
    assert norm(conv.send_user_text("Still there?", 1.2)) == []
    receive_and_get(conv, CONVERSATION_CREATED)
    assert receive_and_get(conv, session_updated()) == [
        item(type="message", role="assistant", content=[{"type": "text", "text": "Hello."}]),
        ("send", {"type": "input_audio_buffer.append", "audio": "BQA="}),
        item(type="message", role="user", content=[{"type": "input_text",
                                                    "text": "Still there?"}]),
        Report("info", "reconnected: conversation resumed, 1 item restored"),
        CREATE,
    ]


def test_server_echo_of_a_restored_call_is_not_tracked_as_a_new_call() -> None:
    """Found by the CLI reconnect test: the echo of a restored function_call kept us busy."""
    conv = greeted_conversation()
    receive_and_get(conv, response_created("r1"), call_item("c1", "lookup_order", "r1"),
                    arguments_done("c1", "lookup_order", "{}", "r1"), response_done("r1"))
    conv.tool_finished("c1", "ok", 1.0)
    receive_and_get(conv, response_created("r2"), response_done("r2"))
    conv.connection_lost(2.0)
    receive_and_get(conv, CONVERSATION_CREATED, session_updated())
    echo = call_item("c1", "lookup_order", via="conversation.item.added")
    echo["item"]["status"] = "completed"
    assert receive_and_get(conv, echo) == []
    assert conv.idle
    assert receive_and_get(conv, arguments_done("c1", "lookup_order")) == [
        Report("debug", "duplicate arguments for call c1 ignored")]


def test_a_long_call_resumes_with_its_recent_conversation_and_no_orphan_output() -> None:
    """Hours of conversation do not grow the resume without bound: the newest exchanges are
    restored (a call always with its output), the oldest are dropped, and a call already
    answered is still never run twice."""
    conv = greeted_conversation()
    for turn in range(1, 400):
        conv.send_user_text(f"Where is order {turn}?", float(turn))
        r = f"r{turn}"
        receive_and_get(conv, response_created(r), call_item(f"c{turn}", "lookup_order", r),
                        arguments_done(f"c{turn}", "lookup_order", f'{{"order_id":"{turn}"}}', r),
                        response_done(r))
        conv.tool_finished(f"c{turn}", f"order {turn} shipped", float(turn) + 0.5)
        receive_and_get(conv, response_created(f"{r}b"), assistant_item(f"a{turn}", f"{r}b"),
                        transcript_done(f"{r}b", f"a{turn}", f"Order {turn} shipped."),
                        response_done(f"{r}b"))
    conv.connection_lost(500.0)
    receive_and_get(conv, CONVERSATION_CREATED)
    restored = [a[1]["item"] for a in receive_and_get(conv, session_updated())
                if isinstance(a, tuple) and a[1]["type"] == "conversation.item.create"]
    assert 150 <= len(restored) <= 200
    assert restored[-1]["content"][0]["text"] == "Order 399 shipped."
    assert not any("order 1?" in str(entry) for entry in restored)  # the oldest are gone
    calls = {e["call_id"] for e in restored if e["type"] == "function_call"}
    outputs = {e["call_id"] for e in restored if e["type"] == "function_call_output"}
    assert outputs <= calls and "c399" in calls
    # the server replays an answered call: it is not run again
    replay = receive_and_get(conv, response_created("rx"), call_item("c398", "lookup_order", "rx"),
                             arguments_done("c398", "lookup_order", '{"order_id":"398"}', "rx"))
    assert not any(isinstance(a, RunTool) for a in replay)
