"""Function calls for ``ConversationCore``: when a call runs, and how its output goes back.

The rules (issue 9's audit of every path into ``RunTool``, grok-realtime.md §3.3, §7.9, §7.10):

* A call runs only with its final arguments: on ``…arguments.done``, or from a
  ``function_call`` item in ``response.done`` whose status says it is complete; never from
  deltas, never from an ``incomplete`` item (a cancelled response's partial arguments).
* Exactly once: a call id already run, answered or restored never runs again (duplicate items,
  repeated ``…arguments.done``, the echo of a restored call after a reconnect).
* Only while the server still expects its output: a call of a response the caller barged into
  waits for that response's ``response.done``, and runs only if the server reports the call
  complete; one it reports ``incomplete`` is dropped with a report line, never run.
* Server-side built-ins (§7.9) are never answered; an undeclared tool gets an error output at
  once, so the model never waits.

No I/O; imports only protocol and sibling engine modules.
"""

from __future__ import annotations

from typing import Any

from agentrun import protocol as wire
from agentrun.engine._calls import Call
from agentrun.engine._state import READY_STATES, State
from agentrun.engine.actions import Action, Report, RunTool, SendEvent

__all__ = ["CallHandling"]


class CallHandling:
    """Mixin of ``ConversationCore``: function calls and their outputs."""

    _state: State
    _response_id: str | None
    _muted: set[str]
    _unechoed: set[str]
    _calls: Any
    _history: Any
    _dialect: Any
    config: Any

    def _on_item_added(self, event: Any, now: float) -> list[Action]:
        item = event.item
        if item.type == "function_call" and item.call_id:
            if self._history.has_call(item.call_id):
                return []  # the echo of a call already handled, or of one we restored
            rid = getattr(event, "response_id", "") or self._response_id or ""
            if not self._calls.track(item.call_id, item.name or "", rid, item_id=item.id or "",
                                     via=event.type):  # §7.10: a repeat; §3.3: the pair is not
                return [Report("debug", f"duplicate item for call {item.call_id} ignored")]
        elif item.type == "function_call_output" and item.id:
            self._unechoed.discard(item.id)  # the server has added our output
        elif item.type == "message" and item.id:
            has_text = any(part.type == "input_text" for part in item.content or [])
            if item.role == "assistant" or (item.role == "user" and not has_text):
                self._history.reserve(item.id, item.role)  # its transcript fills it later
        return []

    def _on_arguments_done(self, event: wire.ResponseFunctionCallArgumentsDone,
                           now: float) -> list[Action]:
        call_id = event.call_id or self._calls.call_id_of_item(event.item_id or "")
        if not call_id:
            return [Report("warning", f"skipped a function call without call_id "
                                      f"({event.name or '?'}): its output could not be sent")]
        call = self._calls.get(call_id)
        if (call is not None and call.arguments is not None) or self._history.has_call(call_id):
            return [Report("debug", f"duplicate arguments for call {call_id} ignored")]
        name = event.name or (call.name if call else "")
        declared = name in self.config.function_names
        if not declared and (call is None or self._dialect.is_builtin_call(name)):
            # A server-side built-in (§7.9): the server runs it; answering it causes an error.
            if call is not None:
                self._calls.forget(call.call_id)
            return [Report("debug", f"server-side call {name!r} ({call_id}) not answered")]
        actions: list[Action] = []
        if call is None:
            call = self._calls.add(call_id, name, event.response_id or self._response_id or "")
            actions.append(Report("debug", f"call {call_id} ({name}) had no function_call "
                                           "item; running it because the tool is declared"))
        call.name, call.arguments = name, event.arguments
        if not declared:
            call.started = now
            self._history.add_call(call.call_id, name, event.arguments)
            call.output = _unknown_tool_output(name, self.config.function_names)
            actions.append(Report("warning", f"the model called unknown tool {name!r}"))
            return actions + self._flush_calls()
        if call.response_id in self._muted:
            # The caller barged into its response: run it only if the server keeps the call
            # (decided at that response's response.done, _settle_muted_calls).
            actions.append(Report("debug", f"call {call_id} ({name}) waits: its response was "
                                           "interrupted"))
            return actions
        return actions + self._run(call, now)

    def _run(self, call: Call, now: float) -> list[Action]:
        call.started = now
        self._history.add_call(call.call_id, call.name, call.arguments or "")
        return [RunTool(call.call_id, call.name, call.arguments or "")]

    def _settle_muted_calls(self, response: wire.Response, rid: str) -> list[Action]:
        """At the ``response.done`` of an interrupted response: run the calls the server kept,
        drop those it reports ``incomplete`` (it no longer expects their output)."""
        if rid not in self._muted:
            return []
        status = {item.call_id: item.status for item in response.output
                  if item.type == "function_call" and item.call_id}
        actions: list[Action] = []
        for call in self._calls.waiting(rid):
            if status.get(call.call_id) == "incomplete":
                self._calls.forget(call.call_id)
                actions.append(Report("info", f"call {call.call_id} ({call.name}) not run: the "
                                              "caller interrupted and the server dropped it"))
            else:
                actions += self._run(call, self._now)
        return actions

    def _settle_stale_calls(self, response: wire.Response, rid: str,
                            now: float) -> list[Action]:
        """Calls whose ``…arguments.done`` never came: take the arguments from the response's
        output when the item there is complete, else stop waiting (a call with no final
        arguments cannot run)."""
        actions: list[Action] = []
        finished = {item.call_id: item for item in response.output
                    if item.type == "function_call" and item.call_id and item.arguments
                    and item.status in (None, "completed")}
        for call in self._calls.stale(rid):
            item = finished.get(call.call_id)
            if item is not None:
                actions += self._on_arguments_done(wire.ResponseFunctionCallArgumentsDone(
                    type="response.function_call_arguments.done", call_id=call.call_id,
                    name=item.name or call.name, arguments=item.arguments or "",
                    response_id=rid), now)
            else:
                self._calls.forget(call.call_id)
                actions.append(Report("debug", f"call {call.call_id} ({call.name}) ended "
                                               "without final arguments; not run"))
        return actions

    def _flush_calls(self) -> list[Action]:
        """Answer every complete group: all outputs, then one ``response.create`` (§3.3)."""
        if self._state not in READY_STATES:
            return []  # sent after the session is (re)configured
        ready: list[Call] = self._calls.take_ready()
        if not ready:
            return []
        actions: list[Action] = []
        for call in ready:
            output = call.output or ""
            self._history.add_output(call.call_id, output)
            item = wire.FunctionCallOutputItem(call_id=call.call_id, output=output)
            self._unechoed.add(item.id)
            actions.append(SendEvent(wire.ConversationItemCreate(item=item)))
        return actions + self._request_response("tools")  # type: ignore[attr-defined]


def _unknown_tool_output(name: str, declared: frozenset[str]) -> str:
    available = ", ".join(sorted(declared)) or "none"
    return f"Error: there is no tool named {name!r}. Available tools: {available}."
