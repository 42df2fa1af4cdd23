"""Errors and watchdogs for ``ConversationCore``: never silent, never stuck (issue 9).

``error`` events are classified by the dialect (§3.2): benign races -> debug; auth/quota ->
``EndConversation`` (exit 3); the refusal of our ``session.update`` (an error naming it, or
naming no event while configuring) -> ``EndConversation`` (exit 1); a refused
``response.create`` or spoken message -> recovery; anything else -> an error report.
Reception always goes on.

Watchdogs (``Conversation.tick``, bounds in ``setup.Watchdogs``):

* ``configure``: no ``session.updated`` -> the call ends with one clear line (exit 1).
* ``create``: a ``response.create`` (or spoken message) gets neither ``response.created`` nor
  an error -> recovery.
* ``stall``: an active response goes silent (pings do not count) -> it is cancelled, its
  output muted, and recovery follows.
* ``turn``: the caller's speech ended (server VAD) and no response came -> agentrun asks for
  one itself (the create watchdog then guards that request).
* A ``failed`` response -> recovery.

Recovery: the first failure since the last completed response asks again (a retry); the second
makes the agent say ``config.apology`` verbatim, the way it says the greeting; if even that
fails, the engine gives up on that turn with an error report and waits for the caller. Each
step is a report line. No I/O; imports only protocol and sibling engine modules.
"""

from __future__ import annotations

from typing import Any

from agentrun import protocol as wire
from agentrun.engine._state import Reason, State
from agentrun.engine.actions import Action, EndConversation, Report, SendEvent

__all__ = ["Reason", "Recovery"]

_FALLBACK_SPEECH = {
    "greeting": "Greet the caller by saying exactly this, and nothing else: {text}",
    "apology": "Apologize to the caller by saying exactly this, and nothing else: {text}",
}


