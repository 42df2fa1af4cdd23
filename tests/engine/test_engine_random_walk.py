"""A seeded random walk of server events and local inputs: the core never raises and never
breaks the wire rules, whatever order the server chooses (§3.2: reception must never stop)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from _engine_helpers import (
    CONVERSATION_CREATED,
    arguments_done,
    assistant_item,
    audio_delta,
    call_item,
    error,
    make_config,
    response_created,
    response_done,
    session_updated,
    speech_started,
    speech_stopped,
    transcript_delta,
    transcript_done,
    user_transcript,
)
from agentrun.engine import Conversation, RunTool, SendEvent, State
from agentrun.errors import LocalProtocolError

RIDS = ["resp_1", "resp_2", "resp_3"]
CALLS = [f"call_{n}" for n in range(40)]
NAMES = ["lookup_order", "x_keyword_search", "cancel_order"]


def server_event(rng: random.Random) -> dict[str, Any]:
    rid, call, name = rng.choice(RIDS), rng.choice(CALLS), rng.choice(NAMES)
    return rng.choice([
        lambda: response_created(rid),
        lambda: response_done(rid, rng.choice(["completed", "cancelled", "failed"])),
        lambda: assistant_item(f"a_{rid}", rid),
        lambda: audio_delta(rid, f"a_{rid}", b"\x00\x00" * 10),
        lambda: transcript_delta(rid, f"a_{rid}", "words "),
        lambda: transcript_done(rid, f"a_{rid}"),
        lambda: call_item(call, name, rid),
        lambda: call_item(call, name, rid, via="conversation.item.added"),
        lambda: arguments_done(call, name, "{}", rid),
        lambda: speech_started(),
        lambda: speech_stopped(),
        lambda: user_transcript("u1", "hello", rng.choice([None, "in_progress"])),
        lambda: error("Cancellation failed: no active response found"),
        lambda: error("Conversation already has an active response"),
        lambda: error("something else", code=500, event_id="evt_unrelated"),
        lambda: session_updated(),
        lambda: CONVERSATION_CREATED,
        lambda: {"type": "ping", "timestamp": 1},
        lambda: {"type": "brand.new.event"},
    ])()


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("manual", [False, True])
def test_random_walk_keeps_the_wire_rules(seed: int, manual: bool) -> None:
    rng = random.Random(seed)
    conv = Conversation(make_config(manual=manual, greeting="Hi."))
    conv.receive_message(json.dumps(CONVERSATION_CREATED), 0.0)
    conv.receive_message(json.dumps(session_updated()), 0.0)
    running: list[str] = []
    answered: list[str] = []
    live_responses: set[str] = set()
    creates_unanswered = 0
    for step in range(1500):
        now = step * 0.01
        roll = rng.random()
        if roll < 0.70:
            event = server_event(rng)
            if event["type"] in ("response.created", "response.done", "error"):
                creates_unanswered = 0
            if event["type"] == "response.created":
                live_responses.add(event["response"]["id"])
            elif event["type"] == "response.done":
                live_responses.discard(event["response"]["id"])
            actions = conv.receive_message(json.dumps(event), now)
        elif roll < 0.78 and running:
            actions = conv.tool_finished(running.pop(rng.randrange(len(running))), "ok", now)
        elif roll < 0.84:
            actions = conv.send_user_text("hi", now)
        elif roll < 0.88:
            actions = conv.send_user_audio(b"\x01\x00" * 8, now)
        elif roll < 0.91:
            try:
                actions = conv.end_user_turn(now)
            except LocalProtocolError:
                assert not manual
                actions = []
        elif roll < 0.94:
            actions = conv.interrupt(now)
        elif roll < 0.96:
            actions = conv.connection_lost(now)
            live_responses.clear()
            creates_unanswered = 0
            answered.clear()  # the resume re-creates answered calls on the new server
        else:
            actions = conv.playback_progress(f"a_{rng.choice(RIDS)}", rng.randrange(500))
        assert conv.state is not State.CLOSED  # no fatal error was injected
        for action in actions:
            if isinstance(action, RunTool):
                assert action.name == "lookup_order"  # built-ins and unknown names never run
                running.append(action.call_id)
            elif isinstance(action, SendEvent):
                sent: Any = action.event
                event_type = sent.type
                assert event_type != "conversation.item.truncate"
                if event_type == "response.create":
                    creates_unanswered += 1
                    assert creates_unanswered == 1, f"step {step}: two response.create in a row"
                if event_type == "response.cancel":
                    assert live_responses, f"step {step}: cancel with no live response"
                if event_type == "conversation.item.create" \
                        and sent.item.type == "function_call_output":
                    answered.append(sent.item.call_id)
        # a call is answered once, even when the server repeats its id later
        assert len(answered) == len(set(answered)), f"step {step}: {answered}"
