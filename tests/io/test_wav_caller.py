"""WAV callers: spoken conversations from espeak-ng speech, end to end against the simulator."""

from __future__ import annotations

import asyncio
import base64
import json
import pathlib
from typing import Any

import pytest
from agentrun.agent import Agent
from agentrun.audio import decode, sound_info, wav_to_session
from agentrun.engine.actions import PlayAudio, StopPlayback
from agentrun.engine.observe import WireFrame
from agentrun.io import WavCaller, WavTurn
from agentrun.sim import Scenario, Simulator

AGENT = """\
name: Speech
instructions: Be brief.
greeting: Hello, this is the shop.
turn_detection: {turn_detection}
audio:
  input: {input}
  output: {{format: pcm, rate: 24000}}
"""


class Wire:
    """Observes the call: every frame in both directions and every action, with times."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, Any]] = []

    def observe(self, now: float, what: Any) -> None:
        self.seen.append((now, what))

    def frames(self) -> list[tuple[float, str, dict[str, Any]]]:
        return [(now, w.direction, json.loads(w.text)) for now, w in self.seen
                if isinstance(w, WireFrame)]

    def turns(self) -> list[bytes]:
        """Caller audio sent, split where each reply is done (one entry per caller turn)."""
        turns: list[bytes] = []
        current = bytearray()
        for _, direction, event in self.frames():
            if direction == "out" and event["type"] == "input_audio_buffer.append":
                current += base64.b64decode(event["audio"])
            elif direction == "in" and event["type"] == "response.done" and current:
                turns.append(bytes(current))
                current = bytearray()
        return turns


def agent_file(tmp_path: pathlib.Path, *, manual: bool = False,
               input_format: str = "{format: pcm, rate: 24000}") -> str:
    vad = "{type: manual}" if manual else "{type: server_vad, silence_duration_ms: 400}"
    path = tmp_path / "speech.yaml"
    path.write_text(AGENT.format(turn_detection=vad, input=input_format), encoding="utf-8")
    return str(path)


def call(agent_path: str, caller: WavCaller, scenario: Any = None) -> tuple[Any, Wire, Any]:
    wire = Wire()

    async def main() -> tuple[Any, Any]:
        async with Simulator(Scenario.load(scenario)) as sim:
            agent = Agent.load(agent_path)
            result = await asyncio.wait_for(agent.run(caller, url=sim.url, observers=[wire]),
                                            60)
            return result, sim

    result, sim = asyncio.run(main())
    return result, wire, sim


def heard_seconds(caller: WavCaller) -> list[float]:
    """The simulator's replies to audio turns say how much speech it heard."""
    return [float(text.split("heard ")[1].split(" s")[0])
            for role, text in caller.transcripts if role == "agent" and "I heard" in text]


def test_two_spoken_turns_with_server_vad_each_get_a_reply(
        tmp_path: pathlib.Path, speech_wav: Any) -> None:
    q1 = speech_wav("Hello, where is my order number one two three four?", "q1")
    q2 = speech_wav("Thank you, goodbye.", "q2")
    caller = WavCaller([str(q1), str(q2)], fast=True)
    result, wire, _ = call(agent_file(tmp_path), caller)

    assert result.exit_code == 0 and caller.unanswered == []
    assert [role for role, _ in caller.transcripts] == ["agent", "user", "agent", "user",
                                                        "agent"]
    # the files end right after the speech: trailing silence ended each turn (400 ms VAD)
    for heard, wav in zip(heard_seconds(caller), (q1, q2), strict=True):
        assert sound_info(str(wav)).seconds - 0.2 <= heard <= sound_info(str(wav)).seconds + 0.7
    # each turn's audio is the file, converted exactly, then silence; and the second turn
    # was only spoken once the reply to the first was done
    turns = wire.turns()
    assert len(turns) == 2
    for sent, wav in zip(turns, (q1, q2), strict=True):
        speech = wav_to_session(str(wav), encoding="pcm", rate=24000)
        assert sent.startswith(speech)
        assert not any(sent[len(speech):])  # then only silence


