"""The WebSocket connection to the realtime service, and the one place that judges failures.

``websockets`` exceptions never leave this module: they become :class:`TransportError`
(``retryable`` says whether a reconnect may help) or :class:`ServiceError` (the service refused
us for good, exit 3), chained with ``raise … from exc``. :func:`is_retryable` and
:func:`backoff` are pure so the session's reconnect logic is testable with zero delays.
This module imports only ``agentrun.errors`` and ``websockets``.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from collections.abc import Iterator
from typing import Protocol
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)

from agentrun.errors import ServiceError, TransportError

__all__ = [
    "RETRYABLE_CLOSE_CODES",
    "Transport",
    "WebSocketTransport",
    "backoff",
    "close_error",
    "is_retryable",
]

RETRYABLE_CLOSE_CODES = frozenset({1006, 1011, 1012, 1013, 1014})
"""Abnormal closure and server-side failures: reconnecting may help (reference §1)."""

_MAX_MESSAGE = 16 * 1024 * 1024  # audio deltas are base64 and can be large


class Transport(Protocol):
    """What the session needs from a connection: text frames in and out, and a close."""

    async def send(self, text: str) -> None:
        """Send one text frame. Raises TransportError when the connection is gone."""
        ...

    async def recv(self) -> str:
        """Receive the next text frame. Raises TransportError when the connection ends."""
        ...

    async def aclose(self) -> None:
        """Close cleanly (idempotent; never raises)."""
        ...


def is_retryable(failure: BaseException | int | None) -> bool:
    """Decide whether reconnecting may help, from an exception or a close code.

    Args:
        failure: a close code, an exception (ours or a ``websockets``/OS one), or None for a
            connection that ended without a close frame.

    Returns:
        True for abnormal closes (1006, 1011–1014), resets, refused connections and timeouts;
        False for normal closes, policy violations (1008), service refusals, a host name that
        cannot be resolved and a TLS certificate that cannot be verified (trying again gives
        the same answer; the user must fix the address, the network or the certificate store).
    """
    if failure is None:
        return True  # no close frame at all is 1006
    if isinstance(failure, bool):
        return False
    if isinstance(failure, int):
        return failure in RETRYABLE_CLOSE_CODES
    if isinstance(failure, ServiceError):
        return False
    if isinstance(failure, TransportError):
        return failure.retryable
    if isinstance(failure, ConnectionClosed):
        return is_retryable(failure.rcvd.code if failure.rcvd is not None else None)
    if isinstance(failure, InvalidStatus):
        status = failure.response.status_code
        return status == 429 or status >= 500
    if isinstance(failure, socket.gaierror | ssl.SSLCertVerificationError):
        return False
    return isinstance(failure, OSError | TimeoutError)


def backoff(initial: float = 0.25, factor: float = 2.0, maximum: float = 5.0,
            jitter: float = 0.1) -> Iterator[float]:
    """Reconnect delays in seconds: 0.25, 0.5, 1, 2, 4, 5, 5, … each with a little jitter.

    Args:
        initial: the first delay.
        factor: growth per attempt.
        maximum: the cap.
        jitter: a random fraction added so many clients don't reconnect in lockstep.

    Returns:
        An endless iterator of delays; the session decides how many attempts to make.
    """
    delay = initial
    while True:
        yield delay * (1 + random.uniform(0, jitter))
        delay = min(delay * factor, maximum)


def close_error(exc: ConnectionClosed) -> TransportError | ServiceError:
    """Translate a closed connection into our error, with a one-line reason."""
    code = exc.rcvd.code if exc.rcvd is not None else 1006
    reason = exc.rcvd.reason if exc.rcvd is not None and exc.rcvd.reason else ""
    if code == 1008:
        return ServiceError(f"the service closed the connection (policy violation, 1008"
                            f"{': ' + reason if reason else ''}): check XAI_API_KEY")
    if code in (1000, 1001):
        return TransportError(f"the service closed the connection ({code})", code=code)
    detail = f": {reason}" if reason else ""
    return TransportError(f"connection lost (close code {code}{detail})",
                          retryable=is_retryable(code), code=code)


def _handshake_error(url: str, exc: Exception, *, key_sent: bool
                     ) -> TransportError | ServiceError:
    """Translate a failed connect into one line that says what happened and what to do.

    Args:
        url: the URL that was tried.
        exc: what ``websockets`` (or the OS) raised.
        key_sent: whether an ``Authorization`` header went with the request; a 401 without one
            means the server needs a key, not that the key is wrong.
    """
    if isinstance(exc, InvalidStatus):
        return _status_error(url, exc.response.status_code, key_sent=key_sent)
    if isinstance(exc, InvalidURI):
        return TransportError(f"not a WebSocket URL: {url} (use ws:// or wss://)")
    if isinstance(exc, TimeoutError):
        return TransportError(f"timed out connecting to {url} (check your network, or a proxy "
                              "or firewall in the way)", retryable=True)
    if isinstance(exc, InvalidHandshake):
        return TransportError(f"the WebSocket handshake with {url} failed: {exc} (is this a "
                              "realtime endpoint?)")
    if isinstance(exc, socket.gaierror):
        host = urlsplit(url).hostname or url
        return TransportError(f"cannot find the host '{host}' (name lookup failed: "
                              f"{exc.strerror or exc}): check the address for typos and that "
                              "this machine is online")
    if isinstance(exc, ssl.SSLCertVerificationError):
        host = urlsplit(url).hostname or url
        return TransportError(f"cannot verify the TLS certificate of '{host}' "
                              f"({exc.verify_message or exc}): check the machine's clock and, "
                              "behind a company proxy, point SSL_CERT_FILE at its CA bundle")
    if isinstance(exc, ConnectionRefusedError):
        return TransportError(f"cannot connect to {url}: connection refused (nothing listens "
                              "there: is the server running, and is the port right?)",
                              retryable=True)
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return TransportError(f"cannot connect to {url}: {detail}", retryable=is_retryable(exc))


def _status_error(url: str, status: int, *, key_sent: bool) -> TransportError | ServiceError:
    """The error for an HTTP status answering the WebSocket upgrade (reference §1)."""
    if status in (401, 403) and not key_sent:
        return ServiceError(f"the service at {url} needs an API key and none was sent "
                            f"(HTTP {status}): set XAI_API_KEY")
    if status in (401, 403):
        return ServiceError(f"the service rejected the API key (HTTP {status}): "
                            "check XAI_API_KEY")
    if status == 404:
        return TransportError(f"no realtime endpoint at {url} (HTTP 404): check --url "
                              "(the path is usually /v1/realtime)")
    if status == 429:
        return TransportError("the service is rate limiting new sessions (HTTP 429): "
                              "wait a minute and try again", retryable=True)
    return TransportError(f"the service refused the connection (HTTP {status})",
                          retryable=status >= 500)


class WebSocketTransport:
    """A :class:`Transport` over a ``websockets`` client connection.

    Create one with :meth:`connect`; the API key travels only in the ``Authorization`` header
    and never appears in a message or a ``repr``.
    """

    def __init__(self, connection: ClientConnection, url: str) -> None:
        self._ws = connection
        self.url = url

    def __repr__(self) -> str:
        return f"WebSocketTransport({self.url!r})"

    @classmethod
    async def connect(cls, url: str, *, api_key: str | None = None,
                      timeout: float = 10.0) -> WebSocketTransport:
        """Open a connection (TLS for ``wss://``), authenticating with a Bearer key.

        Args:
            url: the full realtime URL, including ``?model=…``.
            api_key: sent as ``Authorization: Bearer <api_key>`` when given.
            timeout: seconds for the TCP, TLS and WebSocket handshakes together.

        Returns:
            The open transport.

        Raises:
            ServiceError: the service rejected the key, or wants one and none was given
                (HTTP 401/403).
            TransportError: anything else; ``retryable`` says whether to try again.
        """
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else None
        try:
            async with asyncio.timeout(timeout):
                ws = await connect(url, additional_headers=headers, max_size=_MAX_MESSAGE,
                                   open_timeout=None, compression=None, ping_interval=20,
                                   ping_timeout=20, close_timeout=2,
                                   user_agent_header="agentrun")
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI, ValueError) as exc:
            raise _handshake_error(url, exc, key_sent=bool(api_key)) from exc
        return cls(ws, url)

    async def send(self, text: str) -> None:
        """Send one text frame.

        Raises:
            TransportError | ServiceError: the connection is closed.
        """
        try:
            await self._ws.send(text)
        except ConnectionClosed as exc:
            raise close_error(exc) from exc

    async def recv(self) -> str:
        """Receive one frame as text (binary frames are decoded as UTF-8).

        Raises:
            TransportError | ServiceError: the connection closed.
        """
        try:
            message = await self._ws.recv()
        except ConnectionClosed as exc:
            raise close_error(exc) from exc
        return message if isinstance(message, str) else message.decode("utf-8", "replace")

    async def aclose(self) -> None:
        """Close with 1000 and wait briefly for the handshake; never raises."""
        try:
            await self._ws.close()
        except (OSError, ConnectionClosed):
            self._ws.transport.abort()
