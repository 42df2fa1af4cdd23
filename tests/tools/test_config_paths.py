"""Paths in a tool's config: block start at the agent file's folder, as instructions_file does."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from agentrun import ToolContext
from agentrun.agent import Agent
from agentrun.tools import Tool
from pydantic import BaseModel, FilePath


class Inner(BaseModel):
    cache: Path


class Settings(BaseModel):
    database: Path
    exports: list[Path] = []
    backup: Path | None = None
    template: FilePath | None = None
    inner: Inner | None = None
    label: str = ""  # not typed as a path: left as written


def configured(ctx: ToolContext[Settings]) -> str:
    """Report the settings."""
    return ctx.config.model_dump_json()


def test_every_path_typed_field_is_relative_to_the_agent_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "agents"
    (folder / "prompts").mkdir(parents=True)
    (folder / "prompts" / "t.md").write_text("x")
    tool = Tool.from_function(configured, config={
        "database": "data/orders.db", "exports": ["out/a.csv", "/srv/b.csv"],
        "backup": "~/backup.db", "template": "prompts/t.md", "inner": {"cache": "c"},
        "label": "data/not-a-path"}, config_base=folder)
    settings = tool.config
    assert settings.database == folder / "data" / "orders.db"
    assert settings.exports == [folder / "out" / "a.csv", Path("/srv/b.csv")]
    assert settings.backup == tmp_path / "home" / "backup.db"
    assert settings.template == folder / "prompts" / "t.md"
    assert settings.inner == Inner(cache=folder / "c")
    assert settings.label == "data/not-a-path"


def test_a_relative_database_is_next_to_the_agent_not_in_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # today's bug: the orders plugin silently created a new, empty database in the cwd
    folder = tmp_path / "agents"
    folder.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    (folder / "a.yaml").write_text("name: T\ninstructions: hi\ntools:\n"
                                   "  - {name: lookup_order, config: {database: orders.db}}\n")
    agent = Agent.load(folder / "a.yaml")
    result = asyncio.run(agent.tools.call("lookup_order", json.dumps({"order_id": "1234"}),
                                          call_id="c1"))
    assert result.ok, result.output
    assert json.loads(result.output)["found"] is True
    assert (folder / "orders.db").is_file()
    assert not (elsewhere / "orders.db").exists()
