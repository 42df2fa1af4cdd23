"""The named state of a ``Conversation`` (shared by the core and its mixins).

Imports nothing of ours.
"""

from __future__ import annotations

import enum
from typing import Literal

__all__ = ["READY_STATES", "Reason", "State"]


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

Reason = Literal["user", "tools", "resume"]
"""Why a ``response.create`` is wanted; decides what an "already active" refusal means."""
