"""An in-memory :class:`~agentrun.transport.Transport` pair, for tests that need no socket."""

from __future__ import annotations

import asyncio

from agentrun.errors import TransportError
from agentrun.transport._websocket import is_retryable

__all__ = ["MemoryTransport"]


class MemoryTransport:
    """One end of an in-memory connection; :meth:`pair` makes two connected ends.

    Closing either end makes the other's ``recv`` raise ``TransportError`` with ``code``
    (1000 for a clean close, or whatever :meth:`fail` was given, e.g. 1011).
    """

    def __init__(self) -> None:
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()
        self._peer: MemoryTransport | None = None
        self.close_code: int | None = None

    @classmethod
    def pair(cls) -> tuple[MemoryTransport, MemoryTransport]:
        """Two connected ends (client, server)."""
        a, b = cls(), cls()
        a._peer, b._peer = b, a
        return a, b

    async def send(self, text: str) -> None:
        """Deliver ``text`` to the peer.

        Raises:
            TransportError: this end or the peer is closed.
        """
        if self.close_code is not None or self._peer is None or self._peer.close_code is not None:
            raise self._error()
        self._peer._inbox.put_nowait(text)

    async def recv(self) -> str:
        """The next text from the peer.

        Raises:
            TransportError: the connection closed (``code`` set; retryable for 1006/1011–1014).
        """
        message = await self._inbox.get()
        if message is None:
            self._inbox.put_nowait(None)
            raise self._error()
        return message

    async def aclose(self) -> None:
        """Close cleanly (1000)."""
        self.fail(1000)

    def fail(self, code: int) -> None:
        """Close both ends with ``code`` (e.g. 1011 to simulate a server failure)."""
        for end in (self, self._peer):
            if end is not None and end.close_code is None:
                end.close_code = code
                end._inbox.put_nowait(None)

    def _error(self) -> TransportError:
        code = self.close_code or (self._peer.close_code if self._peer else None) or 1006
        return TransportError(f"connection lost (close code {code})",
                              retryable=is_retryable(code), code=code)
