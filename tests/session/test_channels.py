"""The streamed caller side (``Endpoint.caller``) and observers, on the simulator (loopback)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import struct
from collections.abc import AsyncIterator
from typing import Any

from agentrun.engine.actions import PlayAudio, StopPlayback
from agentrun.engine.observe import (
    CallEnded,
    CallerAudioIn,
    CallInfo,
    CallStarted,
    ToolCallDone,
    WireFrame,
)
from agentrun.engine.session import Session
from agentrun.engine.setup import ConversationConfig
from agentrun.io import (
    CallControl,
    CallerAudio,
    CallerDtmf,
    CallerInput,
    CallerText,
    CallerTurnEnd,
    NullEndpoint,
)
from agentrun.protocol import (
    AudioConfig,
    AudioInput,
    AudioOutput,
    PcmFormat,
    SessionProperties,
    TurnDetection,
)
from agentrun.sim import Scenario, Simulator


def config(manual: bool = False, rate: int = 16000) -> ConversationConfig:
    audio = AudioConfig(input=AudioInput(format=PcmFormat(rate=rate)),
                        output=AudioOutput(format=PcmFormat(rate=24000)))
    vad = TurnDetection(type=None) if manual else TurnDetection(type="server_vad",
                                                                silence_duration_ms=300)
    return ConversationConfig(
        session=SessionProperties(instructions="Be brief.", voice="Ara", turn_detection=vad,
                                  audio=audio),
        function_names=frozenset({"lookup_order"}))


def tone(ms: int, rate: int, level: float = 0.3) -> bytes:
    """A 440 Hz tone, PCM16 little-endian mono: loud enough for the simulator's energy VAD."""
    count = rate * ms // 1000
    return b"".join(struct.pack("<h", int(level * 32767 * math.sin(2 * math.pi * 440 * n / rate)))
                    for n in range(count))


class Speaker(NullEndpoint):
    """A caller who speaks each utterance (20 ms chunks, then trailing silence or a turn end)
    and waits for the agent's answer before the next one."""

    def __init__(self, utterances: list[bytes], *, turn_end: bool = False) -> None:
        super().__init__()
        self.utterances = utterances
        self.turn_end = turn_end
        self.answered: list[bool] = []
        self.formats: tuple[Any, ...] = ()

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        self.formats = (call.input_format, call.output_format, call.manual_turns)
        chunk = call.input_format.bytes_for(20)
        for audio in self.utterances:
            await call.wait_idle()
            mark = call.responses
            for start in range(0, len(audio), chunk):
                yield CallerAudio(audio[start:start + chunk])
            if self.turn_end:
                yield CallerTurnEnd()
            else:
                silence = call.input_format.silence(600)
                for start in range(0, len(silence), chunk):
                    yield CallerAudio(silence[start:start + chunk])
            self.answered.append(await call.wait_reply(mark, timeout=10))


class Recorder:
    def __init__(self) -> None:
        self.seen: list[tuple[float, Any]] = []

    def observe(self, now: float, what: Any) -> None:
        self.seen.append((now, what))

    def of(self, kind: type) -> list[Any]:
        return [what for _, what in self.seen if isinstance(what, kind)]


def run(session_config: ConversationConfig, endpoint: Any, *, scenario: Any = None,
        observers: list[Any] | None = None, tools: Any = None,
        call: CallInfo | None = None) -> tuple[Simulator, Any]:
    async def main() -> tuple[Simulator, Any]:
        async with Simulator(Scenario.load(scenario)) as sim:
            session = Session.for_url(session_config, sim.url, api_key=None, endpoint=endpoint,
                                      tools=tools, observers=observers or [], call=call)
            return sim, await asyncio.wait_for(session.run(), 30)

    return asyncio.run(main())


