"""Transcript lines for ``Conversation``: agent text streams and caller transcripts.

Agent words can arrive twice for one item: as the audio transcript and as text deltas (Grok emits
``response.text.delta`` too, §6). The first stream seen for an item wins, so each line shows
once. Caller partials (``…updated``, or ``…completed`` with ``status: in_progress``, §7.10) are
emitted as non-final lines; a repeated final for the same item is dropped. Finals go to the
history for a later resume. Pure data; imports only engine helpers and actions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agentrun.engine._history import History
from agentrun.engine._media import ReplyRecord
from agentrun.engine.actions import Action, EmitTranscript

__all__ = ["Transcripts"]


@dataclass
class _Stream:
    response_id: str
    kind: str  # "audio" (output_audio_transcript) or "text" (text deltas)
    parts: list[str] = field(default_factory=list)


class Transcripts:
    """Turns transcript events into ``EmitTranscript`` actions, once per line."""

    def __init__(self, history: History, replies: dict[str, ReplyRecord]) -> None:
        self._history = history
        self._replies = replies
        self._streams: dict[str, _Stream] = {}
        # recent items only: a repeat comes within a few events, and a long call must not
        # grow these without bound (the history keeps the words)
        self._agent_final: dict[str, None] = {}
        self._user_final: dict[str, str] = {}

    def agent_delta(self, item_id: str, response_id: str, kind: str,
                    delta: str) -> list[Action]:
        """A piece of agent text: a non-final line, unless the item's other stream came first."""
        if not delta or item_id in self._agent_final:
            return []
        stream = self._streams.get(item_id)
        if stream is None:  # not setdefault: that would build a _Stream for every delta
            stream = self._streams[item_id] = _Stream(response_id, kind)
        if stream.kind != kind:
            return []
        stream.parts.append(delta)
        return [EmitTranscript("agent", delta, False, item_id)]

    def agent_done(self, item_id: str, kind: str, final: str | None) -> list[Action]:
        """The item's text is complete: one final line (``final`` or the joined deltas)."""
        stream = self._streams.get(item_id)
        if stream is not None and stream.kind != kind:
            return []
        return self._finish(item_id, final)

    def response_done(self, response_id: str) -> list[Action]:
        """Final lines for every item of a response whose ``…done`` never came."""
        return [action for item_id, stream in list(self._streams.items())
                if stream.response_id == response_id
                for action in self._finish(item_id, None)]

    def drop_unfinished(self) -> None:
        """The connection died: partial agent lines will never complete."""
        self._streams.clear()

    def user(self, item_id: str, text: str, *, partial: bool) -> list[Action]:
        """A caller transcript: partials as non-final lines, each final once per item."""
        text = text.strip()
        if not text:
            return []
        if partial:
            return [EmitTranscript("user", text, False, item_id)]
        if self._user_final.get(item_id) == text:
            return []
        self._user_final[item_id] = text
        _trim(self._user_final)
        self._history.set_text(item_id, "user", text)
        return [EmitTranscript("user", text, True, item_id)]

    def _finish(self, item_id: str, final: str | None) -> list[Action]:
        stream = self._streams.pop(item_id, None)
        text = (final or ("".join(stream.parts) if stream else "")).strip()
        if not text or item_id in self._agent_final:
            return []
        self._agent_final[item_id] = None
        _trim(self._agent_final)
        self._history.set_text(item_id, "assistant", text)
        if item_id in self._replies:
            self._replies[item_id].transcript = text
        return [EmitTranscript("agent", text, True, item_id)]


_RECENT = 256


def _trim(recent: dict[str, object]) -> None:
    if len(recent) > _RECENT:
        del recent[next(iter(recent))]
