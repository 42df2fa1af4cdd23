"""Phone calls end to end: Twilio (played by the test) → the running service → the simulator."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from typing import Any

import pytest
from agentrun.sim._audio import chunk_b64
from twilio_fake import call_sid, parse_twiml, placed_call, post_webhook, webhook_form

CALLER = "+15551230001"


def appended_audio(sim: Any) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in sim.received
                    if e["type"] == "input_audio_buffer.append")


def test_webhook_answers_twiml_that_connects_a_stream_with_caller_call_and_token(
        served: Any) -> None:
    async def main(server: Any) -> None:
        response = await post_webhook(server.url, "line", webhook_form(call_sid(7), CALLER))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/xml")
        url, params = parse_twiml(response.text)
        assert url == f"ws://127.0.0.1:{server.port}/twilio/line/stream"
        assert params["caller"] == CALLER and params["call_id"] == call_sid(7)
        assert len(params["token"]) > 40 and "?" not in url  # Twilio drops query strings

    with served() as (server, _):
        asyncio.run(main(server))


def test_public_url_and_proxy_headers_decide_the_stream_host(served: Any) -> None:
    async def main(server: Any) -> None:
        response = await post_webhook(server.url, "line", webhook_form(call_sid(), CALLER),
                                      headers={"X-Forwarded-Proto": "https",
                                               "X-Forwarded-Host": "voice.example.com"})
        url, _ = parse_twiml(response.text)
        assert url == "wss://voice.example.com/twilio/line/stream"

    with served() as (server, _):
        asyncio.run(main(server))
    with served(public_url="https://calls.example.org/") as (server, _):
        response = asyncio.run(post_webhook(server.url, "line", webhook_form(call_sid(), CALLER)))
        assert parse_twiml(response.text)[0] == "wss://calls.example.org/twilio/line/stream"


def test_a_phone_call_passes_mulaw_through_byte_for_byte_both_ways(
        served: Any, speech_ulaw: bytes) -> None:
    """The caller's μ-law reaches the realtime API unchanged, and the agent's comes back
    unchanged; the session is pcmu both ways although the YAML says PCM 24 kHz."""
    async def main(server: Any, sim: Any) -> Any:
        stream = await placed_call(server.url, "line", call_sid(1), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)  # the greeting
            await stream.speak(speech_ulaw, paced=False)
            await stream.silence(600, paced=False)
            await stream.wait_for(lambda: any(e["type"] == "response.create"
                                              or e["type"] == "input_audio_buffer.append"
                                              for e in sim.received))
            await asyncio.sleep(0.3)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)
        return stream

    with served() as (server, sim):
        stream = asyncio.run(main(server, sim))
    update = next(e for e in sim.received if e["type"] == "session.update")
    assert update["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert update["session"]["audio"]["output"]["format"] == {"type": "audio/pcmu"}
    sent = speech_ulaw + b"\xff" * 4800
    assert appended_audio(sim) == sent
    # the simulator streams a cached μ-law tone chunk (the last of a reply may be shorter)
    assert stream.heard.media
    for _, chunk in stream.heard.media:
        assert chunk == base64.b64decode(chunk_b64(("audio/pcmu", 8000), len(chunk) // 8))


def test_the_callers_number_and_call_id_reach_the_instructions(served: Any) -> None:
    async def main(server: Any) -> None:
        stream = await placed_call(server.url, "line", call_sid(42), "+4930123456")
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)

    with served() as (server, sim):
        asyncio.run(main(server))
    update = next(e for e in sim.received if e["type"] == "session.update")
    assert ("The caller's number is +4930123456; call " + call_sid(42)
            in update["session"]["instructions"])


async def barge_into_the_greeting(server: Any, speech_ulaw: bytes, agent: str = "line"
                                  ) -> tuple[Any, int, list[float]]:
    """Hear ten marks of the greeting, then talk over it for a second (in real time)."""
    stream = await placed_call(server.url, agent, call_sid(3), CALLER)
    async with stream:
        await stream.start()
        await stream.wait_for(lambda: len(stream.heard.echoed) >= 10)
        media_before = len(stream.heard.media)
        await stream.speak(speech_ulaw[:8000])  # one second of speech, in real time
        await stream.wait_for(lambda: stream.heard.clears)
        await asyncio.sleep(0.5)
        after_clear = [t for t, _ in stream.heard.media if t > stream.heard.clears[0]]
        await stream.stop()
        await asyncio.wait_for(stream.closed, 20)
    return stream, media_before, after_clear


def heard_accounts(caplog: pytest.LogCaptureFixture) -> list[tuple[int, int]]:
    """The engine's barge-in accounts: (ms the caller heard, ms generated), in order."""
    heard = [re.search(r"the caller heard (\d+) ms of (\d+) ms", r.getMessage())
             for r in caplog.records]
    return [(int(m[1]), int(m[2])) for m in heard if m]


