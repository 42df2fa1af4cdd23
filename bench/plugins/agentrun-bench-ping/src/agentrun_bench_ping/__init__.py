"""The benchmark's trivial tool: it answers at once, so a round trip measures only the runtime.

It is a coroutine, like the handler pipecat requires, so both runtimes run the same kind of tool
(agentrun would run a plain ``def`` tool in a worker thread).
"""

__all__ = ["ping"]


async def ping() -> dict[str, bool]:
    """Answer at once.

    Returns:
        ``{"ok": true}``, the same output the floor and pipecat clients send.
    """
    return {"ok": True}
