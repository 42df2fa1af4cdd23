"""The asyncio layer: one live conversation over a transport, an endpoint and the tools.

``Conversation`` (sans-I/O) decides; this module only carries out its actions, in order, and
feeds it what arrives: server frames, the caller's stream (``Endpoint.caller``: typed turns,
audio, turn ends, keypad digits), tool results, and lost connections. One ``asyncio.TaskGroup``
owns the receive loop, the caller pump and every tool call, so nothing outlives the call
(STYLE §1, §6). Observers (call records, metrics) see everything and steer nothing. A
retryable close (1006, 1011–1014), and a normal close (1000/1001) while the call is still live
(the service's session-length limit), reconnects with backoff and resumes (the conversation
resends the session and restores the items); a failing tool never ends the call, and the model
always gets an output. A watchdog task ticks the conversation at its ``next_deadline``
(CONTRACTS §3.4). Imports engine, transport, io and errors; never spec or YAML.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from agentrun.engine._control import SessionControl, audio_formats
from agentrun.engine._outcome import SessionResult, ToolRunner
from agentrun.engine.actions import (
    Action,
    EmitTranscript,
    EndConversation,
    PlayAudio,
    RecordMetric,
    Report,
    RunTool,
    SendEvent,
    StopPlayback,
)
from agentrun.engine.conversation import Conversation, State
from agentrun.engine.observe import (
    CallEnded,
    CallerAudioIn,
    CallInfo,
    CallObserver,
    CallStarted,
    Observation,
    Reconnected,
    ToolCallDone,
    WireFrame,
)
from agentrun.errors import AgentrunError, TransportError
from agentrun.io import (
    CallerAudio,
    CallerDtmf,
    CallerInput,
    CallerText,
    CallerTurnEnd,
    ToolCallView,
)
from agentrun.transport import Transport, WebSocketTransport, backoff

if TYPE_CHECKING:
    from agentrun.engine.setup import ConversationConfig
    from agentrun.io import Endpoint

__all__ = ["Connector", "Session", "SessionResult", "ToolRunner", "audio_formats"]

_log = logging.getLogger("agentrun.session")

Connector = Callable[[], Awaitable[Transport]]
"""Opens a new connection (called again on every reconnect)."""


class Session:
    """Run one conversation to its end.

    Most code should not build one: ``agentrun.Agent.run`` does (spec, tools, target, record).
    Build one directly to drive a ``ConversationConfig`` made in code::

        session = Session.for_url(config, url, api_key=key, endpoint=TextConsole(),
                                  tools=registry)
        result = await session.run()

    Args:
        config: what the conversation sends and how it behaves (``ConversationConfig``).
        connect: opens a connection; called again for each reconnect.
        endpoint: the caller's channel (``agentrun.io.Endpoint``).
        tools: runs function calls (``ToolRegistry``); None means every call fails politely.
        variables: passed to every tool call (``ToolContext.variables``).
        call: who is calling (labels for records and metrics; a call id is made up if empty).
        observers: watch the call (records, metrics); they never change it.
        backoff_delays: makes the reconnect delays (tests pass zeros).
        max_reconnect_attempts: attempts per outage before giving up.
        handshake_timeout: seconds a new connection may take to say ``conversation.created``
            (pings do not extend it); then it counts as failed (and is retried), so a caller is
            never left waiting on a server that accepted the socket but never answers. The
            wait for ``session.updated`` is the conversation's ``configure`` watchdog.
        clock: monotonic seconds, passed to the conversation as ``now``.
    """

    def __init__(self, config: ConversationConfig, *, connect: Connector, endpoint: Endpoint,
                 tools: ToolRunner | None = None, variables: Mapping[str, str] | None = None,
                 call: CallInfo | None = None, observers: Sequence[CallObserver] = (),
                 backoff_delays: Callable[[], Iterator[float]] = backoff,
                 max_reconnect_attempts: int = 5, handshake_timeout: float = 15.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._connect = connect
        self._endpoint = endpoint
        self._tools = tools
        self._variables = dict(variables or {})
        self._tool_state: dict[str, Any] = {}  # this call's ToolContext.state
        info = call or CallInfo()
        self._call = info if info.call_id else CallInfo(
            uuid.uuid4().hex[:12], info.agent, info.agent_file, info.channel, info.caller)
        self._observers = list(observers)
        self._backoff = backoff_delays
        self._max_attempts = max_reconnect_attempts
        self._handshake_timeout = handshake_timeout
        self._outages = 0  # consecutive connection failures without the session becoming ready
        self._normal_closes = 0  # consecutive normal closes with no response in between
        self._responses_at_close = -1
        self._handshake_deadline = 0.0  # loop time by which conversation.created must come
        self._wake_at: float | None = None  # the deadline the watchdog task sleeps until
        self._rearm = asyncio.Event()  # an earlier deadline appeared: the watchdog recomputes
        self._tool_tasks: set[asyncio.Task[None]] = set()  # owned by the task group; for cancel
        self._clock = clock
        self._conv: Conversation | None = None
        self._transport: Transport | None = None
        self._tg: asyncio.TaskGroup | None = None
        self._lock = asyncio.Lock()
        self._changed = asyncio.Event()
        self._ended = asyncio.Event()
        self._result = SessionResult(call_id=self._call.call_id)
        self._audio_bytes = 0
        self._control = SessionControl(self)
        self._channel_failures: set[str] = set()  # channel methods that raised (said once)
        # Only sending awaits; every other action is done at once (no coroutine per action:
        # each audio delta is a PlayAudio).
        self._handlers: dict[type, Callable[[Any], None]] = {
            PlayAudio: self._do_play, StopPlayback: self._do_stop,
            RunTool: self._do_run_tool, EmitTranscript: self._do_transcript,
            Report: self._do_report, RecordMetric: self._do_metric,
            EndConversation: self._do_end,
        }

    @classmethod
    def for_url(cls, config: ConversationConfig, url: str, *, api_key: str | None,
                endpoint: Endpoint, tools: ToolRunner | None = None,
                variables: Mapping[str, str] | None = None,
                connect_timeout: float = 10.0, **kwargs: Any) -> Session:
        """A session that connects with ``WebSocketTransport`` to ``url``.

        Args:
            config: the conversation config.
            url: the full realtime URL (``engine.connection_url(spec, base)``).
            api_key: sent as a Bearer token (never logged); None for an open endpoint.
            endpoint: the caller's channel.
            tools: the tool runner.
            variables: tool variables.
            connect_timeout: seconds per connection attempt.
            **kwargs: passed to :class:`Session`.

        Returns:
            The session (not yet running).
        """
        async def connect() -> Transport:
            return await WebSocketTransport.connect(url, api_key=api_key,
                                                    timeout=connect_timeout)
        return cls(config, connect=connect, endpoint=endpoint, tools=tools,
                   variables=variables, **kwargs)

    @property
    def call_id(self) -> str:
        """This call's id (given in ``call`` or made up)."""
        return self._call.call_id

    async def run(self) -> SessionResult:
        """Connect, converse until the caller hangs up or the conversation ends, then close.

        A session runs one call; a second ``run`` raises ``RuntimeError``.

        Returns:
            How the call ended (exit code, reason, metrics).

        Raises:
            ServiceError: the service refused us (bad key, quota): reconnecting cannot help.
            TransportError: the connection failed and could not be re-established.
        """
        if self._conv is not None:
            raise RuntimeError("a Session runs one call; make a new Session for the next one")
        self._conv = Conversation(self._config)
        call = self._call
        self._observe(CallStarted(call.call_id, call.agent, call.agent_file, call.channel,
                                  call.caller, self._control.input_format,
                                  self._control.output_format))
        try:
            self._transport = await self._connect_first()
            try:
                async with asyncio.TaskGroup() as tg:
                    self._tg = tg
                    receiver = tg.create_task(self._receive_loop(), name="agentrun-receive")
                    pump = tg.create_task(self._caller_pump(), name="agentrun-caller")
                    watchdog = tg.create_task(self._watchdog_loop(), name="agentrun-watchdog")
                    await self._ended.wait()
                    # the call is over: stop listening, reading and any tool still running
                    for task in (receiver, pump, watchdog, *self._tool_tasks):
                        task.cancel()
            except BaseExceptionGroup as group:
                raise _first_error(group) from None
            finally:
                self._tg = None
                await self._transport.aclose()
        except (asyncio.CancelledError, KeyboardInterrupt):
            # stopped from outside (Ctrl-C, a service shutting down): interrupted, not failed
            self._result.exit_code, self._result.reason = 130, "interrupted"
            raise
        except BaseException as exc:
            self._result.exit_code = getattr(exc, "exit_code", 1)
            self._result.reason = str(exc) or type(exc).__name__
            raise
        finally:
            self._result.audio_seconds = self._audio_bytes / max(
                1, self._config.output_bytes_per_second)
            self._observe(CallEnded(self._result))
        return self._result

    # -- connection ----------------------------------------------------------------------------

    async def _connect_first(self) -> Transport:
        try:
            transport = await self._connect()
        except TransportError as exc:
            if not exc.retryable:
                raise
            return await self._retry_connect(exc)
        self._handshake_deadline = asyncio.get_running_loop().time() + self._handshake_timeout
        return transport

    async def _retry_connect(self, failure: TransportError) -> Transport:
        delays = self._backoff()
        for attempt in range(1, self._max_attempts + 1):
            await asyncio.sleep(next(delays))
            try:
                transport = await self._connect()
            except TransportError as exc:
                if not exc.retryable:
                    raise
                failure = exc
                self._status("info", f"{exc}; retrying ({attempt}/{self._max_attempts})")
                continue
            loop = asyncio.get_running_loop()
            self._handshake_deadline = loop.time() + self._handshake_timeout
            return transport
        raise TransportError(f"{failure} (gave up after {self._max_attempts} attempts)",
                             code=failure.code) from failure

    async def _resume(self, failure: TransportError) -> None:
        """The connection dropped mid-call: say so, reconnect, let the conversation resume."""
        assert self._conv is not None and self._transport is not None
        self._outages += 1
        if not failure.retryable:  # a normal close: bounded by closes with no reply between
            created = self._conv.responses_created
            same = created == self._responses_at_close
            self._normal_closes = self._normal_closes + 1 if same else 1
            self._responses_at_close = created
        if self._outages > self._max_attempts or self._normal_closes > self._max_attempts:
            raise TransportError(f"{failure} (gave up after {self._max_attempts} attempts)",
                                 code=failure.code) from failure
        self._status("warning", f"{failure}; reconnecting")
        async with self._lock:
            await self._perform(self._conv.connection_lost(self._clock()))
        await self._transport.aclose()
        self._transport = await self._retry_connect(failure)
        self._result.reconnects += 1
        self._observe(Reconnected(self._result.reconnects))
        # the conversation says "conversation resumed" once it really is (session.updated)
        self._status("debug", "reconnected; configuring the session again")

    # -- loops ---------------------------------------------------------------------------------

    async def _receive_loop(self) -> None:
        assert self._conv is not None and self._transport is not None
        while True:
            try:
                text = await self._recv()
            except TransportError as exc:
                if not (exc.retryable or self._closed_while_live(exc)):
                    raise
                await self._resume(exc)
                continue
            if self._observers:
                self._observe(WireFrame("in", text))
            async with self._lock:
                await self._perform(self._conv.receive_message(text, self._clock()))
            if self._outages and self._conv.state in (State.IDLE, State.RESPONDING):
                self._outages = 0

    def _closed_while_live(self, failure: TransportError) -> bool:
        """A normal close (1000/1001) while the call goes on: a session-length limit, resumed
        like a dropped connection (issue 9, bug 3)."""
        assert self._conv is not None
        return failure.code in (1000, 1001) and self._conv.state is not State.CLOSED \
            and not self._ended.is_set()

    async def _recv(self) -> str:
        assert self._conv is not None and self._transport is not None
        if self._conv.state is not State.CONNECTING:
            return await self._transport.recv()
        try:  # one deadline per connection: pings must not extend it
            async with asyncio.timeout_at(self._handshake_deadline):
                return await self._transport.recv()
        except TimeoutError:
            raise TransportError(f"the service did not set up the session within "
                                 f"{self._handshake_timeout:g} s", retryable=True) from None

    async def _caller_pump(self) -> None:
        """Feed the caller's stream to the conversation; its end hangs up (after the reply)."""
        assert self._conv is not None
        try:
            async for item in self._endpoint.caller(self._control):
                await self._take(item)
        except Exception as exc:  # a channel (device, socket, file) failed: end the call politely
            _log.debug("the caller's channel failed", exc_info=exc)
            self._status("error", f"the caller's channel failed: {exc or type(exc).__name__}; "
                                  "ending the call")
        await self._until(self._ready_for_input)  # the reply, pending tool calls included
        async with self._lock:
            await self._perform(self._conv.close(self._clock()))

    async def _take(self, item: CallerInput) -> None:
        assert self._conv is not None
        conv, now = self._conv, self._clock()
        kind = type(item)
        if kind is CallerAudio:
            audio = item.audio  # type: ignore[union-attr]
            if self._observers:
                self._observe(CallerAudioIn(audio))
            actions = conv.send_user_audio(audio, now)
        elif kind is CallerText:
            actions = conv.send_user_text(item.text, now)  # type: ignore[union-attr]
        elif kind is CallerTurnEnd:
            if not conv.config.manual_turns:
                return  # server VAD ends turns by itself
            actions = conv.end_user_turn(now)
        elif kind is CallerDtmf:
            # Grok reports keypad digits only on SIP calls (§3): tell the model in words
            actions = conv.send_user_text(f"[The caller pressed {item.digit} on the keypad.]",  # type: ignore[union-attr]
                                          now)
        else:
            raise TypeError(f"not a caller input: {item!r}")
        async with self._lock:
            await self._perform(actions)

    async def _until(self, condition: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``condition()`` holds (checked whenever the conversation may have gone
        idle); False when ``timeout`` seconds pass first."""
        try:
            async with asyncio.timeout(timeout):
                while not condition():
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True

    # -- actions -------------------------------------------------------------------------------

    async def _watchdog_loop(self) -> None:
        """Tick the conversation at its ``next_deadline`` (CONTRACTS §3.4)."""
        assert self._conv is not None
        conv = self._conv
        while True:
            self._rearm.clear()
            deadline = self._wake_at = conv.next_deadline
            delay = None if deadline is None else deadline - self._clock()
            if delay is None or delay > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(delay):
                        await self._rearm.wait()
                continue
            async with self._lock:
                await self._perform(conv.tick(self._clock()))

    async def _perform(self, actions: list[Action]) -> None:
        if self._observers:
            now = self._clock()
            for action in actions:
                self._observe(action, now)
        for action in actions:
            if type(action) is SendEvent:
                await self._do_send(action)
            else:
                self._handlers[type(action)](action)
        assert self._conv is not None
        deadline = self._conv.next_deadline
        if deadline is not None and (self._wake_at is None or deadline < self._wake_at):
            self._rearm.set()  # only an earlier deadline wakes the watchdog (not every frame)
        if self._ready_for_input():
            # wake waiting channels only when they can go on: waking them on every frame (50
            # audio deltas a second) cost a task switch per frame for a check that fails
            self._changed.set()

    def _ready_for_input(self) -> bool:
        """What turn-by-turn channels wait for: no reply, no tool, nothing queued."""
        assert self._conv is not None
        return self._conv.state is State.IDLE and self._conv.idle

    async def _do_send(self, action: SendEvent) -> None:
        assert self._transport is not None
        text = action.event.model_dump_json(exclude_none=True)
        if self._observers:
            self._observe(WireFrame("out", text))
        try:
            await self._transport.send(text)
        except TransportError as exc:
            # the receive loop sees the same failure and resumes; the conversation restores
            # what the server lost, so this event is not retried here
            _log.debug("send failed (%s): %s", exc, action.event.type)

    def _do_play(self, action: PlayAudio) -> None:
        self._audio_bytes += len(action.audio)
        try:  # inline, not through _to_channel: this runs for every audio delta
            self._endpoint.play_audio(action.audio, action.item_id)
        except Exception as exc:
            self._channel_failed("play_audio", exc)

    def _do_stop(self, action: StopPlayback) -> None:
        self._to_channel(self._endpoint.stop_playback, action.reason)

    def _do_run_tool(self, action: RunTool) -> None:
        assert self._tg is not None
        self._to_channel(self._endpoint.show_tool_call,
                         ToolCallView(action.call_id, action.name, action.arguments))
        task = self._tg.create_task(self._run_tool(action), name=f"agentrun-tool-{action.call_id}")
        self._tool_tasks.add(task)
        task.add_done_callback(self._tool_tasks.discard)

    def _do_transcript(self, action: EmitTranscript) -> None:
        self._to_channel(self._endpoint.show_transcript, action.role, action.text,
                         action.final, action.item_id)

    def _do_report(self, action: Report) -> None:
        self._status(action.level, action.message)

    def _do_metric(self, action: RecordMetric) -> None:
        self._result.add_metric(action)

    def _do_end(self, action: EndConversation) -> None:
        self._result.exit_code, self._result.reason = action.exit_code, action.reason
        self._ended.set()

    async def _run_tool(self, action: RunTool) -> None:
        assert self._conv is not None
        started = time.perf_counter()
        output, ok, error, logs = await self._call_tool(action)
        self._to_channel(self._endpoint.show_tool_call,
                         ToolCallView(action.call_id, action.name, action.arguments, output, ok))
        if self._observers:
            self._observe(ToolCallDone(action.call_id, action.name, action.arguments, output,
                                       ok, error, time.perf_counter() - started, logs))
        async with self._lock:
            await self._perform(self._conv.tool_finished(action.call_id, output, self._clock()))

    async def _call_tool(self, action: RunTool
                         ) -> tuple[str, bool, str | None, tuple[str, ...]]:
        """Run the call; (output, ok, operator error with traceback, the tool's log lines)."""
        if self._tools is None:
            return (f"error: no tool named {action.name!r} is available", False,
                    "no tool runner", ())
        try:
            result = await self._tools.call(action.name, action.arguments,
                                            call_id=action.call_id, variables=self._variables,
                                            state=self._tool_state)
        except Exception as exc:
            # ToolRegistry.call never raises; if another runner does anyway, the model must
            # still get an output (a silent call is the worse bug), and the traceback is logged
            _log.exception("tool runner raised for %s", action.name)
            return (f"error: the tool {action.name} failed unexpectedly "
                    f"({type(exc).__name__})", False, repr(exc), ())
        # the operator sees everything (debug lines show with -v); the model saw a short text
        logs = tuple(getattr(result, "logs", ()) or ())
        for line in logs:
            self._status("debug", f"tool {action.name}: {line}")
        error = result.error
        trace = getattr(result, "traceback", None)
        if not result.ok:
            self._status("warning", error or f"tool {action.name} failed")
            if trace:
                self._status("debug", trace)
                error = f"{error}\n{trace}"
        return result.output, result.ok, error, logs

    # -- observers -----------------------------------------------------------------------------

    def _observe(self, what: Observation, now: float | None = None) -> None:
        if not self._observers:
            return
        now = self._clock() if now is None else now
        for observer in list(self._observers):
            try:
                observer.observe(now, what)
            except Exception as exc:  # a broken record or metric must never break the call
                self._observers.remove(observer)
                _log.debug("observer %r failed", observer, exc_info=exc)
                self._status("error", f"stopped {type(observer).__name__}: it failed with "
                                      f"{type(exc).__name__}: {exc}")

    def _status(self, level: Any, message: str) -> None:
        _log.log(logging.getLevelName(level.upper()), "%s", message)
        try:
            self._endpoint.show_status(level, message)
        except Exception as exc:  # the channel cannot even show a line: the log has it
            _log.debug("the channel failed to show a status line", exc_info=exc)

    # -- the channel's output side: it may fail, the call goes on ------------------------------

    def _to_channel(self, method: Callable[..., None], *args: Any) -> None:
        try:
            method(*args)
        except Exception as exc:
            self._channel_failed(method.__name__, exc)

    def _channel_failed(self, what: str, exc: Exception) -> None:
        """A channel method raised (a closed socket, a device gone, an unwritable terminal):
        say so once per method, keep the call going (the model and the tools go on)."""
        _log.debug("the channel's %s failed", what, exc_info=exc)
        if what in self._channel_failures:
            return
        self._channel_failures.add(what)
        self._status("error", f"the caller's channel failed ({what}: "
                              f"{exc or type(exc).__name__}); the call goes on")


def _first_error(group: BaseExceptionGroup) -> BaseException:
    """The error to report from a task group: ours first, else the first leaf."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)
        else:
            leaves.append(exc)
    return next((e for e in leaves if isinstance(e, AgentrunError)), leaves[0])
