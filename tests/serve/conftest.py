"""Fixtures: the real service on uvicorn (127.0.0.1, own thread and loop), a simulator, speech.

The service runs exactly as deployed (uvicorn, httptools, real WebSockets); tests talk to it
over loopback like Twilio would, from their own event loop.
"""

from __future__ import annotations

import contextlib
import pathlib
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from agentrun.serve import ServeOptions
from agentrun.sim import Simulator
from serve_harness import LiveServer, SimThread

LINE_AGENT = """\
name: Test Line
instructions: |
  You answer the phone for Acme. The caller's number is {{ call.caller }}; call {{ call.id }}.
greeting: Hello, thanks for calling Acme. How can I help you today?
turn_detection: {type: server_vad, silence_duration_ms: 300}
audio:
  input: {format: pcm, rate: 24000}
  output: {format: pcm, rate: 24000}
"""

BROKEN_AGENT = """\
name: Broken
voice: Aria
instructions: Hi.
"""


@pytest.fixture
def agents(tmp_path: pathlib.Path) -> pathlib.Path:
    """A folder with one good agent (``line``) and one broken file (``broken``)."""
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "line.yaml").write_text(LINE_AGENT)
    (folder / "broken.yaml").write_text(BROKEN_AGENT)
    return folder


@pytest.fixture
def served(agents: pathlib.Path) -> Iterator[Any]:
    """Factory: ``with served(**options) as (server, sim):`` the service on a simulator."""

    @contextlib.contextmanager
    def start(scenario: dict[str, Any] | None = None, channels: Any = None, **options: Any
              ) -> Iterator[tuple[LiveServer, Simulator]]:
        options.setdefault("reload", False)
        with SimThread(scenario) as sim, \
                LiveServer(ServeOptions(agents, url=sim.url, **options),
                           channels=channels) as server:
            yield server, sim

    return start


@pytest.fixture(scope="session")
def speech_ulaw(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A spoken question (espeak-ng), as μ-law 8 kHz: what a phone caller sends."""
    from agentrun.audio import wav_to_session

    wav = tmp_path_factory.mktemp("speech") / "question.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), "Hello, where is my order number one two "
                    "three four?"], check=True)
    return wav_to_session(str(wav), encoding="pcmu", rate=8000)
