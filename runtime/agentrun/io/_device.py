"""The microphone and speaker (PortAudio through ``sounddevice``), with typed lines as text turns.

Capture: the device's own thread hands 20 ms blocks to the event loop, where they are mixed to
mono, resampled with soxr when the device cannot open at the session rate, encoded (G.711 for
``pcmu``/``pcma``) and streamed as caller audio. Playback: agent audio is decoded and resampled
on the event loop into a :class:`~agentrun.io._playback.PlaybackQueue` that the device's thread
drains at the device's pace; what it took is reported back as ``call.played`` (delayed by the
device's output latency, so "played" means "reached the speaker"). Barge-in clears the queue, so
the speaker falls silent after the buffer already handed to the device. Typed lines still work:
a :class:`~agentrun.io.TextConsole` supplies text turns and shows the transcript; its end of
input (Ctrl-D) hangs up.

A device that is missing or busy fails :meth:`DeviceEndpoint.start` with a ``DeviceError``
(before anything connects). A device lost mid-call is one status line; the call goes on (typed
turns, transcript). Imports ``sounddevice`` (the ``audio`` extra), numpy and ``agentrun.audio``
when started, never at import.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any, Literal

from agentrun.errors import DeviceError
from agentrun.io._devices import DeviceInfo, find_device, list_devices, load_sounddevice
from agentrun.io._endpoint import AudioFormat, CallControl, CallerAudio, CallerInput, ToolCallView
from agentrun.io._playback import PlaybackQueue, Progress

if TYPE_CHECKING:
    from agentrun.io._console import TextConsole

__all__ = ["DeviceEndpoint"]

BLOCK_MS = 20  # capture block: what one caller audio chunk holds
# playback block: barge-in silences the speaker within one of these; smaller blocks cost a
# Python callback each (some hosts, e.g. ALSA plugins, would otherwise ask every ~1 ms)
PLAYBACK_BLOCK_MS = 10
REPORT_S = 0.05  # played-ms reports to the engine: at most this often (and at each reply's end)
STALL_S = 2.0  # a microphone silent (no blocks at all) this long has stopped
MAX_CAPTURE_BACKLOG = 250  # blocks (5 s) waiting for the loop; older ones are dropped
_DONE = object()  # the text console's end of input


class DeviceEndpoint:
    """An :class:`~agentrun.io.Endpoint` on the local microphone and speaker.

    Args:
        console: typed turns in, transcript and status lines out.
        input_format: the session's input format (what the microphone is converted to).
        output_format: the session's output format (what agent audio arrives in).
        input_device: index or part of a name (``--input-device``); None: the default.
        output_device: index or part of a name (``--output-device``); None: the default.
        device_rates: force the devices' rates (input, output) in Hz, instead of the session
            rate when the device can open at it, else the device's default rate.
    """

    def __init__(self, console: TextConsole, *, input_format: AudioFormat,
                 output_format: AudioFormat, input_device: str | None = None,
                 output_device: str | None = None,
                 device_rates: tuple[int | None, int | None] = (None, None)) -> None:
        self._console = console
        self.input_format, self.output_format = input_format, output_format
        self._wanted = (input_device, output_device)
        self._forced_rates = device_rates
        self._loop: asyncio.AbstractEventLoop | None = None
        self._call: CallControl | None = None
        self._in: Any = None  # sounddevice streams, once started
        self._out: Any = None
        self._closing = False
        self._speaker_lost = False
        self._inbox: asyncio.Queue[Any] = asyncio.Queue()
        self._mic_dropped = 0
        self._last_block = 0.0
        self._stalled = False
        self._queue = PlaybackQueue()
        self._received_ms: dict[str, float] = {}
        self._reported: dict[str, int] = {}
        self._unreported: dict[str, Progress] = {}  # device thread only
        self._reported_at = 0.0
        self._current_item: str | None = None
        self._render_pending = False  # the resampler holds audio of the current item
        self.devices: tuple[DeviceInfo | None, DeviceInfo | None] = (None, None)
        self.rates: tuple[int, int] = (0, 0)
        self.audio_bytes = 0

    # -- opening and closing -------------------------------------------------------------------

    async def start(self) -> None:
        """Find and open both devices and start them (before the call connects).

        Raises:
            DeviceError: audio is impossible here, a device does not exist, or it cannot be
                opened (busy, or no usable rate or channel count).
        """
        if self._in is not None:
            return
        from agentrun.audio import StreamResampler

        sd = load_sounddevice()
        self._loop = asyncio.get_running_loop()
        devices = list_devices()
        mic = find_device(self._wanted[0], "input", devices)
        speaker = find_device(self._wanted[1], "output", devices)
        self.devices = (mic, speaker)
        in_rate, in_channels = self._settings(sd, mic, "input", self.input_format.rate, 0)
        out_rate, out_channels = self._settings(sd, speaker, "output", self.output_format.rate, 1)
        self.rates = (in_rate, out_rate)
        self._in_channels, self._out_channels = in_channels, out_channels
        self._capture = StreamResampler(in_rate, self.input_format.rate)
        self._render = StreamResampler(self.output_format.rate, out_rate)
        self._out_frame = 2 * out_channels
        self._queue = PlaybackQueue(frame_bytes=self._out_frame,
                                    max_bytes=out_rate * self._out_frame * 300)
        try:
            self._in = sd.RawInputStream(
                device=mic.index, samplerate=in_rate, channels=in_channels, dtype="int16",
                blocksize=in_rate * BLOCK_MS // 1000, latency="low",
                callback=self._on_capture, finished_callback=self._on_input_finished)
            self._out = sd.RawOutputStream(
                device=speaker.index, samplerate=out_rate, channels=out_channels, dtype="int16",
                blocksize=out_rate * PLAYBACK_BLOCK_MS // 1000, latency="low",
                callback=self._on_playback,
                finished_callback=self._on_output_finished)
            self._last_block = time.monotonic()
            self._in.start()
            self._out.start()
        except sd.PortAudioError as exc:
            self.close()
            raise DeviceError(f"cannot open the audio devices ({mic.name!r} in, "
                              f"{speaker.name!r} out): {exc}",
                              hint="is another program using them? `agentrun devices` lists "
                                   "them") from exc
        resampled = [f"{kind} at {rate} Hz (resampled from the session's {session} Hz)"
                     for kind, rate, session in (("microphone", in_rate, self.input_format.rate),
                                                 ("speaker", out_rate, self.output_format.rate))
                     if rate != session]
        self._console.show_status("debug", f"microphone: {mic.name}; speaker: {speaker.name}"
                                  + ("; " + ", ".join(resampled) if resampled else ""))

    def _settings(self, sd: Any, device: DeviceInfo, kind: Literal["input", "output"],
                  session_rate: int, forced: int) -> tuple[int, int]:
        """The (rate, channels) to open ``device`` with: the session rate when it can."""
        check = sd.check_input_settings if kind == "input" else sd.check_output_settings
        rates = [self._forced_rates[forced]] if self._forced_rates[forced] else [
            session_rate, device.default_rate]
        for channels in (1, min(2, device.channels(kind))):
            for rate in rates:
                try:
                    check(device=device.index, channels=channels, dtype="int16",
                          samplerate=rate)
                except (sd.PortAudioError, ValueError):
                    continue
                return int(rate), channels
        role = "microphone" if kind == "input" else "speaker"
        raise DeviceError(f"the {role} {device.name!r} cannot open at "
                          f"{' or '.join(f'{r} Hz' for r in rates)} with 16-bit samples",
                          hint="`agentrun devices` lists the devices and their rates")

    async def finish(self, *, drain: bool = True, timeout: float = 30.0) -> None:
        """Let queued agent audio play out (at most ``timeout`` s), then close the devices."""
        if drain and self._out is not None and not self._closing:
            self._flush_render()
            deadline = time.monotonic() + timeout
            while self._queue.queued_bytes and time.monotonic() < deadline \
                    and self._out is not None and self._out.active:
                await asyncio.sleep(BLOCK_MS / 1000)
            if self._out is not None and self._out.active:
                # the last block handed over still has to leave the device's buffer
                with contextlib.suppress(Exception):
                    await asyncio.sleep(min(0.5, float(self._out.latency))
                                        + PLAYBACK_BLOCK_MS / 1000)
        self.close()

    def close(self) -> None:
        """Stop both devices at once (idempotent)."""
        self._closing = True
        for stream in (self._in, self._out):
            if stream is not None:
                with contextlib.suppress(Exception):  # a lost device may fail to close: gone
                    stream.abort()
                    stream.close()
        self._in = self._out = None

    # -- the caller's side ---------------------------------------------------------------------

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """The microphone's audio and the console's typed turns, as they come.

        The stream ends when the console's input ends (Ctrl-D): the call then hangs up after
        the current reply.
        """
        await self.start()
        self._call = call
        typed = asyncio.get_running_loop().create_task(self._typed(call), name="agentrun-typed")
        try:
            while True:
                try:  # (asyncio.timeout: no task per block, as wait_for would make)
                    async with asyncio.timeout(STALL_S):
                        item = await self._inbox.get()
                except TimeoutError:
                    self._check_stall()
                    continue
                if item is _DONE:
                    return
                if type(item) is bytes:
                    self._check_stall()
                    audio = self._convert_capture(item)
                    if audio:
                        yield CallerAudio(audio)
                else:
                    yield item
        finally:
            typed.cancel()

    async def _typed(self, call: CallControl) -> None:
        try:
            async for item in self._console.caller(call):
                self._inbox.put_nowait(item)
        finally:
            self._inbox.put_nowait(_DONE)

    def _on_capture(self, indata: Any, frames: int, when: Any, status: Any) -> None:
        """PortAudio's thread: hand the block to the event loop (never blocks, never raises)."""
        loop = self._loop
        if loop is not None and not self._closing:
            with contextlib.suppress(RuntimeError):  # the loop closed under us
                loop.call_soon_threadsafe(self._take_block, bytes(indata))

    def _take_block(self, block: bytes) -> None:
        self._last_block = time.monotonic()
        if self._inbox.qsize() >= MAX_CAPTURE_BACKLOG:
            # the loop fell seconds behind the microphone: stale speech is worse than a gap
            self._mic_dropped += 1
            if self._mic_dropped == 1:
                self._console.show_status("warning", "the call is falling behind the "
                                                     "microphone: dropping audio")
            return
        self._inbox.put_nowait(block)

    def _convert_capture(self, block: bytes) -> bytes:
        import numpy as np

        from agentrun.audio import encode

        samples = np.frombuffer(block, dtype="<i2")
        if self._in_channels > 1:
            samples = samples.reshape(-1, self._in_channels).mean(axis=1).astype(np.int16)
        pcm = self._capture.process_array(samples)
        return encode(pcm.astype("<i2", copy=False).tobytes(), self.input_format.encoding)

    def _check_stall(self) -> None:
        if self._in is None or self._closing:
            return
        silent = time.monotonic() - self._last_block
        if silent >= STALL_S and not self._stalled:
            self._stalled = True
            self._console.show_status("warning", f"the microphone has sent no audio for "
                                                 f"{silent:.0f} s (unplugged?); the call goes "
                                                 "on: type your turns")
        elif silent < STALL_S and self._stalled:
            self._stalled = False
            self._console.show_status("info", "the microphone is back")

    def _on_input_finished(self) -> None:
        self._lost("microphone", "type your turns")

    def _on_output_finished(self) -> None:
        self._lost("speaker", "agent audio is no longer played")
        loop = self._loop
        if not self._closing and loop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._speaker_gone)

    def _speaker_gone(self) -> None:
        """Nothing will drain the queue any more: stop filling it."""
        self._speaker_lost = True
        self._queue.clear()

    def _lost(self, role: str, consequence: str) -> None:
        """PortAudio's thread: a stream ended that we did not stop (device lost)."""
        loop = self._loop
        if self._closing or loop is None:
            return
        message = f"the {role} stopped (unplugged?); the call goes on: {consequence}"
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._console.show_status, "warning", message)

    # -- the speaker ---------------------------------------------------------------------------

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Decode, resample and queue agent audio for the speaker."""
        from agentrun.audio import decode

        self.audio_bytes += len(audio)
        self._received_ms[item_id] = (self._received_ms.get(item_id, 0.0)
                                      + self.output_format.ms_of(len(audio)))
        if self._out is None or self._speaker_lost:
            return
        if item_id != self._current_item:
            self._flush_render()  # the previous item's tail, tagged with it
        self._current_item = item_id
        pcm = decode(audio, self.output_format.encoding)
        self._queue.put(self._stereo(self._render.process(pcm)), item_id)
        self._render_pending = self.rates[1] != self.output_format.rate

    def _flush_render(self) -> None:
        if self._current_item is not None and self._render_pending:
            self._queue.put(self._stereo(self._render.flush()), self._current_item)
        self._render_pending = False

    def _stereo(self, pcm: bytes) -> bytes:
        if self._out_channels == 1 or not pcm:
            return pcm
        import numpy as np

        mono = np.frombuffer(pcm, dtype="<i2")
        return np.repeat(mono, self._out_channels).astype("<i2", copy=False).tobytes()

    def stop_playback(self, reason: str) -> None:
        """Barge-in: drop everything queued; the device plays out only its current buffer."""
        self._queue.clear()
        if self._out is not None:
            self._render.clear()  # nor may the resampler's few buffered milliseconds play
        self._render_pending = False
        self._console.stop_playback(reason)

    def _on_playback(self, outdata: Any, frames: int, when: Any, status: Any) -> None:
        """PortAudio's thread: fill the device buffer from the queue (silence when empty)."""
        audio, progress = self._queue.pull(len(outdata))
        outdata[:] = audio
        if not progress:
            return
        for step in progress:  # the latest per item; sent at most every REPORT_S
            self._unreported[step.item_id] = step
        now = time.monotonic()
        if now - self._reported_at < REPORT_S and not any(p.drained for p in progress):
            return
        loop = self._loop
        if loop is not None and not self._closing:
            try:  # report when the buffer reaches the speaker, not when it is handed over
                delay = max(0.0, min(0.5, when.outputBufferDacTime - when.currentTime))
            except (AttributeError, TypeError):
                delay = 0.0
            batch, self._unreported = list(self._unreported.values()), {}
            self._reported_at = now
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._report_later, batch, delay)

    def _report_later(self, progress: list[Progress], delay: float) -> None:
        if self._loop is not None:
            self._loop.call_later(delay, self._report, progress)

    def _report(self, progress: list[Progress]) -> None:
        call = self._call
        if call is None:
            return
        per_ms = self.rates[1] * self._out_frame / 1000
        for step in progress:
            if step.drained and step.item_id == self._current_item and self._render_pending:
                # the speaker caught up with the reply: let out the last few milliseconds the
                # resampler still holds (else they wait for the next reply)
                self._flush_render()
            received = self._received_ms.get(step.item_id, 0.0)
            played = received if step.drained else min(received, step.taken_bytes / per_ms)
            ms = int(played)
            if ms > self._reported.get(step.item_id, -1):
                self._reported[step.item_id] = ms
                call.played(step.item_id, ms)

    # -- what the caller sees ------------------------------------------------------------------

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Show it on the console."""
        self._console.show_transcript(role, text, final, item_id)

    def show_tool_call(self, call: ToolCallView) -> None:
        """Show it on the console."""
        self._console.show_tool_call(call)

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Show it on the console."""
        self._console.show_status(level, message)
