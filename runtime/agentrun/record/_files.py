"""The files of one call folder, written off the event loop by one shared writer thread.

Recorders batch what they write (every half second of call time) and hand each batch to a
single process-wide thread, so a slow or full disk never stalls the loop that carries the
audio, and a hundred concurrent calls cost one thread, not a hundred. Jobs of one call run in
the order they were given. The first ``OSError`` of a call (a full disk, a removed folder) is
reported once through the recorder's callback and stops the streaming files (their headers stay
valid for what was written); the final transcript and report are still attempted at the end.
Imports nothing of ours.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import queue
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import IO

__all__ = ["CallFiles", "WavWriter", "writer_thread"]

_log = logging.getLogger("agentrun.record")
_EXIT_WAIT_S = 10.0  # at interpreter exit, how long queued records may take to reach the disk


class WavWriter:
    """A 16-bit PCM WAV file written incrementally; its header is valid after every write.

    Args:
        path: the file to create.
        rate: frames per second, Hz.
        channels: samples per frame.
    """

    _HEADER_BYTES = 44

    def __init__(self, path: Path, rate: int, channels: int) -> None:
        self._file: IO[bytes] = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._rate, self._channels = rate, channels
        self.data_bytes = 0
        self._file.write(self._header())

    def _header(self) -> bytes:
        block = 2 * self._channels
        return (b"RIFF" + struct.pack("<I", 36 + self.data_bytes) + b"WAVE"
                + b"fmt " + struct.pack("<IHHIIHH", 16, 1, self._channels, self._rate,
                                        self._rate * block, block, 16)
                + b"data" + struct.pack("<I", self.data_bytes))

    def write(self, frames: bytes) -> None:
        """Append whole frames and update the header's sizes.

        Raises:
            OSError: the disk is full (or the file cannot grow): the header then covers the
                whole pieces (of a second each) that were written.
        """
        if not frames:
            return
        piece = 2 * self._channels * self._rate
        try:
            for start in range(0, len(frames), piece):
                self._file.seek(self._HEADER_BYTES + self.data_bytes)
                self._file.write(frames[start:start + piece])
                self._file.flush()
                self.data_bytes += len(frames[start:start + piece])
        finally:
            with contextlib.suppress(OSError):  # the header sits inside the file: it fits
                self._file.seek(0)
                self._file.write(self._header())
                self._file.flush()

    def close(self) -> None:
        """Close the file (the header already matches the data)."""
        self._file.close()


class CallFiles:
    """The open files of one call folder; every method runs on the writer thread.

    Args:
        folder: the call folder (it exists).
        rate: the recording's rate, Hz.
        on_error: called once, on the writer thread, with a one-line message when writing fails.
    """

    def __init__(self, folder: Path, rate: int, on_error: Callable[[str], None]) -> None:
        self.folder = folder
        self._rate = rate
        self._on_error = on_error
        self._streams: dict[str, IO[str]] = {}
        self._wav: WavWriter | None = None
        self.failed = False
        self.problem: str | None = None  # the first failure, for the report

    def _fail(self, what: str, exc: OSError) -> None:
        if not self.failed:
            self.failed = True
            if self.problem is None:
                self.problem = (f"recording stopped: cannot write {self.folder / what}: "
                                f"{exc.strerror or exc}; the call goes on")
                self._on_error(self.problem)

    def append(self, name: str, text: str) -> None:
        """Append text to a streamed file (``events.jsonl``, ``transcript.jsonl``)."""
        if self.failed or not text:
            return
        try:
            stream = self._streams.get(name)
            if stream is None:
                stream = self._streams[name] = open(self.folder / name, "a",  # noqa: SIM115
                                                    encoding="utf-8", newline="\n")
            stream.write(text)
            stream.flush()
        except OSError as exc:
            self._fail(name, exc)

    def audio(self, frames: bytes) -> None:
        """Append stereo frames to ``audio.wav``."""
        if self.failed or not frames:
            return
        try:
            if self._wav is None:
                self._wav = WavWriter(self.folder / "audio.wav", self._rate, 2)
            self._wav.write(frames)
        except OSError as exc:
            self._fail("audio.wav", exc)

    def replace(self, name: str, text: str) -> None:
        """Write a whole file at once (atomically: a reader never sees half of it)."""
        target = self.folder / name
        temporary = target.with_name(f".{name}.tmp")
        try:
            temporary.write_text(text, encoding="utf-8", newline="\n")
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            self._fail(name, exc)

    def close(self) -> None:
        """Close every file; the streams are already flushed."""
        for name, stream in self._streams.items():
            try:
                stream.close()
            except OSError as exc:
                self._fail(name, exc)
        self._streams.clear()
        if self._wav is None and not self.failed:
            try:  # a call in which nobody spoke still leaves an (empty) audio.wav
                self._wav = WavWriter(self.folder / "audio.wav", self._rate, 2)
            except OSError as exc:
                self._fail("audio.wav", exc)
        if self._wav is not None:
            with contextlib.suppress(OSError):
                self._wav.close()
            self._wav = None


class _Writer:
    """One daemon thread running write jobs in order."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], None], Future[None]]] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pending = 0

    def submit(self, job: Callable[[], None]) -> Future[None]:
        """Run ``job`` on the writer thread after every job submitted before it."""
        future: Future[None] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="agentrun-record",
                                                daemon=True)
                self._thread.start()
                atexit.register(self.drain, _EXIT_WAIT_S)
            self._pending += 1
        self._jobs.put((job, future))
        return future

    def _run(self) -> None:
        while True:
            job, future = self._jobs.get()
            try:
                job()
            except Exception as exc:  # a bug in a job must not kill the thread for every call
                _log.exception("call record: a write failed")
                future.set_exception(exc)
            else:
                future.set_result(None)
            with self._lock:
                self._pending -= 1

    def drain(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until every submitted job ran (interpreter exit)."""
        if self._thread is not None and self._pending:
            with contextlib.suppress(TimeoutError):
                self.submit(lambda: None).result(timeout)


_WRITER = _Writer()


def writer_thread() -> _Writer:
    """The process-wide writer."""
    return _WRITER