class Recovery:
    """Mixin of ``ConversationCore``: ``error`` events and watchdog expiries."""

    _state: State
    _dialect: Any
    _update_id: str | None
    _request_id: str | None
    _response_id: str | None
    _force_id: str | None
    _force_kind: str | None
    _last_reason: Reason | None
    _attempts: int
    _muted: set[str]
    _blind: set[str]
    _calls: Any
    _timers: Any
    _now: float
    config: Any

    # ---- errors --------------------------------------------------------------------------

    def _on_error(self, event: wire.ErrorEvent, now: float) -> list[Action]:
        error = event.error
        verdict = self._dialect.classify_error(error)
        label = "/".join(str(p) for p in (error.type, error.code) if p is not None)
        label = f" ({label})" if label else ""
        if verdict is wire.ErrorClass.FATAL:
            self._state = State.CLOSED
            self._timers.clear_all()
            return [EndConversation(f"the service refused the session{label}: "
                                    f"{error.message} — check XAI_API_KEY and your xAI account",
                                    exit_code=3)]
        if verdict is wire.ErrorClass.SESSION_LIMIT:
            # The service ends sessions at its length limit (Grok: 1 hour) with an error, then
            # a normal close: the session reconnects and resumes (issue 9, bug 3).
            return [Report("info", f"the service ended the session{label}: {error.message}; "
                                   "agentrun will reconnect and resume")]
        if self._state is State.CONFIGURING and verdict is wire.ErrorClass.OTHER \
                and error.event_id in (self._update_id, None, ""):
            # Our session.update was refused; an error naming no event while configuring is
            # taken as that refusal (nothing else is in flight). Audio at an unconfigured rate
            # is the §7.1 bug: without a session, end clearly.
            self._state = State.CLOSED
            self._timers.clear_all()
            return [EndConversation(f"the server refused the session configuration{label}: "
                                    f"{error.message}", exit_code=1)]
        actions: list[Action] = []
        if verdict is wire.ErrorClass.ALREADY_ACTIVE and self._refusal_needs_retry():
            # Our create raced a response the server had already started: for a user turn (text
            # and manual turns get no automatic answer), or after tool outputs when that
            # response began before the outputs were added, so it cannot speak their result
            # (issue 9, bug 1). Ask again after it. A response the server started after our
            # outputs answers them itself (PR #3960): nothing to do then.
            reason, self._last_reason = self._last_reason, None
            actions.append(Report("debug", f"benign race{label}: {error.message}; asking "
                                           "again after the active response"))
            actions += self._request_response(reason or "user")  # type: ignore[attr-defined]
        elif verdict.benign:
            actions.append(Report("debug", f"benign race{label}: {error.message}"))
        else:
            actions.append(Report("error", f"server error{label}: {error.message}"))
            # An error naming our pending create (or spoken message) refuses it. One naming
            # nothing, while that create still awaits its response, is taken as the refusal
            # too: waiting for a response that never comes would leave the caller in silence.
            pending = self._request_id
            if pending is not None and self._response_id is None \
                    and error.event_id in (pending, None, ""):
                actions += self._request_refused(pending)
        return actions

    def _refusal_needs_retry(self) -> bool:
        if self._last_reason in ("user", "resume"):
            return True
        return self._last_reason == "tools" and (self._response_id is None
                                                 or self._response_id in self._blind)

    def _request_refused(self, event_id: str) -> list[Action]:
        """Our ``response.create`` or spoken message was refused: no response is coming."""
        self._state = State.IDLE
        self._request_id = None
        self._timers.clear("create")
        if event_id == self._force_id:
            # force_message refused: say it through response.create instead
            self._force_id = None
            greeting = self._force_kind == "greeting"
            text = self.config.greeting if greeting else self.config.apology
            template = _FALLBACK_SPEECH["greeting" if greeting else "apology"]
            event = wire.ResponseCreate(response=wire.ResponseParams(
                instructions=template.format(text=text)))
            self._state = State.RESPONDING
            self._request_id = event.event_id
            self._timers.set("create", self._now + self.config.watchdogs.create)
            doing = "greeting" if greeting else "apologizing"
            return [Report("warning", f"the server refused force_message; {doing} by "
                                      "response.create instead"), SendEvent(event)]
        return self._flush_calls() + self._send_queued()  # type: ignore[attr-defined]

    # ---- watchdogs -----------------------------------------------------------------------

    def _configure_expired(self, now: float) -> list[Action]:
        if self._state is not State.CONFIGURING:
            return []
        self._state = State.CLOSED
        self._timers.clear_all()
        bound = self.config.watchdogs.configure
        return [EndConversation(f"the server did not confirm the session configuration "
                                f"(no session.updated within {bound:g} s)", exit_code=1)]

    def _create_expired(self, now: float) -> list[Action]:
        if self._state is not State.RESPONDING or self._response_id is not None:
            return []
        what = "the greeting" if self._force_kind == "greeting" else \
            "the apology" if self._force_kind == "apology" else "response.create"
        return self._recover(f"the server did not answer {what} within "
                             f"{self.config.watchdogs.create:g} s")

    def _stall_expired(self, now: float) -> list[Action]:
        rid = self._response_id
        if self._state is not State.RESPONDING or rid is None:
            return []
        self._muted.add(rid)  # whatever it still sends is dropped
        self._calls.response_done(rid)
        dropped = [Report("debug", f"call {c.call_id} ({c.name}) not run: its response "
                                   "stalled") for c in self._calls.drop_not_run(rid)]
        self._response_id = None
        problem = (f"response {rid} stalled: nothing from the server for "
                   f"{self.config.watchdogs.stall:g} s")
        return [*dropped, SendEvent(wire.ResponseCancel()), *self._recover(problem)]

    def _turn_expired(self, now: float) -> list[Action]:
        if self._state is not State.IDLE or self._calls.pending \
                or getattr(self, "_queued", None) is not None:
            return []
        report = Report("warning", f"the server did not answer the caller's turn within "
                                   f"{self.config.watchdogs.turn:g} s; asking for a response")
        return [report, *self._request_response("user")]  # type: ignore[attr-defined]

    def _recover(self, problem: str) -> list[Action]:
        """Retry once, then the spoken apology, then give up on this turn (never silent)."""
        kind = self._force_kind
        self._state = State.IDLE
        self._request_id = self._force_id = None
        self._timers.clear("create", "stall")
        self._attempts += 1
        if kind == "apology" or self._attempts > 2:
            self._attempts = 0
            self._force_kind = None
            report = Report("error", f"{problem}; the service is not answering, so this turn "
                                     "gets no reply; waiting for the caller")
            return [report, *self._send_queued()]  # type: ignore[attr-defined]
        if self._attempts == 2:
            return [Report("error", f"{problem} again; telling the caller something went "
                                    "wrong"),
                    self._speak(self.config.apology, "apology")]  # type: ignore[attr-defined]
        report = Report("warning", f"{problem}; asking again")
        if kind == "greeting" and self.config.greeting:
            return [report, self._speak(self.config.greeting, "greeting")]  # type: ignore
        reason: Reason = self._last_reason or "user"
        if getattr(self, "_queued", None) is None:
            self._queued = reason
        return [report, *self._flush_calls(), *self._send_queued()]  # type: ignore[attr-defined]
