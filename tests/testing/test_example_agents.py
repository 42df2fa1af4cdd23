"""The example agents' conversation tests pass: CI runs them here, as ``agentrun test agents``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Invoke = Callable[..., Result]
REPO = Path(__file__).resolve().parents[2]


def test_every_example_agent_has_a_test_file() -> None:
    agents = sorted(p.name.removesuffix(".yaml") for p in (REPO / "agents").glob("*.yaml")
                    if not p.name.endswith(".test.yaml"))
    tests = sorted(p.name.removesuffix(".test.yaml")
                   for p in (REPO / "agents").glob("*.test.yaml"))
    assert agents and tests == agents


def test_the_example_agents_tests_pass(invoke: Invoke, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # the orders plugin keeps its demo database under ~: a fresh one, not the user's
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.chdir(REPO)
    result = invoke("test", "agents", "--junit", str(tmp_path / "agents.xml"))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(line.startswith("PASS  agents/") for line in lines[:-1]), result.stdout
    assert len(lines) - 1 >= 8
    assert lines[-1].startswith(f"{len(lines) - 1} passed in ")
    assert (tmp_path / "agents.xml").is_file()


def test_serving_the_agents_folder_serves_agents_not_their_tests() -> None:
    from agentrun.serve import AgentRegistry

    files = [path.name for path in AgentRegistry(REPO / "agents").files()]
    assert "support.yaml" in files
    assert not [name for name in files if name.endswith(".test.yaml")]