def test_manual_turns_end_with_a_commit_and_no_padding(tmp_path: pathlib.Path,
                                                        speech_wav: Any) -> None:
    q1 = speech_wav("I would like to cancel my subscription.", "q1")
    caller = WavCaller([str(q1)], fast=True)
    result, wire, sim = call(agent_file(tmp_path, manual=True), caller)

    assert result.exit_code == 0 and caller.unanswered == []
    assert wire.turns() == [wav_to_session(str(q1), encoding="pcm", rate=24000)]
    kinds = [event["type"] for event in sim.received]
    last_append = max(i for i, kind in enumerate(kinds) if kind == "input_audio_buffer.append")
    assert kinds[last_append + 1:last_append + 3] == ["input_audio_buffer.commit",
                                                      "response.create"]
    assert heard_seconds(caller) == [pytest.approx(sound_info(str(q1)).seconds, abs=0.1)]


@pytest.mark.parametrize("encoding", ["pcmu", "pcma"])
def test_a_phone_rate_session_gets_g711_of_the_speech(tmp_path: pathlib.Path, speech_wav: Any,
                                                      encoding: str) -> None:
    """A 44.1 kHz stereo 24-bit WAV becomes 8 kHz G.711 that decodes back to the speech."""
    q1 = speech_wav("My card was charged twice.", "q1", rate=44100, channels=2,
                    subtype="PCM_24")
    caller = WavCaller([str(q1)], fast=True)
    result, wire, _ = call(agent_file(tmp_path, input_format=f"{{format: {encoding}}}"), caller)

    assert result.exit_code == 0 and caller.unanswered == []
    (sent,) = wire.turns()
    seconds = sound_info(str(q1)).seconds
    speech = wav_to_session(str(q1), encoding=encoding, rate=8000)
    assert sent.startswith(speech) and abs(len(speech) - seconds * 8000) <= 1  # 1 byte/sample
    pcm = decode(speech, encoding)
    assert max(abs(int.from_bytes(pcm[i:i + 2], "little", signed=True))
               for i in range(0, len(pcm), 2)) > 3000  # speech, not silence or noise


def test_paced_turns_take_real_time_and_wait_for_the_reply_to_be_heard(
        tmp_path: pathlib.Path, speech_wav: Any) -> None:
    q1 = speech_wav("Yes.", "q1")
    caller = WavCaller([str(q1)])  # paced
    result, wire, _ = call(agent_file(tmp_path), caller)

    assert result.exit_code == 0 and caller.unanswered == []
    greeting = [(now, a) for now, a in wire.seen if isinstance(a, PlayAudio)]
    appends = [now for now, direction, event in wire.frames()
               if direction == "out" and event["type"] == "input_audio_buffer.append"]
    greeting_ms = sum(len(a.audio) for _, a in greeting if a.item_id == greeting[0][1].item_id
                      ) / 48
    # the caller listened to the whole greeting before speaking...
    assert appends[0] >= greeting[0][0] + greeting_ms / 1000 - 0.05
    # ...and spoke in real time: the file (plus trailing silence) took at least its length
    assert appends[-1] - appends[0] >= sound_info(str(q1)).seconds * 0.9


def test_a_turn_can_barge_in_on_the_reply(tmp_path: pathlib.Path, speech_wav: Any) -> None:
    """``WavTurn.barge_in_ms``: speak over the agent; its playback stops, and it answers."""
    import soundfile

    q1 = speech_wav("Tell me everything about my order.", "q1")
    q2 = speech_wav("Stop, stop.", "q2")
    samples, rate = soundfile.read(q2, dtype="float32", always_2d=True)
    long_story = ("Your order is a long story. " * 8).strip()
    scenario = {"audio": {"pace": "realtime", "chunk_ms": 20},
                "responses": [{"say": long_story}, {"say": "Sorry, stopping."}]}
    caller = WavCaller([str(q1), WavTurn(str(q2), samples, rate, barge_in_ms=500)], fast=True)
    result, wire, _ = call(agent_file(tmp_path), caller, scenario)

    assert result.exit_code == 0 and caller.unanswered == []
    reply_started = next(now for now, direction, event in wire.frames()
                         if direction == "in" and event["type"] == "response.created"
                         and now > wire.frames()[0][0] + 0.01 and _after_speech(wire, now))
    stops = [now for now, action in wire.seen if isinstance(action, StopPlayback)]
    assert any(now >= reply_started + 0.4 for now in stops)  # the barge-in, ~500 ms in
    agent_lines = [text for role, text in caller.transcripts if role == "agent"]
    assert agent_lines[0] == "Hello, this is the shop."
    assert long_story.startswith(agent_lines[1]) and len(agent_lines[1]) < len(long_story)
    assert agent_lines[2] == "Sorry, stopping."


