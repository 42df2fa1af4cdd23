"""`agentrun serve agents/`: the folder the README serves holds test files beside the agents."""

from __future__ import annotations

import pathlib

from agentrun.serve._registry import AgentRegistry

REPO = pathlib.Path(__file__).resolve().parents[2]


def test_test_files_beside_the_agents_are_not_refused_as_broken_agents(
        tmp_path: pathlib.Path) -> None:
    # `agentrun serve agents/` printed "not serving agents/support.test.yaml: it fails its
    # check" and a dozen 'unknown key' lines for every test file the README tells authors to keep
    (tmp_path / "desk.yaml").write_text("name: Desk\ninstructions: Help.\n")
    (tmp_path / "desk.test.yaml").write_text(
        "agent: desk.yaml\nscenarios:\n  - name: greets\n    expect: {greeting: hi}\n")
    (tmp_path / "other.test.yml").write_text("agent: desk.yaml\n")
    registry = AgentRegistry(tmp_path)
    assert registry.files() == [tmp_path / "desk.yaml"]
    events = registry.load_all()
    assert [(e.stem, e.outcome) for e in events] == [("desk", "added")]
    assert registry.refused == {}
    assert registry.reload([tmp_path / "desk.test.yaml"]) == []  # an edited test: nothing


def test_the_readme_folder_serves_every_example_agent_and_refuses_nothing() -> None:
    registry = AgentRegistry(REPO / "agents")
    registry.load_all()
    assert sorted(registry.agents) == ["booking", "clinic", "reservas", "support"]
    assert registry.refused == {}
