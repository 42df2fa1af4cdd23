"""The public surface: ``agentrun.__all__`` is exactly what embedders and plugin authors use."""

from __future__ import annotations

import subprocess
import sys

import agentrun

PUBLIC = {
    "Agent", "AgentSpec", "AgentrunError", "Conversation", "ConversationConfig", "Scenario",
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


def test_the_distribution_is_agentrun_voice_and_plugins_depend_on_it() -> None:
    """`agentrun` on the public index is an unrelated package: ours is `agentrun-voice`, and a
    plugin that depends on `agentrun` would pull that other package in (issue 8)."""
    import pathlib
    import tomllib
    from importlib import metadata

    assert metadata.distribution("agentrun-voice").version == agentrun.__version__
    root = pathlib.Path(__file__).resolve().parents[1]
    for pyproject in [root / "pyproject.toml", *root.glob("plugins/*/pyproject.toml"),
                      *root.glob("bench/plugins/*/pyproject.toml")]:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
        names = [dep.split(">")[0].split("=")[0].split("[")[0].strip()
                 for dep in project.get("dependencies", [])]
        assert "agentrun" not in names, pyproject
        assert project["name"] != "agentrun", pyproject


def test_version_option_names_the_installed_distribution() -> None:
    done = subprocess.run([sys.executable, "-m", "agentrun", "--version"], capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert agentrun.__version__ in done.stdout
