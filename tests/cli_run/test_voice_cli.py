"""``agentrun FILE`` picks text or voice and says why; ``--caller-wav`` calls with speech."""

from __future__ import annotations

import os
import pathlib
import pty
import select
import subprocess
import sys
import time
from typing import Any

import pytest

AGENTRUN = [sys.executable, "-m", "agentrun"]
AGENT = """\
name: Speech
instructions: Be brief.
greeting: Hello, this is the shop.
turn_detection: {turn_detection}
"""
OFFLINE = ("agentrun: no XAI_API_KEY set — talking to the embedded simulator "
           "(offline; replies are simulated)")


@pytest.fixture
def agent(tmp_path: pathlib.Path) -> Any:
    def make(turn_detection: str = "{type: server_vad, silence_duration_ms: 400}") -> str:
        path = tmp_path / "speech.yaml"
        path.write_text(AGENT.format(turn_detection=turn_detection), encoding="utf-8")
        return str(path)
    return make


@pytest.mark.parametrize("turns", ["{type: server_vad, silence_duration_ms: 400}",
                                   "{type: manual}"])
def test_caller_wavs_are_spoken_turns_and_the_call_ends_after_the_last_reply(
        agent: Any, agentrun: Any, speech_wav: Any, turns: str) -> None:
    q1 = speech_wav("Hello, where is my order?", "q1", rate=16000)
    q2 = speech_wav("Thank you, goodbye.", "q2", rate=48000, channels=2, subtype="FLOAT")
    result = agentrun(agent(turns), "--caller-wav", str(q1), "--caller-wav", str(q2), "--fast")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "agent: Hello, this is the shop."
    assert lines[1::2] == ["user: (simulated transcript)"] * 2
    assert all(line.startswith("agent: (simulated) I heard ") for line in lines[2::2])
    assert len(lines) == 5
    assert result.stderr.splitlines()[:3] == [
        OFFLINE, f"agentrun: caller turn 1/2: {q1} ({_secs(q1)} s)",
        f"agentrun: caller turn 2/2: {q2} ({_secs(q2)} s)"]


def _secs(path: pathlib.Path) -> str:
    from agentrun.audio import sound_info

    return f"{sound_info(str(path)).seconds:.1f}"


def test_a_paced_caller_wav_speaks_in_real_time(agent: Any, agentrun: Any,
                                                speech_wav: Any) -> None:
    q1 = speech_wav("Yes, please.", "q1")
    started = time.monotonic()
    result = agentrun(agent(), "--caller-wav", str(q1))
    assert result.returncode == 0, result.stderr
    # the greeting is heard (1.4 s), then the speech is spoken in real time
    assert time.monotonic() - started >= 1.4 + float(_secs(q1)) - 0.1


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_text("RIFF? no, just text\n"), "not a WAV file"),
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "not a WAV file"),
])
def test_a_bad_caller_wav_is_one_line_and_exit_2_before_connecting(
        tmp_path: pathlib.Path, agent: Any, agentrun: Any, speech_wav: Any, make: Any,
        message: str) -> None:
    good = speech_wav("Hello.", "good")
    bad = tmp_path / "q2.wav"
    make(bad)
    result = agentrun(agent(), "--caller-wav", str(good), "--caller-wav", str(bad))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"agentrun: {bad}: {message}"), result.stderr
    assert result.stdout == ""  # nothing connected: no greeting, no simulator notice


@pytest.mark.parametrize(("args", "message"), [
    (["--fast"], "--fast paces --caller-wav files"),
    (["--text", "--voice"], "choose one of --text, --voice and --caller-wav"),
    (["--text", "--input-device", "1"], "are for voice calls"),
])
def test_contradictory_options_are_usage_errors(agent: Any, agentrun: Any, args: list[str],
                                                message: str) -> None:
    result = agentrun(agent(), *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_piped_input_stays_in_text_mode_and_says_why_first(agent: Any, agentrun: Any) -> None:
    result = agentrun(agent(), input="hello\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[:2] == [
        "agentrun: text mode: input is not a terminal (use --voice to talk anyway)", OFFLINE]
    assert result.stdout.splitlines()[-1] == "agent: (simulated) You said: hello"


def on_a_terminal(args: list[str], env: dict[str, str], typed: bytes) -> tuple[int, str, str]:
    """Run with a pseudo-terminal as stdin (as a person would), type ``typed``, then Ctrl-D."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([*AGENTRUN, *args], stdin=follower, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    os.close(follower)
    try:
        os.write(leader, typed)
        time.sleep(0.5)
        os.write(leader, b"\x04")  # Ctrl-D: end of input
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        while select.select([leader], [], [], 0)[0]:
            try:
                os.read(leader, 4096)
            except OSError:
                break
        os.close(leader)
    return proc.returncode, out.decode(), err.decode()


@pytest.mark.parametrize(("module", "reason"), [
    # what Python finds when sounddevice is not installed
    ("raise ModuleNotFoundError(\"No module named 'sounddevice'\", name='sounddevice')\n",
     "the audio extra is not installed (pip install 'agentrun-voice[audio]')"),
    # what sounddevice raises when the PortAudio library is not on the system
    ("raise OSError('PortAudio library not found')\n",
     "the PortAudio library is missing (install it: `sudo apt-get install libportaudio2` "
     "(Debian/Ubuntu), `sudo dnf install portaudio` (Fedora))"),
])
def test_on_a_terminal_without_the_audio_extra_or_portaudio_text_mode_says_what_to_do(
        tmp_path: pathlib.Path, agent: Any, cli_env: dict[str, str], module: str,
        reason: str) -> None:
    hidden = tmp_path / "no-audio"
    hidden.mkdir()
    (hidden / "sounddevice.py").write_text(module)
    env = {**cli_env, "PYTHONPATH": str(hidden)}
    code, out, err = on_a_terminal([agent()], env, b"hello\n")
    assert code == 0, err
    assert err.splitlines()[0] == f"agentrun: text mode: {reason}"
    assert "agent: (simulated) You said: hello" in out
    code, out, err = on_a_terminal([agent(), "--voice"], env, b"")
    assert code == 2
    assert err.strip() == f"agentrun: {reason}"
    listing = subprocess.run([*AGENTRUN, "devices"], capture_output=True, text=True, env=env,
                             timeout=60)
    assert listing.returncode == 2
    assert listing.stderr.strip() == f"agentrun: {reason}" and listing.stdout == ""


@pytest.mark.skipif(os.path.exists("/dev/snd"), reason="this machine has sound hardware")
def test_on_a_terminal_without_devices_text_mode_says_so(agent: Any,
                                                         cli_env: dict[str, str]) -> None:
    """A headless machine (CI): PortAudio is there, but no microphone or speaker."""
    code, out, err = on_a_terminal([agent()], cli_env, b"hello\n")
    assert code == 0 and "You said: hello" in out, err
    assert err.splitlines()[0] == ("agentrun: text mode: no microphone found (`agentrun "
                                   "devices` lists what PortAudio sees)")
    code, _, err = on_a_terminal([agent(), "--voice"], cli_env, b"")
    assert code == 2
    assert err.strip() == ("agentrun: no microphone found (`agentrun devices` lists what "
                           "PortAudio sees)")
    listing = subprocess.run([*AGENTRUN, "devices"], capture_output=True, text=True,
                             env=cli_env, timeout=60)
    assert listing.returncode == 0
    assert listing.stdout == ("microphones (input):\n    none found\n"
                              "speakers (output):\n    none found\n")
