"""What a session needs from its tool runner, and what it returns: :class:`SessionResult`.

Pure data and protocols; imports only ``engine.actions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from agentrun.engine.actions import RecordMetric

__all__ = ["SessionResult", "ToolRunner"]


class _Result(Protocol):
    output: str
    ok: bool
    error: str | None


class ToolRunner(Protocol):
    """What the session needs from ``agentrun.tools.ToolRegistry``."""

    async def call(self, name: str, arguments_json: str, *, call_id: str,
                   variables: Mapping[str, str], state: dict[str, Any]) -> _Result:
        """Run one call; never raises (failures are in the result).

        ``state`` is this call's own dict (``ToolContext.state``), shared by its tool calls.
        """
        ...


@dataclass
class SessionResult:
    """How a call ended.

    Attributes:
        exit_code: 0 for a normal end; the ``EndConversation`` code otherwise.
        reason: why it ended, in one line.
        metrics: the conversation's measurements in order (latencies in s, one per reply or
            tool call); token counts are summed per kind (``input_tokens``…, one entry each,
            where the first was recorded).
        reconnects: how many times the connection was re-established.
        audio_seconds: agent audio received, in seconds of sound.
        call_id: the call's id (as in its record).
        record: the call's record folder (``Agent.run(record=...)``), "" when not recorded.
    """

    exit_code: int = 0
    reason: str = ""
    metrics: list[RecordMetric] = field(default_factory=list)
    reconnects: int = 0
    audio_seconds: float = 0.0
    call_id: str = ""
    record: str = ""

    def summary(self, *, played: bool = True) -> str:
        """One line for the end of the call: audio, latencies, tokens, reconnects.

        Args:
            played: False when nothing played the agent's audio (a text console): the line
                then says it was received, not heard.
        """
        heard = "" if played else " received (text mode: not played)"
        parts = [f"{self.audio_seconds:.1f} s of agent audio{heard}"]
        grouped: dict[tuple[str, str], list[float]] = {}
        for metric in self.metrics:
            grouped.setdefault((metric.name, metric.unit), []).append(metric.value)
        for (name, unit), values in grouped.items():
            if unit == "tokens":
                if sum(values):
                    parts.append(f"{name} {sum(values):g}")
            else:
                parts.append(f"{name} avg {sum(values) / len(values):.3g} {unit} "
                             f"(n={len(values)})")
        if self.reconnects:
            parts.append(f"{self.reconnects} reconnect{'s' if self.reconnects > 1 else ''}")
        return "call ended: " + ", ".join(parts)
