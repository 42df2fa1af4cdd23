"""``print()`` in a tool goes to the tool's logger, never into the conversation's stdout.

stdout carries the conversation (``agent: …`` lines that people pipe and compare), and a
plugin author's debugging ``print`` must not land in it. ``sys.stdout`` is wrapped once by a
proxy that asks a context variable whether the writing code runs inside a tool call: the
variable is set for the call, an ``async def`` tool's task and the tasks it starts inherit it,
and a plain function's worker thread runs in a copy of the call's context, so two calls running
at once each get their own lines and the rest of the program writes through untouched. A printed
line becomes an INFO record on the tool's logger (``agentrun.tools.NAME``): shown with
``agentrun -v`` and kept in the call record with the tool's other log lines.

Limits: a thread the tool starts itself without copying its context, a subprocess, and writes
to file descriptor 1 from C code bypass ``sys.stdout`` and are not caught. Imports nothing of
ours.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from typing import Any

__all__ = ["PrintedLines", "end_print_capture", "start_print_capture"]

_PRINTS: contextvars.ContextVar[PrintedLines | None] = contextvars.ContextVar(
    "agentrun_tool_prints", default=None)


class PrintedLines:
    """What one tool call printed: complete lines go to ``logger``, a partial one waits.

    Args:
        logger: the tool's logger.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self._partial = ""

    def write(self, text: str) -> None:
        """Log every complete line of ``text`` (joined to what was printed before it)."""
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self.logger.info("print: %s", line.rstrip("\r"))

    def close(self) -> None:
        """Log a last line printed without a newline (``print(x, end="")``)."""
        if self._partial:
            self.logger.info("print: %s", self._partial)
            self._partial = ""


class _ToolAwareStdout:
    """Stands in for ``sys.stdout``: writes from inside a tool call go to that call's
    :class:`PrintedLines`, every other write to the real stream (all else is delegated)."""

    def __init__(self, stream: Any) -> None:
        self._agentrun_stream = stream

    def write(self, text: str) -> int:
        printed = _PRINTS.get()
        if printed is None:
            return int(self._agentrun_stream.write(text) or 0)
        printed.write(text)
        return len(text)

    def flush(self) -> None:
        if _PRINTS.get() is None:
            self._agentrun_stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._agentrun_stream, name)


def start_print_capture(logger: logging.Logger) -> tuple[contextvars.Token[Any], PrintedLines]:
    """From now on, in this context, ``print()`` goes to ``logger``.

    Installs the ``sys.stdout`` proxy when stdout is not already one (a test harness or a
    terminal library may have replaced it since).

    Args:
        logger: the tool's logger.

    Returns:
        What :func:`end_print_capture` needs.
    """
    if not isinstance(sys.stdout, _ToolAwareStdout):
        sys.stdout = _ToolAwareStdout(sys.stdout)
    printed = PrintedLines(logger)
    return _PRINTS.set(printed), printed


def end_print_capture(capture: tuple[contextvars.Token[Any], PrintedLines]) -> None:
    """Stop capturing in this context, logging any unfinished line.

    Args:
        capture: what :func:`start_print_capture` returned.
    """
    token, printed = capture
    printed.close()
    _PRINTS.reset(token)
