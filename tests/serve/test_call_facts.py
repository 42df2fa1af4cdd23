"""The caller's number and the call id reach tools (``ToolContext.call``); check explains phone
audio."""

from __future__ import annotations

import asyncio
import json
import pathlib
import subprocess
import sys

from agentrun import ToolContext
from agentrun.agent import Agent
from agentrun.io import NullEndpoint
from agentrun.spec import load_spec
from agentrun.tools import ToolRegistry
from serve_harness import SimThread


def whoami(ctx: ToolContext) -> dict[str, str]:
    """Who is calling, as the runtime knows it."""
    return dict(ctx.call)


def test_a_tool_sees_the_callers_number_the_call_id_and_the_channel(
        tmp_path: pathlib.Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text("name: Desk\ninstructions: Greet the caller.\n")
    agent = Agent(load_spec(path), ToolRegistry.from_functions(whoami), {})
    caller = NullEndpoint(["/call whoami"])
    with SimThread() as sim:
        result = asyncio.run(agent.run(caller, url=sim.url, channel="twilio",
                                       call={"caller": "+4930123456", "id": "CA77"}))
    assert result.exit_code == 0
    (done,) = caller.tool_calls
    assert done.ok
    assert json.loads(done.output) == {"caller": "+4930123456", "id": "CA77",
                                       "channel": "twilio"}


def test_phone_calls_are_mulaw_both_ways_whatever_the_file_says(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "desk.yaml"
    path.write_text("name: Desk\ninstructions: Hi.\naudio:\n  input: {format: pcm, rate: 16000}\n"
                    "  output: {format: pcma}\n")
    agent = Agent.load(path)
    audio = agent.config(phone=True).session.audio
    assert audio is not None
    assert audio.input.format.type == "audio/pcmu" and audio.output.format.type == "audio/pcmu"
    assert agent.config().session.audio.input.format.type == "audio/pcm"  # the laptop's
    checked = subprocess.run([sys.executable, "-m", "agentrun", "check", str(path)],
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0
    assert f"{path}: ok" in checked.stdout
    assert f"{path}:3:1: note: phone calls (agentrun serve) use μ-law 8 kHz both ways" \
        in checked.stderr
