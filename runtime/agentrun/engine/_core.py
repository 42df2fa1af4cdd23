"""The reactions of ``Conversation`` to server events: its state, dispatch table and handlers.

``engine.conversation`` holds the public surface (what the session calls, with what it raises);
this module holds what happens when the server speaks: the :class:`State` enum, the dispatch
dict keyed by event class, the :data:`IGNORED` table with a reason per event, and one
``_on_<event>`` handler each. Same rules: no socket, clock, thread, asyncio or logging.
Imports only ``agentrun.protocol``, ``agentrun.errors`` and sibling engine modules.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from collections.abc import Callable
from typing import Any, Literal

from agentrun import protocol as wire
from agentrun.engine._calls import Call, CallBook
from agentrun.engine._history import History
from agentrun.engine._media import AudioHold, ReplyRecord
from agentrun.engine._transcripts import Transcripts
from agentrun.engine.actions import (
    Action,
    EndConversation,
    PlayAudio,
    RecordMetric,
    Report,
    RunTool,
    SendEvent,
    StopPlayback,
)
from agentrun.engine.setup import ConversationConfig
from agentrun.errors import LocalProtocolError

__all__ = ["IGNORED", "READY_STATES", "ConversationCore", "Reason", "State"]


class State(enum.Enum):
    """Where the conversation is.

    CONNECTING (waiting for ``conversation.created``) -> CONFIGURING (``session.update`` sent)
    -> IDLE <-> RESPONDING (a response is active, or requested and not yet created) -> CLOSED.
    A lost connection goes back to CONNECTING; the next ``conversation.created`` resumes.
    """

    CONNECTING = "connecting"
    CONFIGURING = "configuring"
    IDLE = "idle"
    RESPONDING = "responding"
    CLOSED = "closed"


READY_STATES = (State.IDLE, State.RESPONDING)

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

_FALLBACK_GREETING = "Greet the caller by saying exactly this, and nothing else: {text}"
_MAX_DETAIL_CHARS = 300

Reason = Literal["user", "tools", "resume"]
"""Why a ``response.create`` is wanted; decides what an "already active" refusal means."""


class ConversationCore:
    """State and server-event handling shared by :class:`~agentrun.engine.Conversation`.

    Not used on its own: ``Conversation`` adds the public methods.
    """

    def __init__(self, config: ConversationConfig) -> None:
        self.config = config
        self._dialect = config.dialect
        self._state = State.CONNECTING
        self._configured = 0  # session.updated answers seen: 1 = first session, >1 = resumed
        self._hold = AudioHold(int(config.hold_seconds * config.input_bytes_per_second))
        self._deferred: list[wire.ClientEvent] = []  # user input made before the session was ready
        self._queued: Reason | None = None  # why a response.create waits to be sent
        self._last_reason: Reason | None = None  # why the last response.create was sent
        self._response_id: str | None = None
        self._update_id: str | None = None  # event_id of the last session.update
        self._request_id: str | None = None  # event_id of our create awaiting response.created
        self._greeting_id: str | None = None  # event_id of the force_message, until created
        self._protected: str | None = None  # the non-interruptible greeting's response id
        self._cancel_on_create: str | None = None  # request barged into before it was created
        self._muted: set[str] = set()  # responses cancelled by barge-in: drop their output
        self._calls = CallBook()
        self._history = History()
        self._unknown_types: set[str] = set()
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
        return [SendEvent(update)]

    def _on_session_updated(self, event: wire.SessionUpdated, now: float) -> list[Action]:
        if self._state is not State.CONFIGURING:
            return [Report("debug", f"session.updated while {self._state.value}")]
        self._state = State.IDLE
        self._configured += 1
        actions = self._check_echo(event)
        restored = []
        if self._configured > 1:
            restored = self._history.restore_events(self._dialect.assistant_text_part)
            actions += [SendEvent(e) for e in restored]
        actions += [self._append(chunk) for chunk in self._hold.drain()]
        if self._configured == 1 and self.config.greeting:
            actions.append(self._greet())
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

    def _greet(self) -> SendEvent:
        # force_message: spoken verbatim, the server creates the response itself (§2).
        text = self.config.greeting or ""
        event = wire.ConversationItemCreate(item=wire.ForceMessageItem(
            content=[wire.TextPart(text=text)], interruptible=self.config.greeting_interruptible))
        self._state = State.RESPONDING
        self._request_id = self._greeting_id = event.event_id
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
        self._state = State.RESPONDING
        self._response_id = event.response.id
        self.responses_created += 1
        if self._greeting_id is not None:
            if not self.config.greeting_interruptible:
                self._protected = event.response.id
            self._greeting_id = None
        actions: list[Action] = []
        if self._cancel_on_create is not None and self._cancel_on_create == self._request_id:
            # The caller barged in before our response existed: cancel it now it does.
            actions.append(SendEvent(wire.ResponseCancel()))
            self._muted.add(event.response.id)
        self._request_id = self._cancel_on_create = None
        return actions

    def _on_response_done(self, event: wire.ResponseDone, now: float) -> list[Action]:
        response = event.response
        actions = self._transcripts.response_done(response.id)
        usage = event.usage or response.usage
        if usage is not None:
            actions += [RecordMetric(f"{name}_tokens", float(value), "tokens", self._turn)
                        for name, value in (("total", usage.total_tokens),
                                            ("input", usage.input_tokens),
                                            ("output", usage.output_tokens))
                        if value is not None]
        if response.status == "failed":
            details = json.dumps(response.status_details, separators=(",", ":"))
            actions.append(Report("error", f"response {response.id} failed: "
                                           f"{details[:_MAX_DETAIL_CHARS]}"))
        self._muted.discard(response.id)
        actions += self._settle_stale_calls(response, now)
        self._calls.response_done(response.id)
        if self._state is State.RESPONDING and self._response_id in (None, response.id):
            self._state = State.IDLE
            self._response_id = self._request_id = None
        return actions + self._flush_calls() + self._send_queued()

    # ---- caller speech and barge-in ------------------------------------------------------

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted,
                           now: float) -> list[Action]:
        if self._state not in READY_STATES:
            return []
        if self._uninterruptible():
            return [Report("debug", "caller spoke during the non-interruptible greeting")]
        return self._barge_in("caller started speaking")

    def _barge_in(self, reason: str) -> list[Action]:
        actions: list[Action] = [StopPlayback(reason)]
        rid = self._response_id
        if self._state is State.RESPONDING and rid is not None and rid not in self._muted:
            # Only while a response is active: a cancel after response.done is the
            # "no active response" race (§7.2). Never truncate: Grok lacks it (§7.11).
            actions.append(SendEvent(wire.ResponseCancel()))
            self._muted.add(rid)
        elif self._state is State.RESPONDING and rid is None and self._request_id is not None:
            self._cancel_on_create = self._request_id  # cancelling now would race its creation
        record = next(reversed(self.replies.values()), None)
        if record is not None and not record.interrupted and (
                record.response_id == rid
                or (record.played_ms is not None and record.played_ms < record.generated_ms)):
            record.interrupted = True
            actions.append(RecordMetric("reply_heard", record.heard_ms / 1000, "s", self._turn))
            actions.append(Report("debug", f"barge-in: the caller heard {record.heard_ms} ms of "
                                           f"{record.generated_ms} ms of reply {record.item_id}"))
        return actions

    def _uninterruptible(self) -> bool:
        """True while the non-interruptible greeting is requested or playing."""
        if self._greeting_id is not None:
            return not self.config.greeting_interruptible
        return self._protected is not None and self._protected == self._response_id

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped,
                           now: float) -> list[Action]:
        # Server VAD answers by itself (§3.3): nothing to send; start the latency clock.
        self._start_turn(now)
        return []

    def _start_turn(self, now: float) -> None:
        self._turn += 1
        self._turn_started = now

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
        record = self.replies.get(event.item_id)
        if record is None:
            record = ReplyRecord(event.item_id, event.response_id,
                                 self.config.output_bytes_per_second)
            self.replies[event.item_id] = record
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

    # ---- tool calls ----------------------------------------------------------------------

    def _on_item_added(self, event: Any, now: float) -> list[Action]:
        item = event.item
        if item.type == "function_call" and item.call_id:
            if self._history.has_call(item.call_id):
                return []  # the echo of a call already handled, or of one we restored
            rid = getattr(event, "response_id", "") or self._response_id or ""
            if not self._calls.track(item.call_id, item.name or "", rid):  # §7.10
                return [Report("debug", f"duplicate item for call {item.call_id} ignored")]
        elif item.type == "message" and item.id:
            has_text = any(part.type == "input_text" for part in item.content or [])
            if item.role == "assistant" or (item.role == "user" and not has_text):
                self._history.reserve(item.id, item.role)  # its transcript fills it later
        return []

    def _on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone,
                           now: float) -> list[Action]:
        call = self._calls.get(event.call_id)
        if (call is not None and call.arguments is not None) \
                or self._history.has_call(event.call_id):
            return [Report("debug", f"duplicate arguments for call {event.call_id} ignored")]
        name = event.name or (call.name if call else "")
        declared = name in self.config.function_names
        if not declared and (call is None or self._dialect.is_builtin_call(name)):
            # A server-side built-in (§7.9): the server runs it; answering it causes an error.
            if call is not None:
                self._calls.forget(call.call_id)
            return [Report("debug", f"server-side call {name!r} ({event.call_id}) not answered")]
        actions: list[Action] = []
        if call is None:
            call = self._calls.add(event.call_id, name,
                                   event.response_id or self._response_id or "")
            actions.append(Report("debug", f"call {event.call_id} ({name}) had no function_call "
                                           "item; running it because the tool is declared"))
        call.name, call.arguments, call.started = name, event.arguments, now
        self._history.add_call(call.call_id, name, event.arguments)
        if not declared:
            call.output = _unknown_tool_output(name, self.config.function_names)
            actions.append(Report("warning", f"the model called unknown tool {name!r}"))
            return actions + self._flush_calls()
        actions.append(RunTool(call.call_id, name, event.arguments))
        return actions

    def _settle_stale_calls(self, response: wire.Response, now: float) -> list[Action]:
        """Calls whose ``…arguments.done`` never came: take the arguments from the response's
        output when it has them, else stop waiting (a call with no arguments cannot run)."""
        actions: list[Action] = []
        finished = {item.call_id: item for item in response.output
                    if item.type == "function_call" and item.call_id and item.arguments}
        for call in self._calls.stale(response.id):
            item = finished.get(call.call_id)
            if item is not None:
                actions += self._on_arguments_done(wire.ResponseFunctionCallArgumentsDone(
                    type="response.function_call_arguments.done", call_id=call.call_id,
                    name=item.name or call.name, arguments=item.arguments or "",
                    response_id=response.id), now)
            else:
                self._calls.forget(call.call_id)
                actions.append(Report("debug", f"call {call.call_id} ({call.name}) ended "
                                               "without arguments; not run"))
        return actions

    def _flush_calls(self) -> list[Action]:
        """Answer every complete group: all outputs, then one ``response.create`` (§3.3)."""
        if self._state not in READY_STATES:
            return []  # sent after the session is (re)configured
        ready: list[Call] = self._calls.take_ready()
        if not ready:
            return []
        actions: list[Action] = []
        for call in ready:
            output = call.output or ""
            self._history.add_output(call.call_id, output)
            actions.append(SendEvent(wire.ConversationItemCreate(
                item=wire.FunctionCallOutputItem(call_id=call.call_id, output=output))))
        return actions + self._request_response("tools")

    # ---- errors --------------------------------------------------------------------------

    def _on_error(self, event: wire.ErrorEvent, now: float) -> list[Action]:
        error = event.error
        verdict = self._dialect.classify_error(error)
        label = "/".join(str(p) for p in (error.type, error.code) if p is not None)
        label = f" ({label})" if label else ""
        if verdict is wire.ErrorClass.FATAL:
            self._state = State.CLOSED
            return [EndConversation(f"the service refused the session{label}: "
                                    f"{error.message} — check XAI_API_KEY and your xAI account",
                                    exit_code=3)]
        if self._state is State.CONFIGURING and error.event_id == self._update_id \
                and verdict is wire.ErrorClass.OTHER:
            # Audio at an unconfigured rate is the §7.1 bug: without a session, end clearly.
            self._state = State.CLOSED
            return [EndConversation(f"the server refused the session configuration{label}: "
                                    f"{error.message}", exit_code=1)]
        actions: list[Action] = []
        if verdict is wire.ErrorClass.ALREADY_ACTIVE and self._last_reason not in (None, "tools"):
            # Our create for a user turn raced a response the server had already started for
            # something older; text and manual turns get no automatic answer, so ask again
            # after it. After tool outputs the server's own response answers them (PR #3960).
            reason, self._last_reason = self._last_reason, None
            actions.append(Report("debug", f"benign race{label}: {error.message}; asking "
                                           "again after the active response"))
            actions += self._request_response(reason or "user")
        elif verdict.benign:
            actions.append(Report("debug", f"benign race{label}: {error.message}"))
        else:
            actions.append(Report("error", f"server error{label}: {error.message}"))
            # An error naming our pending create (or greeting) refuses it. One naming nothing,
            # while that create still awaits its response, is taken as the refusal too: waiting
            # for a response that never comes would leave the caller in silence.
            pending = self._request_id
            if pending is not None and self._response_id is None \
                    and error.event_id in (pending, None):
                actions += self._request_refused(pending)
        return actions

    def _request_refused(self, event_id: str) -> list[Action]:
        """Our ``response.create`` or greeting was refused: no response is coming."""
        self._state = State.IDLE
        self._request_id = None
        if event_id == self._greeting_id:
            self._greeting_id = None
            text = _FALLBACK_GREETING.format(text=self.config.greeting)
            event = wire.ResponseCreate(response=wire.ResponseParams(instructions=text))
            self._state = State.RESPONDING
            self._request_id = event.event_id
            return [Report("warning", "the server refused force_message; greeting by "
                                      "response.create instead"), SendEvent(event)]
        return self._flush_calls() + self._send_queued()

    # ---- helpers -------------------------------------------------------------------------

    def _append(self, pcm: bytes) -> SendEvent:
        return SendEvent(wire.InputAudioBufferAppend(audio=base64.b64encode(pcm).decode("ascii")))

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


def _unknown_tool_output(name: str, declared: frozenset[str]) -> str:
    available = ", ".join(sorted(declared)) or "none"
    return f"Error: there is no tool named {name!r}. Available tools: {available}."

