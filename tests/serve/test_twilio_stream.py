"""The Media Streams protocol core, sans-I/O: messages in, events out."""

from __future__ import annotations

import base64
import json

from agentrun.serve._twilio_stream import (
    Dtmf,
    Ignored,
    Marked,
    Media,
    MediaStream,
    Started,
    Stopped,
    StreamState,
)

SID = "MZ" + "a" * 32


def started() -> MediaStream:
    stream = MediaStream()
    event = stream.receive(json.dumps({"event": "start", "streamSid": SID, "start": {
        "streamSid": SID, "callSid": "CA1", "accountSid": "AC1",
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"token": "t", "caller": "+1"}}}))
    assert isinstance(event, Started) and event.parameters == {"token": "t", "caller": "+1"}
    assert stream.state is StreamState.STARTED
    return stream


def test_media_marks_dtmf_and_stop_become_events() -> None:
    stream = started()
    payload = base64.b64encode(b"\x01\x02").decode()
    assert stream.receive(json.dumps({"event": "media", "streamSid": SID,
                                      "media": {"track": "inbound", "payload": payload}})) \
        == Media(b"\x01\x02")
    assert stream.receive(json.dumps({"event": "dtmf", "streamSid": SID,
                                      "dtmf": {"digit": "#"}})) == Dtmf("#")
    assert stream.receive(json.dumps({"event": "stop", "streamSid": SID})) == Stopped()
    assert isinstance(stream.receive(json.dumps({"event": "media", "streamSid": SID})), Ignored)


def test_agent_audio_goes_out_byte_for_byte_with_marks_that_tell_what_was_heard() -> None:
    stream = started()
    out = stream.media(b"\xff" * 160, "item_1") + stream.media(b"\x7f" * 80, "item_1")
    media = [json.loads(m) for m in out if '"media"' in m]
    assert [base64.b64decode(m["media"]["payload"]) for m in media] == [b"\xff" * 160,
                                                                        b"\x7f" * 80]
    assert all(m["streamSid"] == SID for m in media)
    assert not [m for m in out if '"mark"' in m]  # 30 ms: no mark yet, the tail gets one
    tail = stream.tail_mark()
    assert tail is not None and stream.tail_mark() is None
    echo = {"event": "mark", "streamSid": SID, "mark": {"name": json.loads(tail)["mark"]["name"]}}
    assert stream.receive(json.dumps(echo)) == Marked("item_1", 30)


def test_a_mark_every_100_ms_of_audio_and_at_the_end_of_each_item() -> None:
    """One mark per 100 ms of agent audio (not one per 20 ms message: half the traffic), and
    the previous item's last audio is marked before another item's audio goes out."""
    stream = started()
    out: list[str] = []
    for _ in range(12):  # 240 ms of item_1 in 20 ms messages
        out += stream.media(b"\xff" * 160, "item_1")
    out += stream.media(b"\xff" * 160, "item_2")
    marks = [json.loads(m)["mark"]["name"] for m in out if '"mark"' in m]
    assert len([m for m in out if '"media"' in m]) == 13 and len(marks) == 3
    heard = [stream.receive(json.dumps({"event": "mark", "streamSid": SID,
                                        "mark": {"name": name}})) for name in marks]
    assert heard == [Marked("item_1", 100), Marked("item_1", 200), Marked("item_1", 240)]


def test_marks_echoed_after_clear_say_nothing_and_are_not_bad_input() -> None:
    stream = started()
    stream.media(b"\xff" * 160, "item_1")
    name = json.loads(stream.tail_mark() or "")["mark"]["name"]
    assert json.loads(stream.clear()) == {"event": "clear", "streamSid": SID}
    for _ in range(1000):
        event = stream.receive(json.dumps({"event": "mark", "streamSid": SID,
                                           "mark": {"name": name}}))
        assert isinstance(event, Ignored)
    assert stream.ignored == 0
    stream.receive(json.dumps({"event": "mark", "streamSid": SID, "mark": {"name": "x"}}))
    assert stream.ignored == 1


def test_junk_never_raises() -> None:
    stream = MediaStream()
    for junk in ["", "{", "[]", "null", '{"event": null}', '{"event": "start"}',
                 '{"event": "start", "start": []}', '{"event": "media"}', "[" * 10000,
                 b"\xff\xfe", '{"event": "start", "streamSid": "bad sid!", "start": {}}']:
        assert isinstance(stream.receive(junk), Ignored)
    assert stream.state is StreamState.WAITING
