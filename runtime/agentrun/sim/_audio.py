"""Audio for the simulator: precomputed output chunks and an energy detector for input.

The simulator must stream tens of thousands of audio deltas per second (bench), so every chunk
is generated, encoded (PCM16 LE or G.711) and base64-encoded once per (format, rate, size) and
reused. Input audio is judged by energy only: the simulator is honest about not understanding
speech. This module imports nothing of ours and no third-party package.
"""

from __future__ import annotations

import base64
import math
import sys
from functools import lru_cache

__all__ = ["AudioFormat", "bytes_per_ms", "chunk_b64", "input_level", "parse_format"]

_TONE_HZ = 400  # a whole number of cycles in every 2.5 ms multiple, so chunks join seamlessly
_TONE_AMPLITUDE = 1200  # quiet (about -29 dBFS): audible in a player, not a blast

AudioFormat = tuple[str, int]
"""(wire format type, rate): ("audio/pcm", 24000), ("audio/pcmu", 8000) or ("audio/pcma", 8000)."""


def parse_format(fmt: object) -> AudioFormat:
    """Read a session ``audio.*.format`` object; G.711 is fixed at 8000 Hz (reference §4).

    Args:
        fmt: the ``format`` value from a ``session.update`` (anything; bad shapes mean defaults).

    Returns:
        The format type and sample rate.
    """
    if not isinstance(fmt, dict):
        return ("audio/pcm", 24000)
    kind = fmt.get("type") if isinstance(fmt.get("type"), str) else "audio/pcm"
    if kind in ("audio/pcmu", "audio/pcma"):
        return (kind, 8000)
    rate = fmt.get("rate")
    return ("audio/pcm", rate if isinstance(rate, int) and rate > 0 else 24000)


def bytes_per_ms(fmt: AudioFormat) -> float:
    """Bytes of one millisecond of mono audio in ``fmt`` (PCM16: 2 per sample; G.711: 1)."""
    kind, rate = fmt
    return rate / 1000 * (2 if kind == "audio/pcm" else 1)


def _linear_to_ulaw(sample: int) -> int:
    """ITU-T G.711 μ-law encoding of one 16-bit sample."""
    bias, clip = 0x84, 32635
    sign = 0x80 if sample < 0 else 0
    sample = min(abs(sample), clip) + bias
    exponent = max(0, sample.bit_length() - 8)
    mantissa = (sample >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def _linear_to_alaw(sample: int) -> int:
    """ITU-T G.711 A-law encoding of one 16-bit sample."""
    sign = 0x80 if sample >= 0 else 0
    sample = min(abs(sample), 32767) >> 3
    if sample < 32:
        value = sample >> 1
    else:
        exponent = sample.bit_length() - 5
        value = (exponent << 4) | ((sample >> exponent) & 0x0F)
    return (value | sign) ^ 0x55


def _ulaw_to_linear(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if sign else magnitude


def _alaw_to_linear(byte: int) -> int:
    byte ^= 0x55
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 4) + 0x108) << (exponent - 1) if exponent else (mantissa << 4) + 8
    return magnitude if sign else -magnitude


_ULAW_LEVEL = [abs(_ulaw_to_linear(b)) for b in range(256)]
_ALAW_LEVEL = [abs(_alaw_to_linear(b)) for b in range(256)]


@lru_cache(maxsize=256)
def chunk_b64(fmt: AudioFormat, ms: int) -> str:
    """Base64 of ``ms`` milliseconds of a quiet tone in ``fmt``, computed once and cached.

    Args:
        fmt: output format and rate.
        ms: duration of the chunk in milliseconds.

    Returns:
        The base64 text for a ``response.output_audio.delta``.
    """
    kind, rate = fmt
    count = rate * ms // 1000
    samples = [
        int(_TONE_AMPLITUDE * math.sin(2 * math.pi * _TONE_HZ * i / rate)) for i in range(count)
    ]
    if kind == "audio/pcmu":
        raw = bytes(_linear_to_ulaw(s) for s in samples)
    elif kind == "audio/pcma":
        raw = bytes(_linear_to_alaw(s) for s in samples)
    else:
        pcm = bytearray()
        for s in samples:
            pcm += s.to_bytes(2, "little", signed=True)
        raw = bytes(pcm)
    return base64.b64encode(raw).decode("ascii")


def input_level(raw: bytes, kind: str) -> int:
    """Peak absolute level (0..32768) of input audio, sampled sparsely for speed.

    Args:
        raw: decoded ``input_audio_buffer.append`` bytes.
        kind: the input format type.

    Returns:
        A rough peak level; the simulator's VAD compares it with a fixed threshold.
    """
    if kind == "audio/pcmu":
        return max((_ULAW_LEVEL[b] for b in raw[::8]), default=0)
    if kind == "audio/pcma":
        return max((_ALAW_LEVEL[b] for b in raw[::8]), default=0)
    usable = len(raw) - len(raw) % 2
    if usable == 0:
        return 0
    view = memoryview(raw[:usable]).cast("h")
    if sys.byteorder != "little":  # pragma: no cover - big-endian hosts
        return max(abs(int.from_bytes(raw[i:i + 2], "little", signed=True))
                   for i in range(0, usable, 16))
    return max((abs(s) for s in view[::8]), default=0)
