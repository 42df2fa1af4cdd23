"""The speaker's queue, paced by a simulated device clock: order, progress, barge-in, bounds."""

from __future__ import annotations

import threading

from agentrun.io._playback import PlaybackQueue, Progress

BUFFER = 480  # bytes per device buffer: 10 ms of 24 kHz PCM16


def test_the_device_gets_items_in_order_then_silence_and_progress_per_item() -> None:
    queue = PlaybackQueue()
    queue.put(b"\x01\x00" * 300, "a")  # 600 bytes
    queue.put(b"\x02\x00" * 300, "b")
    first, progress = queue.pull(BUFFER)
    assert first == b"\x01\x00" * 240
    assert progress == [Progress("a", 480, drained=False)]
    second, progress = queue.pull(BUFFER)
    assert second == b"\x01\x00" * 60 + b"\x02\x00" * 180
    assert progress == [Progress("a", 600, drained=True), Progress("b", 360, drained=False)]
    third, progress = queue.pull(BUFFER)
    assert third == b"\x02\x00" * 120 + bytes(240)  # the rest, then silence: an underrun
    assert progress == [Progress("b", 600, drained=True)]
    assert queue.pull(BUFFER) == (bytes(BUFFER), [])


def test_barge_in_leaves_only_silence_for_the_next_buffer() -> None:
    queue = PlaybackQueue()
    for _ in range(100):  # 1 s of a reply queued ahead of the device
        queue.put(b"\x10\x27" * 240, "reply")
    queue.pull(BUFFER)
    assert queue.clear() == 99 * BUFFER
    assert queue.pull(BUFFER) == (bytes(BUFFER), [])
    queue.put(b"\x01\x00" * 240, "next")  # the next reply plays at once
    audio, progress = queue.pull(BUFFER)
    assert audio == b"\x01\x00" * 240 and progress == [Progress("next", 480, drained=True)]


def test_a_reply_longer_than_the_bound_drops_its_oldest_audio() -> None:
    queue = PlaybackQueue(max_bytes=2 * BUFFER)
    for n in range(4):
        queue.put(bytes([n, 0]) * 240, "long")
    assert queue.queued_bytes == 2 * BUFFER and queue.overflowed_bytes == 2 * BUFFER
    assert queue.pull(BUFFER)[0] == bytes([2, 0]) * 240


def test_a_device_thread_and_the_loop_share_it_without_losing_a_byte() -> None:
    """The device thread pulls buffer after buffer while the loop keeps putting (its clock)."""
    queue = PlaybackQueue()
    played = bytearray()
    done = threading.Event()

    def device() -> None:
        while not done.is_set() or queue.queued_bytes:
            audio, _ = queue.pull(BUFFER)
            played.extend(audio)

    thread = threading.Thread(target=device)
    thread.start()
    sent = bytearray()
    for n in range(2000):
        chunk = (n % 250 + 1).to_bytes(2, "little") * 120
        sent += chunk
        queue.put(chunk, f"item{n // 100}")
    done.set()
    thread.join(10)
    heard = bytes(b for b in memoryview(played).cast("H") if b)  # drop the silence
    assert heard == bytes(b for b in memoryview(bytes(sent)).cast("H"))
