"""The ASGI application: operator routes, plus one small module per channel plugged in.

``create_app(options)`` returns a Starlette app: ``GET /healthz`` (liveness), ``GET /readyz``
(503 while starting or draining), ``GET /metrics`` (Prometheus text), ``GET /`` (the served
agents and their URLs, unless a channel serves ``/``), and every route of every channel. A
channel is any object with a ``name`` and ``routes(service)``; it speaks its medium and hands
calls to :class:`~agentrun.serve._service.Service` (see ``_twilio`` for the pattern). The app
can be mounted inside another Starlette or FastAPI app; its lifespan must then run (Starlette
runs a mounted app's lifespan only through the parent's, see :func:`create_app`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from agentrun.serve._metrics import CONTENT_TYPE
from agentrun.serve._service import ServeOptions, Service

__all__ = ["Channel", "agent_index", "create_app", "default_channels", "startup_lines"]

_log = logging.getLogger("agentrun.serve")


class Channel(Protocol):
    """One way callers reach agents (a phone provider, a browser page).

    Attributes:
        name: the channel's name in metrics, records and logs (``twilio``, ``browser``).
    """

    name: str

    def routes(self, service: Service) -> Sequence[BaseRoute]:
        """The channel's routes; ``{agent}`` path parameters are file stems."""
        ...

    def describe(self, stem: str, base_url: str) -> list[str]:
        """One line per URL an operator wires up for agent ``stem`` (start-up lines, ``/``)."""
        ...


def default_channels() -> list[Channel]:
    """The channels ``agentrun serve`` plugs in: Twilio phone calls and the browser page."""
    from agentrun.serve._browser import BrowserChannel
    from agentrun.serve._twilio import TwilioChannel

    return [TwilioChannel(), BrowserChannel()]


def create_app(options: ServeOptions | str, *, channels: Sequence[Channel] | None = None,
               service: Service | None = None) -> Starlette:
    """Build the service as an ASGI app (the app factory).

    Run it with uvicorn (``agentrun serve`` does, with drain on SIGTERM and several workers),
    or mount it in your own app::

        voice = create_app(ServeOptions("agents/"))
        app = FastAPI(lifespan=lambda app: voice.router.lifespan_context(voice))
        app.mount("/voice", voice)

    Args:
        options: how to serve, or just the agent file/folder path.
        channels: the channels (default: :func:`default_channels`).
        service: an existing service (tests); default: one built from ``options``.

    Returns:
        The app; ``app.state.service`` is the :class:`Service`.

    Raises:
        SpecError: the agent path does not exist.
    """
    if isinstance(options, str):
        options = ServeOptions(options)
    service = service or Service(options)
    plugged = list(default_channels() if channels is None else channels)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events = await service.start()
        if options.announce:
            for line in startup_lines(options, events, plugged):
                _log.info("%s", line)
        try:
            yield
        finally:
            await service.stop()

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        if service.draining:
            return PlainTextResponse("draining\n", status_code=503)
        if not service.ready:
            return PlainTextResponse("starting\n", status_code=503)
        return PlainTextResponse("ready\n")

    async def metrics(request: Request) -> Response:
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)

    async def index(request: Request) -> Response:
        return JSONResponse(agent_index(service, plugged, str(request.base_url).rstrip("/")))

    routes: list[BaseRoute] = []
    for channel in plugged:
        routes.extend(channel.routes(service))
    routes += [Route("/healthz", healthz), Route("/readyz", readyz),
               Route("/metrics", metrics), Route("/", index)]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.service = service
    app.state.channels = plugged
    return app


def agent_index(service: Service, channels: Sequence[Channel], base_url: str) -> dict[str, Any]:
    """``GET /`` as JSON: ``{"agents": {stem: {"name": ..., "urls": [line, ...]}}}``.

    Args:
        service: the service (its served agents).
        channels: the plugged channels (each describes its URLs).
        base_url: the service's base URL as the client reached it.
    """
    return {"agents": {
        stem: {"name": agent.name,
               "urls": [line for ch in channels for line in ch.describe(stem, base_url)]}
        for stem, agent in service.registry.agents.items()}}


def startup_lines(options: ServeOptions, events: Sequence[Any], channels: Sequence[Channel],
                  listen_url: str | None = None) -> list[str]:
    """What an operator reads first: backend, served agents with URLs, refused files, warnings.

    Args:
        options: how the service runs (backend from ``url`` and the environment).
        events: the load outcome of every file (``ReloadEvent``).
        channels: the plugged channels.
        listen_url: where the process listens (``http://127.0.0.1:8080``), if known.

    Returns:
        Lines, without a prefix; the first says which realtime server answers calls.
    """
    import os

    from agentrun.agent import OFFLINE_NOTICE
    from agentrun.serve._service import TWILIO_TOKEN_ENV

    lines: list[str] = []
    if options.url:
        lines.append(f"realtime server: {options.url.split('?')[0]} (--url)")
    elif os.environ.get(options.api_key_env):
        lines.append(f"realtime server: Grok (key from ${options.api_key_env})")
    else:
        lines.append(OFFLINE_NOTICE.format(env=options.api_key_env)
                     + "; one simulator per worker process")
    base = (options.public_url or listen_url or "http://HOST").rstrip("/")
    served = [e for e in events if e.outcome in ("added", "updated")]
    for event in served:
        lines.append(f"serving {event.stem} from {event.path}")
        for channel in channels:
            lines.extend("  " + line for line in channel.describe(event.stem, base))
    for event in events:
        if event.outcome == "refused":
            lines.append(f"not serving {event.path}: it fails its check:")
            lines.extend("  " + line for line in event.lines)
    if not served:
        lines.append("no agent passes its check: calls are refused until one does "
                     "(files are watched)" if options.reload else
                     "no agent passes its check: every call will be refused")
    if not os.environ.get(TWILIO_TOKEN_ENV):
        lines.append(f"WARNING: {TWILIO_TOKEN_ENV} is not set: Twilio webhook signatures are "
                     "NOT checked, so ANYONE who can reach this service can place calls (and "
                     f"spend your realtime minutes). Set {TWILIO_TOKEN_ENV} before exposing it.")
    for channel in channels:  # a channel's own warnings (e.g. the browser's security options)
        warnings = getattr(channel, "warnings", None)
        if warnings is not None:
            lines.extend(warnings(options))
    return lines
