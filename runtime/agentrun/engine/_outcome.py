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


KEPT_METRICS = 256  # measurements a result keeps at least (minutes of replies; totals: the call)


@dataclass
class SessionResult:
    """How a call ended.

    Attributes:
        exit_code: 0 for a normal end; the ``EndConversation`` code otherwise.
        reason: why it ended, in one line.
        metrics: the conversation's most recent measurements, in order (latencies in s, one
            per reply or tool call; token counts per response): every one for calls of up to
            :data:`KEPT_METRICS`, at least the last that many for longer calls (memory stays
            bounded however long a call goes on).
        totals: (name, unit) → (sum, count) of every measurement of the call (the summary).
        reconnects: how many times the connection was re-established.
        audio_seconds: agent audio received, in seconds of sound.
        call_id: the call's id (as in its record).
        record: the call's record folder (``Agent.run(record=...)``), "" when not recorded.
    """

    exit_code: int = 0
    reason: str = ""
    metrics: list[RecordMetric] = field(default_factory=list)
    totals: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    reconnects: int = 0
    audio_seconds: float = 0.0
    call_id: str = ""
    record: str = ""

    def add_metric(self, metric: RecordMetric) -> None:
        """Count ``metric`` in :attr:`totals` and keep it in :attr:`metrics` (the oldest
        are dropped, a batch at a time, once twice :data:`KEPT_METRICS` are kept)."""
        key = (metric.name, metric.unit)
        total, count = self.totals.get(key, (0.0, 0))
        self.totals[key] = (total + metric.value, count + 1)
        self.metrics.append(metric)
        if len(self.metrics) >= 2 * KEPT_METRICS:
            del self.metrics[:-KEPT_METRICS]

    def summary(self, *, played: bool = True) -> str:
        """One line for the end of the call: audio, latencies, tokens, reconnects.

        Args:
            played: False when nothing played the agent's audio (a text console): the line
                then says it was received, not heard.
        """
        heard = "" if played else " received (text mode: not played)"
        parts = [f"{self.audio_seconds:.1f} s of agent audio{heard}"]
        totals = dict(self.totals)
        if not totals:  # a result made by hand, not by a session
            for metric in self.metrics:
                total, count = totals.get((metric.name, metric.unit), (0.0, 0))
                totals[metric.name, metric.unit] = (total + metric.value, count + 1)
        for (name, unit), (total, count) in totals.items():
            if unit == "tokens":
                if total:
                    parts.append(f"{name} {total:g}")
            else:
                parts.append(f"{name} avg {total / count:.3g} {unit} (n={count})")
        if self.reconnects:
            parts.append(f"{self.reconnects} reconnect{'s' if self.reconnects > 1 else ''}")
        return "call ended: " + ", ".join(parts)
