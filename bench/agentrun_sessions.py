"""N agentrun calls in one process through the public Session API (the memory figure).

The same path `agentrun FILE --text` takes (``load_spec`` → ``ToolRegistry.for_spec`` →
``ConversationConfig.from_spec`` → ``Session.for_url(...).run()``), with N sessions sharing one
event loop, as a server hosting N simultaneous calls would. Each call says one line, gets its
reply, then idles (connected, no input) until stdin closes; ``ready`` is printed once every call
has its reply.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import sys
from collections.abc import AsyncIterator
from typing import Literal

from agentrun.engine import ConversationConfig, connection_url
from agentrun.engine.session import Session
from agentrun.io import CallControl, CallerInput, CallerText, ToolCallView
from agentrun.spec import load_spec, render_instructions
from agentrun.tools import ToolRegistry

__all__ = ["IdleEndpoint", "main"]

AGENT = pathlib.Path(__file__).resolve().parent / "agents" / "ping.yaml"


class IdleEndpoint:
    """Says one line; when asked for the next one (the reply is done) it reports and waits.

    Args:
        text: the one user turn.
        replied: set when the session asks for a second turn, i.e. the first reply is done.
        hangup: the second turn returns None (ends the call) once this is set.
    """

    def __init__(self, text: str, replied: asyncio.Event, hangup: asyncio.Event) -> None:
        self._text = text
        self._replied = replied
        self._hangup = hangup

    async def caller(self, call: CallControl) -> AsyncIterator[CallerInput]:
        """The line, then (after the reply) nothing until hang-up."""
        await call.wait_idle()
        yield CallerText(self._text)
        await call.wait_idle()
        self._replied.set()
        await self._hangup.wait()

    def show_tool_call(self, call: ToolCallView) -> None:
        """Drop tool calls."""

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Drop the audio, as the floor client does."""

    def stop_playback(self, reason: str) -> None:
        """Nothing plays."""

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Drop transcripts."""

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Show warnings and errors only (a failing bench must say why)."""
        if level in ("warning", "error"):
            print(f"agentrun: {level}: {message}", file=sys.stderr)


async def _run(url: str, calls: int, text: str) -> None:
    spec = load_spec(AGENT)
    registry = ToolRegistry.for_spec(spec)
    config = ConversationConfig.from_spec(spec, instructions=render_instructions(spec),
                                          function_tools=registry.function_schemas())
    target = connection_url(spec, url)
    hangup = asyncio.Event()
    replies = [asyncio.Event() for _ in range(calls)]
    sessions = [Session.for_url(config, target, api_key=None, tools=registry,
                                endpoint=IdleEndpoint(text, replied, hangup))
                for replied in replies]
    async with asyncio.TaskGroup() as tg:
        for session in sessions:
            tg.create_task(session.run())
        await asyncio.gather(*(r.wait() for r in replies))
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        hangup.set()


def main(argv: list[str] | None = None) -> int:
    """Run N idle calls against `--url` until stdin closes.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        The process exit code.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--calls", type=int, default=1)
    parser.add_argument("--text", default="Hello.")
    args = parser.parse_args(argv)
    asyncio.run(_run(args.url, args.calls, args.text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
