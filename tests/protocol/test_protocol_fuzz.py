"""Fuzz every server event of the reference with null, missing and odd-typed fields (issue 9).

For each sample event (one per wire type, test_protocol_parse.SAMPLES) and each field path in
it, the field is set to null, removed, or replaced by a value of another type. The parser must
never raise anything but ``RemoteProtocolError``, a repaired event keeps its type, and the
engine never raises on it. The events agentrun needs must still take effect: a mangled
``response.done`` still ends the response, a mangled ``response.created`` still starts one, a
mangled ``session.updated`` still configures, a mangled ``error`` is still reported.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from agentrun.engine import Conversation, ConversationConfig, State
from agentrun.errors import RemoteProtocolError
from agentrun.protocol import (
    SessionProperties,
    TurnDetection,
    UnknownServerEvent,
    parse_server_event,
)
from test_protocol_parse import SAMPLES


def make_config() -> ConversationConfig:
    return ConversationConfig(session=SessionProperties(
        turn_detection=TurnDetection(type="server_vad")),
        function_names=frozenset({"lookup_order", "get_current_weather"}))


def make_conv() -> Conversation:
    conv = Conversation(make_config())
    conv.receive_message('{"type":"conversation.created"}', 0.0)
    conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
    return conv


def response_created(rid: str) -> dict[str, Any]:
    return {"type": "response.created", "response": {"id": rid, "output": []}}

ODD_VALUES: list[Any] = [None, 7, -1, "x", "", True, [], {}, [None], 1.5]


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "type" and not prefix:
                continue  # the event's own type picks the model; that is not a field
            yield (*prefix, key)
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield (*prefix, index)
            yield from paths(value, (*prefix, index))


def mangled(event: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in paths(event):
        for value in [*ODD_VALUES, "<delete>"]:
            copy_ = copy.deepcopy(event)
            parent = copy_
            for part in path[:-1]:
                parent = parent[part]
            if value == "<delete>":
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
            yield f"{'.'.join(map(str, path))}={value!r}", copy_


def variants() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for kind, body in sorted(SAMPLES.items()):
        event = {"type": kind, "event_id": "e1", **copy.deepcopy(body)}
        for label, variant in mangled(event):
            yield kind, label, variant


ALL = list(variants())


def test_there_are_variants_for_every_event() -> None:
    assert {kind for kind, _, _ in ALL} == set(SAMPLES)
    assert len(ALL) > 1000


def test_every_variant_parses_or_fails_cleanly_and_keeps_its_type() -> None:
    refused: list[str] = []
    for kind, label, variant in ALL:
        try:
            event = parse_server_event(json.dumps(variant))
        except RemoteProtocolError as exc:
            assert len(str(exc)) < 400
            refused.append(f"{kind} {label}")
            continue
        assert not isinstance(event, UnknownServerEvent)
        assert event.type == kind, (kind, label)
    # only fields without a sensible default may refuse a frame: audio without audio
    assert all(r.startswith("response.output_audio.delta delta=") for r in refused), refused


def fresh(kind: str) -> Conversation:
    if kind in ("session.updated", "conversation.created", "session.created"):
        conv = Conversation(make_config())
        if kind == "session.updated":
            conv.receive_message('{"type":"conversation.created"}', 0.0)
        return conv
    conv = make_conv()
    conv.send_user_text("hi", 0.0)
    conv.receive_message(json.dumps(response_created("resp_1")), 0.0)
    return conv


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_the_engine_never_raises_on_any_variant(kind: str) -> None:
    for _, _label, variant in [v for v in ALL if v[0] == kind]:
        conv = fresh(kind)
        conv.receive_message(json.dumps(variant), 1.0)
        conv.tick(100.0)


def test_a_mangled_response_done_still_ends_the_response() -> None:
    for kind, label, variant in ALL:
        if kind != "response.done" or label.startswith(("response.id=", "event_id=")):
            continue  # another response's id is rightly not ours
        conv = fresh(kind)
        variant = copy.deepcopy(variant)
        if isinstance(variant.get("response"), dict) and \
                isinstance(variant["response"].get("id"), str) and variant["response"]["id"]:
            variant["response"]["id"] = "resp_1"
        conv.receive_message(json.dumps(variant), 1.0)
        assert conv.state is State.IDLE, label


def test_a_mangled_response_created_still_starts_a_response() -> None:
    for kind, label, variant in ALL:
        if kind != "response.created":
            continue
        conv = make_conv()
        conv.send_user_text("hi", 0.0)
        conv.receive_message(json.dumps(variant), 1.0)
        assert conv.state is State.RESPONDING and conv.responses_created == 1, label


def test_a_mangled_session_updated_still_configures() -> None:
    for kind, label, variant in ALL:
        if kind != "session.updated":
            continue
        conv = fresh(kind)
        conv.receive_message(json.dumps(variant), 1.0)
        assert conv.state is State.IDLE, label


def test_a_mangled_error_is_still_reported() -> None:
    for kind, label, variant in ALL:
        if kind != "error":
            continue
        conv = make_conv()
        actions = conv.receive_message(json.dumps(variant), 1.0)
        assert actions, label
