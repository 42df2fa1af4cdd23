"""Helpers for spec tests: write an agent file into a temp dir and collect what the author sees."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.errors import SpecErrors
from agentrun.spec import AgentSpec, load_spec

MINIMAL = "name: T\ninstructions: hi\n"


@pytest.fixture
def agent_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp dir that is also the working dir, so messages name files as 'bad.yaml'."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def problems(agent_dir: Path) -> Callable[[str], list[str]]:
    """Write text to bad.yaml and return every problem line the author would read."""
    def run(text: str | bytes, name: str = "bad.yaml") -> list[str]:
        file = agent_dir / name
        if isinstance(text, bytes):
            file.write_bytes(text)
        else:
            file.write_text(text, encoding="utf-8")
        with pytest.raises(SpecErrors) as info:
            load_spec(name)
        return str(info.value).splitlines()
    return run


@pytest.fixture
def loaded(agent_dir: Path) -> Callable[[str], AgentSpec]:
    """Write text to good.yaml and load it (the test fails on any problem)."""
    def run(text: str, name: str = "good.yaml") -> AgentSpec:
        (agent_dir / name).write_text(text, encoding="utf-8")
        return load_spec(name)
    return run
