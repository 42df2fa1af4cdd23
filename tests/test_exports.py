"""The public surface: ``agentrun.__all__`` is exactly what embedders and plugin authors use."""

from __future__ import annotations

import subprocess
import sys

import agentrun

PUBLIC = {
    "AgentSpec", "AgentrunError", "Conversation", "ConversationConfig", "Scenario",
    "ServiceError", "Session", "SessionResult", "Simulator", "SpecError", "SpecErrors",
    "ToolContext", "ToolError", "ToolRef", "ToolRegistry", "ToolResult", "TransportError",
    "load_spec", "render_instructions",
}


def test_all_is_exactly_the_public_names() -> None:
    assert set(agentrun.__all__) == PUBLIC


def test_every_public_name_resolves_to_its_home_object() -> None:
    from agentrun.engine.session import Session
    from agentrun.spec import load_spec
    from agentrun.tools import ToolContext

    for name in agentrun.__all__:
        assert getattr(agentrun, name) is not None, name
    assert agentrun.Session is Session
    assert agentrun.load_spec is load_spec
    assert agentrun.ToolContext is ToolContext


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        agentrun.NotAThing  # noqa: B018
    except AttributeError as exc:
        assert "NotAThing" in str(exc)
    else:
        raise AssertionError("agentrun.NotAThing resolved")


def test_importing_agentrun_loads_no_heavy_dependency() -> None:
    code = ("import sys, agentrun; "
            "print(sorted(m for m in ('pydantic', 'yaml', 'jinja2', 'websockets') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
