"""Fixtures for conversation tests: an agent with real plugin tools and a CLI runner.

The agent uses the installed agentrun-orders plugin against a demo database in the test's own
folder, so unmocked tools run for real without touching the home directory.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.cli import main
from click.testing import CliRunner, Result

AGENT = """\
name: Orders Desk
instructions: You answer order questions for {{ company }}.
variables:
  company: Acme
greeting: Hi, this is Acme orders. How can I help?
tools:
  - name: lookup_order
    config: {database: orders.db}
  - name: create_ticket
    timeout: 2s
    config: {database: orders.db}
  - current_time
  - web_search
"""

Write = Callable[[str], Path]
Invoke = Callable[..., Result]


@pytest.fixture
def write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Write:
    """Write ``desk.yaml`` (the agent) and ``desk.test.yaml`` (the given text) in an empty
    working folder; returns the test file."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    (tmp_path / "desk.yaml").write_text(AGENT.replace("orders.db", str(tmp_path / "orders.db")),
                                        encoding="utf-8")

    def write_test(text: str, name: str = "desk.test.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path
    return write_test


@pytest.fixture
def invoke() -> Invoke:
    """Run ``agentrun ARGS`` in-process; no traceback may reach the user."""
    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        result = CliRunner().invoke(main, list(args), env=env)
        assert "Traceback" not in result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return run
