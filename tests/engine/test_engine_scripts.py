"""Recorded scripts (tests/data/*.jsonl) and the handled-or-ignored consistency check.

A script line is one of: ``{"config": {...}}`` (make_config kwargs, first line),
``{"server": event}`` (fed to the conversation), ``{"call": method, "args": [...]}`` (a local
input), ``{"client": event}`` (the next event agentrun must have sent, without event_id and
client item ids), ``{"run_tool": {...}}`` (the next RunTool) and ``{"state": "idle"}``.
Every sent event must be matched by a ``client`` line: nothing extra may go on the wire.
"""

from __future__ import annotations

import base64
import json
import pathlib
import typing
from typing import Any, Literal

import pytest
from _engine_helpers import make_config, sent
from agentrun.engine import IGNORED, Action, Conversation, PlayAudio, RunTool
from agentrun.protocol import GROK, ResponseOutputAudioDelta, ServerEvent

DATA = pathlib.Path(__file__).parent.parent / "data"
SCRIPTS = sorted(DATA.glob("grok_*.jsonl"))


def run_script(path: pathlib.Path) -> Conversation:
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    config = lines.pop(0)["config"] if "config" in lines[0] else {}
    conv = Conversation(make_config(**config))
    outbox: list[dict[str, Any]] = []
    tools: list[RunTool] = []
    now = 0.0
    for number, line in enumerate(lines, start=2):
        now += 0.02
        where = f"{path.name}:{number}"
        actions: list[Action] = []
        if "server" in line:
            actions = conv.receive_message(json.dumps(line["server"]), now)
        elif "call" in line:
            args = list(line["args"])
            if line["call"] == "send_user_audio":
                args = [base64.b64decode(args[0])]
            actions = getattr(conv, line["call"])(*args, now)
        elif "client" in line:
            assert outbox, f"{where}: expected {line['client']['type']}, nothing was sent"
            assert outbox.pop(0) == line["client"], where
        elif "run_tool" in line:
            assert tools.pop(0) == RunTool(**line["run_tool"]), where
        elif "state" in line:
            assert (conv.idle, outbox, tools) == (True, [], []), where
        outbox += sent(actions)
        tools += [a for a in actions if isinstance(a, RunTool)]
    assert outbox == [], f"{path.name}: unexpected events sent at the end"
    return conv


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_recorded_script(path: pathlib.Path) -> None:
    run_script(path)


def test_scripts_are_present() -> None:
    assert {p.stem for p in SCRIPTS} >= {"grok_tool_call", "grok_manual_barge_in", "grok_reconnect"}


def test_every_server_event_is_handled_or_ignored() -> None:
    members = set(typing.get_args(typing.get_args(ServerEvent)[0]))
    conv = Conversation(make_config())
    covered = conv.handled_events | set(IGNORED) | set(GROK.ignored_events)
    assert members - covered == set()
    assert set(IGNORED) & conv.handled_events == set()  # no event both handled and ignored
    assert all(reason.strip() for reason in IGNORED.values())


def test_a_dialect_event_subclass_reaches_the_canonical_handler() -> None:
    """An OpenAI-beta style rename is a subclass; the engine needs no new dispatch entry."""

    class ResponseAudioDelta(ResponseOutputAudioDelta):
        type: Literal["response.audio.delta"]  # type: ignore[assignment]

    conv = Conversation(make_config())
    conv.receive_message('{"type":"conversation.created"}', 0.0)
    conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
    event = ResponseAudioDelta(type="response.audio.delta", response_id="r", item_id="i",
                               delta="AQA=")
    assert conv.receive_event(event, 0.0) == [PlayAudio(b"\x01\x00", "r", "i")]  # type: ignore[arg-type]
