"""CliRunner fixtures for the author commands (check, render, schema, new)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.cli import main
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def invoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``agentrun ARGS`` in-process from an empty working directory."""
    monkeypatch.chdir(tmp_path)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        result = CliRunner().invoke(main, list(args), env=env)
        assert "Traceback" not in result.output
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result
    return run
