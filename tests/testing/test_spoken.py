"""Spoken turns: WAV files made with espeak-ng at test time, spoken into the call offline.

The simulator answers a spoken turn with how much audio it heard, so a passing reply check
proves the speech reached the service in the session's format: 24 kHz PCM with server VAD
(the caller keeps the line open with silence until the server hears the end of the turn) and
8 kHz G.711 μ-law with push-to-talk turns (the caller ends the turn itself).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile
from click.testing import Result

Write = Callable[..., Path]
Invoke = Callable[..., Result]


def speak(path: Path, text: str) -> None:
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True, capture_output=True)


def test_a_spoken_scenario_passes_offline_with_server_vad(write: Write, invoke: Invoke,
                                                          tmp_path: Path) -> None:
    speak(tmp_path / "where.wav", "Where is my order one two three four?")
    speak(tmp_path / "thanks.wav", "Thank you. That is all for today, goodbye.")
    write("""\
        agent: desk.yaml
        scenarios:
          - name: asks by voice
            turns:
              - audio: where.wav
                model: {call: lookup_order, arguments: {order_id: "1234"}}
                expect:
                  tool: {name: lookup_order, arguments: {order_id: "1234"}, output: shipped}
                  reply: shipped
              - audio: thanks.wav
                expect: {no_tool: true, reply: {matches: 'I heard \\d+\\.\\d s of audio'}}
              - say: and typed turns mix with spoken ones
                expect: {reply: typed turns}
        """)
    result = invoke("test", "-v")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("PASS  desk.test.yaml::asks by voice")
    assert "        caller: (speaks where.wav)\n" in result.stdout


def test_a_spoken_scenario_passes_with_push_to_talk_and_telephone_audio(
        write: Write, invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "phone.yaml").write_text("""\
name: Phone Desk
instructions: You book appointments.
greeting: Booking line, who am I speaking with?
turn_detection: {type: manual}
audio:
  input: {format: pcmu}
  output: {format: pcmu}
""")
    speak(tmp_path / "book.wav", "I would like to book a cleaning for tomorrow, please.")
    write("""\
        agent: phone.yaml
        scenarios:
          - name: books by voice
            expect: {greeting: who am I speaking with}
            turns:
              - audio: book.wav
                expect: {reply: {matches: 'I heard [1-9]\\.\\d s of audio'}}
        """)
    result = invoke("test")
    assert result.exit_code == 0, result.output


def test_speech_the_server_never_hears_ends_at_the_time_limit_saying_so(
        write: Write, invoke: Invoke, tmp_path: Path) -> None:
    soundfile.write(tmp_path / "quiet.wav", np.zeros(16000, dtype=np.int16), 16000)
    write("""\
        agent: desk.yaml
        timeout: 2s
        scenarios:
          - name: silence
            turns:
              - audio: quiet.wav
        """)
    result = invoke("test")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(
        "turn 1 (line 6): did not finish within 2 s: stopped while waiting for the reply to "
        "turn 1 audio quiet.wav (the server did not hear the end of the speech) (timeout: in "
        "the test file sets the limit)")
