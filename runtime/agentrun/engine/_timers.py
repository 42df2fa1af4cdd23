"""Named deadlines for ``Conversation``'s watchdogs (CONTRACTS §3.4).

The engine never reads a clock: each deadline is a monotonic time in seconds that the session
passed in as ``now``; ``Conversation.next_deadline`` is the earliest of them and
``Conversation.tick(now)`` fires the expired ones. Pure data; imports nothing of ours.
"""

from __future__ import annotations

__all__ = ["Timers"]


class Timers:
    """At most one deadline per name (``create``, ``stall``, ``turn``, ``configure``, ...)."""

    def __init__(self) -> None:
        self._due: dict[str, float] = {}
        self._next: float | None = None

    def set(self, name: str, when: float) -> None:
        """Arm (or re-arm) ``name`` to fire at ``when``."""
        self._due[name] = when
        if self._next is None or when < self._next:
            self._next = when
        elif len(self._due) > 1:
            self._next = min(self._due.values())
        else:
            self._next = when

    def clear(self, *names: str) -> None:
        """Disarm the named deadlines (unknown names are fine)."""
        changed = False
        for name in names:
            if self._due.pop(name, None) is not None:
                changed = True
        if changed:
            self._next = min(self._due.values()) if self._due else None

    def clear_all(self) -> None:
        """Disarm everything (a lost connection, the end of the call)."""
        self._due.clear()
        self._next = None

    def armed(self, name: str) -> bool:
        """True while ``name`` is armed."""
        return name in self._due

    @property
    def next(self) -> float | None:
        """The earliest deadline, or None when nothing is armed."""
        return self._next

    def pop_expired(self, now: float) -> list[str]:
        """Disarm and return the names due at ``now``, earliest first."""
        if self._next is None or now < self._next:
            return []
        due = sorted((when, name) for name, when in self._due.items() if when <= now)
        self.clear(*(name for _, name in due))
        return [name for _, name in due]
