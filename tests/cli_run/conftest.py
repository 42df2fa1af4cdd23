"""Fixtures for running the real ``agentrun`` CLI against a simulator over loopback."""

from __future__ import annotations

import asyncio
import os
import pathlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from agentrun.sim import Scenario, Simulator

AGENTRUN = [sys.executable, "-m", "agentrun"]


class SimThread:
    """A simulator on its own event loop in a thread, so a CLI subprocess can talk to it."""

    def __init__(self, scenario: dict[str, Any] | None, api_key: str | None) -> None:
        self.sim = Simulator(Scenario.load(scenario), api_key=api_key)
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.sim:
            self._started.set()
            await self._stop.wait()

    def __enter__(self) -> Simulator:
        self._thread.start()
        if not self._started.wait(10):
            raise RuntimeError("the simulator did not start")
        return self.sim

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture
def simulator() -> Any:
    """``with simulator(scenario, api_key=None) as sim:`` runs a simulator in a thread."""
    return lambda scenario=None, api_key=None: SimThread(scenario, api_key)


@pytest.fixture
def cli_env(tmp_path: pathlib.Path) -> dict[str, str]:
    """An environment without an API key and with a private HOME (plugin data goes there)."""
    env = {k: v for k, v in os.environ.items() if k not in ("XAI_API_KEY",)}
    env["HOME"] = str(tmp_path / "home")
    env["XDG_DATA_HOME"] = str(tmp_path / "home" / ".local" / "share")
    env["PYTHONWARNINGS"] = "ignore"
    return env


@pytest.fixture
def agentrun(cli_env: dict[str, str]) -> Any:
    """Run the CLI: ``agentrun(*args, input=..., env_extra=...)`` -> CompletedProcess."""
    def run(*args: str, input: str = "", env_extra: dict[str, str] | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess[str]:
        env = {**cli_env, **(env_extra or {})}
        return subprocess.run([*AGENTRUN, *args], input=input, capture_output=True, text=True,
                              env=env, timeout=timeout, check=False)
    return run


@pytest.fixture
def repo_root() -> Iterator[pathlib.Path]:
    yield pathlib.Path(__file__).resolve().parents[2]
