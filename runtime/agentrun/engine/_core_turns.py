"""Caller turns for ``ConversationCore``: speech, barge-in, the microphone while the agent speaks.

Barge-in rules (the YAML ``interruptions:`` block, ``setup.Interruptions``):

* ``enabled: false``: caller speech never stops the agent, and caller audio is replaced by
  silence of the same length while the agent speaks (the server's own voice detection would
  otherwise cut the reply off; the silence keeps the server's audio clock right).
* ``min_speech_ms``: while the agent is busy (a response requested or active, or its audio still
  playing), ``speech_started`` arms a ``barge_in`` deadline; a ``speech_stopped`` before it (a
  cough, an "uh-huh") cancels it, otherwise the barge-in happens when it fires (``tick``).
* ``half_duplex``: caller audio is replaced by silence while the agent speaks.
* Speech while the agent is quiet (no response, nothing playing) is the caller's turn: nothing
  is stopped or cancelled.

"The agent speaks" means: a response is active and has sent audio, or the last reply is still
playing: the channel's ``playback_progress`` when it reports it, else a real-time estimate from
the reply's first audio (``ReplyRecord.playing``). A local ``interrupt()`` (push-to-talk) is a
deliberate act and barges in at once, unless interruptions are off.
No I/O; imports only protocol and sibling engine modules.
"""

from __future__ import annotations

from typing import Any

from agentrun import protocol as wire
from agentrun.engine._media import silence
from agentrun.engine._state import READY_STATES, State
from agentrun.engine.actions import Action, RecordMetric, Report, SendEvent, StopPlayback

__all__ = ["Turns"]


class Turns:
    """Mixin of ``ConversationCore``: caller speech, barge-in and half-duplex."""

    _state: State
    _response_id: str | None
    _request_id: str | None
    _speech_at: float | None
    _muted: set[str]
    _turn: int
    _turn_started: float | None
    _now: float
    config: Any
    replies: dict[str, Any]
    _timers: Any

    def _on_speech_started(self, event: wire.InputAudioBufferSpeechStarted,
                           now: float) -> list[Action]:
        if self._state not in READY_STATES:
            return []
        self._timers.clear("turn")  # the caller goes on: the turn is not over yet
        if self._uninterruptible():
            return [Report("debug", "caller spoke during the non-interruptible greeting")]
        if self._state is not State.RESPONDING and not self._agent_speaking(now):
            # the caller's turn, not a barge-in: nothing plays, so nothing is stopped (a
            # StopPlayback would cut, in the channel and in the record, a reply already heard)
            return []
        rules = self.config.interruptions
        if not rules.enabled:
            return [Report("debug", "caller spoke while the agent was busy; interruptions are "
                                    "off")]
        if rules.min_speech_ms > 0:
            self._speech_at = now
            self._timers.set("barge_in", now + rules.min_speech_ms / 1000)
            return []
        return self._barge_in("caller started speaking")

    def _on_speech_stopped(self, event: wire.InputAudioBufferSpeechStopped,
                           now: float) -> list[Action]:
        actions: list[Action] = []
        if self._speech_at is not None:
            heard = round((now - self._speech_at) * 1000)
            actions.append(Report("debug", f"caller speech of {heard} ms did not interrupt "
                                           f"(interruptions.min_speech_ms is "
                                           f"{self.config.interruptions.min_speech_ms})"))
            self._speech_at = None
            self._timers.clear("barge_in")
        # Server VAD answers by itself (§3.3): nothing to send; start the latency clock and
        # the watchdog for a turn the server never answers.
        self._start_turn(now)
        if not self.config.manual_turns and self._state in READY_STATES:
            self._timers.set("turn", now + self.config.watchdogs.turn)
        return actions

    def _barge_in_due(self, now: float) -> list[Action]:
        """The ``barge_in`` deadline: the caller has spoken long enough to interrupt."""
        if self._speech_at is None or self._state not in READY_STATES:
            return []
        self._speech_at = None
        return self._barge_in("caller kept speaking")

    def _start_turn(self, now: float) -> None:
        self._turn += 1
        self._turn_started = now

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
        # the reply being cut: the active one, or the last one while it still plays (by the
        # channel's reports, with their slack, else the estimate); a reply the caller heard to
        # the end (a report a few ms short of it included) was not interrupted
        if record is not None and not record.interrupted and (
                record.response_id == rid or record.playing(self._now)):
            record.interrupted = True
            actions.append(RecordMetric("reply_heard", record.heard_ms / 1000, "s", self._turn))
            actions.append(Report("debug", f"barge-in: the caller heard {record.heard_ms} ms of "
                                           f"{record.generated_ms} ms of reply {record.item_id}"))
        return actions

    def _uninterruptible(self) -> bool:
        """True while the non-interruptible greeting is requested or playing."""
        if getattr(self, "_force_kind", None) == "greeting" and self._force_id is not None:
            return not self.config.greeting_interruptible
        return self._protected is not None and self._protected == self._response_id

    def _agent_speaking(self, now: float) -> bool:
        """Audio of the active response has arrived, or the last reply is still playing."""
        record = next(reversed(self.replies.values()), None)
        if record is None:
            return False
        if self._state is State.RESPONDING and record.response_id == self._response_id \
                and not record.interrupted:
            return True
        return bool(record.playing(now))

    def _microphone(self, pcm: bytes, now: float) -> bytes:
        """Caller audio as sent: silence of the same length while muted (half-duplex)."""
        if self.config.interruptions.mutes_microphone and self._agent_speaking(now):
            audio = self.config.session.audio
            fmt = audio.input.format.type if audio is not None else "audio/pcm"
            return silence(len(pcm), fmt)
        return pcm
