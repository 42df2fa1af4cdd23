"""Service metrics in the Prometheus text format, through ``prometheus-client``.

One :class:`ServiceMetrics` per app holds the metric families; each call gets a
:class:`CallMetrics` observer (``engine.observe``) that turns what the session shows into samples.
Names follow Prometheus' conventions (``agentrun_`` prefix, base units, ``_total`` counters,
``_seconds`` histograms). Labels are bounded: ``agent`` is a served file stem, ``channel`` a
channel name, ``tool`` a declared tool name (anything else the model invents is ``undeclared``).

Several worker processes (``--workers N``): ``prometheus-client``'s multiprocess mode, selected
by ``PROMETHEUS_MULTIPROC_DIR`` in the environment before ``prometheus_client`` is imported
(``agentrun serve`` sets it for its workers). Every worker writes its samples there and
``/metrics`` on any worker sums them: gauges are ``livesum`` (live processes only).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import TYPE_CHECKING

from agentrun.engine.actions import RecordMetric
from agentrun.engine.observe import CallEnded, Observation, Reconnected, ToolCallDone

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["CONTENT_TYPE", "CallMetrics", "ServiceMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Voice replies: 100 ms … 10 s; tools: 5 ms … 30 s (HTTP tools time out at 10 s by default).
_RESPONSE_BUCKETS = (0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)
_TOOL_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_dir() -> str | None:
    """The shared directory of multiprocess mode, or None in a single process."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServiceMetrics:
    """The service's metric families.

    Args:
        registry: where the families are registered (default: a fresh one per app, so several
            apps in one process, e.g. tests or a mounting app, never clash).
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.calls_active = Gauge(
            "agentrun_calls_active", "Calls in progress.", ["agent", "channel"],
            registry=reg, multiprocess_mode="livesum")
        self.calls = Counter(
            "agentrun_calls", "Calls started.", ["agent", "channel"], registry=reg)
        self.calls_failed = Counter(
            "agentrun_calls_failed", "Calls that ended with an error (not a hang-up).",
            ["agent", "channel"], registry=reg)
        self.calls_refused = Counter(
            "agentrun_calls_refused", "Calls refused before they started.",
            ["channel", "reason"], registry=reg)
        self.response_latency = Histogram(
            "agentrun_response_latency_seconds",
            "From the end of the caller's turn to the agent's first audio or text.",
            ["agent", "channel"], buckets=_RESPONSE_BUCKETS, registry=reg)
        self.tool_latency = Histogram(
            "agentrun_tool_latency_seconds", "Tool call duration, start to output.",
            ["agent", "tool"], buckets=_TOOL_BUCKETS, registry=reg)
        self.tool_failures = Counter(
            "agentrun_tool_failures", "Tool calls that failed (bad arguments, timeout, error).",
            ["agent", "tool"], registry=reg)
        self.reconnects = Counter(
            "agentrun_reconnects", "Realtime connections re-established mid-call.",
            ["agent", "channel"], registry=reg)
        self.draining = Gauge(
            "agentrun_draining", "1 while the process drains (refuses new calls).",
            registry=reg, multiprocess_mode="max")

    def refused(self, channel: str, reason: str) -> None:
        """Count a refused call (``capacity``, ``draining``, ``unknown_agent``,
        ``bad_signature``, ``bad_token``, ``bad_stream``)."""
        self.calls_refused.labels(channel, reason).inc()

    def call(self, agent: str, channel: str, tools: Collection[str]) -> CallMetrics:
        """The observer of one call; it counts the call as started and active.

        Args:
            agent: the agent's file stem.
            channel: the channel name.
            tools: the declared function tool names (labels for tool metrics).
        """
        return CallMetrics(self, agent, channel, frozenset(tools))

    def render(self) -> bytes:
        """Every sample in the Prometheus text exposition format (all workers' in
        multiprocess mode)."""
        from prometheus_client import CollectorRegistry, generate_latest

        if multiprocess_dir() is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        merged = CollectorRegistry()
        multiprocess.MultiProcessCollector(merged)
        return generate_latest(merged)


class CallMetrics:
    """A ``CallObserver`` that feeds :class:`ServiceMetrics` from one call.

    Counts the call at construction; :meth:`close` (or the session's ``CallEnded``) takes it
    off the active gauge exactly once.
    """

    def __init__(self, metrics: ServiceMetrics, agent: str, channel: str,
                 tools: frozenset[str]) -> None:
        self._m = metrics
        self._agent, self._channel, self._tools = agent, channel, tools
        self._response = metrics.response_latency.labels(agent, channel)
        self._open = True
        metrics.calls.labels(agent, channel).inc()
        metrics.calls_active.labels(agent, channel).inc()

    def observe(self, now: float, what: Observation) -> None:
        """Take one observation from the session (``engine.observe``)."""
        kind = type(what)
        if kind is RecordMetric:
            if what.name == "response_latency":  # type: ignore[union-attr]
                self._response.observe(what.value)  # type: ignore[union-attr]
        elif kind is ToolCallDone:
            tool = what.name if what.name in self._tools else "undeclared"  # type: ignore[union-attr]
            self._m.tool_latency.labels(self._agent, tool).observe(what.seconds)  # type: ignore[union-attr]
            if not what.ok:  # type: ignore[union-attr]
                self._m.tool_failures.labels(self._agent, tool).inc()
        elif kind is Reconnected:
            self._m.reconnects.labels(self._agent, self._channel).inc()
        elif kind is CallEnded:
            if getattr(what.result, "exit_code", 0):  # type: ignore[union-attr]
                self._m.calls_failed.labels(self._agent, self._channel).inc()
            self.close()

    def close(self, failed: bool = False) -> None:
        """The call is over (also when it failed before the session ran)."""
        if self._open:
            self._open = False
            if failed:
                self._m.calls_failed.labels(self._agent, self._channel).inc()
            self._m.calls_active.labels(self._agent, self._channel).dec()
