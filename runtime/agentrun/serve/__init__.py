"""``agentrun serve``: agents on phone numbers and web pages, many calls at once.

An ASGI app (Starlette) built by :func:`create_app`, run by :func:`run` on uvicorn with a drain
on SIGTERM and several worker processes, or mounted in your own Starlette/FastAPI app. Each
channel (Twilio; the browser page) is one small module plugged into the app; the
:class:`Service` behind them serves the agent files that pass their check, picks the realtime
backend, admits calls up to a limit, counts them in Prometheus metrics and drains. Needs the
``serve`` extra (``pip install 'agentrun-voice[serve]'``).
"""

from agentrun.serve._app import Channel, create_app, default_channels
from agentrun.serve._browser import BrowserCall, BrowserChannel
from agentrun.serve._registry import AgentRegistry
from agentrun.serve._server import run
from agentrun.serve._service import CallSlot, ServeOptions, Service
from agentrun.serve._twilio import TwilioCall, TwilioChannel

__all__ = [
    "AgentRegistry",
    "BrowserCall",
    "BrowserChannel",
    "CallSlot",
    "Channel",
    "ServeOptions",
    "Service",
    "TwilioCall",
    "TwilioChannel",
    "create_app",
    "default_channels",
    "run",
]
