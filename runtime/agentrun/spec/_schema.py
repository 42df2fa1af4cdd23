"""JSON Schema and Markdown reference of the agent file, both generated from the models."""

from __future__ import annotations

from typing import Any

__all__ = ["json_schema", "markdown_reference"]


def json_schema() -> dict[str, Any]:
    """The JSON Schema of an agent file (what ``agentrun schema`` prints)."""
    from agentrun.spec._models import AgentSpec

    schema = AgentSpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "agentrun agent file", **{k: v for k, v in schema.items() if k != "title"}}


def markdown_reference() -> str:
    """The YAML reference (docs/agent-file.md)."""
    return ""
