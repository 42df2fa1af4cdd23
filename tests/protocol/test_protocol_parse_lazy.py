"""parse_server_event builds one validator per event type on first sight, and answers exactly
as the discriminated union ``ServerEvent`` does (same event, or an error for the same frames)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from agentrun.errors import RemoteProtocolError
from agentrun.protocol import ServerEvent, UnknownServerEvent, parse_server_event
from pydantic import TypeAdapter, ValidationError
from test_protocol_parse import SAMPLES

UNION: TypeAdapter[ServerEvent] = TypeAdapter(ServerEvent)


def by_union(text: str | bytes) -> object:
    """What the union says: the event, "unknown <type>", or "invalid" (any validation error)."""
    try:
        return UNION.validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "union_tag_invalid":
            kind = json.loads(text).get("type")
            return f"unknown {kind}" if isinstance(kind, str) else "invalid"
        return "invalid"


def by_parse(text: str | bytes) -> object:
    try:
        event = parse_server_event(text)
    except RemoteProtocolError:
        return "invalid"
    if isinstance(event, UnknownServerEvent):
        return f"unknown {event.type}"
    return event


def agree(text: str | bytes) -> None:
    """The parser gives what the union gives, except that it repairs frames the union refuses
    for a null or odd-typed field (issue 9): then the event keeps the frame's own type."""
    expected, got = by_union(text), by_parse(text)
    if expected == "invalid" and not isinstance(got, str):
        assert got.type == json.loads(text)["type"], text  # type: ignore[attr-defined]
        return
    assert got == expected, text


def frames() -> list[str]:
    """Every sample, compact and spaced, plus frames built to mislead a quick look at "type"."""
    out: list[str] = []
    for kind, body in SAMPLES.items():
        event = {"event_id": "e1", "type": kind, **body}
        out += [json.dumps(event), json.dumps(event, separators=(",", ":")),
                json.dumps({"item": {"type": "message"}, **event}, separators=(",", ":")),
                json.dumps({**body, "type": kind}, separators=(",", ":"))]
    out += [
        '{"item":{"type":"ping"},"type":"response.output_item.added"}',
        '{"type":"ping","type":"response.done"}', '{"type":"zzz","type":"ping"}',
        '{"type":"resp\\u006fnse.done","response":{"id":"r"}}', '[{"type":"ping"}]',
        '{"type":"ping","timestamp":"soon"}', '{"delta":"say \\"type\\":\\"ping\\"","type":"x"}',
        '{"type": null}', '{"type": 7}', '{"event_id":"x"}', '"ping"', "null",
        '{"type":"ping"} x', '{"type":"ping"', "", '{"type":"rate_limits.updated"}',
        '{"type":"response.output_audio.delta"}', '{"type":"conversation.item.added",'
        '"item":{"type":"function_call","content":[{"type":"ping"}]}}',
    ]
    return out


@pytest.mark.parametrize("text", frames())
def test_parse_agrees_with_the_union(text: str) -> None:
    agree(text)
    agree(text.encode())


def test_random_mutations_agree_with_the_union() -> None:
    rng = random.Random(5)
    texts = frames()
    for _ in range(3000):
        text = rng.choice(texts)
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            if not chars:
                break
            i = rng.randrange(len(chars))
            op = rng.random()
            if op < 0.4:
                del chars[i]
            elif op < 0.8:
                chars.insert(i, rng.choice('{}[]",: tyep0a\\'))
            else:
                chars[i] = rng.choice('"tyep.')
        mutated = "".join(chars)
        agree(mutated)


def test_importing_the_protocol_builds_no_event_validator() -> None:
    """Start-up cost: validators are built for the types a session actually receives."""
    code = (
        "import agentrun.protocol as p\n"
        "built = [n for n in p.__all__ if getattr(getattr(p, n), '__pydantic_complete__', 0)]\n"
        "p.parse_server_event('{\"type\":\"ping\"}')\n"
        "after = [n for n in p.__all__ if getattr(getattr(p, n), '__pydantic_complete__', 0)]\n"
        "print(built, after)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[] ['Ping']"
