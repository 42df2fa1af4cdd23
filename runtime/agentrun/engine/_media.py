"""Audio bookkeeping for ``Conversation``: held caller audio and what each reply played.

Held-audio policy (grok-realtime.md §7.1): caller audio captured before ``session.updated`` is
held, not sent, because the server would read it at the default rate. At most ``max_bytes``
(``hold_seconds`` of input audio) are held; beyond that the oldest chunks are dropped and one
warning is reported per connection. On ``session.updated`` the chunks go out in capture order.
Pure data; no I/O. Imports nothing of ours.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

__all__ = ["AudioHold", "ReplyRecord", "silence"]

# How long after its real-time end a reply still counts as playing when the channel reports no
# progress (jitter buffers), and how stale a progress report may be before it is not trusted.
_UNREPORTED_GRACE_S = 0.3
_REPORTED_GRACE_S = 2.0
_PLAYED_SLACK_MS = 20  # a channel reports at buffer granularity
_SILENCE_BYTE = {"audio/pcm": 0x00, "audio/pcmu": 0xFF, "audio/pcma": 0xD5}


def silence(nbytes: int, wire_format: str) -> bytes:
    """``nbytes`` of digital silence in a wire format (``audio/pcm``, ``audio/pcmu``...).

    PCM silence is zero samples; G.711 silence is 0xFF (mu-law) or 0xD5 (A-law).
    """
    return bytes([_SILENCE_BYTE.get(wire_format, 0)]) * nbytes


class AudioHold:
    """A bounded FIFO of caller audio chunks waiting for the session to be configured."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self.dropped_bytes = 0

    def add(self, chunk: bytes) -> bool:
        """Hold ``chunk``, dropping the oldest audio beyond the bound.

        Returns:
            True when this call dropped audio for the first time since the last :meth:`drain`
            (the caller reports it once).
        """
        self._chunks.append(chunk)
        self._size += len(chunk)
        first_drop = False
        while self._size > self.max_bytes and self._chunks:
            excess = self._size - self.max_bytes
            oldest = self._chunks[0]
            first_drop = first_drop or self.dropped_bytes == 0
            if len(oldest) <= excess:
                self._chunks.popleft()
                cut = len(oldest)
            else:  # trim the oldest chunk: keep the newest audio exactly at the bound
                self._chunks[0] = oldest[excess:]
                cut = excess
            self._size -= cut
            self.dropped_bytes += cut
        return first_drop

    def drain(self) -> list[bytes]:
        """Take every held chunk (oldest first) and reset the drop counter."""
        chunks = list(self._chunks)
        self._chunks.clear()
        self._size = 0
        self.dropped_bytes = 0
        return chunks


@dataclass
class ReplyRecord:
    """How much of one agent reply was generated and how much the caller heard.

    Grok cannot truncate an item (§7.11), so the model's context may hold text the caller never
    heard; this record is the only account of it.

    Attributes:
        item_id: the assistant item.
        response_id: the response it belongs to.
        generated_bytes: agent audio received for it.
        bytes_per_second: the output format's byte rate (to turn bytes into time).
        played_ms: what the session reported as played (``playback_progress``), or None.
        interrupted: True when a barge-in stopped it.
        transcript: the final agent transcript, once known.
        first_audio_at: when its first audio arrived (monotonic s), for the playback estimate.
    """

    item_id: str
    response_id: str
    bytes_per_second: int
    generated_bytes: int = 0
    played_ms: int | None = None
    interrupted: bool = False
    transcript: str = ""
    first_audio_at: float | None = None

    @property
    def generated_ms(self) -> int:
        """Milliseconds of audio received for the reply."""
        return self.generated_bytes * 1000 // self.bytes_per_second

    def playing(self, now: float) -> bool:
        """Whether the caller is probably still hearing this reply at ``now``.

        Progress reported by the channel (``played_ms``) is trusted while it can still be
        current; otherwise playback is assumed to run at real time from the first audio.
        """
        if self.interrupted or self.first_audio_at is None:
            return False
        end = self.first_audio_at + self.generated_ms / 1000
        if self.played_ms is None:
            return now < end + _UNREPORTED_GRACE_S
        return self.played_ms + _PLAYED_SLACK_MS < self.generated_ms \
            and now < end + _REPORTED_GRACE_S

    @property
    def heard_ms(self) -> int:
        """Best account of what was played: the reported progress, else all generated audio."""
        return self.generated_ms if self.played_ms is None else min(self.played_ms,
                                                                    self.generated_ms)
