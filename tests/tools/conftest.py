"""Fixtures for tools tests: agent files on disk and plugins installed on the fly.

``plugins`` writes real ``*.dist-info`` directories (METADATA + entry_points.txt) and modules
into a temp dir put on ``sys.path``: importlib-metadata finds them exactly as it finds a
pip-installed distribution, without network or a build.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agentrun.spec import AgentSpec, load_spec
from tools_fixtures import SERVERS, server_module


class PluginDir:
    """A directory of fake-but-real installed distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(self, distribution: str, version: str, entry_points: dict[str, str],
            modules: dict[str, str] | None = None) -> None:
        """Install ``distribution`` with ``entry_points`` (name → ``module:attr``)."""
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[agentrun.tools]\n{lines}")
        for module, source in (modules or {}).items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        importlib.invalidate_caches()


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PluginDir]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    plugin_dir = PluginDir(root)
    yield plugin_dir
    for module in plugin_dir.modules:
        sys.modules.pop(module, None)


@pytest.fixture
def agent(tmp_path: Path) -> Callable[[str], AgentSpec]:
    """Write an agent file whose ``tools:`` block is the given YAML, and load it."""

    def make(tools_yaml: str) -> AgentSpec:
        path = tmp_path / "agent.yaml"
        body = textwrap.indent(textwrap.dedent(tools_yaml).strip(), "  ")
        path.write_text(f"name: Test agent\ninstructions: Help the caller.\ntools:\n{body}\n")
        return load_spec(path)

    return make



@pytest.fixture
def clinic_api() -> Iterator[object]:
    """The clinic HTTP API on 127.0.0.1 (a free port) in a thread; ``.url``, ``.requests``."""
    module: object = server_module("clinic_api")
    with module.ClinicApi() as api:  # type: ignore[attr-defined]
        yield api


@pytest.fixture
def calendar_http() -> Iterator[str]:
    """tests/servers/calendar_mcp.py over Streamable HTTP on 127.0.0.1; yields its URL."""
    import subprocess

    process = subprocess.Popen([sys.executable, str(SERVERS / "calendar_mcp.py"), "--http", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        yield line.split()[-1]
    finally:
        process.terminate()
        process.wait(10)
