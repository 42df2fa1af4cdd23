"""Spoken calls against the simulator, recorded: the stereo WAV checked sample by sample, the
transcript and report against the audio, events without audio payloads or secrets."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from _record_helpers import (
    CHUNK_MS,
    SpeechCaller,
    Watch,
    agent_file,
    call,
    expected_track,
    pcm16,
    read_jsonl,
    read_wav,
    speech,
    the_call,
)
from agentrun.audio import resample, ulaw_decode
from agentrun.engine.actions import PlayAudio, StopPlayback
from agentrun.engine.observe import CallEnded
from agentrun.record import CALL_FILES
from agentrun.record._tracks import JITTER_S

QUESTION = "I would like to book an appointment for Tuesday morning."
FOLLOW_UP = "Thank you, that is all."
INTERRUPT = "Wait, stop, I meant Wednesday."


def locate(channel: np.ndarray, samples: np.ndarray, arrived: float, rate: int) -> int:
    """Where ``samples`` sit in ``channel``: at their arrival, or up to the jitter allowance
    before it (a continuing stream); asserts every sample matches."""
    latest = round(arrived * rate)
    for position in range(latest, max(-1, latest - round(JITTER_S * rate) - 1), -1):
        if np.array_equal(channel[position:position + len(samples)], samples):
            return position
    raise AssertionError(f"the audio that arrived at {arrived:.3f} s is not on its track")


def no_base64_anywhere(value: object) -> bool:
    if isinstance(value, dict):
        return all(no_base64_anywhere(v) for v in value.values())
    if isinstance(value, list):
        return all(no_base64_anywhere(v) for v in value)
    return not (isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9+/]{64,}={0,2}", value))


def first_of_each_reply(watch: Watch, positions: list[int]) -> list[tuple[int, int]]:
    """(position of its first sample, its length in samples) per agent item, in order."""
    spans: dict[str, list[int]] = {}
    plays = [what for _, what in watch.agent_events() if isinstance(what, PlayAudio)]
    for play, position in zip(plays, positions, strict=True):
        span = spans.setdefault(play.item_id, [position, 0])
        span[1] += len(play.audio) // 2
    return [(start, length) for start, length in spans.values()]


def test_a_spoken_call_is_recorded_sample_by_sample_on_the_call_clock(tmp_path: Path) -> None:
    question, follow_up = speech(QUESTION), speech(FOLLOW_UP)
    caller, watch = SpeechCaller([question, follow_up]), Watch()
    result = call(agent_file(tmp_path), caller, tmp_path / "records", observers=(watch,))
    assert result.exit_code == 0 and caller.answered == [True, True]
    folder = the_call(tmp_path / "records")
    assert result.record == str(folder)
    assert re.fullmatch(rf"\d{{8}}T\d{{6}}Z-clinic-{result.call_id[-8:]}", folder.name)
    assert sorted(p.name for p in folder.iterdir()) == sorted(CALL_FILES)

    frames, rate = read_wav(folder)
    assert rate == 24000 and frames.shape[1] == 2
    left, right = frames[:, 0], frames[:, 1]

    # the caller's left channel: every sample as it arrived, each utterance starting at its
    # arrival after the caller's pause, silence elsewhere
    chunks = watch.caller_chunks()
    expected_left, positions = expected_track(watch.caller_events(), rate, len(frames))
    assert np.array_equal(left, expected_left)
    spans = []
    per_chunk = rate * CHUNK_MS // 1000
    for first, utterance in zip(caller.utterances, (question, follow_up), strict=True):
        assert positions[first] == round(chunks[first][0] * rate)
        samples = pcm16(utterance)
        last = first + (len(samples) - 1) // per_chunk  # the chunk holding its last sample
        spans.append((positions[first], positions[last] + len(samples) - (last - first)
                      * per_chunk))
        assert np.array_equal(left[positions[first]:positions[first] + per_chunk],
                              samples[:per_chunk])

    # the agent's right channel: each reply whole, from its first audio on, silence elsewhere
    expected_right, played = expected_track(watch.agent_events(), rate, len(frames))
    assert np.array_equal(right, expected_right)
    replies = first_of_each_reply(watch, played)
    assert len(replies) == 2 and replies[0][0] > spans[0][1]  # the reply follows the question
    assert not right[:replies[0][0]].any() and right[replies[0][0]:].any()
    ended = watch.times(CallEnded)[0][0]
    assert len(frames) == max(round(ended * rate), sum(replies[1]))  # the whole call

    # the transcript dates each line by the audio
    lines = read_jsonl(folder / "transcript.jsonl")
    assert [line["role"] for line in lines] == ["user", "agent", "user", "agent"]
    for line, (start, end) in zip(lines[0::2], spans, strict=True):
        assert line["text"] == "(simulated transcript)"
        assert round(start / rate, 3) <= line["start"] < line["end"] <= round(end / rate, 3)
    for line, (start, length) in zip(lines[1::2], replies, strict=True):
        assert line["text"].startswith("(simulated) I heard")
        assert line["start"] == round(start / rate, 3)
        assert line["end"] == round((start + length) / rate, 3)
        assert "interrupted" not in line

    # the report's latencies are the transcript's gaps
    report = json.loads((folder / "report.json").read_text())
    latencies = [turn["latency"] for turn in report["turns"]]
    gaps = [round(lines[i + 1]["start"] - lines[i]["end"], 3) for i in (0, 2)]
    assert latencies == pytest.approx(gaps, abs=0.0015) and all(g > 0 for g in gaps)
    assert report["latency"]["count"] == 2
    assert report["latency"]["median"] == pytest.approx(sum(latencies) / 2, abs=0.0015)
    assert report["latency"]["p90"] == pytest.approx(
        min(latencies) + 0.9 * abs(latencies[0] - latencies[1]), abs=0.0015)
    assert report["barge_ins"] == [] and report["errors"] == [] and report["reconnects"] == []
    assert report["result"] == {"exit_code": 0, "reason": "conversation closed"}
    assert (report["call_id"], report["channel"], report["agent_file"]) == (
        result.call_id, "test", "clinic")
    markdown = (folder / "report.md").read_text()
    assert f"median {report['latency']['median']:.3f} s" in markdown

    # events: every frame both ways, in time order, audio as byte counts
    events = read_jsonl(folder / "events.jsonl")
    times = [e["t"] for e in events]
    assert times == sorted(times)
    wire = [e for e in events if e["dir"] in ("in", "out")]
    appends = [e["event"] for e in wire if e["event"]["type"] == "input_audio_buffer.append"]
    deltas = [e["event"] for e in wire if e["event"]["type"] == "response.output_audio.delta"]
    assert sum(a["audio_bytes"] for a in appends) == sum(len(a) for _, a in chunks)
    assert sum(d["delta_bytes"] for d in deltas) == sum(2 * n for _, n in replies)
    assert all("audio" not in a for a in appends) and all("delta" not in d for d in deltas)
    assert all(no_base64_anywhere(e) for e in events)
    kinds = {e["event"]["type"] for e in wire}
    assert {"session.update", "session.updated", "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped", "response.done"} <= kinds


def test_a_barge_in_cuts_the_agent_channel_where_the_caller_spoke(tmp_path: Path) -> None:
    scenario = {"responses": [
        {"say": "Tuesday morning is free at nine, at ten thirty and at eleven fifteen, "
                "and in the afternoon there is a slot at two.", "audio_ms": 5000},
        {"say": "Wednesday then."}]}
    caller = SpeechCaller([speech(QUESTION)], barge_in=speech(INTERRUPT), barge_after=1.0)
    watch = Watch()
    result = call(agent_file(tmp_path), caller, tmp_path / "rec", scenario=scenario,
                  observers=(watch,))
    assert result.exit_code == 0
    folder = the_call(tmp_path / "rec")
    frames, rate = read_wav(folder)
    left, right = frames[:, 0], frames[:, 1]

    expected_right, played = expected_track(watch.agent_events(), rate, len(frames))
    assert np.array_equal(right, expected_right)
    (start, length), (resumed, second) = first_of_each_reply(watch, played)
    stop_at = next(t for t, what in watch.agent_events()
                   if isinstance(what, StopPlayback) and round(t * rate) > start)
    cut = round(stop_at * rate)
    assert start < cut < start + length  # the caller spoke over the first reply
    assert right[start:cut].any()  # what was heard is there...
    assert not right[cut:resumed].any()  # ...the queued rest is gone: silence until the answer
    assert right[resumed:resumed + second].any()

    expected_left, positions = expected_track(watch.caller_events(), rate, len(frames))
    assert np.array_equal(left, expected_left)
    spoken = positions[caller.utterances[1]]
    assert start < spoken <= cut  # the caller's words on the left, overlapping the agent

    lines = read_jsonl(folder / "transcript.jsonl")
    cut_line = next(line for line in lines if line.get("interrupted"))
    full = scenario["responses"][0]["say"]
    assert cut_line["role"] == "agent" and cut_line["end"] == round(cut / rate, 3)
    assert cut_line["text"] and full.startswith(cut_line["text"]) and cut_line["text"] != full
    assert cut_line["unheard"] and full.endswith(cut_line["unheard"])
    report = json.loads((folder / "report.json").read_text())
    (barge,) = report["barge_ins"]
    assert barge["at"] == round(cut / rate, 3)
    assert barge["heard_s"] == pytest.approx((cut - start) / rate, abs=0.0015)
    assert barge["cut_s"] == pytest.approx((start + length - cut) / rate, abs=0.0015)
    assert barge["heard_text"] == cut_line["text"]
    assert report["turns"][0]["agent"]["interrupted"] is True


def test_a_pcmu_call_records_decoded_audio_at_8_khz(tmp_path: Path) -> None:
    question = speech(QUESTION, "pcmu", 8000)
    caller, watch = SpeechCaller([question]), Watch()
    result = call(agent_file(tmp_path, encoding="pcmu"), caller, tmp_path / "rec",
                  observers=(watch,))
    assert result.exit_code == 0
    frames, rate = read_wav(the_call(tmp_path / "rec"))
    assert rate == 8000
    left, right = frames[:, 0], frames[:, 1]
    expected_left, positions = expected_track(watch.caller_events(), rate, len(frames), "pcmu")
    assert np.array_equal(left, expected_left)
    expected_right, _ = expected_track(watch.agent_events(), rate, len(frames), "pcmu")
    assert np.array_equal(right, expected_right)
    assert np.abs(right).max() > 500  # the simulator's tone, decoded
    # decoded G.711, not raw bytes: the left channel is the original speech within μ-law's
    # quantisation error
    original = np.frombuffer(resample(speech(QUESTION), 24000, 8000), dtype="<i2")[:4000]
    heard = left[positions[0]:positions[0] + len(original)].astype(float)
    error = heard - original
    snr = 10 * np.log10(np.sum(original.astype(float) ** 2) / np.sum(error ** 2))
    assert snr > 25
    assert np.array_equal(left[positions[0]:positions[0] + 160],
                          np.frombuffer(ulaw_decode(question[:160]), dtype="<i2"))


def test_different_input_and_output_rates_record_at_the_higher_one(tmp_path: Path) -> None:
    question = speech(QUESTION, "pcm", 16000)
    caller, watch = SpeechCaller([question]), Watch()
    call(agent_file(tmp_path, rate=16000, out_rate=24000), caller, tmp_path / "rec",
         observers=(watch,))
    frames, rate = read_wav(the_call(tmp_path / "rec"))
    assert rate == 24000
    reference = np.frombuffer(resample(question, 16000, 24000), dtype="<i2").astype(float)
    arrived = round(watch.caller_chunks()[0][0] * rate)
    left = frames[:, 0].astype(float)
    reference = reference[:round(0.4 * rate)]
    # resampled as one stream (no clicks at chunk joins): it matches the whole-file resampling
    best = max(range(arrived - 5, arrived + 200),
               key=lambda p: float(np.dot(left[p:p + len(reference)], reference)))
    window = left[best:best + len(reference)]
    assert np.corrcoef(window, reference)[0, 1] > 0.99
    assert best - arrived < 0.01 * rate  # at its arrival (plus the resampler's short delay)


def test_no_secret_reaches_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = "clinic-3f9a7c2e1b8d4f60a5e7"
    key = "xai-test-9d8c7b6a5f4e3d2c1b0a"
    monkeypatch.setenv("CLINIC_TOKEN", token)
    path = agent_file(tmp_path, extra="variables:\n  token: {from_env: CLINIC_TOKEN}\n")
    path.write_text(path.read_text().replace(
        "Help the caller book an appointment.",
        "Help the caller book an appointment. Booking token is {{ token }}."))
    caller = SpeechCaller([speech(QUESTION)])
    result = call(path, caller, tmp_path / "rec", sim_key=key, api_key=key)
    assert result.exit_code == 0
    folder = the_call(tmp_path / "rec")
    for name in CALL_FILES:
        data = (folder / name).read_bytes()
        for secret in (token, key):
            assert secret.encode() not in data, (name, secret)
            assert base64.b64encode(secret.encode()) not in data
        assert b"Bearer" not in data and b"Authorization" not in data
    update = next(e for e in read_jsonl(folder / "events.jsonl")
                  if e["dir"] == "out" and e["event"]["type"] == "session.update")
    assert "Booking token is [hidden $CLINIC_TOKEN]." in update["event"]["session"]["instructions"]


def test_push_to_talk_turns_end_at_the_last_speech_before_the_release(tmp_path: Path) -> None:
    question = speech(QUESTION, "pcma", 8000)
    caller, watch = SpeechCaller([question, question], tail_ms=300, turn_end=True), Watch()
    path = agent_file(tmp_path, encoding="pcma", turns="{type: manual}")
    result = call(path, caller, tmp_path / "rec", observers=(watch,))
    assert result.exit_code == 0 and caller.answered == [True, True]
    folder = the_call(tmp_path / "rec")
    frames, rate = read_wav(folder)
    expected_left, positions = expected_track(watch.caller_events(), rate, len(frames), "pcma")
    assert np.array_equal(frames[:, 0], expected_left)
    lines = read_jsonl(folder / "transcript.jsonl")
    assert [line["role"] for line in lines] == ["user", "agent", "user", "agent"]
    commits = [e["t"] for e in read_jsonl(folder / "events.jsonl")
               if e["dir"] == "out" and e["event"]["type"] == "input_audio_buffer.commit"]
    assert len(commits) == 2
    per_chunk = rate * CHUNK_MS // 1000
    for line, first, released in zip(lines[0::2], caller.utterances, commits, strict=True):
        assert line["text"] == "(simulated transcript)"  # the committed item's transcript
        speech_end = positions[first] + len(pcm16(question, "pcma"))
        # the speech ended before the 300 ms of silence the caller held the button through
        assert positions[first] / rate - 0.001 <= line["start"] < line["end"]
        assert line["end"] <= round(speech_end / rate, 3) + per_chunk / rate
        assert line["end"] < released - 0.25
    report = json.loads((folder / "report.json").read_text())
    for turn, user, agent in zip(report["turns"], lines[0::2], lines[1::2], strict=True):
        assert turn["latency"] == pytest.approx(agent["start"] - user["end"], abs=0.0015)
        assert turn["latency"] > 0.25  # the button was held through the silence
