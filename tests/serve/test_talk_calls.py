"""Calls through the talk socket against the running service and the simulator: audio both
ways at the page's rate, transcript lines, tool calls, barge-in and what the caller heard."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import pathlib
import re
import subprocess
from typing import Any

import numpy as np
import pytest
from agentrun.audio import ulaw_decode, wav_to_session
from talk_client import TalkClient

CLOCK_AGENT = """\
name: Clock Desk
instructions: You tell the time.
greeting: Hello, this is the clock desk.
turn_detection: {type: server_vad, silence_duration_ms: 300}
tools:
  - current_time
"""

PHONE_STYLE_AGENT = """\
name: Narrowband
instructions: You answer.
greeting: Hello from a narrowband line.
turn_detection: {type: server_vad, silence_duration_ms: 300}
audio:
  input: {format: pcmu}
  output: {format: pcmu}
"""


@pytest.fixture(scope="module")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    wav = tmp_path_factory.mktemp("talk") / "question.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "What time is it in Berlin?"], check=True)
    return wav


def appended(sim: Any) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in sim.received
                    if e["type"] == "input_audio_buffer.append")


def dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def finals(page: TalkClient, role: str) -> list[str]:
    return [t["text"] for t in page.heard.transcripts if t["final"] and t["role"] == role]


def test_a_call_at_the_pages_rate_is_resampled_both_ways(served: Any,
                                                          speech_wav: pathlib.Path) -> None:
    """The page runs at 48 kHz, the agent at 24 kHz: the service resamples both ways (soxr),
    the page hears the agent's voice at its own rate and the model gets the caller's."""
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=48000)
    silence = b"\x00\x00" * (48000 * 6 // 10)

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            await page.start(48000)
            await page.wait_for(lambda: page.heard.ready)
            await page.wait_for(lambda: finals(page, "agent"))  # the greeting
            await page.speak(speech + silence, 48000)
            await page.wait_for(lambda: len(finals(page, "agent")) >= 2)  # the answer
            await page.wait_for(lambda: finals(page, "user"))
            await page.hangup()
            await asyncio.wait_for(page.closed, 20)
        return page

    with served() as (server, sim):
        page = asyncio.run(main(server))
        assert server.service.active_calls == 0
    ready = page.heard.ready
    assert ready is not None and ready["sample_rate"] == 48000 and ready["agent"] == "Test Line"
    assert re.fullmatch(r"WB[0-9a-f]{32}", ready["call_id"])
    greeting = page.heard.audio_of(page.heard.items[0])
    # the simulator's voice is a 400 Hz tone: still 400 Hz at the page's rate, still as loud
    assert abs(dominant_hz(greeting, 48000) - 400) < 5
    assert 600 < np.sqrt(np.mean(np.frombuffer(greeting, "<i2").astype(float) ** 2)) < 1100
    assert finals(page, "agent")[0] == "Hello, thanks for calling Acme. How can I help you today?"
    assert finals(page, "user") == ["(simulated transcript)"]
    sent_seconds = len(speech + silence) / 2 / 48000
    got_seconds = len(appended(sim)) / 2 / 24000
    assert abs(got_seconds - sent_seconds) < 0.02, (got_seconds, sent_seconds)


def test_tool_calls_show_when_they_start_and_when_they_finish(served: Any, agents: Any,
                                                              speech_wav: pathlib.Path) -> None:
    (agents / "clock.yaml").write_text(CLOCK_AGENT)
    scenario = {"responses": [
        {"call": "current_time", "arguments": {"timezone": "Europe/Berlin"}},
        {"say": "It is noon in Berlin."}]}
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=24000)

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "clock") as page:
            await page.start(24000)
            await page.wait_for(lambda: finals(page, "agent"))
            await page.speak(speech + b"\x00\x00" * 24000, 24000)
            await page.wait_for(lambda: "It is noon in Berlin." in finals(page, "agent"))
            await page.hangup()
        return page

    with served(scenario=scenario) as (server, _):
        page = asyncio.run(main(server))
    started, finished = page.heard.tool_calls
    assert started["name"] == finished["name"] == "current_time"
    assert started["call_id"] == finished["call_id"]
    assert started["arguments"] == '{"timezone":"Europe/Berlin"}'
    assert started["output"] is None and started["ok"] is None
    assert finished["ok"] is True and '"timezone":"Europe/Berlin"' in finished["output"]
    # in the order they happened: the tool ran before the answer that used it
    kinds = [m["type"] for m in page.heard.texts if m["type"] in ("tool_call", "transcript")
             and (m["type"] == "tool_call" or m["final"])]
    assert kinds.index("tool_call") < len(kinds) - 1


def test_barge_in_clears_the_page_at_once_and_the_engine_hears_the_pages_clock(
        served: Any, speech_wav: pathlib.Path, caplog: pytest.LogCaptureFixture) -> None:
    """The greeting streams in real time; the page says 300 ms of it have played, then the
    caller talks over it: the page gets ``clear`` and no more of that reply, and the engine's
    account of what was heard is the page's report, not what was generated."""
    caplog.set_level(logging.DEBUG, logger="agentrun")
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=24000)
    realtime = {"audio": {"chunk_ms": 20, "pace": "realtime"}}

    async def main(server: Any) -> tuple[TalkClient, list[Any]]:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: len(page.heard.audio) >= 25)  # 0.5 s of the greeting
            greeting = page.heard.items[0]
            await page.played(greeting, 300)
            await page.speak(speech[:48000], 24000, paced=True)  # one second, in real time
            await page.wait_for(lambda: page.heard.clears)
            await asyncio.sleep(0.5)
            after = [i for t, i, _ in page.heard.audio
                     if t > page.heard.clears[0] and i == greeting]
            await page.hangup()
        return page, after

    with served(scenario=realtime) as (server, _):
        page, after = asyncio.run(main(server))
    assert page.heard.clears
    assert not after, "audio of the interrupted reply kept coming after clear"
    heard = [re.search(r"the caller heard (\d+) ms of (\d+) ms", r.getMessage())
             for r in caplog.records]
    accounts = [(int(m[1]), int(m[2])) for m in heard if m]
    assert accounts, "the engine got no account of what was heard"
    played, generated = accounts[0]
    assert played == 300 and generated >= 500


