"""The public surface of agentrun.tools is exactly its __all__."""

from __future__ import annotations

import agentrun.tools


def test_exports() -> None:
    assert sorted(agentrun.tools.__all__) == [
        "BUILTIN_TOOLS", "DEFAULT_TIMEOUT", "ENTRY_POINT_GROUP", "InstalledTool",
        "MAX_OUTPUT_CHARS", "Tool", "ToolConfigError", "ToolContext", "ToolRegistry",
        "ToolResult", "installed_tools",
    ]
    for name in agentrun.tools.__all__:
        assert getattr(agentrun.tools, name) is not None
