"""What a running tool may know about its call: ``ToolContext``.

A tool asks for it by naming a parameter annotated ``ToolContext`` (or
``ToolContext[MyConfig]`` to declare the pydantic model its YAML ``config:`` block must match).
The runtime injects it; the model never sees that parameter. Imports nothing of ours.
"""

from __future__ import annotations

import logging
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
        logger: a logger named ``agentrun.tools.<name>``; use it instead of print.
        state: a dict shared by every tool of one conversation (e.g. a cart being built).
    """

    name: str
    config: ConfigT
    variables: Mapping[str, str] = field(default_factory=dict)
    call_id: str = ""
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("agentrun.tools"))
    state: dict[str, Any] = field(default_factory=dict)
