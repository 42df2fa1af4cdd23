"""The microphone and speaker through sounddevice on a real PortAudio device (ALSA ``file``).

Each test runs agentrun in a subprocess whose HOME holds the test ``.asoundrc`` (PortAudio reads
ALSA's configuration when it starts), against the embedded simulator. The card is clocked by
the test (see ``_soundcard``), so what is asserted is plumbing and accounting: the speech
reached the server at the right rate and format, the agent's audio reached the speaker, typed
lines still work, barge-in silences the speaker, and device problems are one line each.
"""

from __future__ import annotations

import os
import pathlib
import queue
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from _soundcard import FileSoundCard
from agentrun.audio import sound_info, wav_to_session

AGENT = """\
name: Speech
instructions: Be brief.
greeting: Hello, this is the shop.
turn_detection: {type: server_vad, silence_duration_ms: 400}
"""


class Running:
    """A subprocess whose stdout and stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        for stream, into in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._pump, args=(stream, into), daemon=True).start()

    def _pump(self, stream: Any, into: list[str]) -> None:
        for line in stream:
            into.append(line.rstrip("\n"))
            if into is self.stdout:
                self.lines.put(line.rstrip("\n"))

    def wait_for(self, pattern: str, timeout: float = 60) -> str:
        """The next stdout line matching ``pattern`` (earlier lines are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; stdout {self.stdout}, "
                                     f"stderr {self.stderr}") from None
            if re.search(pattern, line):
                return line

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def hang_up(self, timeout: float = 60) -> int:
        """End of input (Ctrl-D): the call ends after the current reply."""
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def env(tmp_path: pathlib.Path) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    base["PYTHONWARNINGS"] = "ignore"
    return base


