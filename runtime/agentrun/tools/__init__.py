"""Tools: plain Python functions an agent's model may call.

Plugins are found through the ``agentrun.tools`` entry-point group; a function's signature and
docstring become the JSON Schema the model sees; calls are validated, run (async awaited, sync in
a thread) under a timeout, and always end in an output for the model.

    registry = ToolRegistry.for_spec(spec)        # problems collected, never raised
    registry.function_schemas()                   # session.tools[] entries
    result = await registry.call("lookup_order", '{"order_id": "1234"}', call_id="c1")

Names load on first use (PEP 562), so ``from agentrun.tools import ToolContext`` (what plugins
and ``agentrun/__init__`` import) costs no pydantic and no entry-point scan.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentrun.tools._context import ToolContext
    from agentrun.tools._discovery import (
        BUILTIN_TOOLS,
        ENTRY_POINT_GROUP,
        InstalledTool,
        installed_tools,
    )
    from agentrun.tools._registry import ToolRegistry
    from agentrun.tools._result import MAX_OUTPUT_CHARS, ToolResult
    from agentrun.tools._tool import DEFAULT_TIMEOUT, Tool, ToolConfigError

__all__ = [
    "BUILTIN_TOOLS",
    "DEFAULT_TIMEOUT",
    "ENTRY_POINT_GROUP",
    "MAX_OUTPUT_CHARS",
    "InstalledTool",
    "Tool",
    "ToolConfigError",
    "ToolContext",
    "ToolRegistry",
    "ToolResult",
    "installed_tools",
]

_HOMES = {
    "ToolContext": "_context",
    "BUILTIN_TOOLS": "_discovery",
    "ENTRY_POINT_GROUP": "_discovery",
    "InstalledTool": "_discovery",
    "installed_tools": "_discovery",
    "ToolRegistry": "_registry",
    "MAX_OUTPUT_CHARS": "_result",
    "ToolResult": "_result",
    "DEFAULT_TIMEOUT": "_tool",
    "Tool": "_tool",
    "ToolConfigError": "_tool",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'agentrun.tools' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"agentrun.tools.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
