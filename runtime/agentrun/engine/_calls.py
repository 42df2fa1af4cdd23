"""Function-call bookkeeping for ``Conversation`` (grok-realtime.md §3.3, §7.9, §7.10).

A call is tracked from its ``function_call`` item (deduped by ``call_id``), gets its arguments
from ``…arguments.done``, and its output from the tool runner. Calls are grouped by the response
that made them: a group is flushed (all outputs, then one ``response.create``) once that response
is done and every call in it has an output. Pure data; no I/O. Imports nothing of ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Call", "CallBook"]

_RECENT_RESPONSES = 256  # late items and arguments come within a response or two


@dataclass
class Call:
    """One function call the model made.

    Attributes:
        call_id: the model's id for the call.
        name: the function name.
        response_id: the response that made it ("" when unknown: treated as already done).
        arguments: the raw JSON text, once ``…arguments.done`` arrived.
        output: the text for ``function_call_output``, once known.
        started: when ``RunTool`` was emitted (for tool latency), or None (not run yet).
        item_id: the ``function_call`` item's id ("" when unknown).
        item_events: the event types that brought its item (``response.output_item.added``,
            ``conversation.item.added``).
    """

    call_id: str
    name: str
    response_id: str
    arguments: str | None = None
    output: str | None = None
    started: float | None = None
    item_id: str = ""
    item_events: set[str] = field(default_factory=set)


class CallBook:
    """The calls not yet answered, in the order the model made them."""

    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}
        self._done_responses: dict[str, None] = {}  # recent ones, in order (an ordered set)

    def get(self, call_id: str) -> Call | None:
        """The tracked call, or None."""
        return self._calls.get(call_id)

    def track(self, call_id: str, name: str, response_id: str, *, item_id: str = "",
              via: str = "") -> bool:
        """Track a call from its ``function_call`` item, brought by event type ``via``.

        The server normally announces one call item twice, in ``response.output_item.added``
        and ``conversation.item.added`` (grok-realtime.md §3.3): the second of that pair is
        expected, not a duplicate.

        Returns:
            False when the call was already tracked from an item of the same event type (a
            repeated item, §7.10); True otherwise.
        """
        call = self._calls.get(call_id)
        if call is None:
            call = self.add(call_id, name, response_id)
        elif via in call.item_events:
            return False
        call.item_id = call.item_id or item_id
        call.item_events.add(via)
        return True

    def call_id_of_item(self, item_id: str) -> str:
        """The call id of a tracked ``function_call`` item ("" when unknown)."""
        if not item_id:
            return ""
        return next((c.call_id for c in self._calls.values() if c.item_id == item_id), "")

    def waiting(self, response_id: str) -> list[Call]:
        """Calls of ``response_id`` with final arguments that were not run yet."""
        return [c for c in self._calls.values() if c.response_id == response_id
                and c.arguments is not None and c.started is None and c.output is None]

    def add(self, call_id: str, name: str, response_id: str) -> Call:
        """Track a call (replacing any call with the same id) and return it."""
        call = Call(call_id=call_id, name=name, response_id=response_id)
        self._calls[call_id] = call
        return call

    def forget(self, call_id: str) -> None:
        """Stop tracking a call that agentrun must not answer (a server-side built-in)."""
        self._calls.pop(call_id, None)

    def drop_not_run(self, response_id: str) -> list[Call]:
        """Forget the calls of an abandoned (stalled) response that were not run: without
        arguments, or held after a barge-in. Returns them."""
        dropped = [c for c in self._calls.values()
                   if c.response_id == response_id and c.started is None]
        for call in dropped:
            del self._calls[call.call_id]
        return dropped

    def response_done(self, response_id: str) -> None:
        """The response that made some calls is over: its group may now flush."""
        self._done_responses[response_id] = None
        if len(self._done_responses) > _RECENT_RESPONSES:  # a long call stays small
            del self._done_responses[next(iter(self._done_responses))]

    def connection_lost(self) -> list[Call]:
        """Every open response died with the connection; calls without arguments never finish.

        Returns:
            The calls dropped: the model never finished their arguments, or they were held
            for a response the caller interrupted.
        """
        # never run: no arguments yet, or held for an interrupted response (the server's
        # conversation is rebuilt from the history, which never had them)
        dropped = [c for c in self._calls.values() if c.arguments is None or c.started is None]
        for call in dropped:
            del self._calls[call.call_id]
        self._done_responses.update(dict.fromkeys(c.response_id for c in self._calls.values()))
        return dropped

    def take_ready(self) -> list[Call]:
        """Remove and return the calls of every group that is complete, in order.

        A group is complete when its response is done and each of its calls has an output.
        """
        groups: dict[str, list[Call]] = {}
        for call in self._calls.values():
            groups.setdefault(call.response_id, []).append(call)
        ready = [
            call
            for rid, calls in groups.items()
            if (not rid or rid in self._done_responses)
            and all(c.output is not None for c in calls)
            for call in calls
        ]
        for call in ready:
            del self._calls[call.call_id]
        # Done responses are kept (one id per response): an item or arguments that arrive
        # after their response.done must still count as done, or the call waits forever.
        return ready

    def stale(self, response_id: str) -> list[Call]:
        """Calls still without arguments although their response is over (or unknown)."""
        return [c for c in self._calls.values() if c.arguments is None
                and (not c.response_id or c.response_id == response_id
                     or c.response_id in self._done_responses)]

    @property
    def pending(self) -> bool:
        """True while a call waits for its output or its group, or for arguments that can
        still come (its response is active); stale calls never block the end of a call."""
        return any(c.arguments is not None
                   or (c.response_id and c.response_id not in self._done_responses)
                   for c in self._calls.values())

    @property
    def running(self) -> bool:
        """True while a tool runs (arguments known, no output yet)."""
        return any(c.arguments is not None and c.output is None for c in self._calls.values())
