"""Warnings for plugin authors and agent authors: a tool that works but serves the model badly.

A tool without a description leaves the model guessing when to call it; a parameter without a
type hint becomes ``{}`` in the schema, so the model is not told what to send. Neither stops an
agent; ``agentrun tools`` and ``agentrun check`` say so, with the fix. Imports ``_schema`` only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentrun.tools._schema import FunctionInfo

__all__ = ["tool_advice"]


def tool_advice(name: str, description: str, info: FunctionInfo) -> list[tuple[str, str]]:
    """What could be better about one tool, as ``(message, hint)`` pairs.

    Args:
        name: the tool's name (as the model sees it, or qualified when that is clearer).
        description: the description the model gets (the docstring summary, or the agent
            file's ``description:``).
        info: what was read from the function.

    Returns:
        One pair per problem; empty for a well-described tool.
    """
    advice: list[tuple[str, str]] = []
    if not description.strip():
        advice.append((f"tool '{name}' has no description, so the model has to guess when to "
                       "use it", "give the function a docstring, or write description: for it "
                       "in the agent file"))
    for param in info.untyped:
        advice.append((f"tool '{name}': parameter '{param}' has no type hint, so the model is "
                       "not told what to send", f"annotate it in the plugin, e.g. {param}: str"))
    return advice
