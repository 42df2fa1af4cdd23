"""Who may use the talk page and its socket: the Origin check and the TLS rule.

Pure functions of a request's headers and the service's options (``allowed_origins``,
``allow_insecure_http``, ``public_url``); the browser channel calls them before it accepts a
socket or serves the page.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from agentrun.serve._service import Service

__all__ = ["origin_allowed", "transport_allowed"]


def transport_allowed(conn: HTTPConnection, service: Service) -> bool:
    """Whether the page or socket may be served on this connection.

    Allowed: https/wss (TLS here, or a proxy that says ``X-Forwarded-Proto: https``), a
    loopback client (the caller's audio never leaves the machine), or any client when the
    operator passed ``--allow-insecure-http`` (``ServeOptions.allow_insecure_http``).
    """
    if getattr(service.options, "allow_insecure_http", False):
        return True
    if conn.url.scheme in ("https", "wss"):
        return True
    forwarded = conn.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    if forwarded in ("https", "wss"):
        return True
    return _is_loopback(conn.client.host if conn.client else "")


def origin_allowed(conn: HTTPConnection, service: Service) -> bool:
    """Whether a socket's ``Origin`` may place calls (RFC 6455 §10.2).

    Allowed: the service's own origin (the ``Host`` or ``X-Forwarded-Host`` the browser
    reached, or ``--public-url``), and every origin in ``ServeOptions.allowed_origins`` (``*``
    allows any). A socket without an ``Origin`` (not a browser) is refused too: a client that
    is not a browser can send the header.
    """
    origin = _origin(conn.headers.get("origin", ""))
    if origin is None:
        return False
    allowed = list(getattr(service.options, "allowed_origins", ()) or ())
    if "*" in allowed:
        return True
    if service.options.public_url:
        allowed.append(service.options.public_url)
    if origin in {_origin(a) for a in allowed}:
        return True
    scheme = origin[0]
    for header in ("host", "x-forwarded-host"):
        value = conn.headers.get(header, "").split(",")[0].strip()
        if value and _origin(f"{scheme}://{value}") == origin:
            return True
    return False


def _origin(text: str) -> tuple[str, str, int] | None:
    """``scheme://host[:port]`` as (scheme, host, port) with the default port filled in."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
