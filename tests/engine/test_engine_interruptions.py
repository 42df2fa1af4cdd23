"""The engine half of ``interruptions:`` (issue 10): min speech, off, half-duplex."""

from __future__ import annotations

import base64
import dataclasses
import pathlib

from _engine_helpers import (
    assistant_item,
    audio_delta,
    make_config,
    receive_and_get,
    response_created,
    response_done,
    speech_started,
    speech_stopped,
)
from agentrun.engine import Conversation, ConversationConfig, Report, SendEvent, StopPlayback
from agentrun.engine.setup import Interruptions
from agentrun.protocol import AudioConfig, AudioInput, AudioOutput, PcmuFormat
from agentrun.spec import load_spec

CANCEL = ("send", {"type": "response.cancel"})
PCM_100MS = b"\x00\x00" * 2400  # 100 ms at 24 kHz output
CALLER_20MS = b"\x10\x27" * 320  # 20 ms of loud caller audio at 16 kHz input


def conv_with(**rules: object) -> Conversation:
    config = dataclasses.replace(make_config(), interruptions=Interruptions(**rules))
    conv = Conversation(config)
    conv.receive_message('{"type":"conversation.created"}', 0.0)
    conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
    return conv


def speaking(conv: Conversation, now: float = 0.0, chunks: int = 10) -> None:
    receive_and_get(conv, response_created("resp_1"), assistant_item("a1", "resp_1"), now=now)
    for _ in range(chunks):  # 1 s of agent audio, received at `now`
        receive_and_get(conv, audio_delta("resp_1", "a1", PCM_100MS), now=now)


def appended(actions: list) -> bytes:
    [send] = [a for a in actions if isinstance(a, SendEvent)]
    return base64.b64decode(send.event.audio)


def test_a_cough_shorter_than_min_speech_does_not_cut_the_agent_off() -> None:
    conv = conv_with(min_speech_ms=300)
    speaking(conv)
    assert receive_and_get(conv, speech_started(), now=1.0) == []
    assert conv.next_deadline == 1.3
    assert receive_and_get(conv, speech_stopped(), now=1.2) == [
        Report("debug", "caller speech of 200 ms did not interrupt "
                        "(interruptions.min_speech_ms is 300)")]
    assert conv.tick(1.3) == []  # disarmed: no barge-in, no cancel


def test_speech_that_lasts_min_speech_barges_in_at_the_deadline() -> None:
    conv = conv_with(min_speech_ms=300)
    speaking(conv)
    receive_and_get(conv, speech_started(), now=1.0)
    actions = conv.tick(1.3)
    assert actions[0] == StopPlayback("caller kept speaking")
    assert isinstance(actions[1], SendEvent) and actions[1].event.type == "response.cancel"


def test_speech_while_the_agent_is_quiet_is_a_turn_not_a_barge_in() -> None:
    """Nothing plays: nothing to stop (a stop would read as a barge-in in the record)."""
    conv = conv_with(min_speech_ms=300)
    assert receive_and_get(conv, speech_started(), now=1.0) == []
    assert conv.next_deadline is None  # no barge-in deadline armed either
    speaking(conv, now=2.0)
    receive_and_get(conv, response_done("resp_1"), now=2.1)
    conv.playback_progress("a1", 1000)  # the channel played the reply to the end
    assert receive_and_get(conv, speech_started(), now=3.1) == []
    assert conv.next_deadline is None and not conv.replies["a1"].interrupted


def test_a_reply_played_to_within_a_report_of_its_end_is_not_cut_by_the_next_turn() -> None:
    """A device reports whole milliseconds at buffer granularity: 999 of 1000 ms is the end."""
    conv = conv_with()
    speaking(conv, now=1.0)
    receive_and_get(conv, response_done("resp_1"), now=1.1)
    conv.playback_progress("a1", 999)
    assert receive_and_get(conv, speech_started(), now=2.05) == []
    assert not conv.replies["a1"].interrupted
    assert conv.interrupt(2.1) == [StopPlayback("interrupted by the user")]  # nothing heard cut
    assert not conv.replies["a1"].interrupted


def test_with_interruptions_off_speech_never_stops_the_agent() -> None:
    conv = conv_with(enabled=False)
    speaking(conv)
    assert receive_and_get(conv, speech_started(), now=0.5) == [
        Report("debug", "caller spoke while the agent was busy; interruptions are off")]
    assert conv.interrupt(0.6) == [Report("debug", "interruptions are off; not interrupting")]


def test_half_duplex_replaces_caller_audio_by_silence_of_the_same_length() -> None:
    conv = conv_with(half_duplex=True)
    assert appended(conv.send_user_audio(CALLER_20MS, 0.0)) == CALLER_20MS  # agent quiet
    speaking(conv, now=1.0)
    assert appended(conv.send_user_audio(CALLER_20MS, 1.1)) == b"\x00" * len(CALLER_20MS)
    receive_and_get(conv, response_done("resp_1"), now=1.2)
    # all audio arrived, but 1 s of it is still playing (no progress reports: real time)
    assert appended(conv.send_user_audio(CALLER_20MS, 1.9)) == b"\x00" * len(CALLER_20MS)
    assert appended(conv.send_user_audio(CALLER_20MS, 2.5)) == CALLER_20MS  # played out


def test_playback_progress_ends_the_mute_when_the_channel_has_played_it_all() -> None:
    conv = conv_with(half_duplex=True)
    speaking(conv, now=1.0)
    receive_and_get(conv, response_done("resp_1"), now=1.2)
    conv.playback_progress("a1", 600)
    assert conv.agent_speaking(1.5)
    conv.playback_progress("a1", 1000)
    assert not conv.agent_speaking(1.6)
    assert appended(conv.send_user_audio(CALLER_20MS, 1.6)) == CALLER_20MS


def test_a_stale_progress_report_falls_back_to_the_deadline() -> None:
    conv = conv_with(half_duplex=True)
    speaking(conv, now=1.0)
    receive_and_get(conv, response_done("resp_1"), now=1.2)
    conv.playback_progress("a1", 100)  # the channel stopped reporting
    assert conv.agent_speaking(3.9) and not conv.agent_speaking(4.1)


def test_g711_silence_is_the_codec_silence_byte() -> None:
    session = make_config().session.model_copy(update={"audio": AudioConfig(
        input=AudioInput(format=PcmuFormat()), output=AudioOutput(format=PcmuFormat()))})
    config = ConversationConfig(session=session, interruptions=Interruptions(half_duplex=True))
    conv = Conversation(config)
    conv.receive_message('{"type":"conversation.created"}', 0.0)
    conv.receive_message('{"type":"session.updated","session":{}}', 0.0)
    receive_and_get(conv, response_created("resp_1"), audio_delta("resp_1", "a1", b"\xff" * 800))
    assert appended(conv.send_user_audio(b"\x12" * 160, 0.05)) == b"\xff" * 160


def test_the_yaml_block_reaches_the_engine(tmp_path: pathlib.Path) -> None:
    agent = tmp_path / "a.yaml"
    agent.write_text("name: A\ninstructions: Hi.\ninterruptions:\n  min_speech_ms: 0.3s\n"
                     "  half_duplex: true\n")
    config = ConversationConfig.from_spec(load_spec(agent), instructions="Hi.",
                                          function_tools=[])
    assert config.interruptions == Interruptions(enabled=True, min_speech_ms=300,
                                                 half_duplex=True)
