"""Sound files in: read any WAV people have (and whatever else libsndfile reads) and convert it
to a session's input format.

8 to 48 kHz (any rate, in fact), mono or stereo (or more: channels are averaged), 8/16/24/32-bit
integer or 32/64-bit float, also μ-law/A-law WAVs: ``soundfile`` (libsndfile) decodes them all to
float, then :func:`agentrun.audio.convert` resamples (soxr), quantises and encodes. Every failure
is an :class:`~agentrun.errors.AudioFileError` naming the file. This module reads files and
imports numpy, soundfile and our conversion module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentrun.audio._convert import convert
from agentrun.errors import AudioFileError

__all__ = ["SoundInfo", "read_sound", "sound_info", "wav_to_session"]

_HINT = "give a WAV file: 8-48 kHz, mono or stereo, 8/16/24/32-bit integer or float"


@dataclass(frozen=True, slots=True)
class SoundInfo:
    """What a sound file holds.

    Attributes:
        path: the file as named.
        rate: sample rate, Hz.
        channels: channels per frame.
        frames: frames (samples per channel).
        format: container, e.g. ``WAV``.
        subtype: sample encoding, e.g. ``PCM_16``, ``PCM_24``, ``FLOAT``.
    """

    path: str
    rate: int
    channels: int
    frames: int
    format: str
    subtype: str

    @property
    def seconds(self) -> float:
        """Duration in seconds."""
        return self.frames / self.rate if self.rate else 0.0


def _soundfile() -> Any:
    try:
        import soundfile
    except OSError as exc:  # the wheel bundles libsndfile; a source install may lack it
        raise AudioFileError("<sound files>", f"libsndfile is not available ({exc})",
                             hint="install libsndfile1 (Debian/Ubuntu) or libsndfile "
                                  "(Homebrew)") from exc
    return soundfile


def _check_readable(path: str) -> None:
    if not os.path.exists(path):
        raise AudioFileError(path, "no such file", hint=_HINT)
    if os.path.isdir(path):
        raise AudioFileError(path, "is a directory, not a sound file", hint=_HINT)
    try:
        open(path, "rb").close()  # readable? (permissions) — a plain message, not libsndfile's
    except OSError as exc:
        raise AudioFileError(path, f"cannot be read ({exc.strerror or exc})") from exc


def _not_audio(path: str, exc: Exception) -> AudioFileError:
    reason = getattr(exc, "error_string", "") or str(exc)
    return AudioFileError(path, f"not a WAV file ({reason.rstrip('.')})", hint=_HINT)


def sound_info(path: str) -> SoundInfo:
    """Open a sound file's header and check it holds audio (cheap: reads no samples).

    Args:
        path: the file.

    Returns:
        Its rate, channels, length and sample encoding.

    Raises:
        AudioFileError: missing, a directory, unreadable, not audio, or no frames at all.
    """
    _check_readable(path)
    soundfile = _soundfile()
    try:
        info = soundfile.info(path)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise _not_audio(path, exc) from exc
    if info.frames <= 0 or info.samplerate <= 0:
        raise AudioFileError(path, "holds no audio (0 samples)", hint=_HINT)
    return SoundInfo(path, int(info.samplerate), int(info.channels), int(info.frames),
                     str(info.format), str(info.subtype))


def read_sound(path: str) -> tuple[np.ndarray, SoundInfo]:
    """Read a whole sound file as float samples.

    Args:
        path: the file.

    Returns:
        float32 samples ``(frames, channels)`` in -1.0..1.0, and the file's :class:`SoundInfo`.

    Raises:
        AudioFileError: see :func:`sound_info`; also a file that is cut short or corrupt.
    """
    info = sound_info(path)
    soundfile = _soundfile()
    try:
        samples, _rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise _not_audio(path, exc) from exc
    return samples, info


def wav_to_session(path: str, *, encoding: str, rate: int) -> bytes:
    """A sound file converted to a session's input format (mono, resampled, encoded).

    Args:
        path: a WAV (or any libsndfile format).
        encoding: ``pcm``, ``pcmu`` or ``pcma``.
        rate: the session's input rate, Hz.

    Returns:
        The whole file as session audio.

    Raises:
        AudioFileError: the file is missing, unreadable or not audio.
    """
    samples, info = read_sound(path)
    return convert(samples, info.rate, encoding=encoding, to_rate=rate)