def test_a_g711_agent_talks_to_the_page_in_pcm16(served: Any, agents: Any,
                                                speech_wav: pathlib.Path) -> None:
    """An agent whose audio is μ-law 8 kHz both ways: the page still sends and hears PCM16
    at its own rate; the model gets μ-law."""
    (agents / "narrow.yaml").write_text(PHONE_STYLE_AGENT)
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=16000)

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "narrow") as page:
            await page.start(16000)
            await page.wait_for(lambda: finals(page, "agent"))
            await page.speak(speech + b"\x00\x00" * 16000, 16000)
            await page.wait_for(lambda: len(finals(page, "agent")) >= 2)
            await page.hangup()
        return page

    with served() as (server, sim):
        page = asyncio.run(main(server))
    update = next(e for e in sim.received if e["type"] == "session.update")
    assert update["session"]["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    greeting = page.heard.audio_of(page.heard.items[0])
    assert abs(dominant_hz(greeting, 16000) - 400) < 5
    mulaw = appended(sim)
    assert abs(len(mulaw) / 8000 - (len(speech) / 2 / 16000 + 1)) < 0.02  # one byte a sample
    level = np.abs(np.frombuffer(ulaw_decode(mulaw), "<i2")).max()
    assert level > 3000  # the caller's speech, not silence


def test_a_recorded_browser_call_names_its_channel_caller_and_id(
        served: Any, speech_wav: pathlib.Path, tmp_path: pathlib.Path) -> None:
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=24000)

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: finals(page, "agent"))
            await page.speak(speech + b"\x00\x00" * 24000, 24000)
            await page.wait_for(lambda: len(finals(page, "agent")) >= 2)
            await page.hangup()
            await asyncio.wait_for(page.closed, 20)
        return page

    with served(record=tmp_path / "calls") as (server, _):
        page = asyncio.run(main(server))
    (report_file,) = (tmp_path / "calls").glob("*/report.json")
    report = json.loads(report_file.read_text())
    assert page.heard.ready is not None
    assert report["channel"] == "browser" and report["caller"] == "127.0.0.1"
    assert report["call_id"] == page.heard.ready["call_id"]
    assert report["audio"]["caller_seconds"] > 1.0  # the caller's words are in the record


def test_a_push_to_talk_agent_hears_a_turn_when_the_page_releases_the_button(
        served: Any, agents: Any, speech_wav: pathlib.Path) -> None:
    """``turn_detection: manual``: the page is told, sends the microphone only while the
    button is held, cuts the agent off when it is pressed, and ends the turn on release."""
    (agents / "ptt.yaml").write_text(CLOCK_AGENT.replace(
        "{type: server_vad, silence_duration_ms: 300}", "{type: manual}"))
    speech = wav_to_session(str(speech_wav), encoding="pcm", rate=24000)
    realtime = {"audio": {"chunk_ms": 20, "pace": "realtime"},
                "responses": [{"say": "You asked something."}]}

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "ptt") as page:
            await page.start(24000)
            await page.wait_for(lambda: len(page.heard.audio) >= 10)  # the greeting plays
            await page.send('{"type": "interrupt"}')  # pressed while the agent speaks
            await page.wait_for(lambda: page.heard.clears)
            await page.speak(speech, 24000)
            await page.send('{"type": "turn_end"}')  # released
            await page.wait_for(lambda: "You asked something." in finals(page, "agent"))
            await page.hangup()
        return page

    with served(scenario=realtime) as (server, sim):
        page = asyncio.run(main(server))
    assert page.heard.ready is not None and page.heard.ready["manual_turns"] is True
    kinds = [e["type"] for e in sim.received]
    assert "response.cancel" in kinds  # the greeting was cut off
    assert "response.create" in kinds[kinds.index("input_audio_buffer.commit"):]
    assert appended(sim) == speech  # at the agent's rate: byte for byte