def test_barge_in_clears_twilio_at_once_and_no_more_of_that_reply_comes(
        served: Any, speech_ulaw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    """The greeting streams in real time with marks; Twilio echoes them as it plays. The
    caller talks over it: the service sends ``clear`` and no more of that reply."""
    caplog.set_level(logging.DEBUG, logger="agentrun")
    long_greeting = {"audio": {"chunk_ms": 20, "pace": "realtime"}}
    with served(scenario=long_greeting) as (server, _):
        stream, media_before, after_clear = asyncio.run(
            barge_into_the_greeting(server, speech_ulaw))
    assert stream.heard.marks, "no marks were sent with the agent's audio"
    assert len(stream.heard.media) >= media_before
    assert not after_clear, "agent audio of the interrupted reply kept coming after clear"
    accounts = heard_accounts(caplog)
    assert accounts, "the engine got no account of what was heard"
    # played can equal generated here: on a loaded machine the real-time simulator falls
    # behind the phone's playback (an underrun), and then the caller did hear it all
    played, generated = accounts[0]
    assert 0 < played <= generated


def test_marks_report_what_was_heard_of_audio_sent_ahead(
        served: Any, agents: Any, speech_ulaw: bytes, caplog: pytest.LogCaptureFixture) -> None:
    """The server sends a long greeting faster than real time, as Grok does; Twilio buffers
    it and echoes each mark as it plays. Cut off after about a second, the engine's account
    of what the caller heard comes from the marks: far less than was generated."""
    (agents / "chatty.yaml").write_text((agents / "line.yaml").read_text().replace(
        "greeting: Hello, thanks for calling Acme. How can I help you today?",
        "greeting: " + "Please hold the line. " * 10))  # 13 s of audio
    caplog.set_level(logging.DEBUG, logger="agentrun")
    with served(scenario={"audio": {"chunk_ms": 20, "pace": "fast"}}) as (server, _):
        stream, _, _ = asyncio.run(barge_into_the_greeting(server, speech_ulaw, "chatty"))
    assert stream.heard.clears, "the barge-in did not clear Twilio's buffer"
    accounts = heard_accounts(caplog)
    assert accounts, "the engine got no account of what was heard"
    played, generated = accounts[0]
    assert generated > 12000, accounts  # all of it was sent before the caller spoke
    # ten marks were echoed before the caller spoke; the cut came within a few seconds
    assert 500 <= played < generated - 5000, accounts


def test_keypad_digits_reach_the_model(served: Any) -> None:
    async def main(server: Any, sim: Any) -> None:
        stream = await placed_call(server.url, "line", call_sid(5), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            await stream.dtmf("7")
            await stream.wait_for(lambda: any("pressed 7" in json.dumps(e)
                                              for e in sim.received))
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)

    with served() as (server, sim):
        asyncio.run(main(server, sim))


def test_record_writes_each_phone_call_with_channel_caller_and_call_id(
        served: Any, tmp_path: Any, speech_ulaw: bytes) -> None:
    records = tmp_path / "records"

    async def main(server: Any) -> None:
        stream = await placed_call(server.url, "line", call_sid(21), "+4930999888")
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            await stream.speak(speech_ulaw[:4000], paced=False)
            await stream.silence(600, paced=False)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)

    with served(record=str(records)) as (server, _):
        asyncio.run(main(server))
    (report_file,) = records.glob("*/report.json")
    report = json.loads(report_file.read_text())
    assert report["channel"] == "twilio"
    assert report["caller"] == "+4930999888"
    assert report["call_id"] == call_sid(21)
    assert (report_file.parent / "audio.wav").stat().st_size > 44
