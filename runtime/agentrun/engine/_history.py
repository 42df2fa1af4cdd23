"""The conversation so far, kept to restore it after a reconnect (issue: resume).

Entries are kept in conversation order: user texts and transcripts, agent transcripts,
function calls and their outputs. A slot can be reserved when an item appears and filled when
its transcript arrives, so a late transcript keeps its place. Incomplete entries (an agent reply
cut by the drop, a call without output) are restored only as far as they are known.
Only the recent conversation is kept (:data:`MAX_ENTRIES`): a resumed call needs what was
said lately, not hours of it, and a call that goes on for hours (the service's session limit is
followed by a resume) must not grow without bound. Imports only ``agentrun.protocol``.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentrun.protocol import (
    ConversationItemCreate,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputTextPart,
    MessageItem,
    OutputTextPart,
    TextPart,
)

__all__ = ["MAX_ENTRIES", "History"]

MAX_ENTRIES = 200  # entries kept for a resume (about 100 exchanges); older ones are dropped
_MAX_CALL_IDS = 1024  # call ids remembered as handled (a replayed old call is never run again)


@dataclass
class _Entry:
    kind: str  # "user" | "assistant" | "call" | "output"
    text: str | None = None
    call_id: str = ""
    name: str = ""


class History:
    """Conversation entries in order, keyed so repeats and late transcripts update in place."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._call_ids: dict[str, None] = {}  # insertion-ordered, bounded

    def reserve(self, item_id: str, role: str) -> None:
        """Keep a place for a message whose text arrives later."""
        self._add(f"item:{item_id}", _Entry(kind=role))

    def set_text(self, item_id: str, role: str, text: str) -> None:
        """Record (or replace) the text of a message."""
        entry = self._entries.get(f"item:{item_id}") or self._add(f"item:{item_id}",
                                                                  _Entry(kind=role))
        entry.text = text

    def add_call(self, call_id: str, name: str, arguments: str) -> None:
        """Record a function call the model made (and agentrun answers)."""
        key, entry = f"call:{call_id}", _Entry("call", arguments, call_id, name)
        if key in self._entries:
            self._entries[key] = entry  # in place: the call keeps its turn in the history
        else:
            self._add(key, entry)
        self._call_ids.pop(call_id, None)
        self._call_ids[call_id] = None
        while len(self._call_ids) > _MAX_CALL_IDS:
            del self._call_ids[next(iter(self._call_ids))]

    def has_call(self, call_id: str) -> bool:
        """True when the call was already handled (run, answered or restored)."""
        return call_id in self._call_ids

    def add_output(self, call_id: str, output: str) -> None:
        """Record the output sent for a call (dropped with its call, once that is old)."""
        if f"call:{call_id}" in self._entries:
            self._entries[f"output:{call_id}"] = _Entry("output", output, call_id)

    def __len__(self) -> int:
        return len(self._entries)

    def _add(self, key: str, entry: _Entry) -> _Entry:
        """Append ``entry`` (or keep the one already there), dropping the oldest beyond the
        limit: a call goes with its output, so a resume never restores an orphan output."""
        kept = self._entries.setdefault(key, entry)
        while len(self._entries) > MAX_ENTRIES:
            oldest = self._entries.pop(next(iter(self._entries)))
            if oldest.kind == "call":
                self._entries.pop(f"output:{oldest.call_id}", None)
        return kept

    def restore_events(self, assistant_part: str) -> list[ConversationItemCreate]:
        """The ``conversation.item.create`` events that rebuild the conversation on a new server.

        Args:
            assistant_part: the dialect's content-part type for assistant text.

        Returns:
            One event per known entry, in order (fresh item ids; empty texts skipped).
        """
        events = []
        for entry in self._entries.values():
            item: FunctionCallItem | FunctionCallOutputItem | MessageItem
            if entry.kind == "call":
                item = FunctionCallItem(call_id=entry.call_id, name=entry.name,
                                        arguments=entry.text or "")
            elif entry.kind == "output":
                item = FunctionCallOutputItem(call_id=entry.call_id, output=entry.text or "")
            elif not entry.text:
                continue
            elif entry.kind == "user":
                item = MessageItem(role="user", content=[InputTextPart(text=entry.text)])
            else:
                part = TextPart(text=entry.text) if assistant_part == "text" \
                    else OutputTextPart(text=entry.text)
                item = MessageItem(role="assistant", content=[part])
            events.append(ConversationItemCreate(item=item))
        return events
