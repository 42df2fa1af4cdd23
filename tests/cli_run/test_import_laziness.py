"""Start-up cost: each command imports only what it uses (cold start is part of the product)."""

from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
from typing import Any

import pytest

AGENT = "name: Lazy\ninstructions: Be brief.\nturn_detection: {type: manual}\n" \
        "tools: [current_time, web_search]\n"
WATCHED = ("asyncio", "jinja2", "agentrun.sim", "importlib_metadata", "websockets", "numpy", "soxr",
           "soundfile", "sounddevice")
RUN = """
import sys
from agentrun.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    print(sorted(m for m in {watched!r} if m in sys.modules), file=sys.stderr)
"""


def loaded(args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run([sys.executable, "-c", RUN.format(watched=WATCHED), *args],
                          input="", capture_output=True, text=True, env=env, timeout=30,
                          check=False)
    return ast.literal_eval(done.stderr.strip().splitlines()[-1])  # the list printed last


@pytest.fixture
def agent(tmp_path: pathlib.Path) -> str:
    path = tmp_path / "lazy.yaml"
    path.write_text(AGENT, encoding="utf-8")
    return str(path)


def test_dry_run_imports_no_asyncio_jinja_simulator_or_websockets(
        agent: str, cli_env: dict[str, str]) -> None:
    assert loaded([agent, "--dry-run"], cli_env) == []


def test_check_imports_no_asyncio_jinja_simulator_or_websockets(
        agent: str, cli_env: dict[str, str]) -> None:
    assert loaded(["check", agent], cli_env) == []


def test_a_url_run_never_loads_the_simulator_or_jinja(
        agent: str, cli_env: dict[str, str], simulator: Any) -> None:
    with simulator() as sim:
        assert loaded([agent, "--text", "--url", sim.url], cli_env) == ["asyncio", "websockets"]