def _after_speech(wire: Wire, when: float) -> bool:
    """Whether caller audio was sent before ``when`` (so a response then answers the caller)."""
    return any(direction == "out" and event["type"] == "input_audio_buffer.append"
               and now < when for now, direction, event in wire.frames())


def half_duplex_agent(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "speakerphone.yaml"
    path.write_text(AGENT.format(turn_detection="{type: server_vad, silence_duration_ms: 400}",
                                 input="{format: pcm, rate: 24000}")
                    + "interruptions: {half_duplex: true}\n", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "paced"])
def test_a_half_duplex_agent_hears_each_turn_whole(tmp_path: pathlib.Path, speech_wav: Any,
                                                   fast: bool) -> None:
    """The WAV caller speaks once it has heard the reply, and says so: the engine must not
    take the agent for still speaking and mute the caller (half-duplex) or barge in.

    ``--fast`` used to mute every turn (no reply, exit 1 after 60 s); paced turns lost their
    first ~300 ms (the engine's real-time estimate outlived the reply by a grace period).
    """
    q1 = speech_wav("Hello, where is my order?", "q1")
    q2 = speech_wav("Thank you.", "q2")
    caller = WavCaller([str(q1), str(q2)], fast=fast, reply_timeout=15)
    result, wire, _ = call(half_duplex_agent(tmp_path), caller)

    assert result.exit_code == 0 and caller.unanswered == []
    turns = wire.turns()
    assert len(turns) == 2
    for sent, wav in zip(turns, (q1, q2), strict=True):
        assert sent.startswith(wav_to_session(str(wav), encoding="pcm", rate=24000))
    assert not [m for m in result.metrics if m.name == "reply_heard"]  # nothing was cut


def test_a_fast_caller_is_recorded_without_barge_ins(tmp_path: pathlib.Path,
                                                     speech_wav: Any) -> None:
    """``--fast`` hears each reply at once: the record shows no reply cut by the caller."""
    q1 = speech_wav("Hello, where is my order?", "q1")
    q2 = speech_wav("Thank you.", "q2")
    caller = WavCaller([str(q1), str(q2)], fast=True, reply_timeout=15)

    async def main() -> Any:
        async with Simulator(Scenario.load(None)) as sim:
            agent = Agent.load(agent_file(tmp_path))
            return await asyncio.wait_for(
                agent.run(caller, url=sim.url, record=str(tmp_path / "records")), 60)

    result = asyncio.run(main())
    assert result.exit_code == 0 and caller.unanswered == []
    folder = pathlib.Path(result.record)
    lines = [json.loads(line) for line in
             (folder / "transcript.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [line["role"] for line in lines if line["role"] == "agent"] == ["agent"] * 3
    assert not [line for line in lines if line.get("interrupted")]
    assert json.loads((folder / "report.json").read_text(encoding="utf-8"))["barge_ins"] == []


def test_a_paced_barge_in_tells_the_engine_what_was_heard(tmp_path: pathlib.Path,
                                                          speech_wav: Any) -> None:
    """The whole reply arrives at once, the caller cuts in 500 ms into hearing it: the engine
    learns from the virtual speaker's reports that about half a second was heard, not all."""
    import soundfile

    q1 = speech_wav("Tell me everything about my order.", "q1")
    q2 = speech_wav("Stop, stop.", "q2")
    samples, rate = soundfile.read(q2, dtype="float32", always_2d=True)
    scenario = {"responses": [{"say": ("Your order is a long story. " * 6).strip()},
                              {"say": "Sorry."}]}  # audio as fast as possible
    caller = WavCaller([str(q1), WavTurn(str(q2), samples, rate, barge_in_ms=500)])
    result, wire, _ = call(agent_file(tmp_path), caller, scenario)

    assert result.exit_code == 0 and caller.unanswered == []
    [heard] = [m.value for m in result.metrics if m.name == "reply_heard"]
    assert 0.4 <= heard <= 1.5  # of a reply of several seconds
    [cut] = [a for _, a in wire.seen if isinstance(a, StopPlayback)]
    assert cut.reason == "caller started speaking"
