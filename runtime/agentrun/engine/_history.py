"""The conversation so far, kept to restore it after a reconnect (issue: resume).

Entries are kept in conversation order: user texts and transcripts, agent transcripts,
function calls and their outputs. A slot can be reserved when an item appears and filled when
its transcript arrives, so a late transcript keeps its place. Incomplete entries (an agent reply
cut by the drop, a call without output) are restored only as far as they are known.
Imports only ``agentrun.protocol``.
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

__all__ = ["History"]


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

    def reserve(self, item_id: str, role: str) -> None:
        """Keep a place for a message whose text arrives later."""
        self._entries.setdefault(f"item:{item_id}", _Entry(kind=role))

    def set_text(self, item_id: str, role: str, text: str) -> None:
        """Record (or replace) the text of a message."""
        entry = self._entries.setdefault(f"item:{item_id}", _Entry(kind=role))
        entry.text = text

    def add_call(self, call_id: str, name: str, arguments: str) -> None:
        """Record a function call the model made (and agentrun answers)."""
        self._entries[f"call:{call_id}"] = _Entry("call", arguments, call_id, name)

    def has_call(self, call_id: str) -> bool:
        """True when the call was already handled (run, answered or restored)."""
        return f"call:{call_id}" in self._entries

    def add_output(self, call_id: str, output: str) -> None:
        """Record the output sent for a call."""
        self._entries[f"output:{call_id}"] = _Entry("output", output, call_id)

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
