"""The connection to the realtime service: a small Transport interface over websockets.

Failures are translated here, once, into ``TransportError`` (with ``retryable``) or
``ServiceError`` (exit 3); see :func:`is_retryable` and :func:`backoff`.
"""

from agentrun.transport._memory import MemoryTransport
from agentrun.transport._websocket import (
    RETRYABLE_CLOSE_CODES,
    Transport,
    WebSocketTransport,
    backoff,
    is_retryable,
)

__all__ = [
    "RETRYABLE_CLOSE_CODES",
    "MemoryTransport",
    "Transport",
    "WebSocketTransport",
    "backoff",
    "is_retryable",
]
