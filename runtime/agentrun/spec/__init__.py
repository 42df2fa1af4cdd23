"""agentrun.spec: the agent file — YAML text → validated :class:`AgentSpec`.

Owns loading (safe YAML with FILE:LINE:COL errors), validation (pydantic models, the one source of
truth), instruction templates (sandboxed Jinja2) and the JSON Schema / Markdown reference.
Imports nothing of agentrun beyond ``agentrun.errors``; every other package builds on this one.
"""

from agentrun._secrets import redact, redact_data, secret_values
from agentrun.spec._fields import BUILTIN_TOOLS, RESERVED_FUNCTION_NAMES, VOICES
from agentrun.spec._inspect import SpecReport, inspect_spec
from agentrun.spec._load import load_spec
from agentrun.spec._models import (
    AgentSpec,
    Audio,
    AudioInput,
    AudioOutput,
    CustomVoice,
    HttpCall,
    HttpResponse,
    ManualTurns,
    McpServer,
    ServerVad,
    ToolArgument,
    ToolRef,
    Transcription,
    Variable,
)
from agentrun.spec._render import render_greeting, render_instructions, trial_render
from agentrun.spec._schema import json_schema, markdown_reference
from agentrun.spec._tool_templates import Raw, render_tool_template
from agentrun.spec._values import variable_values

__all__ = [
    "BUILTIN_TOOLS",
    "RESERVED_FUNCTION_NAMES",
    "VOICES",
    "AgentSpec",
    "Audio",
    "AudioInput",
    "AudioOutput",
    "CustomVoice",
    "HttpCall",
    "HttpResponse",
    "ManualTurns",
    "McpServer",
    "Raw",
    "ServerVad",
    "SpecReport",
    "ToolArgument",
    "ToolRef",
    "Transcription",
    "Variable",
    "inspect_spec",
    "json_schema",
    "load_spec",
    "markdown_reference",
    "redact",
    "redact_data",
    "render_greeting",
    "render_instructions",
    "render_tool_template",
    "secret_values",
    "trial_render",
    "variable_values",
]
