"""Helpers for the synchronous Conversation tests (h11-style ``receive_and_get``).

Tests compare plain data: ``norm(actions)`` turns each ``SendEvent`` into ``("send", dict)``,
the wire JSON without ``event_id`` and without client-generated item ids (random), so a test
can write the exact events it expects next to the other actions.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from agentrun.engine import Action, Conversation, ConversationConfig, SendEvent
from agentrun.protocol import (
    AudioConfig,
    AudioInput,
    AudioOutput,
    PcmFormat,
    SessionProperties,
    TurnDetection,
)

__all__ = [
    "CONVERSATION_CREATED", "SESSION_CREATED", "arguments_done", "assistant_item", "audio_delta",
    "call_item", "error", "event_of", "make_config", "make_conv", "norm", "receive_and_get",
    "response_created",
    "response_done", "sent", "session_updated", "speech_started", "speech_stopped",
    "transcript_delta", "transcript_done", "user_transcript",
]


def make_config(*, manual: bool = False, greeting: str | None = None,
                greeting_interruptible: bool = True, tools: tuple[str, ...] = ("lookup_order",),
                input_rate: int = 16000, output_rate: int = 24000,
                hold_seconds: float = 10.0) -> ConversationConfig:
    """A small config: server VAD (or manual), PCM in/out, declared function tools."""
    session = SessionProperties(
        instructions="Be brief.", voice="Ara",
        turn_detection=TurnDetection(type=None if manual else "server_vad"),
        audio=AudioConfig(input=AudioInput(format=PcmFormat(rate=input_rate)),
                          output=AudioOutput(format=PcmFormat(rate=output_rate))))
    return ConversationConfig(session=session, greeting=greeting,
                              greeting_interruptible=greeting_interruptible,
                              function_names=frozenset(tools), hold_seconds=hold_seconds)


def receive_and_get(conv: Conversation, *events: dict[str, Any], now: float = 0.0) -> list[Any]:
    """Feed server events (dicts, serialised as the server would) and return normed actions."""
    actions: list[Action] = []
    for event in events:
        actions += conv.receive_message(json.dumps(event), now)
    return norm(actions)


def norm(actions: list[Action]) -> list[Any]:
    """Actions with each SendEvent replaced by ``("send", wire dict without random ids)``."""
    return [("send", _wire(a)) if isinstance(a, SendEvent) else a for a in actions]


def sent(actions: list[Action]) -> list[dict[str, Any]]:
    """Only the wire dicts of the SendEvent actions."""
    return [_wire(a) for a in actions if isinstance(a, SendEvent)]


def _wire(action: SendEvent) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(action.event.model_dump_json(exclude_none=True))
    assert isinstance(data.pop("event_id"), str)  # always set, never null
    item = data.get("item")
    if isinstance(item, dict) and "id" in item:
        assert len(item.pop("id")) == 32  # uuid4().hex, client generated
    return data


def make_conv(**kwargs: Any) -> Conversation:
    """A Conversation already through the handshake (IDLE), with no greeting by default."""
    conv = Conversation(make_config(**kwargs))
    conv.receive_message(json.dumps({"type": "conversation.created", "event_id": "e1",
                                     "conversation": {"id": "conv_1"}}), 0.0)
    conv.receive_message(json.dumps({"type": "session.updated", "event_id": "e2",
                                     "session": {}}), 0.0)
    return conv


def audio_delta(response_id: str, item_id: str, pcm: bytes) -> dict[str, Any]:
    """A ``response.output_audio.delta`` event carrying ``pcm``."""
    return {"type": "response.output_audio.delta", "event_id": "ad", "response_id": response_id,
            "item_id": item_id, "output_index": 0, "content_index": 0,
            "delta": base64.b64encode(pcm).decode()}


# ---- server events, as the live server shapes them (grok-realtime.md §3.1) ---------------

CONVERSATION_CREATED = {"type": "conversation.created", "event_id": "e1",
                        "conversation": {"id": "conv_1", "object": "realtime.conversation"}}
SESSION_CREATED = {"type": "session.created", "event_id": "e0",
                   "session": {"id": "sess_1", "voice": "xai_ara", "model": "grok-voice-latest",
                               "turn_detection": {"type": None}, "tools": []}}


def session_updated(rate: int = 24000, voice: str = "human_Ara") -> dict[str, Any]:
    return {"type": "session.updated", "event_id": "e2",
            "session": {"voice": voice, "turn_detection": {"type": "server_vad"},
                        "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}},
                                  "output": {"format": {"type": "audio/pcm", "rate": rate}}}}}


def response_created(rid: str) -> dict[str, Any]:
    return {"type": "response.created", "event_id": f"c-{rid}",
            "response": {"id": rid, "object": "realtime.response", "status": "in_progress",
                         "output": []}}


def response_done(rid: str, status: str = "completed", **extra: Any) -> dict[str, Any]:
    response = {"id": rid, "object": "realtime.response", "status": status, "output": []}
    return {"type": "response.done", "event_id": f"d-{rid}", "response": response, **extra}


def call_item(call_id: str, name: str, rid: str = "resp_1",
              via: str = "response.output_item.added") -> dict[str, Any]:
    item = {"id": f"item_{call_id}", "type": "function_call", "status": "in_progress",
            "call_id": call_id, "name": name, "arguments": ""}
    if via == "response.output_item.added":
        return {"type": via, "event_id": "oi", "response_id": rid, "output_index": 0,
                "item": item}
    return {"type": via, "event_id": "ia", "previous_item_id": None, "item": item}


def arguments_done(call_id: str, name: str, arguments: str = "{}",
                   rid: str = "resp_1") -> dict[str, Any]:
    return {"type": "response.function_call_arguments.done", "event_id": "ad",
            "response_id": rid, "call_id": call_id, "name": name, "arguments": arguments}


def speech_started(item_id: str = "item_u1") -> dict[str, Any]:
    return {"type": "input_audio_buffer.speech_started", "event_id": "ss", "item_id": item_id}


def speech_stopped(item_id: str = "item_u1") -> dict[str, Any]:
    return {"type": "input_audio_buffer.speech_stopped", "event_id": "sp", "item_id": item_id}


def error(message: str, code: str | int | None = None, kind: str | None = None,
          event_id: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"message": message}
    if code is not None:
        detail["code"] = code
    if kind is not None:
        detail["type"] = kind
    if event_id is not None:
        detail["event_id"] = event_id
    return {"type": "error", "event_id": "x1", "error": detail}


def transcript_delta(rid: str, item_id: str, delta: str) -> dict[str, Any]:
    return {"type": "response.output_audio_transcript.delta", "event_id": "td",
            "response_id": rid, "item_id": item_id, "delta": delta}


def transcript_done(rid: str, item_id: str, transcript: str | None = None) -> dict[str, Any]:
    event = {"type": "response.output_audio_transcript.done", "event_id": "tdn",
             "response_id": rid, "item_id": item_id}
    if transcript is not None:
        event["transcript"] = transcript
    return event


def assistant_item(item_id: str, rid: str) -> dict[str, Any]:
    return {"type": "response.output_item.added", "event_id": "oa", "response_id": rid,
            "output_index": 0, "item": {"id": item_id, "object": "realtime.item",
                                        "type": "message", "status": "in_progress",
                                        "role": "assistant", "content": []}}


def user_transcript(item_id: str, text: str, status: str | None = None) -> dict[str, Any]:
    event = {"type": "conversation.item.input_audio_transcription.completed", "event_id": "ut",
             "item_id": item_id, "content_index": 0, "transcript": text}
    if status is not None:
        event["status"] = status
    return event


def event_of(action: Action) -> Any:
    """The client event of a ``SendEvent`` (fails the test for any other action)."""
    assert isinstance(action, SendEvent), action
    return action.event
