"""What the conversation core asks its I/O layer to do.

``engine.Conversation`` never performs I/O: each of its methods returns a ``list[Action]`` and
``engine.Session`` carries them out in order. Actions are frozen dataclasses named with nouns, so
tests compare them with ``==``. This module imports only ``agentrun.protocol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from agentrun.protocol import ClientEvent

__all__ = [
    "Action",
    "EmitTranscript",
    "EndConversation",
    "PlayAudio",
    "RecordMetric",
    "Report",
    "RunTool",
    "SendEvent",
    "StopPlayback",
]


@dataclass(frozen=True, slots=True)
class SendEvent:
    """Send one client event to the server (already validated against its model)."""

    event: ClientEvent


@dataclass(frozen=True, slots=True)
class PlayAudio:
    """Queue agent audio for playback, in the session's output format (raw bytes, not base64)."""

    audio: bytes = field(repr=False)
    response_id: str
    item_id: str


@dataclass(frozen=True, slots=True)
class StopPlayback:
    """Stop local playback at once and drop queued audio (barge-in, cancel)."""

    reason: str


@dataclass(frozen=True, slots=True)
class RunTool:
    """Run one function call; the session reports back with ``Conversation.tool_finished``.

    ``arguments`` is the raw JSON text the model produced (validated by the tool runner).
    """

    call_id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class EmitTranscript:
    """A transcript line: ``final`` is False for partials that a later line replaces."""

    role: Literal["user", "agent"]
    text: str
    final: bool
    item_id: str


@dataclass(frozen=True, slots=True)
class Report:
    """Something the operator should know: a log/console line at the given level."""

    level: Literal["debug", "info", "warning", "error"]
    message: str


@dataclass(frozen=True, slots=True)
class RecordMetric:
    """One measurement, e.g. ``("response_latency", 0.42, "s")`` or token usage."""

    name: str
    value: float
    unit: str
    turn: int | None = None


@dataclass(frozen=True, slots=True)
class EndConversation:
    """The conversation is over; ``exit_code`` 0 for a normal end."""

    reason: str
    exit_code: int = 0


Action = SendEvent | PlayAudio | StopPlayback | RunTool | EmitTranscript | Report | RecordMetric \
    | EndConversation
