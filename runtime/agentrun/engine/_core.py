"""The reactions of ``Conversation`` to server events: its state, dispatch table and handlers.

``engine.conversation`` holds the public surface (what the session calls, with what it raises);
this module holds what happens when the server speaks: the :class:`State` enum, the dispatch
dict keyed by event class, the :data:`IGNORED` table with a reason per event, the handshake,
responses and agent output. Caller speech and barge-in live in ``_core_turns``, tool calls in
``_core_calls``, errors and watchdog recoveries in ``_core_recovery`` (mixins of one core).
Same rules: no socket, clock, thread, asyncio or logging. Imports only ``agentrun.protocol``,
``agentrun.errors`` and sibling engine modules.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Callable
from typing import Any

from agentrun import protocol as wire
from agentrun.engine._calls import CallBook
from agentrun.engine._core_calls import CallHandling
from agentrun.engine._core_recovery import Recovery
from agentrun.engine._core_turns import Turns
from agentrun.engine._history import History
from agentrun.engine._media import AudioHold, ReplyRecord
from agentrun.engine._state import READY_STATES, Reason, State
from agentrun.engine._timers import Timers
from agentrun.engine._transcripts import Transcripts
from agentrun.engine.actions import (
    Action,
    PlayAudio,
    RecordMetric,
    Report,
    SendEvent,
)
from agentrun.engine.setup import ConversationConfig
from agentrun.errors import LocalProtocolError

__all__ = ["IGNORED", "READY_STATES", "ConversationCore", "Reason", "State"]


IGNORED: dict[type, str] = {
    wire.Ping: "server keep-alive; there is no client pong (§1)",
    wire.InputAudioBufferCommitted: "the user item arrives as conversation.item.added",
    wire.InputAudioBufferCleared: "acknowledges our clear; nothing follows from it",
    wire.InputAudioBufferTimeoutTriggered: "the server re-engages a silent caller by itself",
    wire.InputAudioBufferDtmfEventReceived: "SIP only; agentrun has no SIP endpoint",
    wire.ConversationItemDeleted: "agentrun never deletes items",
    wire.ConversationItemTruncated: "agentrun never truncates (unsupported on Grok, §7.11)",
    wire.ResponseOutputItemDone: "item content arrives through the delta and done events",
    wire.ResponseContentPartAdded: "content arrives through the delta events",
    wire.ResponseContentPartDone: "content arrives through the done events",
    wire.ResponseOutputAudioDone: "response.done ends the response; the session tracks playback",
    wire.ResponseFunctionCallArgumentsDelta: "calls run on …arguments.done, with all arguments",
    wire.McpEvent: "MCP tools run on the xAI side; the client only watches",
}
"""Server events that need no action, each with the reason."""

_MAX_DETAIL_CHARS = 300
_MAX_REPLIES = 16  # ReplyRecords kept in a long call (barge-in needs only the last)


class ConversationCore(Turns, CallHandling, Recovery):
    """State and server-event handling shared by :class:`~agentrun.engine.Conversation`.

    Not used on its own: ``Conversation`` adds the public methods.
    """

    def __init__(self, config: ConversationConfig) -> None:
        self.config = config
        self._dialect = config.dialect
        self._state = State.CONNECTING
        self._now = 0.0  # the latest ``now`` the session passed in (the engine reads no clock)
        self._configured = 0  # session.updated answers seen: 1 = first session, >1 = resumed
        self._hold = AudioHold(int(config.hold_seconds * config.input_bytes_per_second))
        self._deferred: list[wire.ClientEvent] = []  # user input made before the session was ready
        self._queued: Reason | None = None  # why a response.create waits to be sent
        self._last_reason: Reason | None = None  # why the last response.create was sent
        self._response_id: str | None = None
        self._update_id: str | None = None  # event_id of the last session.update
        self._request_id: str | None = None  # event_id of our create awaiting response.created
        self._force_id: str | None = None  # event_id of a force_message, until created
        self._force_kind: str | None = None  # "greeting" or "apology", while one is under way
        self._protected: str | None = None  # the non-interruptible greeting's response id
        self._cancel_on_create: str | None = None  # request barged into before it was created
        self._muted: set[str] = set()  # responses cancelled by barge-in: drop their output
        self._calls = CallBook()
        self._history = History()
        self._unknown_types: set[str] = set()
        self._timers = Timers()
        self._attempts = 0  # recoveries since the last completed response (retry, apology)
        self._unechoed: set[str] = set()  # our function_call_output items not yet echoed
        self._blind: set[str] = set()  # responses created before those outputs were added
        self._speech_at: float | None = None  # caller speech not yet long enough to barge in
        self._turn = 0
        self._turn_started: float | None = None
        self.responses_created = 0  # every response.created seen (a mark for waiting channels)
        self.replies: dict[str, ReplyRecord] = {}
        self._transcripts = Transcripts(self._history, self.replies)
        self._dispatch: dict[type, Callable[[Any, float], list[Action]]] = {}  # class -> handler
        self._handlers: dict[type, Callable[[Any, float], list[Action]]] = {
            wire.ErrorEvent: self._on_error,
            wire.SessionCreated: self._on_session_created,
            wire.ConversationCreated: self._on_conversation_created,
            wire.SessionUpdated: self._on_session_updated,
            wire.ConversationItemAdded: self._on_item_added,
            wire.ResponseOutputItemAdded: self._on_item_added,
            wire.ConversationItemInputAudioTranscriptionCompleted: self._on_user_transcript,
            wire.ConversationItemInputAudioTranscriptionUpdated: self._on_user_transcript,
            wire.InputAudioBufferSpeechStarted: self._on_speech_started,
            wire.InputAudioBufferSpeechStopped: self._on_speech_stopped,
            wire.ResponseCreated: self._on_response_created,
            wire.ResponseOutputAudioDelta: self._on_output_audio_delta,
            wire.ResponseOutputAudioTranscriptDelta: self._on_agent_text_delta,
            wire.ResponseTextDelta: self._on_agent_text_delta,
            wire.ResponseOutputTextDelta: self._on_agent_text_delta,
            wire.ResponseOutputAudioTranscriptDone: self._on_agent_text_done,
            wire.ResponseTextDone: self._on_agent_text_done,
            wire.ResponseOutputTextDone: self._on_agent_text_done,
            wire.ResponseFunctionCallArgumentsDone: self._on_arguments_done,
            wire.ResponseDone: self._on_response_done,
        }
        self._expired: dict[str, Callable[[float], list[Action]]] = {
            "configure": self._configure_expired,
            "create": self._create_expired,
            "stall": self._stall_expired,
            "turn": self._turn_expired,
            "barge_in": self._barge_in_due,
        }

    # ---- handshake -----------------------------------------------------------------------

    def _on_session_created(self, event: wire.SessionCreated, now: float) -> list[Action]:
        # Newer servers send it before conversation.created (§1.1, §7.5): note it, wait on.
        return [Report("debug", f"session {event.session.id or '?'} created "
                                f"(model {event.session.model or '?'})")]

    def _on_conversation_created(self, event: wire.ConversationCreated, now: float) -> list[Action]:
        if self._state is not State.CONNECTING:
            return [Report("warning", f"unexpected conversation.created while "
                                      f"{self._state.value}; ignored")]
        self._state = State.CONFIGURING
        # The full session every time (incl. audio formats), never a partial update (§7.16).
        update = self._dialect.session_update(self.config.session)
        self._update_id = update.event_id
        # A bounded wait: pings or silence must never keep a call configuring forever.
        self._timers.set("configure", now + self.config.watchdogs.configure)
        return [SendEvent(update)]

    def _on_session_updated(self, event: wire.SessionUpdated, now: float) -> list[Action]:
        if self._state is not State.CONFIGURING:
            return [Report("debug", f"session.updated while {self._state.value}")]
        self._timers.clear("configure")
        self._state = State.IDLE
        self._configured += 1
        actions = self._check_echo(event)
        restored = []
        if self._configured > 1:
            restored = self._history.restore_events(self._dialect.assistant_text_part)
            actions += [SendEvent(e) for e in restored]
        actions += [self._append(chunk) for chunk in self._hold.drain()]
        if self._configured == 1 and self.config.greeting:
            actions.append(self._speak(self.config.greeting, "greeting"))
        actions += [self._send_deferred(e) for e in self._deferred]
        self._deferred.clear()
        if self._configured > 1:
            count = f"{len(restored)} item{'' if len(restored) == 1 else 's'}"
            actions.append(Report("info", f"reconnected: conversation resumed, {count} "
                                          "restored"))
        return actions + self._flush_calls() + self._send_queued()

    def _check_echo(self, event: wire.SessionUpdated) -> list[Action]:
        audio = self.config.session.audio
        fmt = audio.output.format if audio else None
        _, echoed_rate = event.session.output_format()
        if isinstance(fmt, wire.PcmFormat) and echoed_rate is not None and echoed_rate != fmt.rate:
            # §7.14: the server may not honour non-24k output rates; playback assumes ours.
            return [Report("warning", f"the server reports output audio at {echoed_rate} Hz; "
                                      f"agentrun plays it at the configured {fmt.rate} Hz")]
        return []

    def _speak(self, text: str, kind: str) -> SendEvent:
        """Say ``text`` verbatim: a ``force_message`` item; the server creates the response
        itself (§2). Used for the greeting and for the apology after a failed reply."""
        interruptible = self.config.greeting_interruptible if kind == "greeting" else True
        event = wire.ConversationItemCreate(item=wire.ForceMessageItem(
            content=[wire.TextPart(text=text)], interruptible=interruptible))
        self._state = State.RESPONDING
        self._request_id = self._force_id = event.event_id
        self._force_kind = kind
        self._timers.set("create", self._now + self.config.watchdogs.create)
        return SendEvent(event)

    # ---- responses -----------------------------------------------------------------------

    def _request_response(self, reason: Reason) -> list[Action]:
        """Send ``response.create`` now if nothing is active, else queue one (never two).

        ``reason`` ("user", "tools", "resume") decides what a refusal means: see ``_on_error``.
        A queued user request outranks a tools one when both wait.
        """
        if self._queued == "user":
            reason = "user"
        if self._state is State.IDLE and not self._calls.running:
            self._queued = None
            event = wire.ResponseCreate()
            self._state = State.RESPONDING
            self._request_id = event.event_id
            self._last_reason = reason
            self._force_kind = None
            self._timers.set("create", self._now + self.config.watchdogs.create)
            return [SendEvent(event)]
        self._queued = reason
        return []

    def _send_queued(self) -> list[Action]:
        if self._queued is None or self._state is not State.IDLE or self._calls.running:
            return []
        return self._request_response(self._queued)

    def _on_response_created(self, event: wire.ResponseCreated, now: float) -> list[Action]:
        if self._state not in READY_STATES:
            return []
        rid = event.response.id
        self._state = State.RESPONDING
        self._response_id = rid
        self.responses_created += 1
        self._timers.clear("create", "turn")
        self._timers.set("stall", now + self.config.watchdogs.stall)
        if self._unechoed:
            self._blind.add(rid)  # it cannot have seen our outputs (issue 9, bug 1)
        if self._force_id is not None:
            if self._force_kind == "greeting" and not self.config.greeting_interruptible:
                self._protected = rid
            self._force_id = None
        actions: list[Action] = []
        if self._cancel_on_create is not None and self._cancel_on_create == self._request_id:
            # The caller barged in before our response existed: cancel it now it does.
            actions.append(SendEvent(wire.ResponseCancel()))
            self._muted.add(rid)
        self._request_id = self._cancel_on_create = None
        return actions

    def _on_response_done(self, event: wire.ResponseDone, now: float) -> list[Action]:
        response = event.response
        # a done without an id (a null the parser dropped) ends the current response
        rid = response.id or self._response_id or ""
        actions = self._transcripts.response_done(rid)
        usage = event.usage or response.usage
        if usage is not None:
            actions += [RecordMetric(f"{name}_tokens", float(value), "tokens", self._turn)
                        for name, value in (("total", usage.total_tokens),
                                            ("input", usage.input_tokens),
                                            ("output", usage.output_tokens))
                        if value is not None]
        # the current response; a done for one we abandoned (stalled) is not the new request's
        current = self._state is State.RESPONDING and (
            self._response_id == rid or (self._response_id is None and rid not in self._muted))
        failed = response.status == "failed"
        if failed:
            details = json.dumps(response.status_details, separators=(",", ":"))
            actions.append(Report("error", f"response {rid} failed: "
                                           f"{details[:_MAX_DETAIL_CHARS]}"))
        actions += self._settle_muted_calls(response, rid)
        self._muted.discard(rid)
        self._blind.discard(rid)
        actions += self._settle_stale_calls(response, rid, now)
        self._calls.response_done(rid)
        if current:
            self._state = State.IDLE
            self._response_id = self._request_id = None
            self._timers.clear("stall", "create")
            if failed and not self._calls.pending:
                return actions + self._recover(f"response {rid} failed")
            if response.status == "completed":
                self._attempts = 0
                self._unechoed.clear()
                self._force_kind = None
        return actions + self._flush_calls() + self._send_queued()

    # ---- agent output --------------------------------------------------------------------

    def _on_output_audio_delta(self, event: wire.ResponseOutputAudioDelta,
                               now: float) -> list[Action]:
        if event.response_id in self._muted:
            return []  # cancelled by barge-in: never play it
        try:  # b64decode(validate=True) without its copy to bytes and two Python calls
            audio = binascii.a2b_base64(event.delta, strict_mode=True)
        except (binascii.Error, ValueError):
            return [Report("warning", f"skipped an audio delta of {event.item_id or '?'}: "
                                      "invalid base64")]
        if not audio:
            return []
        record = self.replies.get(event.item_id)
        if record is None:
            record = ReplyRecord(event.item_id, event.response_id,
                                 self.config.output_bytes_per_second, first_audio_at=now)
            self.replies[event.item_id] = record
            if len(self.replies) > _MAX_REPLIES:  # a long call keeps the recent ones only
                del self.replies[next(iter(self.replies))]
        record.generated_bytes += len(audio)
        actions: list[Action] = [PlayAudio(audio, event.response_id, event.item_id)]
        if self._turn_started is not None:
            actions.append(RecordMetric("response_latency", now - self._turn_started, "s",
                                        self._turn))
            self._turn_started = None
        return actions

    def _on_agent_text_delta(self, event: Any, now: float) -> list[Action]:
        if event.response_id in self._muted:
            return []  # cancelled by barge-in: the caller will not hear these words
        kind = "audio" if isinstance(event, wire.ResponseOutputAudioTranscriptDelta) else "text"
        return self._transcripts.agent_delta(event.item_id, event.response_id, kind, event.delta)

    def _on_agent_text_done(self, event: Any, now: float) -> list[Action]:
        kind = "audio" if isinstance(event, wire.ResponseOutputAudioTranscriptDone) else "text"
        final = getattr(event, "transcript", None) or getattr(event, "text", None)
        if event.response_id in self._muted:
            final = None  # keep only what was shown before the barge-in
        return self._transcripts.agent_done(event.item_id, kind, final)

    def _on_user_transcript(self, event: Any, now: float) -> list[Action]:
        partial = isinstance(event, wire.ConversationItemInputAudioTranscriptionUpdated) \
            or getattr(event, "status", None) == "in_progress"  # §7.10
        return self._transcripts.user(event.item_id, event.transcript, partial=partial)

    # ---- helpers -------------------------------------------------------------------------

    def _append(self, pcm: bytes) -> SendEvent:
        return SendEvent(wire.InputAudioBufferAppend(audio=binascii.b2a_base64(
            pcm, newline=False).decode("ascii")))

    def _send_or_defer(self, event: wire.ClientEvent) -> list[Action]:
        if self._state in READY_STATES:
            return [self._send_deferred(event)]
        self._deferred.append(event)
        return []

    def _send_deferred(self, event: wire.ClientEvent) -> SendEvent:
        """Send user input, recording user text in the history only once it is on the wire."""
        item = getattr(event, "item", None)
        if isinstance(item, wire.MessageItem):
            self._history.set_text(item.id, "user", item.content[0].text)
        return SendEvent(event)

    def _require_open(self, method: str) -> None:
        if self._state is State.CLOSED:
            raise LocalProtocolError(f"{method}: the conversation is closed")
