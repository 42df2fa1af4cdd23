"""Sample-rate conversion with a real resampler (libsoxr through ``soxr``).

Rates are changed by band-limited interpolation, never by dropping or repeating samples, so
speech keeps its pitch and gains no aliasing. :func:`resample` converts a whole buffer (WAV
callers, records); :class:`StreamResampler` converts a live stream chunk by chunk (microphone
and speaker), carrying the filter state between chunks so there are no clicks at chunk joins.
This module imports numpy and soxr, nothing of ours.
"""

from __future__ import annotations

import numpy as np
import soxr

__all__ = ["StreamResampler", "resample", "resample_array"]

_QUALITY = "HQ"  # whole buffers: soxr's default, 20-bit precision, flat to 91% of Nyquist
# Live streams: soxr's HQ filter works in blocks of ~160 ms and holds ~110 ms (48 <-> 8 kHz),
# too much for a microphone or a speaker; MQ is as flat for speech (16-bit precision, fine for
# PCM16) and holds 15-30 ms. LQ would hold less but cuts 3.4 kHz by 8 dB at 8 kHz.
_STREAM_QUALITY = "MQ"


def resample_array(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Resample mono or multi-channel samples held in a numpy array.

    Args:
        samples: shape ``(frames,)`` or ``(frames, channels)``; int16, int32, float32 or
            float64 (float in -1.0..1.0).
        from_rate: the samples' rate, Hz.
        to_rate: the wanted rate, Hz.

    Returns:
        The resampled array, same dtype and channel count; about
        ``frames * to_rate / from_rate`` frames. The same array when the rates match.

    Raises:
        ValueError: a rate is not positive.
    """
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {from_rate} -> {to_rate} Hz")
    if from_rate == to_rate or len(samples) == 0:
        return samples
    return soxr.resample(samples, from_rate, to_rate, quality=_QUALITY)


def resample(pcm: bytes, from_rate: int, to_rate: int) -> bytes:
    """Resample 16-bit signed little-endian mono PCM.

    Args:
        pcm: PCM16 LE mono samples.
        from_rate: their rate, Hz.
        to_rate: the wanted rate, Hz.

    Returns:
        PCM16 LE mono at ``to_rate``.

    Raises:
        ValueError: a rate is not positive, or ``pcm`` has an odd number of bytes.
    """
    if len(pcm) % 2:
        raise ValueError(f"PCM16 audio has an even number of bytes, got {len(pcm)}")
    samples = np.frombuffer(pcm, dtype="<i2")
    return resample_array(samples, from_rate, to_rate).astype("<i2", copy=False).tobytes()


class StreamResampler:
    """Resample a live PCM16 stream chunk by chunk (a device's rate ⇄ the session's rate).

    The filter keeps a few milliseconds of history, so output lags input by
    :attr:`delay_ms`; the first chunks may return fewer samples (even none) and
    :meth:`flush` returns the tail at the end of the stream.

    Args:
        from_rate: input rate, Hz.
        to_rate: output rate, Hz.
        channels: interleaved channels per frame.
        quality: soxr's recipe: ``MQ`` (default: flat for speech, 15-30 ms of delay, for live
            audio) or ``HQ``/``VHQ`` (more precision, ~100 ms of delay, for offline streams).

    Raises:
        ValueError: a rate or the channel count is not positive, or an unknown quality.
    """

    def __init__(self, from_rate: int, to_rate: int, *, channels: int = 1,
                 quality: str = _STREAM_QUALITY) -> None:
        if quality not in ("VHQ", "HQ", "MQ", "LQ"):
            raise ValueError(f"unknown resampler quality {quality!r} (VHQ, HQ, MQ or LQ)")
        if from_rate <= 0 or to_rate <= 0 or channels <= 0:
            raise ValueError(f"bad stream: {from_rate} -> {to_rate} Hz, {channels} channels")
        self.from_rate, self.to_rate, self.channels = from_rate, to_rate, channels
        self._stream = (None if from_rate == to_rate else
                        soxr.ResampleStream(from_rate, to_rate, channels, dtype="int16",
                                            quality=quality))

    @property
    def delay_ms(self) -> float:
        """How far output lags input, in milliseconds of output (0 when rates match)."""
        if self._stream is None:
            return 0.0
        return float(self._stream.delay()) * 1000 / self.to_rate

    def process_array(self, samples: np.ndarray, *, last: bool = False) -> np.ndarray:
        """Resample the next chunk held as int16 ``(frames,)`` or ``(frames, channels)``.

        Args:
            samples: the next frames of the stream (int16).
            last: True for the final chunk: also returns the filter's tail.

        Returns:
            The resampled frames available so far (int16, same shape kind).
        """
        if self._stream is None:
            return samples
        return self._stream.resample_chunk(np.ascontiguousarray(samples, dtype=np.int16),
                                           last=last)

    def process(self, pcm: bytes) -> bytes:
        """Resample the next chunk of PCM16 LE interleaved frames.

        Args:
            pcm: whole frames of PCM16 LE (``2 * channels`` bytes each).

        Returns:
            PCM16 LE at ``to_rate``, as much as the filter has produced.

        Raises:
            ValueError: ``pcm`` is not a whole number of frames.
        """
        frame = 2 * self.channels
        if len(pcm) % frame:
            raise ValueError(f"expected whole {frame}-byte frames, got {len(pcm)} bytes")
        if self._stream is None:
            return pcm
        samples = np.frombuffer(pcm, dtype="<i2")
        if self.channels > 1:
            samples = samples.reshape(-1, self.channels)
        return self.process_array(samples).astype("<i2", copy=False).tobytes()

    def flush(self) -> bytes:
        """End the stream: the filter's remaining output (PCM16 LE). The stream restarts after."""
        if self._stream is None:
            return b""
        empty = np.zeros((0, self.channels) if self.channels > 1 else 0, dtype=np.int16)
        tail = self._stream.resample_chunk(empty, last=True)
        self._stream.clear()
        return tail.astype("<i2", copy=False).tobytes()

    def clear(self) -> None:
        """Forget the stream so far (barge-in): nothing of it comes out of a later chunk."""
        if self._stream is not None:
            self._stream.clear()
