"""The one small interface between a session and whatever the caller uses to talk and listen.

The session (``engine/session.py``) drives an :class:`Endpoint`: it asks for the next user turn
and hands over agent audio, transcript lines and status lines. Text consoles, audio devices,
WAV files and phone bridges all fit behind it. This module imports nothing of ours.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["Endpoint", "NullEndpoint"]


class Endpoint(Protocol):
    """Where user turns come from and where the agent's output goes."""

    async def read_turn(self) -> str | None:
        """The next typed user turn, or None when the input has ended (EOF)."""
        ...

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Queue agent audio (raw bytes in the session's output format)."""
        ...

    def stop_playback(self, reason: str) -> None:
        """Stop playing at once and drop queued audio (barge-in)."""
        ...

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Show a transcript line; ``final`` False means a later call replaces or extends it."""
        ...

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Show an operator-facing line (connection, errors, metrics)."""
        ...


class NullEndpoint:
    """An endpoint that says the given lines and discards all output (benchmarks, embedding).

    Args:
        turns: the user turns to send, in order; input ends after the last one.
    """

    def __init__(self, turns: list[str] | None = None) -> None:
        self._turns = list(turns or [])
        self.audio_bytes = 0
        self.transcripts: list[tuple[str, str]] = []
        self.statuses: list[tuple[str, str]] = []

    async def read_turn(self) -> str | None:
        """Return the next scripted turn, or None when there are none left."""
        return self._turns.pop(0) if self._turns else None

    def play_audio(self, audio: bytes, item_id: str) -> None:
        """Count the bytes (so a benchmark can report streamed audio)."""
        self.audio_bytes += len(audio)

    def stop_playback(self, reason: str) -> None:
        """Nothing is playing."""

    def show_transcript(self, role: Literal["user", "agent"], text: str, final: bool,
                        item_id: str) -> None:
        """Keep final lines for inspection."""
        if final:
            self.transcripts.append((role, text))

    def show_status(self, level: Literal["debug", "info", "warning", "error"],
                    message: str) -> None:
        """Keep status lines for inspection."""
        self.statuses.append((level, message))
