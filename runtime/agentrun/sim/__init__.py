"""The embedded Grok realtime simulator (Contract 4).

A real WebSocket server on 127.0.0.1 that speaks the protocol of ``grok-realtime.md``: the
offline default of ``agentrun FILE.yaml``, the ``agentrun sim`` command, and the test double of
the suite. Deterministic and honest: replies are templated (``(simulated) You said: …``) with a
quiet tone as audio, tool calls and faults come from a :class:`Scenario`.
"""

from agentrun.sim._scenario import Scenario
from agentrun.sim._server import PATH, Simulator

__all__ = ["PATH", "Scenario", "Simulator"]