def test_spoken_turns_are_heard_by_server_vad_and_each_gets_its_own_reply() -> None:
    speaker = Speaker([tone(400, 16000), tone(300, 16000)])
    sim, result = run(config(), speaker)
    assert result.exit_code == 0
    assert speaker.answered == [True, True]
    appended = [e for e in sim.received if e["type"] == "input_audio_buffer.append"]
    assert appended, "caller audio never reached the server"
    assert [e["type"] for e in sim.received].count("response.create") == 0  # server VAD answers
    fmt_in, fmt_out, manual = speaker.formats
    assert (fmt_in.encoding, fmt_in.rate, fmt_out.rate, manual) == ("pcm", 16000, 24000, False)
    assert len([line for role, line in speaker.transcripts if role == "agent"]) == 2
    assert speaker.audio_bytes > 0


def test_manual_turns_end_with_a_commit_and_one_response_create() -> None:
    speaker = Speaker([tone(300, 16000)], turn_end=True)
    sim, result = run(config(manual=True), speaker)
    assert result.exit_code == 0 and speaker.answered == [True]
    kinds = [e["type"] for e in sim.received]
    assert kinds.count("input_audio_buffer.commit") == 1
    assert kinds.count("response.create") == 1
    assert kinds.index("input_audio_buffer.commit") < kinds.index("response.create")


def test_observers_see_the_call_from_start_to_end_and_every_frame() -> None:
    recorder = Recorder()
    speaker = Speaker([tone(300, 16000)])
    sim, result = run(config(), speaker, observers=[recorder],
                      call=CallInfo(call_id="CA123", agent="Test", channel="test",
                                    caller="+15550100"))
    started = recorder.of(CallStarted)
    assert len(started) == 1 and started[0].call_id == "CA123"
    assert started[0].caller == "+15550100" and started[0].input_format.rate == 16000
    assert isinstance(recorder.seen[-1][1], CallEnded)
    assert recorder.seen[-1][1].result is result and result.call_id == "CA123"
    frames_out = [json.loads(f.text)["type"] for f in recorder.of(WireFrame)
                  if f.direction == "out"]
    assert frames_out == [e["type"] for e in sim.received]
    frames_in = [json.loads(f.text)["type"] for f in recorder.of(WireFrame) if f.direction == "in"]
    assert frames_in[:2] == ["session.created", "conversation.created"]
    spoken = len(tone(300, 16000)) + len(speaker.formats[0].silence(600))
    assert sum(len(a.audio) for a in recorder.of(CallerAudioIn)) == spoken
    assert recorder.of(PlayAudio)
    times = [now for now, _ in recorder.seen]
    assert times == sorted(times)


def test_a_failing_observer_is_dropped_and_the_call_goes_on() -> None:
    class Broken:
        def observe(self, now: float, what: Any) -> None:
            if isinstance(what, WireFrame):
                raise ValueError("disk full")

    recorder = Recorder()
    endpoint = NullEndpoint(["hello", "again"])
    _, result = run(config(), endpoint, observers=[Broken(), recorder])
    assert result.exit_code == 0
    assert len([1 for role, _ in endpoint.transcripts if role == "agent"]) == 2
    assert any("Broken" in message and "disk full" in message
               for level, message in endpoint.statuses if level == "error")
    assert recorder.of(CallEnded)


def test_tool_calls_are_shown_to_the_channel_and_to_observers() -> None:
    class Tools:
        async def call(self, name: str, arguments_json: str, **_: Any) -> Any:
            from agentrun.tools import ToolResult
            return ToolResult('{"status": "shipped"}', name=name)

    recorder = Recorder()
    endpoint = NullEndpoint(["where is 1234?"])
    scenario = {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}},
                              {"say": "It shipped."}]}
    _, result = run(config(), endpoint, scenario=scenario, observers=[recorder], tools=Tools())
    assert result.exit_code == 0
    assert [(c.name, c.output, c.ok) for c in endpoint.tool_calls] == \
        [("lookup_order", '{"status": "shipped"}', True)]
    done = recorder.of(ToolCallDone)
    assert len(done) == 1 and json.loads(done[0].arguments) == {"order_id": "1234"}
    assert done[0].ok and done[0].seconds >= 0


