"""G.711 μ-law and A-law, as lookup tables built once with numpy (``audioop`` left in 3.13).

The tables follow the ITU-T reference implementation (G.191 Software Tools Library,
``g711.c``: ``ulaw_compress``/``ulaw_expand``, ``alaw_compress``/``alaw_expand``), which
defines G.711 on 16-bit linear samples: negative samples are taken in one's complement, so
``-1`` is "negative zero" (μ-law 0x7F, A-law 0x55). Encoding looks every 16-bit sample up in a
65,536-entry table and decoding every byte in a 256-entry one: one numpy indexing operation per
chunk. This module imports numpy and nothing of ours.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["alaw_decode", "alaw_encode", "ulaw_decode", "ulaw_encode"]

_ALL_SAMPLES = np.arange(-32768, 32768, dtype=np.int32)  # index = sample + 32768


def _magnitude(linear: np.ndarray) -> np.ndarray:
    """One's-complement magnitude (G.191): ``x`` and ``~x`` get the same code but the sign."""
    return np.where(linear < 0, ~linear, linear)


@cache
def _ulaw_tables() -> tuple[np.ndarray, np.ndarray]:
    """(encode table indexed by sample + 32768, decode table indexed by code), per G.191."""
    linear = _ALL_SAMPLES
    absno = np.minimum((_magnitude(linear) >> 2) + 33, 0x1FFF)  # 14-bit magnitude plus bias
    segno = np.ones_like(absno)
    shifted = absno >> 6
    while shifted.any():  # segno = 1 + number of bits of (absno >> 6); at most 7 rounds
        segno += shifted != 0
        shifted >>= 1
    low = 0x0F - ((absno >> segno) & 0x0F)
    code = ((0x08 - segno) << 4) | low
    code = np.where(linear >= 0, code | 0x80, code)
    encode = code.astype(np.uint8)

    codes = np.arange(256, dtype=np.int32)
    inverted = ~codes
    exponent = (inverted >> 4) & 0x07
    mantissa = inverted & 0x0F
    step = 4 << (exponent + 1)
    value = (0x80 << exponent) + step * mantissa + step // 2 - 4 * 33
    decode = np.where(codes < 0x80, -value, value).astype("<i2")
    return encode, decode


@cache
def _alaw_tables() -> tuple[np.ndarray, np.ndarray]:
    """(encode table indexed by sample + 32768, decode table indexed by code), per G.191."""
    linear = _ALL_SAMPLES
    ix = _magnitude(linear) >> 4  # 12-bit magnitude
    exponent = np.zeros_like(ix)
    big = ix > 15
    exponent[big] = 1
    while True:  # halve until the value fits 5 bits (16..31): at most 7 rounds
        over = ix > 31
        if not over.any():
            break
        ix = np.where(over, ix >> 1, ix)
        exponent += over
    code = np.where(big, (ix - 16) + (exponent << 4), ix)
    code = np.where(linear >= 0, code | 0x80, code) ^ 0x55
    encode = code.astype(np.uint8)

    codes = np.arange(256, dtype=np.int32)
    ix = (codes ^ 0x55) & 0x7F
    exponent = ix >> 4
    mantissa = (ix & 0x0F) + np.where(exponent > 0, 16, 0)
    value = (mantissa << 4) + 8
    value = np.where(exponent > 1, value << np.maximum(exponent - 1, 0), value)
    decode = np.where(codes > 127, value, -value).astype("<i2")
    return encode, decode


def _encode(pcm: bytes, table: np.ndarray) -> bytes:
    if len(pcm) % 2:
        raise ValueError(f"PCM16 audio has an even number of bytes, got {len(pcm)}")
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.int32)
    return table[samples + 32768].tobytes()


def ulaw_encode(pcm: bytes) -> bytes:
    """Encode 16-bit signed little-endian PCM as G.711 μ-law, one byte per sample.

    Args:
        pcm: PCM16 LE samples (any rate; G.711 is conventionally 8000 Hz).

    Returns:
        ``len(pcm) // 2`` bytes of μ-law.

    Raises:
        ValueError: ``pcm`` has an odd number of bytes.
    """
    return _encode(pcm, _ulaw_tables()[0])


def ulaw_decode(data: bytes) -> bytes:
    """Decode G.711 μ-law to 16-bit signed little-endian PCM (two bytes per input byte).

    Args:
        data: μ-law bytes.

    Returns:
        PCM16 LE samples, values within ±32124.
    """
    return _ulaw_tables()[1][np.frombuffer(data, dtype=np.uint8)].tobytes()


def alaw_encode(pcm: bytes) -> bytes:
    """Encode 16-bit signed little-endian PCM as G.711 A-law, one byte per sample.

    Args:
        pcm: PCM16 LE samples.

    Returns:
        ``len(pcm) // 2`` bytes of A-law.

    Raises:
        ValueError: ``pcm`` has an odd number of bytes.
    """
    return _encode(pcm, _alaw_tables()[0])


def alaw_decode(data: bytes) -> bytes:
    """Decode G.711 A-law to 16-bit signed little-endian PCM (two bytes per input byte).

    Args:
        data: A-law bytes.

    Returns:
        PCM16 LE samples, values within ±32256.
    """
    return _alaw_tables()[1][np.frombuffer(data, dtype=np.uint8)].tobytes()
