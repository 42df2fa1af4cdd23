"""``print()`` in a tool never lands in the conversation's stdout: it becomes the tool's log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from agentrun.tools import Tool

if TYPE_CHECKING:
    from conftest import PluginDir

CHATTY = '''
import asyncio


def shout(text: str) -> str:
    """Shout the text back.

    Args:
        text: What to shout.
    """
    print("debug: shouting", text)
    print("no newline", end="")
    return text.upper()


async def whisper(text: str) -> str:
    """Whisper the text back.

    :param text: What to whisper.
    """
    print("debug: whispering", text)
    await asyncio.sleep(0)
    return text.lower()
'''


def test_a_call_with_prints_keeps_stdout_to_the_conversation(
        plugins: PluginDir, tmp_path: Path) -> None:
    plugins.add("acme-chatty", "1.0", {"shout": "acme_chatty:shout",
                                       "whisper": "acme_chatty:whisper"},
                {"acme_chatty": CHATTY})
    agent = tmp_path / "chatty.yaml"
    agent.write_text("name: Chatty\ninstructions: Echo.\ntools: [shout, whisper]\n")
    env = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(plugins.root), env.get("PYTHONPATH", "")])
    result = subprocess.run([sys.executable, "-m", "agentrun", str(agent), "-v"],
                            input="/call shout text=hi\n/call whisper text=HO\n",
                            capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "user: /call shout text=hi", "agent: (simulated) shout returned HI",
        "user: /call whisper text=HO", "agent: (simulated) whisper returned ho"]
    # the author still sees them, as the tool's log lines (-v), each once
    for line in ("print: debug: shouting hi", "print: no newline",
                 "print: debug: whispering HO"):
        assert result.stderr.count(line) == 1, result.stderr


def _printing_tool(name: str, delay: float) -> Tool:
    async def speak(word: str) -> str:
        """Say a word."""
        print(f"{name} starts {word}")
        await asyncio.sleep(delay)
        print(f"{name} ends {word}")
        return word

    def count(n: int) -> int:
        """Count."""
        for i in range(n):
            print(f"{name} {i}")
        return n

    return Tool.from_function(speak if delay else count, name=name)


def test_concurrent_calls_each_keep_their_own_prints(capsys: pytest.CaptureFixture[str]) -> None:
    loud, quiet, counter = (_printing_tool("loud", 0.05), _printing_tool("quiet", 0.01),
                            _printing_tool("counter", 0))

    async def main() -> list[tuple[str, ...]]:
        print("the conversation's own line")
        results = await asyncio.gather(loud.run('{"word": "a"}'), quiet.run('{"word": "b"}'),
                                       counter.run('{"n": 3}'))
        print("another line of the conversation")
        return [r.logs for r in results]

    logs = asyncio.run(main())
    assert capsys.readouterr().out == ("the conversation's own line\n"
                                       "another line of the conversation\n")
    assert logs == [
        ("INFO agentrun.tools.loud: print: loud starts a",
         "INFO agentrun.tools.loud: print: loud ends a"),
        ("INFO agentrun.tools.quiet: print: quiet starts b",
         "INFO agentrun.tools.quiet: print: quiet ends b"),
        tuple(f"INFO agentrun.tools.counter: print: counter {i}" for i in range(3)),
    ]