def test_a_channel_that_fails_ends_the_call_cleanly_with_one_error_line() -> None:
    class Flaky(NullEndpoint):
        async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
            await call.wait_idle()
            yield CallerText("hello")
            await call.wait_idle()
            raise OSError("the microphone was unplugged")

    endpoint = Flaky()
    _, result = run(config(), endpoint)
    assert [role for role, _ in endpoint.transcripts] == ["agent"]
    errors = [m for level, m in endpoint.statuses if level == "error"]
    assert errors == ["the caller's channel failed: the microphone was unplugged; "
                      "ending the call"]
    assert result.exit_code == 0


def test_keypad_digits_reach_the_model_as_words() -> None:
    class Keypad(NullEndpoint):
        async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
            await call.wait_idle()
            yield CallerDtmf("5")

    sim, _ = run(config(), Keypad())
    texts = [part["text"] for e in sim.received if e["type"] == "conversation.item.create"
             for part in e["item"].get("content", [])]
    assert texts == ["[The caller pressed 5 on the keypad.]"]
    assert [e["type"] for e in sim.received].count("response.create") == 1


def test_local_interrupt_stops_playback_and_cancels_the_reply() -> None:
    class Impatient(NullEndpoint):
        def __init__(self) -> None:
            super().__init__()
            self.stops: list[str] = []

        async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
            await call.wait_idle()
            yield CallerText("tell me a long story")
            while self.audio_bytes == 0:
                await asyncio.sleep(0.01)
            call.interrupt()
            await call.wait_idle()

        def stop_playback(self, reason: str) -> None:
            self.stops.append(reason)

    recorder = Recorder()
    endpoint = Impatient()
    scenario = {"audio": {"pace": "realtime", "chunk_ms": 20},
                "responses": [{"say": "Once upon a time " * 20}]}
    sim, result = run(config(), endpoint, scenario=scenario, observers=[recorder])
    assert result.exit_code == 0
    assert endpoint.stops and recorder.of(StopPlayback)
    assert "response.cancel" in [e["type"] for e in sim.received]


def test_a_channel_whose_output_fails_does_not_end_the_call() -> None:
    """A closed socket, a speaker that vanished or an unwritable terminal is said once per
    kind of output; the conversation (and the model's view of it) goes on."""

    class Broken(NullEndpoint):
        def play_audio(self, audio: bytes, item_id: str) -> None:
            raise OSError("the speaker was unplugged")

        def show_transcript(self, role: Any, text: str, final: bool, item_id: str) -> None:
            raise UnicodeEncodeError("ascii", text, 0, 1, "ordinal not in range(128)")

    endpoint = Broken(["one", "two"])
    sim, result = run(config(), endpoint)
    assert result.exit_code == 0
    assert [e["type"] for e in sim.received].count("conversation.item.create") == 2
    errors = [m for level, m in endpoint.statuses if level == "error"]
    assert len(errors) == 2
    assert any("play_audio: the speaker was unplugged" in m for m in errors)
    assert any("show_transcript" in m for m in errors)
    assert all(m.endswith("the call goes on") for m in errors)


def test_a_call_cancelled_from_outside_ends_as_interrupted_for_its_observers() -> None:
    recorder = Recorder()

    class Waiting(NullEndpoint):
        async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
            await call.wait_idle()
            yield CallerText("hello")
            await asyncio.Event().wait()  # never hangs up by itself

    async def main() -> None:
        async with Simulator() as sim:
            session = Session.for_url(config(), sim.url, api_key=None, endpoint=Waiting(),
                                      observers=[recorder])
            task = asyncio.create_task(session.run())
            while not recorder.of(PlayAudio):
                await asyncio.sleep(0.01)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(asyncio.wait_for(main(), 30))
    ended = recorder.of(CallEnded)
    assert len(ended) == 1
    assert (ended[0].result.exit_code, ended[0].result.reason) == (130, "interrupted")
