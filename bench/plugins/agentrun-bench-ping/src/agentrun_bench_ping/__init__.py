"""The benchmark's trivial tool: it answers at once, so a round trip measures only the runtime."""

__all__ = ["ping"]


def ping() -> dict[str, bool]:
    """Answer at once.

    Returns:
        ``{"ok": true}``, the same output the floor and pipecat clients send.
    """
    return {"ok": True}
