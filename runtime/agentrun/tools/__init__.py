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

from typing import TYPE_CHECKING

from agentrun._lazy import lazy_exports

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
    "ToolContext": "agentrun.tools._context",
    "BUILTIN_TOOLS": "agentrun.tools._discovery",
    "ENTRY_POINT_GROUP": "agentrun.tools._discovery",
    "InstalledTool": "agentrun.tools._discovery",
    "installed_tools": "agentrun.tools._discovery",
    "ToolRegistry": "agentrun.tools._registry",
    "MAX_OUTPUT_CHARS": "agentrun.tools._result",
    "ToolResult": "agentrun.tools._result",
    "DEFAULT_TIMEOUT": "agentrun.tools._tool",
    "Tool": "agentrun.tools._tool",
    "ToolConfigError": "agentrun.tools._tool",
}


__getattr__, __dir__ = lazy_exports(__name__, globals(), _HOMES)
