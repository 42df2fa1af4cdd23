"""agentrun: run a voice agent described in YAML on the xAI Grok Voice Agent API.

The public surface is re-exported here; every other module is an implementation detail.
"""

from agentrun.errors import (
    AgentrunError,
    ServiceError,
    SpecError,
    SpecErrors,
    ToolError,
    TransportError,
)

__all__ = [
    "AgentrunError",
    "ServiceError",
    "SpecError",
    "SpecErrors",
    "ToolError",
    "TransportError",
]
__version__ = "0.1.0"
