"""The talk socket's protocol core: what the page may send, what it gets, and junk (no I/O)."""

from __future__ import annotations

import json

import pytest
from agentrun.serve._talk import (
    Audio,
    Hangup,
    Ignored,
    Interrupt,
    Played,
    Start,
    TalkProtocol,
    TalkState,
    TurnEnd,
)


def started(rate: int = 24000) -> TalkProtocol:
    protocol = TalkProtocol()
    assert protocol.receive(json.dumps({"type": "start", "sample_rate": rate})) == Start(rate)
    return protocol


def test_start_then_audio_then_hangup() -> None:
    protocol = started(48000)
    assert protocol.state is TalkState.STARTED
    assert protocol.receive('{"type": "interrupt"}') == Interrupt()
    assert protocol.receive(b"\x01\x02" * 960) == Audio(b"\x01\x02" * 960)
    assert protocol.receive('{"type": "turn_end"}') == TurnEnd()
    assert protocol.receive('{"type": "hangup"}') == Hangup()
    assert isinstance(protocol.receive(b"\x00\x00"), Ignored)  # after the end
    assert protocol.ignored == 1


@pytest.mark.parametrize("rate", [0, 7999, 192001, "48000", 48000.0, True, None, [48000]])
def test_a_start_with_a_bad_rate_starts_nothing(rate: object) -> None:
    protocol = TalkProtocol()
    event = protocol.receive(json.dumps({"type": "start", "sample_rate": rate}))
    assert isinstance(event, Ignored) and "sample_rate" in event.reason
    assert protocol.state is TalkState.WAITING


def test_nothing_counts_before_start() -> None:
    protocol = TalkProtocol()
    for frame in (b"\x00\x01" * 160, '{"type": "played", "item_id": "x", "played_ms": 1}',
                  '{"type": "turn_end"}', '{"type": "interrupt"}', '{"type": "hangup"}'):
        assert isinstance(protocol.receive(frame), Ignored)
    assert protocol.state is TalkState.WAITING
    assert protocol.ignored == 5


@pytest.mark.parametrize("frame", [
    "not json", "[1, 2]", "42", '"start"', "{}", '{"type": 7}', '{"type": "unheard-of"}',
    '{"type": "start", "sample_rate": 16000}',  # a second start
    "[" * 100_000, "[" * 4000, '{"type": "played", "pad": "' + "x" * 5000 + '"}',
    b"", b"\x00", b"\x00" * 3, b"\x00" * (2 * 24000 + 2),  # empty, odd, over one second
    '{"type": "played", "item_id": 5, "played_ms": 10}',
    '{"type": "played", "item_id": "it_1", "played_ms": -1}',
    '{"type": "played", "item_id": "it_1", "played_ms": "10"}',
    '{"type": "played", "item_id": "it_1", "played_ms": NaN}',
    '{"type": "played", "item_id": "it_1", "played_ms": Infinity}',
    '{"type": "played", "item_id": "never-sent", "played_ms": 10}',
])
def test_junk_is_ignored_and_counted_never_raised(frame: str | bytes) -> None:
    protocol = started(24000)
    protocol.audio(b"\x00\x00" * 2400, "it_1")
    assert isinstance(protocol.receive(frame), Ignored)
    assert protocol.ignored == 1
    assert protocol.state is TalkState.STARTED


def test_the_page_may_not_claim_more_was_played_than_was_sent() -> None:
    protocol = started(24000)
    protocol.audio(b"\x00\x00" * 24000, "it_1")  # one second
    assert protocol.receive(json.dumps({"type": "played", "item_id": "it_1",
                                        "played_ms": 400})) == Played("it_1", 400)
    claimed = protocol.receive(json.dumps({"type": "played", "item_id": "it_1",
                                           "played_ms": 99_999}))
    assert claimed == Played("it_1", 1050)  # what was sent, plus the clock's slack


def test_agent_audio_names_its_item_once_and_again_after_a_clear() -> None:
    protocol = started(16000)
    first = protocol.audio(b"\x01\x00" * 320, "it_a")
    assert first == ['{"type":"audio","item_id":"it_a"}', b"\x01\x00" * 320]
    assert protocol.audio(b"\x02\x00" * 320, "it_a") == [b"\x02\x00" * 320]
    assert protocol.audio(b"", "it_b") == []
    assert json.loads(protocol.clear("barge-in")) == {"type": "clear", "reason": "barge-in"}
    assert protocol.audio(b"\x03\x00" * 320, "it_a")[0] == '{"type":"audio","item_id":"it_a"}'


def test_only_recent_items_can_be_reported() -> None:
    protocol = started(8000)
    for n in range(40):
        protocol.audio(b"\x00\x00" * 80, f"it_{n}")
    assert isinstance(protocol.receive('{"type":"played","item_id":"it_0","played_ms":5}'),
                      Ignored)
    assert protocol.receive('{"type":"played","item_id":"it_39","played_ms":5}') == \
        Played("it_39", 5)


def test_transcript_frames_carry_the_whole_line_so_far() -> None:
    protocol = started()

    def text(frame: str | None) -> tuple[str, bool]:
        assert frame is not None
        message = json.loads(frame)
        return message["text"], message["final"]

    assert text(protocol.transcript("agent", "Hello", False, "it_1")) == ("Hello", False)
    assert text(protocol.transcript("agent", ", there", False, "it_1")) == ("Hello, there",
                                                                          False)
    assert text(protocol.transcript("agent", "Hello, there.", True, "it_1")) == (
        "Hello, there.", True)
    # caller partials are the whole line already
    assert text(protocol.transcript("user", "where is", False, "it_2")) == ("where is", False)
    assert text(protocol.transcript("user", "where is my", False, "it_2")) == ("where is my",
                                                                             False)
    assert protocol.transcript("user", "  ", True, "it_3") is None


def test_outgoing_text_is_json_even_for_hostile_content() -> None:
    protocol = started()
    name = '</script><script>alert(1)</script>"\n'
    frame = protocol.tool_call("c1", name, '{"a": 1}', None, None)
    assert json.loads(frame) == {"type": "tool_call", "call_id": "c1", "name": name,
                                 "arguments": '{"a": 1}', "output": None, "ok": None}
    assert json.loads(protocol.error("busy", "All lines are busy."))["code"] == "busy"
    assert json.loads(protocol.ready("WB1", name)) == {
        "type": "ready", "call_id": "WB1", "agent": name, "sample_rate": 24000,
        "manual_turns": False}
