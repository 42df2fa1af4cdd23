"""Base classes for wire models: strict where we send, tolerant where we receive.

Client models forbid unknown fields so a typo in agentrun fails in a test, not on the live
server. Server models ignore unknown fields because the live server adds fields without notice
(grok-realtime.md §4: "Unknown keys in server snapshots are ignored"). Every model defers
building its validator to its first use (``defer_build``): a session uses a few of the ~60 wire
models, and building all of them at import cost start-up time and memory. The model modules
(``_base``, ``_session``, ``_client_events``, ``_server_events``) deliberately have no
``from __future__ import annotations``: pydantic would compile and evaluate each of their ~240
annotation strings at class creation (~20 ms of start-up). Imports nothing of ours.
"""


import random

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ClientEventBase", "ClientModel", "ServerModel", "new_event_id", "new_item_id"]

# Ids must be unique, not secret: 122 random bits from a private generator (seeded from
# os.urandom, untouched by a plugin's random.seed) cost ~1 µs where uuid4() costs ~5 µs (a
# system call and a UUID object per id; three ids per tool call).
_bits = random.Random().getrandbits
_VERSION_4 = 0x0000_0000_0000_4000_8000_0000_0000_0000  # version 4, RFC 4122 variant
_KEEP = 0xFFFF_FFFF_FFFF_0FFF_3FFF_FFFF_FFFF_FFFF


def new_event_id() -> str:
    """A fresh client ``event_id``: a random (version 4) UUID string, as pipecat sends (§1)."""
    h = "%032x" % (_bits(128) & _KEEP | _VERSION_4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def new_item_id() -> str:
    """A fresh client item id (like ``uuid4().hex``: 32 hex chars, no prefix; §2 notes)."""
    return "%032x" % (_bits(128) & _KEEP | _VERSION_4)


class ClientModel(BaseModel):
    """A model we send: unknown fields are a bug in agentrun, so they are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, defer_build=True)


class ServerModel(BaseModel):
    """A model we receive: unknown fields are ignored, ``event_id`` is optional (§1)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)


class ClientEventBase(ClientModel):
    """Every client event carries a fresh ``event_id`` so server errors can point back at it."""

    event_id: str = Field(default_factory=new_event_id)
