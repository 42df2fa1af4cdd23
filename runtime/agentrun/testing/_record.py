"""What happened in one scenario's call, turn by turn: a ``CallObserver`` for the test runner.

The recorder watches the session (transcripts, tool calls with their arguments and outputs,
latency metrics, the end of the call) and files each observation under the caller turn it
belongs to; turn 0 is everything before the first turn (the greeting). It never steers the
call. It also keeps the conversation as lines a failing scenario prints. Imports only the
engine's observation types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from agentrun.engine.actions import EmitTranscript, RecordMetric, RunTool
from agentrun.engine.observe import CallEnded, Observation, ToolCallDone, WireFrame

__all__ = ["Recorder", "ToolCallRecord", "TurnRecord"]

_SHOWN_OUTPUT = 160  # characters of a tool's output in the printed conversation


@dataclass
class ToolCallRecord:
    """One function call the model made.

    Attributes:
        call_id: the model's id for it.
        name: the tool.
        arguments: the JSON text the model sent.
        started: session clock (s) when it started.
        output: what the model got back; None while it runs.
        ok: False when it failed; None while it runs.
        error: on failure, the operator's log line.
    """

    call_id: str
    name: str
    arguments: str
    started: float
    output: str | None = None
    ok: bool | None = None
    error: str | None = None

    @property
    def parsed_arguments(self) -> dict[str, Any] | None:
        """The arguments as a mapping, or None when they are not a JSON object."""
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def model_error(self) -> str:
        """On failure, the error the model was told (``{"error": ...}`` unwrapped)."""
        try:
            value = json.loads(self.output or "")
        except ValueError:
            return self.output or self.error or "failed"
        if isinstance(value, dict) and isinstance(value.get("error"), str):
            return str(value["error"])
        return self.output or ""


@dataclass
class TurnRecord:
    """What happened during one caller turn (turn 0: before the first one).

    Attributes:
        index: 1-based turn number; 0 for the greeting.
        agent_lines: the agent's final transcript lines.
        tools: the function calls the model made.
        latency: the first response latency measured in the turn, seconds.
    """

    index: int
    agent_lines: list[str] = field(default_factory=list)
    tools: list[ToolCallRecord] = field(default_factory=list)
    latency: float | None = None

    @property
    def reply(self) -> str:
        """Everything the agent said in this turn, as one text."""
        return " ".join(line.strip() for line in self.agent_lines if line.strip())


class Recorder:
    """Records one call for the test runner (a ``CallObserver``).

    Attributes:
        turns: one record per turn begun, turn 0 first.
        lines: the conversation as ``(who, text)``: ``agent``, ``caller``, ``tool``, ``note``.
        connected: a frame arrived from the service.
        ready: the service set the session up (``session.updated``).
        result: the ``SessionResult`` once the call ended, else None.
        hung_up: the caller hung up after its last turn (set by the caller).
        ended_by_agent: the call ended while the caller still had something to say.
        ended_turn: the turn during which the call ended.
        end_reason: why the call ended, when it failed (set by the runner), else "".
    """

    def __init__(self) -> None:
        self.turns: list[TurnRecord] = [TurnRecord(0)]
        self.lines: list[tuple[str, str]] = []
        self.connected = False
        self.ready = False
        self.result: Any = None
        self.hung_up = False
        self.ended_by_agent = False
        self.ended_turn = 0
        self.end_reason = ""
        self.now = 0.0
        self._calls: dict[str, ToolCallRecord] = {}
        self._handlers: dict[type, Any] = {
            EmitTranscript: self._on_transcript, RunTool: self._on_run_tool,
            ToolCallDone: self._on_tool_done, RecordMetric: self._on_metric,
            CallEnded: self._on_ended, WireFrame: self._on_frame,
        }

    @property
    def current(self) -> TurnRecord:
        """The turn being recorded."""
        return self.turns[-1]

    def begin_turn(self, shown: str) -> None:
        """The caller starts the next turn; ``shown`` is how the conversation shows it."""
        self.turns.append(TurnRecord(len(self.turns)))
        self.lines.append(("caller", shown))

    def note(self, text: str) -> None:
        """A status line worth showing in the conversation (a warning, an error)."""
        self.lines.append(("note", text))

    def running(self) -> list[ToolCallRecord]:
        """Tool calls started and not finished."""
        return [call for call in self._calls.values() if call.ok is None]

    def observe(self, now: float, what: Observation) -> None:
        """File one observation under the current turn."""
        self.now = now
        handler = self._handlers.get(type(what))
        if handler is not None:
            handler(now, what)

    def _on_frame(self, now: float, frame: WireFrame) -> None:
        if frame.direction == "in":
            self.connected = True
            if not self.ready and '"session.updated"' in frame.text:
                self.ready = True

    def _on_transcript(self, now: float, line: EmitTranscript) -> None:
        if not line.final or not line.text.strip():
            return
        shown = " ".join(line.text.split())
        if line.role == "agent":
            self.current.agent_lines.append(line.text)
            self.lines.append(("agent", shown))
        else:
            self.lines.append(("heard", shown))

    def _on_run_tool(self, now: float, run: RunTool) -> None:
        record = ToolCallRecord(run.call_id, run.name, run.arguments, now)
        self._calls[run.call_id] = record
        self.current.tools.append(record)

    def _on_tool_done(self, now: float, done: ToolCallDone) -> None:
        record = self._calls.get(done.call_id)
        if record is None:  # a runner that reports a call it was not asked for: keep it
            record = ToolCallRecord(done.call_id, done.name, done.arguments, now)
            self._calls[done.call_id] = record
            self.current.tools.append(record)
        record.output, record.ok, record.error = done.output, done.ok, done.error
        output = " ".join(done.output.split())  # one line per call, however the output is laid out
        output = output if len(output) <= _SHOWN_OUTPUT else output[:_SHOWN_OUTPUT] + "…"
        verdict = "→" if done.ok else "→ failed:"
        self.lines.append(("tool", f"{done.name} {done.arguments or '{}'} {verdict} {output}"))

    def _on_metric(self, now: float, metric: RecordMetric) -> None:
        if metric.name == "response_latency" and self.current.latency is None:
            self.current.latency = metric.value

    def _on_ended(self, now: float, ended: CallEnded) -> None:
        self.result = ended.result
        self.ended_turn = self.current.index
        self.ended_by_agent = not self.hung_up
