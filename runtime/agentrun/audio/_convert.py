"""Between any samples and a session's audio format: mix to mono, resample, quantise, encode.

A session's audio on one side is PCM16 LE mono at 8–48 kHz (``pcm``) or G.711 at 8 kHz
(``pcmu``/``pcma``), as ``agentrun.io.AudioFormat`` describes it. Everything here is a pure
function of its arguments. This module imports numpy and our G.711 and resampler modules.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from agentrun.audio._g711 import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from agentrun.audio._resample import resample_array

__all__ = ["ENCODINGS", "Encoding", "convert", "decode", "encode", "silence", "to_float",
           "to_pcm16"]

Encoding = Literal["pcm", "pcmu", "pcma"]
ENCODINGS: tuple[str, ...] = ("pcm", "pcmu", "pcma")

# What silence is on the wire: PCM zero, and the G.711 codes that decode to (near) zero
_SILENT_BYTE = {"pcmu": b"\xff", "pcma": b"\xd5"}


def _check(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown audio encoding {encoding!r} (expected pcm, pcmu or pcma)")


def encode(pcm: bytes, encoding: str) -> bytes:
    """PCM16 LE mono → the session's encoding (``pcm`` returns ``pcm`` itself).

    Args:
        pcm: PCM16 LE mono samples.
        encoding: ``pcm``, ``pcmu`` (G.711 μ-law) or ``pcma`` (G.711 A-law).

    Returns:
        The encoded bytes (G.711: one byte per sample).

    Raises:
        ValueError: unknown encoding, or ``pcm`` has an odd number of bytes.
    """
    _check(encoding)
    if encoding == "pcmu":
        return ulaw_encode(pcm)
    if encoding == "pcma":
        return alaw_encode(pcm)
    return pcm


def decode(data: bytes, encoding: str) -> bytes:
    """The session's encoding → PCM16 LE mono (``pcm`` returns ``data`` itself).

    Args:
        data: audio in ``encoding``.
        encoding: ``pcm``, ``pcmu`` or ``pcma``.

    Returns:
        PCM16 LE samples (G.711: two bytes per input byte).

    Raises:
        ValueError: unknown encoding.
    """
    _check(encoding)
    if encoding == "pcmu":
        return ulaw_decode(data)
    if encoding == "pcma":
        return alaw_decode(data)
    return data


def silence(encoding: str, rate: int, ms: float) -> bytes:
    """``ms`` milliseconds of digital silence in a session format.

    Args:
        encoding: ``pcm``, ``pcmu`` or ``pcma``.
        rate: sample rate, Hz.
        ms: duration, milliseconds (rounded down to whole samples).

    Returns:
        The bytes (PCM: zeros; μ-law: 0xFF; A-law: 0xD5).

    Raises:
        ValueError: unknown encoding.
    """
    _check(encoding)
    count = int(rate * ms / 1000)
    if encoding == "pcm":
        return bytes(2 * count)
    return _SILENT_BYTE[encoding] * count


def to_float(samples: np.ndarray) -> np.ndarray:
    """Samples as float32 in -1.0..1.0, channels mixed down to mono (their mean).

    Args:
        samples: ``(frames,)`` or ``(frames, channels)``; any integer dtype (scaled by its
            full range, unsigned 8-bit centred on 128) or float (taken as -1.0..1.0).

    Returns:
        float32 ``(frames,)``.
    """
    if samples.dtype.kind == "u":
        bits = samples.dtype.itemsize * 8
        values = (samples.astype(np.float64) - 2 ** (bits - 1)) / 2 ** (bits - 1)
    elif samples.dtype.kind == "i":
        values = samples.astype(np.float64) / 2 ** (samples.dtype.itemsize * 8 - 1)
    else:
        values = samples
    if values.ndim == 2:
        values = values.mean(axis=1)
    return np.asarray(values, dtype=np.float32)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Quantise float samples (-1.0..1.0, mono) to int16, rounding and clipping at full scale.

    Args:
        samples: float ``(frames,)``; int16 input is returned unchanged.

    Returns:
        int16 ``(frames,)``.
    """
    if samples.dtype == np.int16:
        return samples
    scaled = np.rint(np.asarray(samples, dtype=np.float64) * 32768.0)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def convert(samples: np.ndarray, rate: int, *, encoding: str, to_rate: int) -> bytes:
    """Any samples at any rate → session audio: mono, resampled (soxr), quantised, encoded.

    Args:
        samples: ``(frames,)`` or ``(frames, channels)``, integer or float (see
            :func:`to_float`).
        rate: their rate, Hz.
        encoding: the session's ``pcm``, ``pcmu`` or ``pcma``.
        to_rate: the session's rate, Hz (8000 for G.711).

    Returns:
        The audio in the session's format, about ``frames * to_rate / rate`` samples.

    Raises:
        ValueError: unknown encoding or a rate that is not positive.
    """
    _check(encoding)
    mono = to_float(samples)
    # resample in float, then quantise once: no extra rounding noise, no clipped overshoot
    # until the very end
    pcm = to_pcm16(resample_array(mono, rate, to_rate))
    return encode(pcm.astype("<i2", copy=False).tobytes(), encoding)
