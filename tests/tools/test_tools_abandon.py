"""A timed-out synchronous tool never keeps the process alive, and can notice it was abandoned
(issue 9, bug 4)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
import time

from agentrun.tools import Tool, ToolContext, ToolRegistry


def test_a_timed_out_tool_is_told_it_was_abandoned_before_its_side_effect() -> None:
    effects: list[str] = []
    finished = threading.Event()

    def book(ctx: ToolContext) -> str:
        """Book something slowly."""
        ctx.abandoned.wait(5)  # wakes as soon as agentrun stops waiting
        if not ctx.abandoned.is_set():
            effects.append("booked")
        finished.set()
        return "booked"

    tool = Tool.from_function(book, timeout=0.2)
    result = asyncio.run(ToolRegistry([tool]).call("book", "{}", call_id="c1"))
    assert json.loads(result.output) == {"error": "book timed out after 0.2 s"}
    assert finished.wait(5)
    assert effects == []  # the model was told it failed: nothing was done


def test_a_cancelled_call_sets_the_flag_too() -> None:
    seen = threading.Event()

    def wait(ctx: ToolContext) -> str:
        """Wait for the call to end."""
        if ctx.abandoned.wait(5):
            seen.set()
        return "x"

    async def main() -> None:
        task = asyncio.create_task(ToolRegistry([Tool.from_function(wait)]).call(
            "wait", "{}", call_id="c1"))
        await asyncio.sleep(0.1)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    asyncio.run(main())
    assert seen.wait(5)


def test_a_hung_synchronous_tool_does_not_keep_the_process_alive() -> None:
    script = textwrap.dedent("""
        import asyncio, time
        from agentrun.tools import Tool, ToolRegistry

        def hang() -> str:
            \"\"\"Never returns.\"\"\"
            time.sleep(3600)
            return "never"

        result = asyncio.run(ToolRegistry([Tool.from_function(hang, timeout=0.3)]).call(
            "hang", "{}", call_id="c1"))
        print(result.output, flush=True)
    """)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"error": "hang timed out after 0.3 s"}
    assert time.monotonic() - start < 30  # not the hour the thread would take
