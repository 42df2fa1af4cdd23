"""The text console: typed (or piped) user turns in, streamed agent transcript out.

stdout carries only the conversation (``agent: …`` and ``user: …`` lines) so it can be piped
and compared; everything else (connection, warnings, metrics) goes to stderr prefixed with
``agentrun:``. Standard input is read by a daemon thread, which works the same for a terminal,
a pipe and a redirected file, and never keeps the process alive at exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import signal
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Literal, TextIO

from agentrun.io._endpoint import CallControl, CallerInput, CallerText, ToolCallView

__all__ = ["TextConsole"]

_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class TextConsole:
    """An :class:`~agentrun.io.Endpoint` for a text conversation on a terminal or a pipe.

    On a terminal (stdin and stdout both TTYs) lines are typed with editing and history (arrow
    keys, Ctrl-R; prompt_toolkit) and output is printed above the line being typed, one whole
    agent line at a time. On a pipe, each input line is a turn, agent text streams as it
    arrives, and the caller's own lines are echoed as ``user:`` lines so stdout holds both
    sides. ``/help`` lists the console's commands and ``/quit`` hangs up.

    Args:
        stdin: where user turns come from, one line each (EOF ends the call).
        stdout: where the conversation is written.
        stderr: where status lines go.
        verbose: also show debug status lines.
        hint: a status line shown when the caller's side starts (e.g. how to hang up).
        interactive: line editing on a terminal; default: stdin and stdout are terminals.
        turn_by_turn: wait for each reply before reading the next line (False when typed
            lines go alongside live audio).
        commands: extra slash commands passed on as turns, with their help text (e.g.
            ``{"/call": "..."}`` when the simulator answers); other unknown ones are refused.
    """

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 stderr: TextIO | None = None, *, verbose: bool = False,
                 hint: str | None = None, interactive: bool | None = None,
                 turn_by_turn: bool = True, commands: Mapping[str, str] | None = None) -> None:
        self._hint = hint
        self._stdin = stdin if stdin is not None else sys.stdin
        self._out_given = stdout  # None: whatever sys.stdout is at write time (it gets patched)
        self._err_given = stderr
        self._min_level = _LEVELS["debug" if verbose else "info"]
        if interactive is None:
            interactive = stdin is None and stdout is None and _is_tty(sys.stdin) \
                and _is_tty(sys.stdout)
        self._interactive = interactive
        self._turn_by_turn = turn_by_turn
        self._commands = {"/help": "list these commands", "/quit": "hang up (also Ctrl-D)",
                          **dict(commands or {})}
        self._queue: asyncio.Queue[str | None] | None = None
        self._open_item: str | None = None  # agent line being streamed, not yet ended
        self._printed = ""
        self.audio_bytes = 0

    @property
    def _out(self) -> TextIO:
        return self._out_given if self._out_given is not None else sys.stdout

    @property
    def _err(self) -> TextIO:
        return self._err_given if self._err_given is not None else sys.stderr

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """Each non-empty input line is a turn, yielded once the previous reply is over.

        The stream ends at end of input (EOF, Ctrl-D) or ``/quit``: the call then hangs up
        after the current reply and any pending tool calls.
        """
        if self._hint:
            self.show_status("info", self._hint)
        with contextlib.ExitStack() as stack:
            read = self._next_line
            if self._interactive:
                read = self._prompter(stack)
            while True:
                if self._turn_by_turn:
                    await call.wait_idle()
                line = await read()
                if line is None:
                    return
                if line.startswith("/") and not self._command_passes(line):
                    if line.split()[0] in ("/quit", "/exit"):
                        return
                    continue
                if not self._interactive:
                    self._end_open_line()
                    self._write(f"user: {line}\n")
                yield CallerText(line)

    def _command_passes(self, line: str) -> bool:
        """Handle a console command; True when the line goes on as a turn (e.g. ``/call``)."""
        word = line.split()[0]
        if word in ("/quit", "/exit"):
            return False
        if word == "/help":
            for name, text in self._commands.items():
                self.show_status("info", f"{name:<7} {text}")
            return False
        if word in self._commands:
            return True
        close = difflib.get_close_matches(word, list(self._commands), n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        self.show_status("error", f"unknown command {word} ({hint}/help lists the commands)")
        return False

    def _prompter(self, stack: contextlib.ExitStack) -> Callable[[], Awaitable[str | None]]:
        """Read lines with editing and history; print other output above the prompt."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.patch_stdout import patch_stdout

        session: PromptSession[str] = PromptSession()
        stack.enter_context(patch_stdout(raw=True))

        async def read() -> str | None:
            while True:
                try:
                    line = await session.prompt_async("you: ")
                except EOFError:
                    return None
                except KeyboardInterrupt:
                    # the prompt holds the terminal in raw mode, so Ctrl-C came as a key: give
                    # it back as the signal it is everywhere else (the call stops, exit 130)
                    signal.raise_signal(signal.SIGINT)
                    return None
                if line.strip():
                    return _encodable(line.strip())

        return read

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
        """End the interrupted agent line (marked `` …``) so the next output starts anew."""
        if self._open_item is None:
            return
        if self._interactive:
            self._write(f"agent: {self._printed} …\n")
            self._open_item, self._printed = None, ""
        else:
            self._end_line(" …")

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Stream agent text as it arrives; show final user transcripts as whole lines.

        Agent partials are deltas (the engine's ``EmitTranscript`` contract); the final line is
        the whole text, of which only the part not yet printed is written.
        """
        if role == "user":
            if final:
                self._end_open_line()
                self._write(f"user: {text}\n")
            return
        if self._interactive:
            # whole lines only: a partial line would be redrawn under the line being typed
            if final:
                self._write(f"agent: {text}\n")
                self._open_item, self._printed = None, ""
            else:
                self._open_item, self._printed = item_id, self._printed + text
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
        self._err.write(f"{prefix}{message.translate(_SHOWN)}\n")
        self._err.flush()

    def _end_open_line(self) -> None:
        if self._open_item is not None and not self._interactive:
            self._end_line("")

    def close(self) -> None:
        """End any open agent line (at the end of the call)."""
        if self._open_item is None:
            return
        if self._interactive:
            self.stop_playback("the call ended")
        else:
            self._end_line("")

    def _end_line(self, suffix: str) -> None:
        self._write(suffix + "\n")
        self._open_item, self._printed = None, ""

    def _write(self, text: str) -> None:
        if text:
            self._out.write(text.translate(_SHOWN))
            self._out.flush()


# Control characters in the conversation (a reply, a tool's output, a typed line) are shown as
# \x1b, \r…, never obeyed: an escape sequence would clear the screen, retitle the window or
# overwrite the line being typed. Newlines and tabs are text.
_SHOWN = {code: ("\\r" if code == 13 else f"\\x{code:02x}")
          for code in (*range(0x20), 0x7f, *range(0x80, 0xa0)) if code not in (9, 10)}


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or replaced by something without isatty
        return False


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
