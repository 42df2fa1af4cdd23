"""The resampler: whole buffers and live streams, band-limited, no clicks at chunk joins."""

from __future__ import annotations

import numpy as np
import pytest
from agentrun.audio import StreamResampler, resample, silence


def sine(rate: int, hz: float, seconds: float, amplitude: int = 12000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.rint(amplitude * np.sin(2 * np.pi * hz * t)).astype("<i2")


def dominant_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


@pytest.mark.parametrize(("src", "dst"), [(24000, 48000), (48000, 24000), (44100, 16000),
                                          (16000, 44100), (8000, 24000)])
def test_a_tone_keeps_its_pitch_and_duration(src: int, dst: int) -> None:
    out = np.frombuffer(resample(sine(src, 440, 1.0).tobytes(), src, dst), dtype="<i2")
    assert abs(len(out) - dst) <= 1
    assert dominant_hz(out, dst) == pytest.approx(440, abs=2)


def test_streamed_chunks_join_without_clicks_and_match_the_whole_buffer() -> None:
    """A 20 ms-at-a-time stream equals one whole-buffer pass: no discontinuity at any join."""
    src, dst = 24000, 44100
    signal = sine(src, 300, 1.0)
    stream = StreamResampler(src, dst)
    pieces = [stream.process(signal[i:i + 480].tobytes()) for i in range(0, len(signal), 480)]
    streamed = np.frombuffer(b"".join(pieces) + stream.flush(), dtype="<i2").astype(np.int32)
    at_once = StreamResampler(src, dst)
    whole = np.frombuffer(at_once.process(signal.tobytes()) + at_once.flush(),
                          dtype="<i2").astype(np.int32)
    assert len(streamed) == len(whole)
    assert np.abs(streamed - whole).max() <= 2  # rounding only: the joins add nothing
    # and the live filter (MQ) is within 0.1 % of full scale of the offline one (HQ)
    offline = np.frombuffer(resample(signal.tobytes(), src, dst), dtype="<i2").astype(np.int32)
    assert np.abs(streamed - offline).max() <= 33
    # away from the abrupt start and end, no jump beyond what a 300 Hz tone moves per sample
    # (513), give or take the filter's ripple (<1 %) and soxr's random ±1 dither on each of
    # the two samples (measured: 515 or 516); a sample dropped or repeated at a join is ~1026
    steepest = 12000 * 2 * np.pi * 300 / dst
    assert np.abs(np.diff(streamed[dst // 10:-dst // 10])).max() <= steepest * 1.01 + 2
    assert stream.delay_ms < 40  # live audio: tens of milliseconds, not HQ's ~100


def test_the_live_resampler_holds_little_audio_back() -> None:
    """Fed 20 ms blocks, the microphone's 48 kHz reaches 8 kHz within ~100 ms (HQ: ~200)."""
    stream = StreamResampler(48000, 8000)
    block = bytes(960 * 2)
    produced = [len(stream.process(block)) for _ in range(10)]
    assert sum(produced) >= 2 * 8000 * 0.1  # 200 ms in, at least 100 ms out
    with pytest.raises(ValueError, match="unknown resampler quality"):
        StreamResampler(48000, 8000, quality="best")


def test_stereo_streams_and_equal_rates_pass_through() -> None:
    same = StreamResampler(16000, 16000)
    assert same.process(b"\x01\x00\x02\x00") == b"\x01\x00\x02\x00"
    assert same.flush() == b"" and same.delay_ms == 0
    stereo = StreamResampler(48000, 24000, channels=2)
    frames = np.column_stack([sine(48000, 440, 0.5), sine(48000, 880, 0.5)])
    out = stereo.process(frames.tobytes()) + stereo.flush()
    pairs = np.frombuffer(out, dtype="<i2").reshape(-1, 2)
    assert abs(len(pairs) - 12000) <= 2
    assert dominant_hz(pairs[:, 0], 24000) == pytest.approx(440, abs=2)
    assert dominant_hz(pairs[:, 1], 24000) == pytest.approx(880, abs=2)
    with pytest.raises(ValueError, match="whole 4-byte frames"):
        stereo.process(b"\x00\x00")


def test_clear_forgets_the_stream_so_far() -> None:
    stream = StreamResampler(24000, 48000)
    stream.process(sine(24000, 440, 0.1).tobytes())
    stream.clear()
    after = stream.process(bytes(4800)) + stream.flush()
    assert np.abs(np.frombuffer(after, dtype="<i2")).max() <= 1  # no tone leaks out (±1: dither)


def test_silence_in_each_encoding() -> None:
    assert silence("pcm", 24000, 10) == bytes(480)
    assert silence("pcmu", 8000, 10) == b"\xff" * 80
    assert silence("pcma", 8000, 10) == b"\xd5" * 80
