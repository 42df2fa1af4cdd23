"""Short-lived signed stream tokens: the webhook announces a call, the stream proves it.

Twilio drops query strings from a ``<Stream>`` URL, so the token travels as a ``<Parameter>``
and arrives in the Media Streams ``start`` message (``start.customParameters``). A token is
``base64url(payload) "." base64url(HMAC-SHA256(key, payload))``; the payload names the agent,
the call (CallSid), the caller's number, an expiry (Unix seconds) and a nonce. Any process that
has the key can check it, so any replica behind a load balancer accepts the stream without
shared state. Each process also remembers the nonces it accepted until they expire, so a token
is used once there; across replicas, the short lifetime bounds a replay. Pure: no I/O; the
clock is injected.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BadToken", "StreamClaims", "StreamTokens"]

_MAX_TOKEN = 2048  # bytes; a real token is ~200


class BadToken(Exception):
    """The stream's token is missing, forged, expired, replayed or for another call.

    Attributes:
        reason: one short phrase for the log (never the token itself).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class StreamClaims:
    """What a valid token vouches for."""

    agent: str
    call_sid: str
    caller: str
    expires: float


class StreamTokens:
    """Issue and check stream tokens.

    Args:
        key: the HMAC key (32 bytes; shared by every process that accepts streams).
        ttl: seconds a token stays valid after the webhook answered.
        clock: Unix seconds (tests move time).
    """

    def __init__(self, key: bytes, *, ttl: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self.ttl = ttl
        self._clock = clock
        self._used: dict[str, float] = {}  # nonce -> expiry

    def issue(self, agent: str, call_sid: str, caller: str) -> str:
        """A token for one call of ``agent``.

        Args:
            agent: the agent's file stem.
            call_sid: Twilio's CallSid from the webhook.
            caller: the caller's number (``From``).

        Returns:
            The token text (URL- and XML-safe).
        """
        payload = json.dumps({"a": agent, "c": call_sid, "f": caller,
                              "e": round(self._clock() + self.ttl, 3),
                              "n": secrets.token_urlsafe(12)},
                             separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._sign(payload))}"

    def verify(self, token: object, *, agent: str, call_sid: str) -> StreamClaims:
        """Check a token from a ``start`` message and use it up.

        Args:
            token: the ``token`` custom parameter (anything the client sent).
            agent: the agent named by the stream's URL.
            call_sid: ``start.callSid``.

        Returns:
            The claims.

        Raises:
            BadToken: missing, malformed, bad signature, expired, already used, or for another
                agent or call.
        """
        if not isinstance(token, str) or not token:
            raise BadToken("no stream token")
        if len(token) > _MAX_TOKEN or token.count(".") != 1:
            raise BadToken("malformed stream token")
        body, _, mac = token.partition(".")
        try:
            payload, signature = _unb64(body), _unb64(mac)
        except (binascii.Error, ValueError):
            raise BadToken("malformed stream token") from None
        if not hmac.compare_digest(signature, self._sign(payload)):
            raise BadToken("stream token signature does not match")
        try:
            data = json.loads(payload)
            claims = StreamClaims(str(data["a"]), str(data["c"]), str(data["f"]),
                                  float(data["e"]))
            nonce = str(data["n"])
        except (ValueError, KeyError, TypeError):
            raise BadToken("malformed stream token") from None
        now = self._clock()
        self._forget_expired(now)
        if claims.expires < now:
            raise BadToken("stream token expired")
        if nonce in self._used:
            raise BadToken("stream token already used")
        if claims.agent != agent:
            raise BadToken("stream token is for another agent")
        if claims.call_sid != call_sid:
            raise BadToken("stream token is for another call")
        self._used[nonce] = claims.expires
        return claims

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def _forget_expired(self, now: float) -> None:
        if len(self._used) > 64:
            self._used = {n: e for n, e in self._used.items() if e >= now}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
