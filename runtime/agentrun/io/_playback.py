"""The speaker's queue: agent audio waiting for the device clock, and what of it was played.

Filled from the event loop (:meth:`PlaybackQueue.put`), drained by the audio device's own
thread at the device's pace (:meth:`PlaybackQueue.pull`, from PortAudio's callback), cleared at
once on barge-in (:meth:`PlaybackQueue.clear`). It counts, per agent item, how many bytes the
device has taken, which the endpoint turns into ``played`` milliseconds for the engine. Only a
lock, no I/O and no clock: tests drive it with any schedule of pulls. Imports nothing of ours.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["PlaybackQueue", "Progress"]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far the device has got with one agent item.

    Attributes:
        item_id: the agent item.
        taken_bytes: bytes of the item handed to the device so far (device format).
        drained: True when the device took everything queued for the item so far (an
            underrun: whatever arrived of it has been played).
    """

    item_id: str
    taken_bytes: int
    drained: bool


class PlaybackQueue:
    """A thread-safe FIFO of device-format audio, tagged with the agent item it belongs to.

    Args:
        frame_bytes: bytes per device frame (2 per channel for int16); pulls and puts keep
            whole frames.
        max_bytes: at most this much is queued; beyond it the oldest audio is dropped (an
            agent that streams faster than the device plays, for minutes) and counted in
            :attr:`overflowed_bytes`.
    """

    def __init__(self, frame_bytes: int = 2, max_bytes: int = 48000 * 2 * 300) -> None:
        self.frame_bytes = frame_bytes
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._chunks: deque[tuple[str, memoryview]] = deque()
        self._size = 0
        self._queued: dict[str, int] = {}  # bytes still queued per item
        self._taken: dict[str, int] = {}  # bytes handed to the device per item
        self.overflowed_bytes = 0

    @property
    def queued_bytes(self) -> int:
        """Bytes waiting for the device."""
        return self._size

    def put(self, audio: bytes, item_id: str) -> None:
        """Queue device-format audio of ``item_id`` behind what is already queued.

        Args:
            audio: whole device frames.
            item_id: the agent item it belongs to.
        """
        if not audio:
            return
        with self._lock:
            self._chunks.append((item_id, memoryview(audio)))
            self._size += len(audio)
            self._queued[item_id] = self._queued.get(item_id, 0) + len(audio)
            while self._size > self.max_bytes and len(self._chunks) > 1:
                dropped_item, dropped = self._chunks.popleft()
                self._size -= len(dropped)
                self._queued[dropped_item] -= len(dropped)
                if not self._queued[dropped_item]:
                    del self._queued[dropped_item]
                self.overflowed_bytes += len(dropped)

    def pull(self, nbytes: int) -> tuple[bytes, list[Progress]]:
        """Take the next ``nbytes`` for the device, padded with silence (zeros) when short.

        Called from the device's thread once per device buffer, so it costs the same however
        much is queued.

        Args:
            nbytes: the device buffer's size in bytes.

        Returns:
            Exactly ``nbytes`` of audio, and the progress of each item the buffer touched, in
            order.
        """
        if not self._chunks:  # nothing queued (most of a call): no lock, no copy
            return bytes(nbytes), []
        out = bytearray()
        touched: dict[str, int] = {}
        with self._lock:
            while len(out) < nbytes and self._chunks:
                item_id, chunk = self._chunks[0]
                need = nbytes - len(out)
                piece = chunk[:need]
                out += piece
                if len(piece) == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = (item_id, chunk[need:])
                self._size -= len(piece)
                self._queued[item_id] -= len(piece)
                taken = self._taken.get(item_id, 0) + len(piece)
                self._taken[item_id] = taken
                touched[item_id] = taken
            progress = [Progress(item, taken, self._queued[item] == 0)
                        for item, taken in touched.items()]
            for item in touched:
                if self._queued[item] == 0:
                    del self._queued[item]
            if len(self._taken) > 64:  # keep the counts of recent items only
                for old in list(self._taken)[:-16]:
                    if old not in self._queued:
                        del self._taken[old]
        if len(out) < nbytes:
            out += bytes(nbytes - len(out))
        return bytes(out), progress

    def clear(self) -> int:
        """Drop everything queued (barge-in): the next pull is silence.

        Returns:
            How many bytes were dropped.
        """
        with self._lock:
            dropped = self._size
            self._chunks.clear()
            self._queued.clear()
            self._size = 0
        return dropped
