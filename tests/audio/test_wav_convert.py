"""Any WAV people have becomes the session's input format: right length, pitch and level."""

from __future__ import annotations

import pathlib
import subprocess

import numpy as np
import pytest
import soundfile
from agentrun.audio import decode, sound_info, wav_to_session
from agentrun.errors import AudioFileError

RATES = [8000, 16000, 22050, 44100, 48000]
SUBTYPES = ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT"]
SESSIONS = [("pcm", 24000), ("pcm", 16000), ("pcmu", 8000), ("pcma", 8000)]
SECONDS = 0.5


def tone(rate: int, hz: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(rate * SECONDS)) / rate
    return amplitude * np.sin(2 * np.pi * hz * t)


def session_samples(audio: bytes, encoding: str) -> np.ndarray:
    return np.frombuffer(decode(audio, encoding), dtype="<i2").astype(np.float64) / 32768


def level_at(samples: np.ndarray, rate: int, hz: float) -> float:
    """Amplitude of the ``hz`` component (a windowed FFT bin, scaled to a sine's peak)."""
    window = np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(samples * window)) / (window.sum() / 2)
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    near = np.abs(freqs - hz) < 15
    return float(spectrum[near].max())


@pytest.mark.parametrize("subtype", SUBTYPES)
@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("channels", [1, 2])
def test_every_wav_layout_converts_with_its_length_pitch_and_level(
        tmp_path: pathlib.Path, rate: int, channels: int, subtype: str) -> None:
    # mono: a 440 Hz tone at half scale; stereo: 440 Hz left and 1000 Hz right, each at half
    # scale, so the mono mix holds both at a quarter
    left = tone(rate, 440, 0.5)
    data = left if channels == 1 else np.column_stack([left, tone(rate, 1000, 0.5)])
    path = tmp_path / f"{rate}-{channels}-{subtype}.wav"
    soundfile.write(path, data, rate, subtype=subtype)
    info = sound_info(str(path))
    assert (info.rate, info.channels, info.subtype) == (rate, channels, subtype)

    for encoding, to_rate in SESSIONS:
        audio = wav_to_session(str(path), encoding=encoding, rate=to_rate)
        samples = session_samples(audio, encoding)
        assert abs(len(samples) - SECONDS * to_rate) <= 1, (encoding, to_rate)
        expected = 0.5 if channels == 1 else 0.25
        # 8-bit and G.711 add quantisation noise, not level error: 5% covers both
        assert level_at(samples, to_rate, 440) == pytest.approx(expected, rel=0.05)
        if channels == 2:
            assert level_at(samples, to_rate, 1000) == pytest.approx(0.25, rel=0.05)


@pytest.mark.parametrize("rate", [22050, 44100, 48000])
def test_content_above_the_new_nyquist_is_filtered_not_folded(tmp_path: pathlib.Path,
                                                              rate: int) -> None:
    """Going to 8 kHz, a 5 kHz tone must vanish: dropping samples would fold it to 3 kHz."""
    path = tmp_path / "high.wav"
    soundfile.write(path, tone(rate, 5000, 0.5) + tone(rate, 1000, 0.25), rate)
    samples = session_samples(wav_to_session(str(path), encoding="pcm", rate=8000), "pcm")
    assert level_at(samples, 8000, 1000) == pytest.approx(0.25, rel=0.02)
    assert level_at(samples, 8000, 3000) < 0.001  # the alias image, 54+ dB down


def test_speech_from_espeak_keeps_its_shape_at_phone_rate(tmp_path: pathlib.Path) -> None:
    """Real speech (espeak-ng, 22.05 kHz) → μ-law 8 kHz: same duration, same loudness contour."""
    wav = tmp_path / "speech.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Where is my order, number one two three four?"],
                   check=True, capture_output=True)
    original, rate = soundfile.read(wav, dtype="float64")
    audio = wav_to_session(str(wav), encoding="pcmu", rate=8000)
    converted = session_samples(audio, "pcmu")
    assert abs(len(converted) / 8000 - len(original) / rate) < 0.001

    def envelope(x: np.ndarray, r: int) -> np.ndarray:  # RMS per 20 ms
        n = r // 50
        frames = x[: len(x) // n * n].reshape(-1, n)
        return np.sqrt((frames ** 2).mean(axis=1))

    a, b = envelope(original, rate), envelope(converted, 8000)
    count = min(len(a), len(b))
    assert np.corrcoef(a[:count], b[:count])[0, 1] > 0.95


def test_a_file_that_is_not_audio_is_named_with_a_hint(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "q1.wav"
    path.write_text("this is not a WAV\n")
    with pytest.raises(AudioFileError) as caught:
        wav_to_session(str(path), encoding="pcm", rate=24000)
    assert str(caught.value).startswith(f"{path}: not a WAV file")
    assert "8-48 kHz" in str(caught.value)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory"),
    (lambda p: soundfile.write(p, np.zeros(0), 16000), "holds no audio"),
])
def test_missing_directory_and_empty_files_are_refused(tmp_path: pathlib.Path, make: object,
                                                       message: str) -> None:
    path = tmp_path / "q.wav"
    make(path)  # type: ignore[operator]
    with pytest.raises(AudioFileError, match=message):
        sound_info(str(path))

