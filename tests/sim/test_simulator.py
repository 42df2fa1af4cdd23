"""The simulator against a raw websockets client: the §8 fake-server checklist and faults."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from agentrun.errors import SpecError
from agentrun.sim import Scenario, Simulator
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, InvalidStatus

Events = list[dict[str, Any]]


def run(scenario: dict[str, Any] | None, body: Callable[[Simulator, ClientConnection],
        Awaitable[None]], **kwargs: Any) -> Simulator:
    """Start a simulator, connect a raw client, run ``body``; returns the simulator."""
    async def main() -> Simulator:
        async with (Simulator(Scenario.load(scenario), **kwargs) as sim,
                    connect(sim.url + "?model=grok-voice-latest") as ws):
            await asyncio.wait_for(body(sim, ws), 10)
        return sim
    return asyncio.run(main())


async def send(ws: ClientConnection, type_: str, **fields: Any) -> None:
    await ws.send(json.dumps({"type": type_, "event_id": "c1", **fields}))


async def until(ws: ClientConnection, type_: str) -> Events:
    """Receive events up to and including the first of ``type_``."""
    events: Events = []
    while True:
        event = json.loads(await ws.recv())
        events.append(event)
        if event["type"] == type_:
            return events


async def handshake(ws: ClientConnection, **session: Any) -> Events:
    events = await until(ws, "conversation.created")
    await send(ws, "session.update", session=session)
    return events + await until(ws, "session.updated")


async def say(ws: ClientConnection, text: str, item_id: str = "u1") -> None:
    await send(ws, "conversation.item.create", item={
        "id": item_id, "type": "message", "role": "user",
        "content": [{"type": "input_text", "text": text}]})


def types(events: Events) -> list[str]:
    """Event types in order, with runs of the same type collapsed."""
    out: list[str] = []
    for event in events:
        if not out or out[-1] != event["type"]:
            out.append(event["type"])
    return out


PCM16K = {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}},
                    "output": {"format": {"type": "audio/pcm", "rate": 16000}}}}


def test_handshake_session_created_then_conversation_created_with_event_ids() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        seen.extend(await handshake(ws, voice="Ara", instructions="Be brief."))

    run(None, body)
    assert [e["type"] for e in seen] == ["session.created", "conversation.created",
                                         "session.updated"]
    assert all(isinstance(e["event_id"], str) and e["event_id"] for e in seen)
    assert seen[0]["session"]["turn_detection"] == {"type": None}
    assert seen[0]["session"]["model"] == "grok-voice-latest"
    assert seen[1]["conversation"]["object"] == "realtime.conversation"
    assert seen[2]["session"]["voice"] == "Ara"
    assert seen[2]["session"]["instructions"] == "Be brief."


def test_session_update_merges_and_echoes_the_full_session() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, voice="Rex", turn_detection={"type": "server_vad"}, **PCM16K)
        await send(ws, "session.update", session={
            "instructions": "Hi", "audio": {"output": {"format": {"type": "audio/pcmu"}}}})
        seen.extend(await until(ws, "session.updated"))

    run(None, body)
    session = seen[-1]["session"]
    assert session["voice"] == "Rex"
    assert session["turn_detection"] == {"type": "server_vad"}  # missing means unchanged
    assert session["instructions"] == "Hi"
    assert session["audio"] == {"input": {"format": {"type": "audio/pcm", "rate": 16000}},
                                "output": {"format": {"type": "audio/pcmu"}}}


def test_text_turn_streams_the_reference_sequence_with_audio_of_the_right_length() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, **PCM16K)
        await say(ws, "hello there", item_id="my-item-1")
        seen.extend(await until(ws, "conversation.item.added"))
        await send(ws, "response.create", response={"modalities": ["text", "audio"]})
        seen.extend(await until(ws, "response.done"))

    run({"audio": {"chunk_ms": 20}}, body)
    added = seen[0]
    assert added["item"]["id"] == "my-item-1" and added["previous_item_id"] is None
    streamed = ("response.output_audio_transcript.delta", "response.output_audio.delta")
    assert types([e for e in seen[1:] if e["type"] not in streamed]) == [
        "response.created", "response.output_item.added", "conversation.item.added",
        "response.content_part.added", "response.output_audio.done",
        "response.output_audio_transcript.done", "response.content_part.done",
        "response.output_item.done", "response.done"]
    runs = types([e for e in seen if e["type"] in streamed])
    assert runs[0] == streamed[0] and len(runs) == 10  # 5 words, each ahead of its audio
    text = "(simulated) You said: hello there"
    transcript = "".join(e["delta"] for e in seen
                         if e["type"] == "response.output_audio_transcript.delta")
    assert transcript == text
    deltas = [e for e in seen if e["type"] == "response.output_audio.delta"]
    assert all(e["output_index"] == 0 and e["content_index"] == 0 for e in deltas)
    audio = b"".join(base64.b64decode(e["delta"]) for e in deltas)
    assert len(audio) == 16000 * 2 * 60 * len(text) // 1000  # 60 ms per character, PCM16
    assert {len(base64.b64decode(e["delta"])) for e in deltas[:-1]} == {640}  # 20 ms chunks
    done = seen[-1]["response"]
    assert done["object"] == "realtime.response" and done["status"] == "completed"
    assert done["output"][0]["content"] == [{"type": "output_audio", "transcript": text}]


def test_g711_output_is_one_byte_per_sample_at_8000_hz() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, audio={"output": {"format": {"type": "audio/pcmu"}}})
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    run({"responses": [{"say": "Hi", "audio_ms": 1000}]}, body)
    audio = b"".join(base64.b64decode(e["delta"]) for e in seen
                     if e["type"] == "response.output_audio.delta")
    assert len(audio) == 8000
    assert len(set(audio)) > 2  # a tone, not a constant


def test_cancel_active_response_and_cancel_with_nothing_active() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        await until(ws, "response.output_audio.delta")
        await send(ws, "response.cancel")
        seen.extend(await until(ws, "response.done"))
        await send(ws, "response.cancel")
        seen.extend(await until(ws, "error"))

    run({"audio": {"pace": "realtime"}, "responses": [{"say": "long", "audio_ms": 5000}]},
        body)
    assert seen[-2 - sum(1 for e in seen[:-1] if e["type"] == "error")]["type"] == "response.done"
    done = next(e for e in seen if e["type"] == "response.done")
    assert done["response"]["status"] == "cancelled"
    assert seen[-1]["error"]["message"] == "Cancellation failed: no active response found"


def test_second_concurrent_response_create_is_rejected() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    run(None, body)
    errors = [e for e in seen if e["type"] == "error"]
    assert [e["error"]["code"] for e in errors] == ["conversation_already_has_active_response"]
    assert "already has an active response" in errors[0]["error"]["message"]
    assert sum(e["type"] == "response.created" for e in seen) == 1


def test_function_call_item_comes_before_arguments_done() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))
        call_id = next(e["call_id"] for e in seen
                       if e["type"] == "response.function_call_arguments.done")
        await send(ws, "conversation.item.create", item={
            "type": "function_call_output", "call_id": call_id, "output": '{"status":"shipped"}'})
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    sim = run({"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}}]}, body)
    kinds = [e["type"] for e in seen]
    first_item = kinds.index("conversation.item.added")
    assert kinds.index("response.output_item.added") < first_item
    assert first_item < kinds.index("response.function_call_arguments.done")
    done = next(e for e in seen if e["type"] == "response.function_call_arguments.done")
    assert (done["name"], json.loads(done["arguments"])) == ("lookup_order", {"order_id": "1234"})
    transcript = next(e for e in seen if e["type"] == "response.output_audio_transcript.done")
    assert transcript["transcript"] == '(simulated) lookup_order returned {"status":"shipped"}'
    assert [e["type"] for e in sim.received].count("response.create") == 2


LOOKUP = {"type": "function", "name": "lookup_order", "description": "Find an order.",
          "parameters": {"type": "object", "required": ["order_id"],
                         "properties": {"order_id": {"type": "string"},
                                        "note": {"type": "string"},
                                        "limit": {"type": "integer"}}}}


def slash(line: str, tools: list[dict[str, Any]] | None = None) -> Events:
    """Type ``line`` in a session declaring ``tools``; the events of the response it causes."""
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, tools=[LOOKUP] if tools is None else tools)
        await say(ws, line)
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    run(None, body)
    return seen


def spoken(events: Events) -> str:
    return next(e for e in events
                if e["type"] == "response.output_audio_transcript.done")["transcript"]


def call_made(events: Events) -> tuple[str, dict[str, Any]]:
    done = next(e for e in events if e["type"] == "response.function_call_arguments.done")
    return done["name"], json.loads(done["arguments"])


def test_slash_call_in_a_user_turn_makes_the_model_call_that_tool() -> None:
    events = slash("/call lookup_order order_id=1234 note='two words' limit=3")
    assert call_made(events) == ("lookup_order",
                                 {"order_id": "1234", "note": "two words", "limit": 3})


def test_slash_call_takes_json_arguments() -> None:
    events = slash('/call lookup_order {"order_id": "12 34", "limit": 2}')
    assert call_made(events) == ("lookup_order", {"order_id": "12 34", "limit": 2})


@pytest.mark.parametrize(("line", "said"), [
    ("/call lookup_ordr order_id=1", "this agent has no tool named lookup_ordr. Did you mean "
                                     "lookup_order? Its tools: lookup_order."),
    ("/call lookup_order ordr_id=1", "unknown argument ordr_id (did you mean order_id?); it "
                                     "takes order_id, note, limit."),
    ("/call lookup_order note=x", "missing order_id"),
    ("/call lookup_order order_id='1", "cannot read the arguments (No closing quotation)"),
    ("/call lookup_order 1234", "'1234' is not key=value"),
    ('/call lookup_order {"order_id": 1', "the arguments are not valid JSON"),
    ("/call", "/call needs a tool name"),
])
def test_a_slash_call_that_cannot_be_made_is_explained_not_sent(line: str, said: str) -> None:
    events = slash(line)
    assert "response.function_call_arguments.done" not in types(events)
    assert said in spoken(events)


def test_builtin_tools_run_on_the_simulated_server_with_a_canned_result() -> None:
    events = slash("/call web_search query='weather in Berlin'", tools=[{"type": "web_search"}])
    name, arguments = call_made(events)
    assert (name, arguments) == ("web_search", {"query": "weather in Berlin"})
    assert spoken(events).startswith("(simulated) I searched the web for weather in Berlin: ")
    assert events[-1]["response"]["status"] == "completed"

    x_events = slash("/call x_search query=xai", tools=[{"type": "x_search"}])
    assert call_made(x_events)[0] == "x_keyword_search"  # the internal name (reference §7.9)
    assert "@example" in spoken(x_events)


def test_a_builtin_the_agent_did_not_enable_is_said_not_silently_dropped() -> None:
    events = slash("/call web_search query=x", tools=[LOOKUP])
    assert "this agent has no tool named web_search" in spoken(events)
    scripted: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, tools=[LOOKUP])
        await say(ws, "hi")
        await send(ws, "response.create")
        scripted.extend(await until(ws, "response.done"))

    run({"responses": [{"call": "file_search", "arguments": {"query": "refunds"}}]}, body)
    assert spoken(scripted) == ("(simulated) file_search is not enabled for this agent; add "
                                "it under tools: to use it.")


def test_a_long_tool_output_read_back_says_it_was_cut() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, tools=[LOOKUP])
        await say(ws, "/call lookup_order order_id=1")
        await send(ws, "response.create")
        events = await until(ws, "response.done")
        call_id = call_made_id(events)
        await send(ws, "conversation.item.create", item={
            "type": "function_call_output", "call_id": call_id, "output": "x" * 500})
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    run(None, body)
    assert spoken(seen).endswith("x … (cut here; 500 characters in all)")


def call_made_id(events: Events) -> str:
    return next(e for e in events
                if e["type"] == "response.function_call_arguments.done")["call_id"]


def _pcm(level: int, ms: int, rate: int = 16000) -> str:
    sample = level.to_bytes(2, "little", signed=True)
    return base64.b64encode(sample * (rate * ms // 1000)).decode()


def test_server_vad_detects_speech_by_energy_and_answers_by_itself() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, turn_detection={"type": "server_vad", "silence_duration_ms": 200},
                        **PCM16K)
        for _ in range(5):
            await send(ws, "input_audio_buffer.append", audio=_pcm(0, 20))
        for _ in range(10):
            await send(ws, "input_audio_buffer.append", audio=_pcm(8000, 20))
        for _ in range(12):
            await send(ws, "input_audio_buffer.append", audio=_pcm(0, 20))
        seen.extend(await until(ws, "response.done"))

    run(None, body)
    assert types(seen)[:6] == [
        "input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed", "conversation.item.added",
        "conversation.item.input_audio_transcription.completed", "response.created"]
    item_id = seen[0]["item_id"]
    assert {e.get("item_id") for e in seen[:5] if "item_id" in e} == {item_id}
    assert seen[4]["transcript"] == "(simulated transcript)"
    final = next(e for e in seen if e["type"] == "response.output_audio_transcript.done")
    assert final["transcript"] == "(simulated) I heard 0.4 s of audio."


def test_speech_during_a_response_cancels_it() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, turn_detection={"type": "server_vad"}, **PCM16K)
        await send(ws, "response.create")
        await until(ws, "response.output_audio.delta")
        await send(ws, "input_audio_buffer.append", audio=_pcm(8000, 20))
        seen.extend(await until(ws, "response.done"))

    run({"audio": {"pace": "realtime"}, "responses": [{"say": "long", "audio_ms": 5000}]},
        body)
    assert "input_audio_buffer.speech_started" in types(seen)
    assert seen[-1]["response"]["status"] == "cancelled"


def test_manual_mode_waits_for_commit_and_response_create() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, **PCM16K)
        await send(ws, "input_audio_buffer.append", audio=_pcm(8000, 500))
        await send(ws, "input_audio_buffer.commit")
        seen.extend(await until(ws, "conversation.item.input_audio_transcription.completed"))
        await send(ws, "input_audio_buffer.clear")
        seen.extend(await until(ws, "input_audio_buffer.cleared"))
        await send(ws, "input_audio_buffer.commit")
        seen.extend(await until(ws, "error"))

    run(None, body)
    assert types(seen) == [
        "input_audio_buffer.committed", "conversation.item.added",
        "conversation.item.input_audio_transcription.completed", "input_audio_buffer.cleared",
        "error"]
    assert seen[-1]["error"]["code"] == "input_audio_buffer_commit_empty"


def test_wrong_api_key_is_rejected_at_the_upgrade_with_401() -> None:
    async def main() -> int:
        async with Simulator(api_key="right") as sim:
            async with connect(sim.url,
                               additional_headers={"Authorization": "Bearer right"}) as ws:
                assert json.loads(await ws.recv())["type"] == "session.created"
            with pytest.raises(InvalidStatus) as info:
                await connect(sim.url, additional_headers={"Authorization": "Bearer no"})
            return info.value.response.status_code

    assert asyncio.run(main()) == 401


def test_fault_close_1011_mid_reply() -> None:
    seen: Events = []
    codes: list[int] = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        with pytest.raises(ConnectionClosedError) as info:
            seen.extend(await until(ws, "response.done"))
        assert info.value.rcvd is not None
        codes.append(info.value.rcvd.code)

    run({"responses": [{"fault": {"close": 1011}}]}, body)
    assert codes == [1011]


def test_faults_malformed_unknown_error_duplicate_and_failed_are_injected_then_go_on() -> None:
    frames: list[str] = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        while '"response.done"' not in (frames[-1] if frames else ""):
            frames.append(str(await ws.recv()))

    run({"responses": [{"call": "lookup_order", "fault": [
        "malformed_json", "unknown_event", "duplicate_item", "failed_response",
        {"error": "server_error"}]}]}, body)
    malformed = [f for f in frames if not _is_json(f)]
    assert len(malformed) == 1
    events = [json.loads(f) for f in frames if _is_json(f)]
    kinds = [e["type"] for e in events]
    assert "sim.unannounced_event" in kinds
    assert [e["error"]["type"] for e in events if e["type"] == "error"] == ["server_error"]
    assert kinds.count("conversation.item.added") == 2
    assert events[-1]["response"]["status"] == "failed"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_fault_auto_response_race_answers_the_output_before_response_create() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        events = await until(ws, "response.done")
        call_id = next(e["call_id"] for e in events if "call_id" in e)
        await send(ws, "conversation.item.create", item={
            "type": "function_call_output", "call_id": call_id, "output": "ok"})
        await send(ws, "response.create")
        seen.extend(await until(ws, "response.done"))

    run({"responses": [{"call": "x", "fault": "auto_response_race"}]}, body)
    kinds = [e["type"] for e in seen]
    assert kinds.index("response.created") < kinds.index("error")
    error = next(e for e in seen if e["type"] == "error")
    assert error["error"]["code"] == "conversation_already_has_active_response"


def test_trace_records_every_event_with_server_timestamps(tmp_path: Any) -> None:
    trace = tmp_path / "trace.jsonl"

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "response.create")
        await until(ws, "response.done")

    run({"responses": [{"call": "lookup_order"}]}, body, trace=trace)
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    assert lines[0]["dir"] == "out" and lines[0]["type"] == "session.created"
    assert {"dir": "in", "type": "session.update"}.items() <= lines[2].items()
    stamps = [line["t_ns"] for line in lines]
    assert stamps == sorted(stamps)
    done = next(line for line in lines if line["type"] == "response.function_call_arguments.done")
    assert done["call_id"].startswith("call_")


def test_pings_carry_an_int_timestamp() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        seen.extend(await until(ws, "ping"))

    run({"ping_interval": 0.05}, body)
    assert isinstance(seen[-1]["timestamp"], int)


def test_repeat_uses_an_entry_for_consecutive_responses() -> None:
    sim = Simulator(Scenario.load({"responses": [{"say": "a", "repeat": 3}, {"say": "b"}]}))
    said = [entry.say for entry in iter(sim.next_entry, None)]
    assert said == ["a", "a", "a", "b"]


@pytest.mark.parametrize(("scenario", "message"), [
    ({"responses": [{"fault": "explode"}]},
     "scenario responses[0].fault: unknown fault(s) ['explode']"),
    ({"responses": [{"say": "x", "call": "y"}]},
     "scenario responses[0]: use either 'say' or 'call'/'calls', not both"),
    ({"audio": {"pace": "slow"}}, "scenario audio.pace: expected 'fast' or 'realtime'"),
])
def test_bad_scenarios_name_the_entry(scenario: dict[str, Any], message: str) -> None:
    with pytest.raises(SpecError) as info:
        Scenario.load(scenario)
    assert info.value.message.startswith(message)


def test_pcmu_input_is_judged_by_its_decoded_level() -> None:
    seen: Events = []
    silence, loud = b"\xff" * 160, b"\x80" * 160  # μ-law zero and near full scale, 20 ms each

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws, turn_detection={"type": "server_vad", "silence_duration_ms": 100},
                        audio={"input": {"format": {"type": "audio/pcmu"}}})
        for chunk in [silence] * 3 + [loud] * 10 + [silence] * 6:
            await send(ws, "input_audio_buffer.append", audio=base64.b64encode(chunk).decode())
        seen.extend(await until(ws, "response.created"))

    run(None, body)
    assert types(seen)[:2] == ["input_audio_buffer.speech_started",
                               "input_audio_buffer.speech_stopped"]
    assert seen[0]["audio_start_ms"] == 60


def test_text_only_responses_stream_text_deltas_and_no_audio() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await say(ws, "hi")
        await send(ws, "response.create", response={"modalities": ["text"]})
        seen.extend(await until(ws, "response.done"))

    run(None, body)
    kinds = types(seen)
    assert "response.output_audio.delta" not in kinds
    assert "".join(e["delta"] for e in seen if e["type"] == "response.text.delta") == \
        "(simulated) You said: hi"


def test_force_message_is_spoken_verbatim_by_a_server_created_response() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "conversation.item.create", item={
            "type": "force_message", "role": "assistant",
            "content": [{"type": "text", "text": "This call is recorded."}]})
        seen.extend(await until(ws, "response.done"))

    run({"responses": [{"say": "not this"}]}, body)
    assert seen[0]["type"] == "response.created"
    final = next(e for e in seen if e["type"] == "response.output_audio_transcript.done")
    assert final["transcript"] == "This call is recorded."


def test_truncate_is_unsupported_and_delete_echoes_an_empty_item_id() -> None:
    seen: Events = []

    async def body(sim: Simulator, ws: ClientConnection) -> None:
        await handshake(ws)
        await send(ws, "conversation.item.truncate", item_id="x", content_index=0,
                   audio_end_ms=10)
        seen.extend(await until(ws, "error"))
        await send(ws, "conversation.item.delete", item_id="u1")
        seen.extend(await until(ws, "conversation.item.deleted"))
        await send(ws, "no.such.event")
        seen.extend(await until(ws, "error"))
        await ws.send("{not json")
        seen.extend(await until(ws, "error"))

    run(None, body)
    assert "truncat" in seen[0]["error"]["message"]
    assert seen[1]["item_id"] == ""
    assert seen[2]["error"]["message"] == "Unknown event type 'no.such.event'."
    assert seen[3]["error"]["code"] == "invalid_event"


def test_script_replaces_what_is_left_of_the_scenario() -> None:
    sim = Simulator(Scenario.load({"responses": [{"say": "a", "repeat": 2}, {"say": "b"}]}))
    assert sim.next_entry().say == "a"  # type: ignore[union-attr]
    first = Scenario.load({"responses": [{"say": "turn one"}]}).entries
    sim.script(first)
    assert [entry.say for entry in iter(sim.next_entry, None)] == ["turn one"]
    sim.script([])
    assert sim.next_entry() is None  # used up: the default reply
