"""Fixtures for every test: a clean secret store, and real speech (espeak-ng) as WAV files."""

from __future__ import annotations

import pathlib
import subprocess
from collections.abc import Callable, Iterator

import numpy as np
import pytest
from agentrun._secrets import forget_all

SpeechWav = Callable[..., pathlib.Path]


@pytest.fixture(autouse=True)
def _forget_secrets() -> Iterator[None]:
    """Each test starts with no remembered secret: environment values one test read (and
    agentrun then hides in everything it prints) must not hide text in the next test."""
    forget_all()
    yield
    forget_all()


def make_speech(text: str, path: pathlib.Path, *, rate: int | None = None, channels: int = 1,
                subtype: str = "PCM_16", trim: bool = True) -> pathlib.Path:
    """``text`` spoken by espeak-ng into ``path`` (a WAV), in any layout a caller may have.

    Args:
        text: what to say.
        path: the WAV to write.
        rate: resample to this rate (soxr); None keeps espeak's 22050 Hz.
        channels: 1, or 2 (the speech on both channels).
        subtype: soundfile subtype: PCM_U8, PCM_16, PCM_24, PCM_32, FLOAT.
        trim: cut the file right after the last loud sample (no trailing silence at all).
    """
    import soundfile
    import soxr

    raw = path.with_suffix(".espeak.wav")
    subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, capture_output=True,
                   timeout=60)
    samples, source_rate = soundfile.read(raw, dtype="float32")
    raw.unlink()
    if trim:
        loud = np.flatnonzero(np.abs(samples) > 0.02)
        samples = samples[: loud[-1] + 1]
    if rate is not None and rate != source_rate:
        samples = soxr.resample(samples, source_rate, rate)
        source_rate = rate
    if channels == 2:
        samples = np.column_stack([samples, samples])
    soundfile.write(path, samples, source_rate, subtype=subtype)
    return path


@pytest.fixture
def speech_wav(tmp_path: pathlib.Path) -> SpeechWav:
    """``speech_wav("Where is my order?", name="q1", rate=8000, ...)`` -> a WAV path."""
    def make(text: str, name: str = "speech", **options: object) -> pathlib.Path:
        return make_speech(text, tmp_path / f"{name}.wav", **options)  # type: ignore[arg-type]
    return make
