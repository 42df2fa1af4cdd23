"""The service behind every channel: served agents, the realtime backend, admission, drain.

A channel module (Twilio, browser) only speaks its medium: it asks :meth:`Service.admit` for a
slot, builds an ``io.Endpoint`` and hands both to :meth:`Service.run_call`, which runs
``Agent.run`` with the service's backend (``--url``, Grok with ``XAI_API_KEY``, else the one
embedded simulator of this process), metrics, records and the call's facts. The service keeps
no state between calls, so any number of processes and replicas can serve the same agents.

Admission is synchronous (no await between the check and the reservation), so concurrent
calls can never overshoot ``max_calls``. :meth:`Service.drain` refuses new calls, lets running
ones finish for ``drain_timeout`` seconds, then hangs them up cleanly (records are written by
the session's ``CallEnded``) and, as a last resort, cancels them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agentrun.agent import DEFAULT_API_KEY_ENV, Agent
from agentrun.serve._metrics import ServiceMetrics
from agentrun.serve._registry import AgentRegistry, ReloadEvent
from agentrun.serve._token import StreamTokens

if TYPE_CHECKING:
    from agentrun.engine.session import SessionResult
    from agentrun.io import Endpoint

__all__ = ["CallSlot", "ServeOptions", "Service"]

_log = logging.getLogger("agentrun.serve")

STREAM_SECRET_ENV = "AGENTRUN_STREAM_SECRET"
TWILIO_TOKEN_ENV = "TWILIO_AUTH_TOKEN"
_HANGUP_GRACE = 5.0  # seconds a hung-up call may take to finish its reply before it is cut


@dataclass
class ServeOptions:
    """How a service runs (the ``agentrun serve`` options, for embedders too).

    Attributes:
        path: one agent file or a folder of them.
        url: a realtime endpoint to use for every call (``--url``); default: Grok when the API
            key is set, else one embedded simulator per process.
        api_key_env: where the API key comes from (never printed).
        public_url: the service's public base URL (``https://voice.example.com``), used in
            TwiML and for Twilio signatures; default: the request's proxy headers or Host.
        record: a folder to record every call in (``Agent.run(record=...)``).
        max_calls: simultaneous calls this process accepts; more are refused cleanly.
        drain_timeout: seconds running calls may go on after a drain starts (SIGTERM).
        reload: watch the agent files and serve changed versions to new calls.
        variables: ``--var`` values for every agent.
        stream_token_ttl: seconds a Twilio stream token stays valid after the webhook.
        announce: log the start-up lines (served agents, refused files, warnings).
        allowed_origins: web origins (``https://app.example.com``) whose pages may open talk
            sockets besides the service's own; ``*`` allows any (``--allow-origin``).
        allow_insecure_http: serve the talk page and socket over plain HTTP to any client,
            not only to loopback ones (``--allow-insecure-http``; a trusted network only).
    """

    path: str | Path
    url: str | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    public_url: str | None = None
    record: str | Path | None = None
    max_calls: int = 100
    drain_timeout: float = 30.0
    reload: bool = True
    variables: Mapping[str, str] = field(default_factory=dict)
    stream_token_ttl: float = 60.0
    announce: bool = True
    allowed_origins: Sequence[str] = ()
    allow_insecure_http: bool = False


@dataclass(eq=False)  # slots are kept in a set by identity
class CallSlot:
    """One admitted call: its place in the active set until :meth:`Service.run_call` ends."""

    channel: str
    started: float = field(default_factory=time.monotonic)
    hang_up: Callable[[], None] | None = None
    task: asyncio.Task[Any] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Service:
    """Shared by every channel of one app (one per process).

    Args:
        options: how to serve.
        metrics: the metric families (default: a fresh set).
    """

    def __init__(self, options: ServeOptions, metrics: ServiceMetrics | None = None) -> None:
        self.options = options
        self.registry = AgentRegistry(options.path, variables=options.variables)
        self.metrics = metrics or ServiceMetrics()
        self.api_key = os.environ.get(options.api_key_env) or None
        self.url = options.url
        self.backend = ("url" if options.url else "grok" if self.api_key else "simulator")
        self.twilio_auth_token = os.environ.get(TWILIO_TOKEN_ENV) or None
        self.tokens = StreamTokens(_stream_secret(self.twilio_auth_token),
                                   ttl=options.stream_token_ttl)
        self.ready = False
        self.draining = False
        self._slots: set[CallSlot] = set()
        self._simulator: Any = None
        self._stop_watch = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._drained: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> list[ReloadEvent]:
        """Load the agents, start the simulator when it is the backend, start watching.

        Returns:
            The load outcome of every agent file (``added`` or ``refused``).
        """
        self.loop = asyncio.get_running_loop()
        events = await asyncio.to_thread(self.registry.load_all)
        if self.backend == "simulator":
            from agentrun.sim import Simulator

            self._simulator = Simulator(record=False)
            await self._simulator.start()
            self.url = self._simulator.url
        if self.options.reload:
            self._stop_watch.clear()
            self._watch_task = asyncio.create_task(self._watch(), name="agentrun-watch")
        self.ready = True
        return events

    async def stop(self) -> None:
        """Drain (if not done yet), stop watching and stop the simulator."""
        await self.drain()
        self._stop_watch.set()
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch_task
            self._watch_task = None
        if self._simulator is not None:
            await self._simulator.aclose()
            self._simulator = None
        self.ready = False

    async def _watch(self) -> None:
        try:
            await self.registry.watch(_log_reload, self._stop_watch)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # no watcher (e.g. inotify limits): serve on, say so
            _log.warning("agent files are no longer watched: %s", exc)

    # -- admission -----------------------------------------------------------------------------

    @property
    def active_calls(self) -> int:
        """Calls admitted and not yet over, in this process."""
        return len(self._slots)

    def refusal(self) -> str | None:
        """Why a new call would be refused now (``draining``, ``capacity``), or None."""
        if self.draining or not self.ready:
            return "draining"
        if len(self._slots) >= self.options.max_calls:
            return "capacity"
        return None

    def admit(self, channel: str) -> CallSlot | str:
        """Reserve a slot for a new call, or say why not (counted as refused).

        Args:
            channel: the channel name (metrics label).

        Returns:
            The slot (pass it to :meth:`run_call`), or the refusal reason.
        """
        reason = self.refusal()
        if reason is not None:
            self.metrics.refused(channel, reason)
            return reason
        slot = CallSlot(channel)
        self._slots.add(slot)
        return slot

    def release(self, slot: CallSlot) -> None:
        """Give back a slot whose call never ran (the channel gave up before it started)."""
        self._slots.discard(slot)
        slot.done.set()

    # -- calls ---------------------------------------------------------------------------------

    async def run_call(self, slot: CallSlot, stem: str, agent: Agent, endpoint: Endpoint, *,
                       call: Mapping[str, str] | None = None,
                       hang_up: Callable[[], None] | None = None,
                       **options: Any) -> SessionResult | None:
        """Run one admitted call to its end; never raises for a failed call.

        Args:
            slot: from :meth:`admit`; released when the call ends.
            stem: the agent's file stem (metrics label).
            agent: the agent version the call keeps, even if its file changes meanwhile.
            endpoint: the caller's channel.
            call: ``caller`` and ``id`` (for ``call.*`` in templates, tools, records).
            hang_up: ends the caller's side cleanly (drain uses it; the reply in progress and
                pending tools finish, then the session closes).
            **options: passed to ``Agent.run`` (e.g. ``phone=True``).

        Returns:
            How the call ended, or None when it failed before or outside the session (logged).
        """
        slot.hang_up = hang_up
        slot.task = asyncio.current_task()
        observer = self.metrics.call(stem, slot.channel, agent.tools.function_names)
        facts = dict(call or {})
        label = facts.get("id") or "-"
        if self.options.record is not None:
            options["record"] = self.options.record
        try:
            result = await agent.run(endpoint, url=self.url, api_key=self.api_key,
                                     api_key_env=self.options.api_key_env, call=facts,
                                     channel=slot.channel, observers=[observer], **options)
        except asyncio.CancelledError:
            observer.close(failed=True)
            _log.info("call %s (%s) cut at shutdown", label, stem)
            raise
        except Exception as exc:
            observer.close(failed=True)
            _log.warning("call %s (%s) failed: %s", label, stem, exc)
            _log.debug("call %s failed", label, exc_info=exc)
            return None
        finally:
            self._slots.discard(slot)
            slot.done.set()
        observer.close()
        if result.exit_code:
            _log.warning("call %s (%s) ended: %s", label, stem, result.reason)
        return result

    # -- drain ---------------------------------------------------------------------------------

    def begin_drain(self) -> asyncio.Task[None]:
        """Start draining (idempotent); the task ends when no call is left."""
        if self._drained is None:
            self._drained = asyncio.get_running_loop().create_task(self._drain(),
                                                                   name="agentrun-drain")
        return self._drained

    async def drain(self) -> None:
        """Refuse new calls, let running ones finish up to ``drain_timeout``, then end them."""
        await asyncio.shield(self.begin_drain())

    async def _drain(self) -> None:
        self.draining = True
        self.metrics.draining.set(1)
        _log.info("draining: new calls are refused; %d call(s) in progress may go on for up "
                  "to %g s", len(self._slots), self.options.drain_timeout)
        if await self._wait_calls(self.options.drain_timeout):
            _log.info("drained: no call in progress")
            return
        _log.info("drain timeout: hanging up %d call(s)", len(self._slots))
        for slot in list(self._slots):
            if slot.hang_up is not None:
                with contextlib.suppress(Exception):
                    slot.hang_up()
        if await self._wait_calls(_HANGUP_GRACE):
            return
        for slot in list(self._slots):
            if slot.task is not None:
                slot.task.cancel()
        await self._wait_calls(_HANGUP_GRACE)

    async def _wait_calls(self, timeout: float) -> bool:
        waiting = [slot.done.wait() for slot in list(self._slots)]
        if not waiting:
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await asyncio.gather(*waiting)
        return not self._slots

    # -- facts for channels ----------------------------------------------------------------------

    def agent(self, stem: str) -> Agent | None:
        """The current version of a served agent, or None."""
        return self.registry.get(stem)

    @property
    def stems(self) -> Sequence[str]:
        """Served agents' names, sorted."""
        return list(self.registry.agents)


