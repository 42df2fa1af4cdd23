"""What a running tool may know about its call: ``ToolContext``.

A tool asks for it by naming a parameter annotated ``ToolContext`` (or
``ToolContext[MyConfig]`` to declare the pydantic model its YAML ``config:`` block must match).
The runtime injects it; the model never sees that parameter. Imports nothing of ours.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

__all__ = ["ConfigT", "ToolContext"]

ConfigT = TypeVar("ConfigT")


@dataclass(frozen=True, slots=True)
class ToolContext(Generic[ConfigT]):
    """Everything a tool call may need besides the model's arguments.

    Annotate a parameter ``ctx: ToolContext[OrdersConfig]`` and agentrun validates the tool's
    YAML ``config:`` block against ``OrdersConfig`` when the agent loads (so ``agentrun check``
    reports a bad block at its line) and hands the validated instance to every call as
    ``ctx.config``. With a bare ``ToolContext`` the block arrives as a plain dict.

    Attributes:
        name: the tool name the model called (after any ``as:`` rename).
        config: the validated config model instance, or the raw dict without a model.
        variables: the call's variables (e.g. ``caller``, ``call_id``); read-only.
        call_id: the id of this function call, as the model sent it.
        logger: a logger named ``agentrun.tools.<name>``; use it instead of print. Its
            records reach the operator (stderr with ``-v``) and the call record.
        state: a dict shared by every tool of one conversation (e.g. a cart being built).
        abandoned: set when agentrun stops waiting for this call: it timed out, or the call
            ended. The model has then been told the call failed (or the caller is gone), so a
            tool with side effects should check ``ctx.abandoned.is_set()`` before committing
            one, and can sleep with ``ctx.abandoned.wait(seconds)`` to wake up early. A plain
            (synchronous) function cannot be stopped: it runs on in a daemon thread that never
            keeps the process alive, and its result is dropped.
        call: facts about the call, read-only: ``caller`` (the caller's number or address),
            ``id`` (the channel's call id, e.g. Twilio's CallSid) and ``channel`` (``twilio``,
            ``console``…); empty when the call has none (a typed console call has no caller).
    """

    name: str
    config: ConfigT
    variables: Mapping[str, str] = field(default_factory=dict)
    call_id: str = ""
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("agentrun.tools"))
    state: dict[str, Any] = field(default_factory=dict)
    abandoned: threading.Event = field(default_factory=threading.Event, repr=False)
    call: Mapping[str, str] = field(default_factory=dict)
