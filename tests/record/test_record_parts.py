"""The record's sans-I/O parts: the two tracks, the timeline and the wire lines (no sockets)."""

from __future__ import annotations

import base64
import json

import numpy as np
from _record_helpers import pcm16, speech
from agentrun._secrets import Redactor, remember
from agentrun.audio import ulaw_encode
from agentrun.engine.observe import ToolCallDone
from agentrun.record._timeline import Timeline, latency_summary
from agentrun.record._tracks import JITTER_S, StereoTracks
from agentrun.record._wire import local_line, wire_line

RATE = 24000


def chunks(audio: bytes, ms: int = 20, width: int = 2, rate: int = RATE) -> list[bytes]:
    size = rate * ms // 1000 * width
    return [audio[i:i + size] for i in range(0, len(audio), size)]


def stereo(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype="<i2").reshape(-1, 2)


def test_jittery_caller_chunks_stay_one_clean_stream_and_a_long_pause_is_silence() -> None:
    words = speech("one two three")
    tracks = StereoTracks(("pcm", RATE), ("pcm", RATE), start=100.0)
    now = 100.5
    out = []
    for n, chunk in enumerate(chunks(words)):
        # late by up to 200 ms (a stall): must not cut clicks of silence into the speech
        arrival = now + n * 0.02 + (0.015 if n % 3 == 1 else 0.0) + (0.2 if n == 20 else 0.0)
        tracks.add_caller(arrival, chunk)
        if n % 7 == 0:  # the recorder writes out what is final as the call goes
            out.append(tracks.take(tracks.final(arrival)))
    later = 100.5 + len(words) / 2 / RATE + JITTER_S + 1.0
    tracks.add_caller(later, words[:960])
    out.append(tracks.finish(later + 0.1))
    audio = stereo(b"".join(out))
    left = audio[:, 0]
    start = round(0.5 * RATE)
    assert np.array_equal(left[start:start + len(words) // 2], pcm16(words))
    assert not left[:start].any()
    resume = round((later - 100.0) * RATE)
    assert not left[start + len(words) // 2:resume].any()  # the pause is silence
    assert np.array_equal(left[resume:resume + 480], pcm16(words[:960]))
    assert not audio[:, 1].any()


def test_agent_audio_queues_like_a_speaker_and_a_cut_drops_what_was_queued() -> None:
    reply = speech("Your appointment is on Tuesday at nine.")
    tracks = StereoTracks(("pcm", 16000), ("pcm", RATE), start=0.0)
    for chunk in chunks(reply, 40):  # the server sends faster than real time
        tracks.add_agent(1.0, chunk, "item_1")
    assert tracks.agent.cursor == round(1.0 * RATE) + len(reply) // 2
    head = stereo(tracks.take(tracks.position(1.5)))
    assert len(head) == round(1.5 * RATE)
    removed = tracks.cut_agent(2.0)  # the caller barged in one second into the reply
    assert removed == len(reply) // 2 - RATE
    tracks.add_agent(3.0, reply[:4800], "item_2")  # the next reply starts when it arrives
    audio = np.concatenate([head, stereo(tracks.finish(3.2))])
    right = audio[:, 1]
    samples = pcm16(reply)
    assert np.array_equal(right[RATE:2 * RATE], samples[:RATE])
    assert not right[2 * RATE:3 * RATE].any()
    assert np.array_equal(right[3 * RATE:3 * RATE + 2400], samples[:2400])
    assert len(audio) == round(3.2 * RATE)


def test_g711_sides_are_decoded_onto_the_record() -> None:
    words = speech("seven", "pcm", 8000)
    tracks = StereoTracks(("pcmu", 8000), ("pcmu", 8000), start=0.0)
    tracks.add_caller(0.0, ulaw_encode(words))
    left = stereo(tracks.finish(0.0))[:, 0]
    error = left.astype(float) - pcm16(words)
    assert tracks.rate == 8000
    assert np.abs(error).max() <= 1024  # μ-law's coarsest step, not raw bytes


def test_latency_summary_median_and_p90() -> None:
    summary = latency_summary([0.5, 0.1, 0.3, 0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert summary == {"count": 10, "median": 0.55, "p90": 0.91, "min": 0.1, "max": 1.0}
    assert latency_summary([0.25])["p90"] == 0.25
    assert latency_summary([])["median"] is None


def test_timeline_dates_turns_by_the_speech_and_answers_by_the_agent_audio() -> None:
    line = Timeline()
    line.caller_audio(1.0, 1.02, loud=False)
    line.caller_audio(1.02, 1.04, loud=True)  # speech begins
    line.speech_started(1.1, "u1")
    line.caller_audio(1.04, 2.0, loud=True)
    line.caller_audio(2.0, 2.5, loud=False)  # trailing silence the server VAD waits for
    line.speech_stopped(2.45, "u1")
    line.agent_text(2.6, "a1", "Tuesday ")
    line.agent_audio("a1", 2.7, 3.7)
    line.agent_text(2.61, "a1", "at nine.")
    line.agent_final(2.62, "a1", "Tuesday at nine.")
    line.user_transcript("u1", "When can I come?")
    assert line.settle(3.0) == [{"role": "user", "text": "When can I come?", "start": 1.02,
                                 "end": 2.0}]
    assert line.settle(3.8) == [{"role": "agent", "text": "Tuesday at nine.", "start": 2.7,
                                 "end": 3.7}]
    (turn,) = line.turns()
    assert turn["latency"] == 0.7  # end of speech (2.0), not the VAD's decision (2.45)


def test_an_interrupted_line_keeps_the_words_that_had_started_playing() -> None:
    line = Timeline()
    line.user_text(0.0, "t1", "Hi")
    line.agent_text(0.1, "a1", "Tuesday ")
    line.agent_audio("a1", 0.2, 1.0)  # 0.8 s of audio for "Tuesday "
    line.agent_text(0.1, "a1", "or ")
    line.agent_audio("a1", 1.0, 1.4)
    line.agent_text(0.1, "a1", "Wednesday.")
    line.agent_audio("a1", 1.4, 2.4)
    line.cut(1.1, 1.3, "caller started speaking")  # 0.9 s heard: "Tuesday " and "or "
    written = line.settle(1.1)
    agent = next(x for x in written if x["role"] == "agent")
    assert agent == {"role": "agent", "text": "Tuesday or", "start": 0.2, "end": 1.1,
                     "interrupted": True, "unheard": "Wednesday."}
    assert line.barge_ins == [{"at": 1.1, "reason": "caller started speaking", "item_id": "a1",
                               "heard_s": 0.9, "cut_s": 1.3, "heard_text": "Tuesday or",
                               "unheard_text": "Wednesday."}]


def test_failed_tool_calls_are_errors_with_their_traceback() -> None:
    line = Timeline()
    line.tool_started(1.0, "c1")
    done = ToolCallDone("c1", "book", '{"day":"tue"}', "error: the tool failed", False,
                        "book raised ValueError: no slot", 0.25)
    entry = line.tool_done(1.25, done)
    assert entry == {"role": "tool", "name": "book", "arguments": '{"day":"tue"}',
                     "output": "error: the tool failed", "ok": False, "start": 1.0,
                     "end": 1.25, "error": "book raised ValueError: no slot"}
    assert line.errors == [{"at": 1.25, "source": "tool book",
                            "message": "book raised ValueError: no slot"}]


def test_wire_lines_carry_byte_counts_not_audio_and_cut_secrets_in_every_json_form() -> None:
    audio = base64.b64encode(bytes(range(256)) * 8).decode()
    redact = Redactor(["s3cr\u00e9t-\"value\"", "xai-key-123456", "no"])
    line, event = wire_line(1.5, "out", json.dumps(
        {"type": "input_audio_buffer.append", "audio": audio}), redact)
    assert json.loads(line) == {"t": 1.5, "dir": "out",
                                "event": {"type": "input_audio_buffer.append",
                                          "audio_bytes": 2048}}
    assert event == {"type": "input_audio_buffer.append", "audio_bytes": 2048}
    word = "A" * 80  # a long run of base64 letters in a transcript is text, not audio
    line, event = wire_line(1.6, "in", json.dumps(
        {"type": "response.output_audio_transcript.delta", "delta": word, "pad": " " * 600}),
        redact)
    assert event is not None and event["delta"] == word and word in line
    line, event = wire_line(1.7, "in", json.dumps(
        {"type": "response.output_audio.delta", "item_id": "i1", "delta": audio}), redact)
    assert event == {"type": "response.output_audio.delta", "item_id": "i1",
                     "delta_bytes": 2048} and audio not in line
    nested = json.dumps({"type": "conversation.item.create", "item": {"content": [
        {"type": "input_audio", "audio": audio}]}, "note": "s3cr\u00e9t-\"value\" and "
        "xai-key-123456, no problem"})
    line, _ = wire_line(2.0, "out", nested, redact)
    assert audio not in line and '"audio_bytes":2048' in line
    assert "xai-key" not in line and "cr\\u00e9t" not in line and "crét" not in line
    assert "no problem" in line  # too short to be a secret: ordinary words stay
    assert json.loads(line)["event"]["note"] == "[hidden] and [hidden], no problem"
    line, event = wire_line(3.0, "in", '{"type": "response.output_audio.delta", "delta": "'
                            + audio, redact)
    assert event is None and audio not in line and "malformed" in json.loads(line)
    assert "xai-key" not in local_line(4.0, "tool.finished", redact, output="xai-key-123456")


def test_the_recorder_s_redactor_names_process_secrets_even_ones_remembered_later() -> None:
    redact = Redactor({"embedder-extra-value": None}, remembered=True)  # as CallRecorder's
    remember("sk-live-4f3e2d1c0b", "CRM_TOKEN")  # read after the recorder was made
    line = local_line(1.0, "tool.finished", redact,
                      output="sk-live-4f3e2d1c0b SK-LIVE-4F3E2D1C0B embedder-extra-value")
    assert json.loads(line)["event"]["output"] == (
        "[hidden $CRM_TOKEN] [hidden $CRM_TOKEN] [hidden]")
