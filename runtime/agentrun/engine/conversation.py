"""``Conversation``: the sans-I/O core of one realtime conversation (grok-realtime.md).

Server frames and local inputs go in; a ``list[Action]`` comes out (engine/actions.py). No socket,
clock, thread, asyncio or logging here: time arrives as ``now`` and log lines leave as ``Report``
actions. Server events are dispatched by a dict keyed by event class; events with nothing to do
are in :data:`IGNORED`, each with its reason. Imports only ``agentrun.protocol``,
``agentrun.errors`` and sibling engine modules.

State: CONNECTING (waiting for ``conversation.created``) -> CONFIGURING (``session.update`` sent)
-> IDLE <-> RESPONDING (a response is active, or requested and not yet created) -> CLOSED.
A lost connection goes back to CONNECTING; the next ``conversation.created`` resumes.

Layout: this module is the public surface (what the session calls, and what each call raises);
``engine/_core.py`` holds the state enum, the dispatch table and the server-event handlers; the
bookkeeping (calls, history, transcripts, held audio, reply records) lives in ``engine/_*.py``.

Decisions:
* Greeting: a ``force_message`` item (§2). The server speaks the text verbatim and creates the
  response itself, so no ``response.create`` follows; ``interruptible`` maps 1:1 to
  ``greeting_interruptible``. If the server refuses it (an ``error`` naming its event), the
  greeting falls back to ``response.create`` with instructions to say the text.
* ``response.create`` is never sent while a response is active or a tool runs: it is queued and
  sent once after ``response.done`` / the last tool output (the "already active" race, §7.2).
  If the server still answers "already active" (it had started a response we had not heard of),
  a create for a user turn or a resume is sent again after that response; a create after tool
  outputs is not, because the server answers tool outputs by itself (PR #3960).
* Calls of a cancelled response are still answered, outputs then one ``response.create``: the
  model must always get an output, and silence is the worse failure.
* A ``…arguments.done`` whose ``call_id`` was never seen as a ``function_call`` item is run when
  its name is a declared function tool (silence is the worse failure) and ignored otherwise: it is
  a server-side built-in call, which must never be answered (§7.9). A ``function_call`` item
  naming an undeclared, non-built-in tool gets an error output at once, so the model never waits.
* Caller audio before ``session.updated`` is held, at most ``hold_seconds`` (10 s) of it; older
  audio is dropped with one warning per connection (engine/_media.py).
* Errors are classified by the dialect: benign races -> debug, auth/quota -> ``EndConversation``
  with exit code 3, a refused ``session.update`` -> ``EndConversation`` (exit 1; audio at an
  unconfigured rate is §7.1), the session-length limit -> an info line (the session resumes),
  anything else -> an error ``Report``; reception always goes on (engine/_core_recovery.py).
* Time: ``tick(now)`` runs the watchdogs and ``next_deadline`` says when to call it next
  (CONTRACTS §3.4): a configuration never confirmed ends the call; a create never answered, a
  stalled or failed response are retried once, then the caller hears ``config.apology``.
* Barge-in follows ``config.interruptions`` (engine/_core_turns.py); tool calls follow the
  rules in engine/_core_calls.py (final arguments, exactly once, only while expected).

Known limits, not fixable on the client: with server VAD, speaker-to-microphone echo can cancel
the agent mid-sentence (§7.13; use a headset or manual turns). The server may ignore non-24 kHz
output rates (§7.14); a differing rate echoed in ``session.updated`` is reported as a warning.
Grok cannot truncate (§7.11), so the model's context may hold words the caller never heard;
``replies`` records how much of each reply was played.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentrun import protocol as wire
from agentrun.engine._core import IGNORED, READY_STATES, ConversationCore, State
from agentrun.engine.actions import (
    Action,
    EndConversation,
    RecordMetric,
    Report,
    SendEvent,
    StopPlayback,
)
from agentrun.errors import LocalProtocolError, RemoteProtocolError

__all__ = ["IGNORED", "Conversation", "State"]


class Conversation(ConversationCore):
    """One conversation with a realtime server, without I/O.

    Every public method returns the actions to perform, in order. Methods that receive server
    input never raise; methods called by the session raise ``LocalProtocolError`` for a call that
    makes no sense in the current state, and then leave the state unchanged.

    Args:
        config: what to send and how to behave (``ConversationConfig.from_spec``).

    Attributes:
        replies: per assistant item (the last 16), how much audio was generated and played
            (``ReplyRecord``).
    """

    # ---- properties ----------------------------------------------------------------------

    @property
    def state(self) -> State:
        """The current :class:`State`."""
        return self._state

    @property
    def idle(self) -> bool:
        """True when nothing is in flight: no response, no tool, no queued request.

        The session may end the call (e.g. on end of input) only when this is True.
        """
        if self._state is State.CLOSED:
            return True
        return (self._state is State.IDLE and not self._calls.pending
                and self._queued is None and not self._deferred)

    @property
    def next_deadline(self) -> float | None:
        """When :meth:`tick` must run next (monotonic seconds), or None when no watchdog is
        armed. The session sleeps until then unless an event arrives first."""
        if self._state is State.CLOSED:
            return None
        return self._timers.next

    def agent_speaking(self, now: float) -> bool:
        """True while the agent's reply is arriving or still playing for the caller.

        Args:
            now: monotonic time in seconds.
        """
        return self._agent_speaking(now)

    @property
    def handled_events(self) -> frozenset[type]:
        """Server event classes with a handler (for the handled-or-ignored check)."""
        return frozenset(self._handlers)

    # ---- server input --------------------------------------------------------------------

    def receive_message(self, text: str | bytes, now: float) -> list[Action]:
        """Take one raw server frame.

        Args:
            text: the frame as received.
            now: monotonic time in seconds.

        Returns:
            The actions it causes. Never raises: a malformed frame becomes a warning ``Report``
            and the state is unchanged; an unknown event type is reported once (debug).
        """
        try:
            event = wire.parse_server_event(text)
        except RemoteProtocolError as exc:
            return [Report("warning", f"skipped a server frame: {exc}")]
        if isinstance(event, wire.UnknownServerEvent):
            if event.type in self._unknown_types:
                return []
            self._unknown_types.add(event.type)
            return [Report("debug", f"ignoring unknown server event type {event.type!r}")]
        return self.receive_event(event, now)

    def receive_event(self, event: wire.ServerEvent, now: float) -> list[Action]:
        """Take one parsed server event (what :meth:`receive_message` does after parsing).

        Args:
            event: a member of ``protocol.ServerEvent``.
            now: monotonic time in seconds.

        Returns:
            The actions it causes; nothing once CLOSED. Never raises.
        """
        if self._state is State.CLOSED:
            return []
        self._now = now
        kind = type(event)
        if self._response_id is not None and kind is not wire.Ping:
            self._timers.set("stall", now + self.config.watchdogs.stall)  # it is not stalled
        handler = self._dispatch.get(kind)
        if handler is None:
            handler = self._dispatch[kind] = self._resolve(kind)
        return handler(event, now)

    def _resolve(self, kind: type) -> Callable[[Any, float], list[Action]]:
        """The handler for an event class, found once per class (then :meth:`receive_event`
        reads it from a dict: 50 audio deltas a second skip this walk)."""
        if kind in self._dialect.ignored_events:
            return _nothing
        # Walk the MRO so a dialect's own event class (e.g. OpenAI beta's response.audio.delta
        # as a subclass of ResponseOutputAudioDelta) reaches the same handler, engine unchanged.
        for klass in kind.__mro__:
            if klass in IGNORED:
                return _nothing
            handler = self._handlers.get(klass)
            if handler is not None:
                return handler
        message = f"no handler for server event {kind.__name__}"
        return lambda event, now: [Report("debug", message)]

    # ---- local input ---------------------------------------------------------------------

    def send_user_audio(self, pcm: bytes, now: float) -> list[Action]:
        """Send caller audio, or hold it until the session is configured (§7.1).

        Args:
            pcm: raw audio in the configured input format.
            now: monotonic time in seconds.

        Returns:
            An ``input_audio_buffer.append`` (of silence of the same length while the agent
            speaks and ``config.interruptions`` mutes the microphone); nothing while held (a
            single warning the first time held audio overflows ``hold_seconds``); nothing once
            CLOSED. Never raises.
        """
        if not pcm or self._state is State.CLOSED:
            return []
        self._now = now
        if self._state in READY_STATES:
            return [self._append(self._microphone(pcm, now))]
        if self._hold.add(pcm):
            return [Report("warning", f"the session is not configured yet: holding only the "
                                      f"last {self.config.hold_seconds:g} s of caller audio, "
                                      "older audio is dropped")]
        return []

    def send_user_text(self, text: str, now: float) -> list[Action]:
        """Add a user text turn and ask for a response.

        Args:
            text: what the user typed; blank text is ignored.
            now: monotonic time in seconds (starts the turn's latency clock).

        Returns:
            ``conversation.item.create`` (``input_text``) then ``response.create`` (queued while a
            response is active or a tool runs; held until the session is configured). The state
            becomes RESPONDING when the create is sent.

        Raises:
            LocalProtocolError: the conversation is closed (state unchanged).
        """
        self._require_open("send_user_text")
        if not text.strip():
            return []
        self._now = now
        item = wire.MessageItem(role="user", content=[wire.InputTextPart(text=text)])
        self._start_turn(now)
        event = wire.ConversationItemCreate(item=item)
        return self._send_or_defer(event) + self._request_response("user")

    def end_user_turn(self, now: float) -> list[Action]:
        """Manual turns: the caller finished speaking.

        Args:
            now: monotonic time in seconds (starts the turn's latency clock).

        Returns:
            ``input_audio_buffer.commit`` then ``response.create`` (queued or held as in
            :meth:`send_user_text`).

        Raises:
            LocalProtocolError: the session uses server VAD (the server ends turns itself), or
                the conversation is closed. The state is unchanged.
        """
        self._require_open("end_user_turn")
        if not self.config.manual_turns:
            raise LocalProtocolError("end_user_turn is for manual turns; with server_vad the "
                                     "server detects the end of a turn itself")
        self._now = now
        self._start_turn(now)
        return self._send_or_defer(wire.InputAudioBufferCommit()) + self._request_response("user")

    def interrupt(self, now: float) -> list[Action]:
        """Local barge-in (push-to-talk): stop playback and cancel the active response.

        Args:
            now: monotonic time in seconds.

        Returns:
            ``StopPlayback``, ``response.cancel`` only while a response is active, and in manual
            mode ``input_audio_buffer.clear``. Nothing before the session is ready, once CLOSED,
            during a non-interruptible greeting, or with interruptions off. Never raises.
        """
        if self._state not in READY_STATES:
            return []
        self._now = now
        if not self.config.interruptions.enabled:
            return [Report("debug", "interruptions are off; not interrupting")]
        if self._uninterruptible():
            return [Report("debug", "the greeting is not interruptible; not interrupting")]
        actions = self._barge_in("interrupted by the user")
        if self.config.manual_turns:
            actions.append(SendEvent(wire.InputAudioBufferClear()))
        return actions

    def playback_progress(self, item_id: str, played_ms: int) -> list[Action]:
        """The session played ``played_ms`` of an agent item's audio so far.

        Args:
            item_id: the assistant item (``PlayAudio.item_id``).
            played_ms: milliseconds played since the item's first audio.

        Returns:
            No actions; the number is kept in ``replies``. Unknown items are ignored. Never
            raises; the state is unchanged.
        """
        record = self.replies.get(item_id)
        if record is not None:
            record.played_ms = max(record.played_ms or 0, played_ms)
        return []

    def tool_finished(self, call_id: str, output: str, now: float) -> list[Action]:
        """A tool call finished; ``output`` goes to the model as is (encoded once, §7.7).

        Args:
            call_id: ``RunTool.call_id``.
            output: the text for ``function_call_output`` (an error text when the tool failed).
            now: monotonic time in seconds (tool latency).

        Returns:
            A ``tool_latency`` metric; once every call of that response has an output: all
            ``function_call_output`` items, then exactly one ``response.create``.

        Raises:
            LocalProtocolError: ``call_id`` was never run or already has an output (state
                unchanged).
        """
        call = self._calls.get(call_id)
        if call is None or call.output is not None or call.started is None:
            raise LocalProtocolError(f"tool_finished for call {call_id!r}, which is not running")
        self._now = now
        call.output = output
        actions: list[Action] = [RecordMetric("tool_latency", now - call.started, "s", self._turn)]
        return actions + self._flush_calls() + self._send_queued()

    def connection_lost(self, now: float) -> list[Action]:
        """The transport dropped; the next ``conversation.created`` resumes the conversation.

        Args:
            now: monotonic time in seconds.

        Returns:
            ``StopPlayback`` when a reply was in progress (it will be answered again), and a
            debug ``Report`` per call dropped unfinished. Never raises; no-op once CLOSED.
        """
        if self._state is State.CLOSED:
            return []
        was_responding = self._state is State.RESPONDING
        self._now = now
        self._state = State.CONNECTING
        self._response_id = self._request_id = self._force_id = self._protected = None
        self._cancel_on_create = self._speech_at = None
        self._muted.clear()
        self._unechoed.clear()
        self._blind.clear()
        self._timers.clear_all()
        self._transcripts.drop_unfinished()
        actions: list[Action] = [
            Report("debug", f"dropped call {c.call_id} ({c.name}): the connection ended before "
                            "it could run")
            for c in self._calls.connection_lost()
        ]
        if was_responding:
            # The reply died with the connection: ask again once the conversation is restored.
            self._queued = "resume"
            actions.insert(0, StopPlayback("connection lost"))
        return actions

    def close(self, now: float) -> list[Action]:
        """End the conversation.

        Args:
            now: monotonic time in seconds.

        Returns:
            ``EndConversation`` (exit code 0); nothing when already CLOSED. Never raises.
        """
        if self._state is State.CLOSED:
            return []
        self._state = State.CLOSED
        self._timers.clear_all()
        return [EndConversation("conversation closed")]

    def tick(self, now: float) -> list[Action]:
        """Run the watchdogs due at ``now`` (CONTRACTS §3.4).

        Args:
            now: monotonic time in seconds; the session calls this at :attr:`next_deadline`.

        Returns:
            The recovery actions of every expired watchdog (see engine/_core_recovery.py):
            ``EndConversation`` for a configuration never confirmed; a report line plus a
            retried ``response.create``, or the spoken apology, for an unanswered create or a
            stalled response; a ``response.create`` for a caller turn never answered; the
            delayed barge-in of ``interruptions.min_speech_ms``. Nothing once CLOSED. Never
            raises.
        """
        if self._state is State.CLOSED:
            return []
        self._now = now
        actions: list[Action] = []
        for name in self._timers.pop_expired(now):
            actions += self._expired[name](now)
            if self._state is State.CLOSED:
                break
        return actions


def _nothing(event: Any, now: float) -> list[Action]:
    """The handler of an ignored event."""
    return []