def _stream_secret(auth_token: str | None) -> bytes:
    """The key stream tokens are signed with: shared by every worker and replica.

    Derived from ``TWILIO_AUTH_TOKEN`` when set (every replica has it anyway), else
    ``AGENTRUN_STREAM_SECRET``; else a random key for this process tree (``agentrun serve``
    puts it in the environment before starting workers).
    """
    import hashlib

    if auth_token:
        return hashlib.sha256(b"agentrun stream token v1\0" + auth_token.encode()).digest()
    given = os.environ.get(STREAM_SECRET_ENV)
    if not given:
        given = secrets.token_hex(32)
        os.environ[STREAM_SECRET_ENV] = given
    return hashlib.sha256(b"agentrun stream token v1\0" + given.encode()).digest()


def _log_reload(event: ReloadEvent) -> None:
    if event.outcome == "added":
        _log.info("now serving %s (%s)", event.stem, event.path)
    elif event.outcome == "updated":
        _log.info("reloaded %s (%s): new calls use the new version", event.stem, event.path)
    elif event.outcome == "removed":
        _log.info("%s was removed: no longer served (calls in progress go on)", event.path)
    else:
        what = ("keeping the last good version" if event.outcome == "kept"
                else "not served")
        _log.error("%s failed its check; %s:\n  %s", event.path, what, "\n  ".join(event.lines))