@pytest.fixture
def agent(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "speech.yaml"
    path.write_text(AGENT, encoding="utf-8")
    return str(path)


@pytest.fixture
def card(tmp_path: pathlib.Path) -> Iterator[Any]:
    """``card(speaker_rate, microphone_rate)`` makes the sound card (closed after the test)."""
    made: list[FileSoundCard] = []

    def make(speaker_rate: int = 24000, microphone_rate: int = 24000) -> FileSoundCard:
        home = tmp_path / f"home{len(made)}"
        home.mkdir()
        made.append(FileSoundCard(home, speaker_rate=speaker_rate,
                                  microphone_rate=microphone_rate))
        return made[-1]

    yield make
    for one in made:
        one.close()


def tone_seconds(pcm: bytes, rate: int) -> float:
    """Seconds of 10 ms frames holding sound (the simulator's agent audio is a steady tone)."""
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2")
    frame = rate // 100
    frames = np.abs(samples[: len(samples) // frame * frame]).reshape(-1, frame)
    return float((frames.max(axis=1) > 300).sum()) / 100


def dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm[: len(pcm) // 2 * 2], dtype="<i2").astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def heard(line: str) -> float:
    return float(line.split("heard ")[1].split(" s")[0])


def test_a_spoken_turn_through_the_microphone_is_answered_on_the_speaker(
        agent: str, card: Any, env: dict[str, str], speech_wav: Any) -> None:
    sound = card()
    wav = speech_wav("Hello, where is my order number one two three four?", "q1")
    call = Running([sys.executable, "-m", "agentrun", agent, "--voice"], sound.env(env))
    try:
        call.wait_for(r"^agent: Hello, this is the shop\.$")
        time.sleep(2.0)  # let the greeting play out on the speaker
        sound.say(wav_to_session(str(wav), encoding="pcm", rate=24000))
        answer = call.wait_for(r"I heard")
        code = call.hang_up()
    finally:
        call.kill()
    assert code == 0, call.stderr
    assert "Traceback" not in "\n".join(call.stderr)
    # the speech crossed the device at the right rate: the server heard about its length
    assert sound_info(str(wav)).seconds - 0.2 <= heard(answer) <= sound_info(str(wav)).seconds + 1
    assert "user: (simulated transcript)" in call.stdout
    # the greeting and the answer were played out, whole, before the process ended
    greeting_and_answer = 1.44 + 2.22  # the simulator's tone for each text
    assert tone_seconds(bytes(sound.played), 24000) == pytest.approx(greeting_and_answer,
                                                                     abs=0.15)
    assert dominant_hz(bytes(sound.played), 24000) == pytest.approx(400, abs=5)


def test_typed_lines_still_work_in_voice_mode(agent: str, card: Any,
                                              env: dict[str, str]) -> None:
    sound = card()
    call = Running([sys.executable, "-m", "agentrun", agent, "--voice"], sound.env(env))
    try:
        call.wait_for(r"^agent: Hello")
        call.type("where is my order")
        call.wait_for(r"You said: where is my order")
        code = call.hang_up()
    finally:
        call.kill()
    assert code == 0, call.stderr
    assert call.stderr[0].startswith("agentrun: no XAI_API_KEY set")  # no text-mode line
    assert ("agentrun: speak, or type a line; /help lists commands; Ctrl-D or /quit ends the "
            "call") in call.stderr


RESAMPLED = """
import asyncio, sys
from agentrun.agent import Agent
from agentrun.engine.session import audio_formats
from agentrun.io import DeviceEndpoint, TextConsole

async def main():
    agent = Agent.load(sys.argv[1])
    fmt_in, fmt_out = audio_formats(agent.config())
    console = TextConsole()
    device = DeviceEndpoint(console, input_format=fmt_in, output_format=fmt_out,
                            device_rates=(44100, 48000))
    await device.start()
    print("rates", *device.rates, fmt_in.encoding, fmt_in.rate, flush=True)
    try:
        result = await agent.run(device)
    finally:
        await device.finish()
    print("exit", result.exit_code, flush=True)

asyncio.run(main())
"""


def test_devices_at_other_rates_are_resampled_and_g711_is_encoded(
        tmp_path: pathlib.Path, card: Any, env: dict[str, str], speech_wav: Any) -> None:
    """A μ-law 8 kHz session on a 44.1 kHz microphone and a 48 kHz speaker."""
    agent = tmp_path / "phone.yaml"
    agent.write_text(AGENT + "audio: {input: {format: pcmu}, output: {format: pcmu}}\n")
    sound = card(speaker_rate=48000, microphone_rate=44100)
    wav = speech_wav("I would like to change my address.", "q1")
    call = Running([sys.executable, "-c", RESAMPLED, str(agent)], sound.env(env))
    try:
        call.wait_for(r"^rates 44100 48000 pcmu 8000$")
        call.wait_for(r"^agent: Hello")
        time.sleep(2.0)
        sound.say(wav_to_session(str(wav), encoding="pcm", rate=44100))
        answer = call.wait_for(r"I heard")
        code = call.hang_up()
    finally:
        call.kill()
    assert code == 0 and call.stdout[-1] == "exit 0", call.stderr
    assert sound_info(str(wav)).seconds - 0.2 <= heard(answer) <= sound_info(str(wav)).seconds + 1
    played = bytes(sound.played)
    assert tone_seconds(played, 48000) == pytest.approx(1.44 + 2.1, abs=0.2)
    assert dominant_hz(played, 48000) == pytest.approx(400, abs=5)  # μ-law decoded, resampled


def test_barge_in_silences_the_speaker_and_counts_what_was_heard(
        tmp_path: pathlib.Path, card: Any, env: dict[str, str], speech_wav: Any) -> None:
    """The reply arrives whole at once (13 s queued); speech over it stops the speaker, and the
    speaker played what the engine was told was heard."""
    scenario = tmp_path / "long.yaml"
    scenario.write_text('responses:\n  - say: "' + "Your order is a long story. " * 8 + '"\n')
    agent = tmp_path / "speech.yaml"
    agent.write_text(AGENT.replace("greeting: Hello, this is the shop.\n", ""))
    sound = card()
    wav = speech_wav("Stop, please stop.", "q1")
    sim = subprocess.Popen([sys.executable, "-m", "agentrun", "sim", "--scenario", str(scenario)],
                           stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert sim.stdout is not None
        url = sim.stdout.readline().split()[-1]
        call = Running([sys.executable, "-m", "agentrun", str(agent), "--voice", "--url", url,
                        "-v"], sound.env(env))
        try:
            time.sleep(1.0)
            call.type("tell me about my order")
            call.wait_for(r"^agent: Your order")
            time.sleep(1.5)  # the reply plays for a while...
            sound.say(wav_to_session(str(wav), encoding="pcm", rate=24000))  # ...then speech
            call.wait_for(r"I heard|Sorry|…", timeout=60)
            code = call.hang_up()
        finally:
            call.kill()
    finally:
        sim.terminate()
        sim.wait(10)
    assert code == 0, call.stderr
    barge = next(line for line in call.stderr if "barge-in: the caller heard" in line)
    heard_ms, generated_ms = map(int, re.findall(r"(\d+) ms", barge))
    # what the speaker played (1.5 s and more, later on a loaded machine), not all generated
    assert generated_ms > 10000 and 1000 < heard_ms < generated_ms - 3000
    # the speaker played the heard part of the long reply, then the short answer, no more:
    # the rest of the 13 s reply was dropped at once
    answer_s = 2.22  # the simulator's answer to the spoken turn
    assert tone_seconds(bytes(sound.played), 24000) == pytest.approx(
        heard_ms / 1000 + answer_s, abs=0.2)


def test_devices_lists_the_card_and_a_wrong_name_gets_did_you_mean(
        agent: str, card: Any, env: dict[str, str]) -> None:
    sound = card()
    listing = subprocess.run([sys.executable, "-m", "agentrun", "devices"], capture_output=True,
                             text=True, env=sound.env(env), timeout=60)
    assert listing.returncode == 0, listing.stderr
    microphones, speakers = listing.stdout.split("speakers (output):\n")
    assert microphones.startswith("microphones (input):\n")
    for section in (microphones, speakers):  # the default marked, with its rate
        assert re.search(r"^  \* +\d+  default  \(ALSA, \d+ ch, 44100 Hz\)$", section, re.M)
    wrong = subprocess.run([sys.executable, "-m", "agentrun", agent, "--input-device",
                            "defualt"], capture_output=True, text=True, env=sound.env(env),
                           timeout=60, input="")
    assert wrong.returncode == 2
    assert wrong.stderr.strip().splitlines() == [
        "agentrun: --input-device 'defualt': no input device has that name "
        "(did you mean 'default'?)"]
    index = subprocess.run([sys.executable, "-m", "agentrun", agent, "--output-device", "99"],
                           capture_output=True, text=True, env=sound.env(env), timeout=60,
                           input="")
    assert index.returncode == 2
    assert index.stderr.startswith("agentrun: --output-device 99: no device has that index")


def test_a_microphone_that_stops_mid_call_is_one_line_and_the_call_goes_on(
        agent: str, card: Any, env: dict[str, str]) -> None:
    sound = card()
    call = Running([sys.executable, "-m", "agentrun", agent, "--voice"], sound.env(env))
    try:
        call.wait_for(r"^agent: Hello")
        sound.microphone_paused.set()  # the microphone stops delivering audio
        deadline = time.monotonic() + 30
        while not any("microphone has sent no audio" in line for line in call.stderr):
            assert time.monotonic() < deadline, call.stderr
            time.sleep(0.1)
        call.type("are you still there")
        call.wait_for(r"You said: are you still there")
        sound.microphone_paused.clear()  # back, so PortAudio can close the stream
        code = call.hang_up()
    finally:
        sound.microphone_paused.clear()
        call.kill()
    assert code == 0
    stalls = [line for line in call.stderr if "microphone" in line and "warning" in line]
    assert stalls == ["agentrun: warning: the microphone has sent no audio for 2 s "
                      "(unplugged?); the call goes on: type your turns"]
    assert "Traceback" not in "\n".join(call.stderr)
