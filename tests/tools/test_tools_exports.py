"""The public surface of agentrun.tools is exactly its __all__."""

from __future__ import annotations

import subprocess
import sys

import agentrun.tools
import pytest


def test_exports() -> None:
    assert sorted(agentrun.tools.__all__) == [
        "BUILTIN_TOOLS", "DEFAULT_TIMEOUT", "ENTRY_POINT_GROUP", "InstalledTool",
        "MAX_OUTPUT_CHARS", "Tool", "ToolConfigError", "ToolContext", "ToolRegistry",
        "ToolResult", "installed_tools",
    ]
    for name in agentrun.tools.__all__:
        assert getattr(agentrun.tools, name) is not None


def test_tool_context_imports_without_pydantic_or_entry_points() -> None:
    code = ("import sys; from agentrun.tools import ToolContext; "
            "print('pydantic' in sys.modules, 'importlib_metadata' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["False", "False"]


def test_unknown_names_are_attribute_errors() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        agentrun.tools.Nope  # noqa: B018
