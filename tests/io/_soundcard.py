"""A real PortAudio sound card on a headless machine: ALSA's ``file`` plugin over named pipes.

``pcm.!default`` in a temporary HOME's ``.asoundrc`` plays into one FIFO (the speaker) and
captures from another (the microphone), each through ALSA's ``file`` plugin over the ``null``
device. PortAudio, and so sounddevice and agentrun, see an ordinary ALSA device named
``default``. The test is the device clock: a thread reads the speaker FIFO in real time (20 ms
per 20 ms) and another writes the microphone FIFO in real time, so PortAudio's reads and writes
block exactly as on hardware. Both FIFOs stay open here for reading and writing, so PortAudio
opening and closing the device while it probes never blocks or breaks a pipe; the threads must
run until every process using the card has exited (a blocked PortAudio thread cannot close).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import queue
import threading
import time

F_SETPIPE_SZ = 1031  # Linux: shrink the pipes, so only ~85 ms sits between device and test

ASOUNDRC = """\
pcm.!default {{
  type asym
  playback.pcm "agentrun_test_speaker"
  capture.pcm "agentrun_test_microphone"
}}
pcm.agentrun_test_speaker {{
  type file
  slave.pcm "null"
  file "{speaker}"
  format "raw"
}}
pcm.agentrun_test_microphone {{
  type file
  slave.pcm "null"
  file "/dev/null"
  infile "{microphone}"
  format "raw"
}}
"""


class FileSoundCard:
    """The card: ``home`` for the process under test, ``say()`` into the microphone, and what
    the speaker played in ``played``.

    Args:
        root: a temporary directory (the HOME of the process under test).
        speaker_rate: the rate the speaker is opened at (it is read at 2 bytes per sample).
        microphone_rate: the rate the microphone is opened at.
    """

    def __init__(self, root: pathlib.Path, *, speaker_rate: int, microphone_rate: int) -> None:
        self.home = root
        self.speaker_path = root / "speaker.fifo"
        self.microphone_path = root / "microphone.fifo"
        os.mkfifo(self.speaker_path)
        os.mkfifo(self.microphone_path)
        (root / ".asoundrc").write_text(ASOUNDRC.format(speaker=self.speaker_path,
                                                        microphone=self.microphone_path))
        self._speaker = os.open(self.speaker_path, os.O_RDWR)
        self._microphone = os.open(self.microphone_path, os.O_RDWR)
        for fd in (self._speaker, self._microphone):
            fcntl.fcntl(fd, F_SETPIPE_SZ, 4096)
        self.speaker_rate, self.microphone_rate = speaker_rate, microphone_rate
        self.played = bytearray()
        self.background = b""  # PCM16 the microphone repeats when nothing is said (else silence)
        self._to_say: queue.Queue[bytes] = queue.Queue()
        self.microphone_paused = threading.Event()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._listen, daemon=True),
                         threading.Thread(target=self._speak, daemon=True)]
        for thread in self._threads:
            thread.start()

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with HOME pointing at the card's configuration."""
        return {**base, "HOME": str(self.home)}

    def say(self, pcm16: bytes) -> None:
        """Queue PCM16 mono audio (at ``microphone_rate``) for the microphone."""
        self._to_say.put(pcm16)

    def _listen(self) -> None:
        block = self.speaker_rate * 2 // 50  # 20 ms
        due = time.monotonic()
        while not self._stop.is_set():
            try:
                data = os.read(self._speaker, block)
            except OSError:  # non-blocking once closing
                break
            if not self._stop.is_set():
                self.played += data
            due += 0.02
            time.sleep(max(0.0, due - time.monotonic()))

    def _speak(self) -> None:
        block = self.microphone_rate * 2 // 50
        pending = bytearray()
        background = 0  # where in ``self.background`` the next filler block starts
        due = time.monotonic()
        while not self._stop.is_set():
            if self.microphone_paused.is_set():
                time.sleep(0.02)
                due = time.monotonic()
                continue
            while len(pending) < block:
                try:
                    pending += self._to_say.get_nowait()
                except queue.Empty:  # between utterances: the background (or silence)
                    filler = self.background[background:background + block - len(pending)]
                    background = (background + len(filler)) % max(1, len(self.background))
                    pending += filler or bytes(block - len(pending))
            try:
                os.write(self._microphone, pending[:block])
            except OSError:  # non-blocking once closing
                break
            del pending[:block]
            due += 0.02
            time.sleep(max(0.0, due - time.monotonic()))

    def close(self) -> None:
        """Stop the clock threads and close the pipes (after the processes using it exited)."""
        self._stop.set()
        self.microphone_paused.clear()
        for fd in (self._speaker, self._microphone):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        os.write(self._speaker, b"\0\0")  # wake the listener if it waits for data
        with contextlib.suppress(BlockingIOError):
            os.read(self._microphone, 65536)  # wake the speaker if it waits for room
        for thread in self._threads:
            thread.join(5)
        os.close(self._speaker)
        os.close(self._microphone)
