"""What a running session shows its observers: call records and metrics watch, never steer.

A :class:`CallObserver` gets every :data:`Observation` with the session's monotonic time: the
call's start and end, every frame on the realtime socket in both directions, the caller audio
as it reached the session, every action the conversation asked for (agent audio, barge-ins,
transcripts, tool runs, reports, metrics), every finished tool call and every reconnect.
Observers must not block (they run on the session's loop) and cannot change the call; one that
raises is reported once and dropped. Imports only ``engine.actions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from agentrun.engine.actions import Action

if TYPE_CHECKING:
    from agentrun.io import AudioFormat

__all__ = [
    "CallEnded",
    "CallInfo",
    "CallObserver",
    "CallStarted",
    "CallerAudioIn",
    "Observation",
    "Reconnected",
    "ToolCallDone",
    "WireFrame",
]


@dataclass(frozen=True, slots=True)
class CallInfo:
    """Who is calling whom, as records and metrics label a call.

    Attributes:
        call_id: the channel's id for the call (e.g. Twilio's CallSid); "" makes one up.
        agent: the agent's name.
        agent_file: the agent file's stem (``support``), or "" when built in code.
        channel: how the caller reached us: ``console``, ``voice``, ``wav``, ``twilio``,
            ``browser``, ``test``, ``embedded``…
        caller: the caller's number or address, "" when unknown.
    """

    call_id: str = ""
    agent: str = ""
    agent_file: str = ""
    channel: str = "embedded"
    caller: str = ""


@dataclass(frozen=True, slots=True)
class CallStarted:
    """The call began (before connecting).

    Attributes:
        call_id: this call's id (the channel's, e.g. Twilio's CallSid, or a generated one).
        agent: the agent's name.
        agent_file: the agent file's stem (``support``), or "" when built in code.
        channel: how the caller reached us: ``console``, ``voice``, ``wav``, ``twilio``,
            ``browser``, ``test``…
        caller: the caller's number or address, "" when unknown.
        input_format: the caller audio format sent to the service.
        output_format: the agent audio format received from it.
    """

    call_id: str
    agent: str
    agent_file: str
    channel: str
    caller: str
    input_format: AudioFormat
    output_format: AudioFormat


@dataclass(frozen=True, slots=True)
class WireFrame:
    """One text frame on the realtime socket; ``direction`` ``in`` is from the server."""

    direction: Literal["in", "out"]
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CallerAudioIn:
    """Caller audio as it reached the session, in the session's input format (raw bytes)."""

    audio: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class ToolCallDone:
    """A tool call finished.

    Attributes:
        call_id: the model's id for the call.
        name: the tool name the model called.
        arguments: the JSON text of its arguments.
        output: what was sent to the model.
        ok: False when it failed (bad arguments, timeout, exception, unknown tool).
        error: on failure, the full operator-facing line, then the traceback when the tool
            raised (never sent to the model).
        seconds: wall time from its start to its output.
        logs: the records the tool logged during the call (``LEVEL logger: message``).
    """

    call_id: str
    name: str
    arguments: str
    output: str
    ok: bool
    error: str | None
    seconds: float
    logs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Reconnected:
    """The connection dropped and was re-established; ``count`` reconnects so far."""

    count: int


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over; ``result`` is the ``engine.session.SessionResult``."""

    result: Any


Observation = (CallStarted | WireFrame | CallerAudioIn | Action | ToolCallDone | Reconnected
               | CallEnded)
"""Everything an observer can be shown."""


class CallObserver(Protocol):
    """Watches one call (a call record, service metrics, a test runner)."""

    def observe(self, now: float, what: Observation) -> None:
        """Take one observation.

        Args:
            now: the session's monotonic clock, in seconds.
            what: what happened.
        """
        ...
