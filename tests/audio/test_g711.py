"""G.711 against known values: the ITU-T tables (as the G.191 reference code computes them)."""

from __future__ import annotations

import numpy as np
import pytest
from agentrun.audio import alaw_decode, alaw_encode, decode, encode, ulaw_decode, ulaw_encode


def pcm(*samples: int) -> bytes:
    return np.array(samples, dtype="<i2").tobytes()


def values(data: bytes) -> list[int]:
    return np.frombuffer(data, dtype="<i2").tolist()


ALL_SAMPLES = np.arange(-32768, 32768, dtype="<i2")

# G.711 Table 2 (μ-law) reconstruction values: code 0x00 is the most negative level, 0x7F and
# 0xFF are the two zeros, 0x80 the most positive level.
ULAW_DECODED = {
    0x00: -32124, 0x01: -31100, 0x02: -30076, 0x07: -24956, 0x0F: -16764, 0x10: -15996,
    0x1F: -8316, 0x20: -7932, 0x30: -3900, 0x40: -1884, 0x50: -876, 0x60: -372, 0x70: -120,
    0x7D: -16, 0x7E: -8, 0x7F: 0, 0x80: 32124, 0x8F: 16764, 0xC0: 1884, 0xF0: 120, 0xFE: 8,
    0xFF: 0,
}
# G.711 Table 1 (A-law, even bits inverted): 0xD5/0x55 are ±8, 0xAA/0x2A the extremes.
ALAW_DECODED = {
    0x00: -5504, 0x01: -5248, 0x02: -6016, 0x03: -5760, 0x04: -4480, 0x2A: -32256,
    0x55: -8, 0x54: -24, 0x50: -88, 0x80: 5504, 0xAA: 32256, 0xD5: 8, 0xD4: 24, 0xD0: 88,
    0xFA: 1008, 0x7A: -1008,
}
# encoder decisions, G.191 (negative samples in one's complement: -1 is "negative zero")
ULAW_ENCODED = {0: 0xFF, 1: 0xFF, -1: 0x7F, 7: 0xFE, -9: 0x7E, -13: 0x7D, 100: 0xF2, -100: 0x73,
                1000: 0xCE, -1000: 0x4E, 4000: 0xAF, 32124: 0x80, 32767: 0x80, -32768: 0x00}
ALAW_ENCODED = {0: 0xD5, 1: 0xD5, -1: 0x55, 15: 0xD5, 16: 0xD4, -17: 0x54, 100: 0xD3,
                -100: 0x53, 1000: 0xFA, -1000: 0x7A, 4000: 0x9A, 32767: 0xAA, -32768: 0x2A}


@pytest.mark.parametrize(("decoder", "table"), [(ulaw_decode, ULAW_DECODED),
                                                 (alaw_decode, ALAW_DECODED)])
def test_decoding_gives_the_standard_levels(decoder: object, table: dict[int, int]) -> None:
    codes = bytes(table)
    assert values(decoder(codes)) == list(table.values())  # type: ignore[operator]


@pytest.mark.parametrize(("encoder", "table"), [(ulaw_encode, ULAW_ENCODED),
                                                 (alaw_encode, ALAW_ENCODED)])
def test_encoding_gives_the_standard_codes(encoder: object, table: dict[int, int]) -> None:
    assert list(encoder(pcm(*table))) == list(table.values())  # type: ignore[operator]


def test_every_alaw_code_survives_decode_then_encode() -> None:
    codes = bytes(range(256))
    assert alaw_encode(alaw_decode(codes)) == codes


def test_every_ulaw_code_survives_decode_then_encode_but_negative_zero() -> None:
    codes = bytes(range(256))
    assert ulaw_encode(ulaw_decode(codes)) == codes.replace(b"\x7f", b"\xff")


@pytest.mark.parametrize(("encoder", "decoder", "step_of"), [
    (ulaw_encode, ulaw_decode, lambda x: 8 << min(7, max(0, int(np.log2((abs(x) + 132) / 128))))),
    (alaw_encode, alaw_decode, lambda x: 32 << max(0, int(np.log2(max(abs(x), 1) / 256)) + 1)),
])
def test_quantisation_error_stays_within_half_a_step(encoder: object, decoder: object,
                                                     step_of: object) -> None:
    """Every 16-bit sample decodes back within half of its segment's step (plus one for the
    one's-complement shift), and larger samples never get smaller codes' levels."""
    out = np.frombuffer(decoder(encoder(ALL_SAMPLES.tobytes())), dtype="<i2")  # type: ignore[operator]
    error = np.abs(out.astype(np.int32) - ALL_SAMPLES)
    clipped = np.abs(ALL_SAMPLES.astype(np.int32)) > 32124
    steps = np.array([step_of(int(x)) for x in ALL_SAMPLES[::97]])  # type: ignore[operator]
    assert (error[::97][~clipped[::97]] <= steps[~clipped[::97]] // 2 + 1).all()
    assert (np.diff(out.astype(np.int32)) >= 0).all()  # monotonic: louder in, louder out


def test_a_tone_survives_a_round_trip_through_each_law() -> None:
    t = np.arange(8000) / 8000
    tone = (10000 * np.sin(2 * np.pi * 440 * t)).astype("<i2")
    for encoding in ("pcmu", "pcma"):
        coded = encode(tone.tobytes(), encoding)
        assert len(coded) == 8000
        back = np.frombuffer(decode(coded, encoding), dtype="<i2").astype(np.float64)
        noise = back - tone
        snr = 10 * np.log10(np.mean(tone.astype(np.float64) ** 2) / np.mean(noise ** 2))
        assert snr > 30, (encoding, snr)  # G.711 gives about 38 dB on a loud tone


def test_pcm_passes_through_and_odd_pcm_is_refused() -> None:
    assert encode(b"\x01\x02", "pcm") == b"\x01\x02"
    assert decode(b"\x01\x02", "pcm") == b"\x01\x02"
    with pytest.raises(ValueError, match="even number of bytes"):
        ulaw_encode(b"\x00\x00\x00")
    with pytest.raises(ValueError, match="unknown audio encoding"):
        encode(b"", "opus")
