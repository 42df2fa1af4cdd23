"""The text console: typed (or piped) user turns in, streamed agent transcript out.

stdout carries only the conversation (``agent: …`` and ``user: …`` lines) so it can be piped
and compared; everything else (connection, warnings, metrics) goes to stderr prefixed with
``agentrun:``. Standard input is read by a daemon thread, which works the same for a terminal,
a pipe and a redirected file, and never keeps the process alive at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from collections.abc import AsyncIterator
from typing import Literal, TextIO

from agentrun.io._endpoint import CallControl, CallerInput, CallerText, ToolCallView

__all__ = ["TextConsole"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class TextConsole:
    """An :class:`~agentrun.io.Endpoint` for a text conversation on a terminal or a pipe.

    Args:
        stdin: where user turns come from, one line each (EOF ends the call).
        stdout: where the conversation is written.
        stderr: where status lines go.
        verbose: also show debug status lines.
        hint: a status line shown when the caller's side starts (e.g. how to hang up).
    """

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 stderr: TextIO | None = None, *, verbose: bool = False,
                 hint: str | None = None) -> None:
        self._hint = hint
        self._stdin = stdin if stdin is not None else sys.stdin
        self._out = stdout if stdout is not None else sys.stdout
        self._err = stderr if stderr is not None else sys.stderr
        self._min_level = _LEVELS["debug" if verbose else "info"]
        self._queue: asyncio.Queue[str | None] | None = None
        self._open_item: str | None = None  # agent line being streamed, not yet ended
        self._printed = ""
        self.audio_bytes = 0

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Each non-empty input line is a turn, yielded once the previous reply is over.

        The stream ends at end of input (EOF, Ctrl-D): the call then hangs up after the
        current reply and any pending tool calls.
        """
        if self._hint:
            self.show_status("info", self._hint)
        while True:
            await call.wait_idle()
            line = await self._next_line()
            if line is None:
                return
            yield CallerText(line)

    async def _next_line(self) -> str | None:
        """The next non-empty input line without its newline, or None at end of input."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._reader, args=(loop, self._queue),
                             name="agentrun-stdin", daemon=True).start()
        while True:
            line = await self._queue.get()
            if line is None:
                self._queue.put_nowait(None)  # EOF stays EOF for later calls
                return None
            if line.strip():
                return _encodable(line.strip())

    def _reader(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
        # stdin closed under us, or the loop is gone: either way, input has ended
        with contextlib.suppress(OSError, ValueError, RuntimeError):
            for line in self._stdin:
                loop.call_soon_threadsafe(queue.put_nowait, line)
        with contextlib.suppress(RuntimeError):  # the loop already closed (process exiting)
            loop.call_soon_threadsafe(queue.put_nowait, None)

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Text mode has no speaker: count the bytes for the end-of-call summary."""
        self.audio_bytes += len(audio)

    def stop_playback(self, reason: str) -> None:
        """End the interrupted agent line so the next output starts on its own line."""
        if self._open_item is not None:
            self._end_line(" …")

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Stream agent text as it arrives; show final user transcripts as whole lines.

        Agent partials are deltas (the engine's ``EmitTranscript`` contract); the final line is
        the whole text, of which only the part not yet printed is written.
        """
        if role == "user":
            if final:
                if self._open_item is not None:
                    self._end_line("")
                self._write(f"user: {text}\n")
            return
        if self._open_item != item_id:
            if self._open_item is not None:
                self._end_line("")
            self._open_item, self._printed = item_id, ""
            self._write("agent: ")
        if not final:
            self._printed += text
            self._write(text)
            return
        if text.startswith(self._printed):
            self._write(text[len(self._printed):])
        self._end_line("")

    def show_tool_call(self, call: ToolCallView) -> None:
        """A status line when a tool starts (info) and its output when it ends (debug)."""
        if call.output is None:
            self.show_status("info", f"tool {call.name} {_cut(call.arguments)}")
        else:
            self.show_status("debug", f"tool {call.name} -> {_cut(call.output)}")

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Write ``agentrun: message`` to stderr (debug only when verbose)."""
        if _LEVELS[level] < self._min_level:
            return
        prefix = "agentrun: " if level in ("debug", "info") else f"agentrun: {level}: "
        self._err.write(f"{prefix}{message}\n")
        self._err.flush()

    def close(self) -> None:
        """End any open agent line (at the end of the call)."""
        if self._open_item is not None:
            self._end_line("")

    def _end_line(self, suffix: str) -> None:
        self._write(suffix + "\n")
        self._open_item, self._printed = None, ""

    def _write(self, text: str) -> None:
        if text:
            self._out.write(text)
            self._out.flush()


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _encodable(text: str) -> str:
    """``text`` without lone surrogates, which cannot be encoded for the wire.

    sys.stdin decodes with surrogateescape: a non-UTF-8 byte becomes a lone surrogate. It is
    shown as U+FFFD instead (any other lone surrogate as ``?``).
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
