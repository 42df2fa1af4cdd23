"""agentrun: run a voice agent described in YAML on the xAI Grok Voice Agent API.

The public surface, for plugin authors and embedders, is re-exported here; every other module is
an implementation detail. Names load on first use (PEP 562), so ``import agentrun`` (which every
``agentrun`` command and every plugin does) costs no pydantic, YAML or Jinja2 import.

    agent = agentrun.Agent.load("agents/support.yaml")   # SpecErrors: every problem at once
    result = await agent.run(agentrun.io.TextConsole())  # one call: Grok with XAI_API_KEY,
                                                         # else the embedded simulator
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentrun._lazy import lazy_exports
from agentrun.errors import (
    AgentrunError,
    ServiceError,
    SpecError,
    SpecErrors,
    ToolError,
    TransportError,
)

if TYPE_CHECKING:
    from agentrun.agent import Agent
    from agentrun.engine import Conversation, ConversationConfig
    from agentrun.engine.session import Session, SessionResult
    from agentrun.sim import Scenario, Simulator
    from agentrun.spec import AgentSpec, ToolRef, load_spec, render_instructions
    from agentrun.tools import ToolContext, ToolRegistry, ToolResult

__all__ = [
    "Agent",
    "AgentSpec",
    "AgentrunError",
    "Conversation",
    "ConversationConfig",
    "Scenario",
    "ServiceError",
    "Session",
    "SessionResult",
    "Simulator",
    "SpecError",
    "SpecErrors",
    "ToolContext",
    "ToolError",
    "ToolRef",
    "ToolRegistry",
    "ToolResult",
    "TransportError",
    "load_spec",
    "render_instructions",
]
__version__ = "0.1.0"

_HOMES = {
    "Agent": "agentrun.agent",
    "AgentSpec": "agentrun.spec",
    "ToolRef": "agentrun.spec",
    "load_spec": "agentrun.spec",
    "render_instructions": "agentrun.spec",
    "ToolContext": "agentrun.tools",
    "ToolRegistry": "agentrun.tools",
    "ToolResult": "agentrun.tools",
    "Conversation": "agentrun.engine",
    "ConversationConfig": "agentrun.engine",
    "Session": "agentrun.engine.session",
    "SessionResult": "agentrun.engine.session",
    "Scenario": "agentrun.sim",
    "Simulator": "agentrun.sim",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES)
