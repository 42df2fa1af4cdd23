"""What happened in a call, on its clock: utterances, turns, tool calls, barge-ins, errors.

Sans-I/O: the recorder feeds it facts with times in seconds from the call's start (already
placed on the record's tracks), and it hands back finished transcript lines and, at the end,
the report's sections. It never reads a clock, a file or a socket.

Timing rules (the record's, written down in ``report.md``):

* A caller utterance starts at the first caller audio louder than ``SPEECH_PEAK`` after the
  previous turn ended (at most ``_LEAD_S`` before the server heard speech begin), and ends at
  the end of the last loud caller audio before the server (``speech_stopped``) or the caller
  (manual ``commit``) ended the turn. So the server VAD's trailing-silence wait counts as
  latency, as the caller experiences it. Without loud audio, the server's moment is used.
* A typed turn starts and ends when it was sent.
* An agent utterance starts with its first audio on the agent track and ends with its last
  (cut at a barge-in); a reply without audio is dated by its text.
* A turn's latency is the end of the caller's utterance to the start of the agent's next
  utterance; a turn the caller talked over before any reply has none.

Imports nothing of ours.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Timeline", "latency_summary"]

_LEAD_S = 2.0  # loud audio this long before the server heard speech still dates its start
_ROUND = 3  # transcript and report times: milliseconds


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, _ROUND)


@dataclass
class _Caller:
    key: str
    start: float
    end: float | None = None
    text: str | None = None
    typed: bool = False
    reply: _Agent | None = None
    tools: list[str] = field(default_factory=list)
    written: bool = False

    def line(self) -> dict[str, Any]:
        line: dict[str, Any] = {"role": "user", "text": self.text or "", "start": _r(self.start),
                                "end": _r(self.end if self.end is not None else self.start)}
        if self.typed:
            line["typed"] = True
        return line


@dataclass
class _Agent:
    item_id: str
    start: float | None = None  # first audio on the agent track
    end: float | None = None  # end of its last audio (cut at a barge-in)
    first_text: float | None = None
    audio_s: float = 0.0  # audio generated for it so far, seconds
    deltas: list[tuple[float, str]] = field(default_factory=list)  # (audio_s at arrival, text)
    final: str | None = None
    interrupted: bool = False
    written: bool = False

    @property
    def begins(self) -> float | None:
        return self.start if self.start is not None else self.first_text

    def heard_text(self) -> tuple[str, str]:
        """(heard, unheard) words of an interrupted line: a word was heard when the audio
        generated before its text arrived had started playing before the cut."""
        heard_s = 0.0 if self.start is None or self.end is None else self.end - self.start
        heard = "".join(t for pos, t in self.deltas if pos < heard_s)
        unheard = "".join(t for pos, t in self.deltas if pos >= heard_s)
        return heard.strip(), unheard.strip()

    def line(self) -> dict[str, Any]:
        begins = self.begins or 0.0
        line: dict[str, Any] = {"role": "agent", "text": self.text, "start": _r(begins),
                                "end": _r(self.end if self.end is not None else begins)}
        if self.interrupted:
            heard, unheard = self.heard_text()
            line.update(text=heard, interrupted=True, unheard=unheard)
        return line

    @property
    def text(self) -> str:
        if self.interrupted:
            return self.heard_text()[0]
        return (self.final if self.final is not None
                else "".join(t for _, t in self.deltas)).strip()


class Timeline:
    """Builds the transcript and the report of one call from timed facts."""

    def __init__(self) -> None:
        self._callers: list[_Caller] = []
        self._by_item: dict[str, _Caller] = {}
        self._open: _Caller | None = None  # speech started, not yet ended
        self._awaiting: _Caller | None = None  # ended, no reply yet
        self._agents: dict[str, _Agent] = {}
        self._loud_since: float | None = None
        self._last_loud: float | None = None
        self._tools_started: dict[str, float] = {}
        self.tools: list[dict[str, Any]] = []
        self.barge_ins: list[dict[str, Any]] = []
        self.reconnects: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.warnings: list[dict[str, Any]] = []
        self.tokens: dict[str, float] = {}
        self._lines: list[dict[str, Any]] = []

    # -- caller --------------------------------------------------------------------------------

    def caller_audio(self, start: float, end: float, loud: bool) -> None:
        """Caller audio on the left track from ``start`` to ``end``; ``loud``: speech level."""
        if loud:
            if self._loud_since is None:
                self._loud_since = start
            self._last_loud = end

    def speech_started(self, t: float, item_id: str) -> None:
        """The server heard the caller start speaking (``item_id``: the coming user item)."""
        if item_id in self._by_item:
            return
        since = self._loud_since
        start = since if since is not None and t - _LEAD_S <= since <= t else t
        turn = _Caller(item_id, start)
        self._add(turn, item_id)
        self._open = turn

    def speech_stopped(self, t: float, item_id: str) -> None:
        """The server decided the caller's utterance is over (server VAD)."""
        turn = self._by_item.get(item_id) or self._open
        if turn is None:
            self.speech_started(t, item_id)
            turn = self._open
        assert turn is not None
        self._end(turn, t)

    def commit_sent(self, t: float) -> None:
        """Manual turns: the caller released the turn (``input_audio_buffer.commit``)."""
        turn = self._open
        if turn is None or turn.end is not None:
            since = self._loud_since
            turn = _Caller("", since if since is not None else t)
            self._add(turn, None)
        self._end(turn, t)

    def committed(self, item_id: str) -> None:
        """The server made a user item of the committed audio."""
        if item_id and item_id not in self._by_item:
            turn = next((c for c in reversed(self._callers) if not c.key and not c.typed), None)
            if turn is not None:
                turn.key = item_id
                self._by_item[item_id] = turn

    def user_text(self, t: float, key: str, text: str) -> None:
        """A typed turn (or a keypad digit put into words) was sent."""
        turn = _Caller(key, t, end=t, text=text, typed=True)
        self._add(turn, key or None)
        self._reply_pending(turn)

    def user_transcript(self, item_id: str, text: str) -> None:
        """The final transcript of a spoken user item."""
        turn = self._by_item.get(item_id)
        if turn is None:  # transcribed speech we never saw start (e.g. before a reconnect)
            turn = _Caller(item_id, self._last_loud or 0.0, end=self._last_loud or 0.0)
            self._add(turn, item_id)
        turn.text = text

    def _add(self, turn: _Caller, key: str | None) -> None:
        self._callers.append(turn)
        if key:
            self._by_item[key] = turn

    def _end(self, turn: _Caller, t: float) -> None:
        last = self._last_loud
        turn.end = last if last is not None and turn.start <= last else t
        if self._open is turn:
            self._open = None
        self._loud_since = None
        self._reply_pending(turn)

    def _reply_pending(self, turn: _Caller) -> None:
        self._awaiting = turn  # an earlier turn still waiting was talked over: it gets no reply

    # -- agent ---------------------------------------------------------------------------------

    def _agent(self, item_id: str) -> _Agent:
        line = self._agents.get(item_id)
        if line is None:
            line = self._agents[item_id] = _Agent(item_id)
        return line

    def agent_audio(self, item_id: str, start: float, end: float) -> None:
        """Agent audio of ``item_id`` on the right track from ``start`` to ``end``."""
        line = self._agent(item_id)
        if line.start is None:
            line.start = start
            self._answer(line)
        line.end = end
        line.audio_s += end - start

    def agent_text(self, t: float, item_id: str, delta: str) -> None:
        """A piece of the agent's words (as the engine shows it)."""
        line = self._agent(item_id)
        if line.first_text is None:
            line.first_text = t
        line.deltas.append((line.audio_s, delta))

    def agent_final(self, t: float, item_id: str, text: str) -> None:
        """The agent's words for ``item_id`` are complete."""
        line = self._agent(item_id)
        if line.first_text is None:
            line.first_text = t
        if not line.deltas:
            line.deltas.append((0.0, text))
        line.final = text
        if line.start is None:
            self._answer(line)  # a reply without audio (text only)

    def _answer(self, line: _Agent) -> None:
        turn = self._awaiting
        if turn is not None:
            turn.reply = line
            self._awaiting = None

    def cut(self, t: float, removed_s: float, reason: str, *, barge_in: bool = True) -> None:
        """Playback stopped at ``t``, removing ``removed_s`` of queued agent audio.

        Args:
            t: when, in seconds from the call's start.
            removed_s: agent audio queued beyond ``t`` that was dropped.
            reason: why (the engine's words).
            barge_in: False when the connection dropped (counted as a reconnect instead).
        """
        playing = None
        for line in self._agents.values():
            if line.written:
                continue
            if line.start is not None and line.end is not None and line.end > t:
                line.end = max(line.start, t)
            elif not (line.start is None and line.final is None and line.deltas):
                continue  # played out already, or a finished reply without audio
            line.interrupted = True
            if playing is None or (line.begins or 0.0) < (playing.begins or 0.0):
                playing = line
        if playing is None or removed_s <= 0 or not barge_in:
            return
        heard, unheard = playing.heard_text()
        self.barge_ins.append({"at": _r(t), "reason": reason, "item_id": playing.item_id,
                               "heard_s": _r(t - (playing.start or t)),
                               "cut_s": _r(removed_s), "heard_text": heard,
                               "unheard_text": unheard})

    # -- tools, reconnects, reports ------------------------------------------------------------

    def tool_started(self, t: float, call_id: str) -> None:
        """A tool call started."""
        self._tools_started[call_id] = t

    def tool_done(self, t: float, call: Any) -> dict[str, Any]:
        """A tool call finished (``engine.observe.ToolCallDone``); returns its transcript line.

        A failure's operator line goes into the transcript; its traceback (the lines after
        it) and the tool's log records go into the report, with the errors.
        """
        start = self._tools_started.pop(call.call_id, t - call.seconds)
        first, _, trace = (call.error or "").partition("\n")
        line: dict[str, Any] = {"role": "tool", "name": call.name, "arguments": call.arguments,
                                "output": call.output, "ok": call.ok, "start": _r(start),
                                "end": _r(t)}
        if not call.ok and first:
            line["error"] = first
        logs = list(getattr(call, "logs", ()))
        entry: dict[str, Any] = {"call_id": call.call_id, "name": call.name,
                                 "arguments": call.arguments, "ok": call.ok,
                                 "latency": _r(call.seconds), "start": _r(start),
                                 "output": call.output, "error": first or None}
        if trace:
            entry["traceback"] = trace
        if logs:
            entry["logs"] = logs
        self.tools.append(entry)
        if not call.ok:
            error: dict[str, Any] = {"at": _r(t), "source": f"tool {call.name}",
                                     "message": first or call.output}
            if trace:
                error["traceback"] = trace
            self.errors.append(error)
        owner = self._awaiting or (self._callers[-1] if self._callers else None)
        if owner is not None:
            owner.tools.append(call.name)
        self._lines.append(line)
        return line

    def reconnected(self, t: float, count: int) -> None:
        """The connection was re-established (``count`` so far)."""
        self.reconnects.append({"at": _r(t), "count": count})

    def report(self, t: float, level: str, message: str) -> None:
        """An operator line from the engine: errors and warnings are kept."""
        if level == "error":
            self.errors.append({"at": _r(t), "source": "call", "message": message})
        elif level == "warning":
            self.warnings.append({"at": _r(t), "message": message})

    def metric(self, name: str, value: float, unit: str) -> None:
        """A measurement from the engine: token counts are summed."""
        if unit == "tokens":
            key = name.removesuffix("_tokens")
            self.tokens[key] = self.tokens.get(key, 0) + value

    # -- output --------------------------------------------------------------------------------

    def settle(self, now: float) -> list[dict[str, Any]]:
        """Transcript lines finished by ``now`` (an agent line once its audio has played)."""
        lines, self._lines = self._lines, []
        for turn in self._callers:
            if not turn.written and turn.end is not None and turn.text is not None:
                turn.written = True
                lines.append(turn.line())
        for line in self._agents.values():
            if line.written or (line.final is None and not line.interrupted):
                continue
            if line.interrupted or line.end is None or line.end <= now:
                line.written = True
                if line.text or line.interrupted:
                    lines.append(line.line())
        return lines

    def finish(self, now: float) -> list[dict[str, Any]]:
        """The call is over: every line not written yet."""
        lines = self.settle(now)
        for turn in self._callers:
            if not turn.written:
                if turn.end is None:
                    turn.end = max(turn.start, self._last_loud or turn.start)
                turn.written = True
                lines.append(turn.line())
        for line in self._agents.values():  # audio without words is still the agent speaking
            if not line.written and (line.text or line.interrupted or line.start is not None):
                line.written = True
                lines.append(line.line())
        return lines

    def turns(self) -> list[dict[str, Any]]:
        """One entry per caller turn: the utterance, the reply and the latency between them."""
        out = []
        for index, turn in enumerate(self._callers, 1):
            reply = turn.reply
            latency = None
            if reply is not None and turn.end is not None and reply.begins is not None:
                latency = reply.begins - turn.end
            out.append({
                "turn": index,
                "user": {"text": turn.text or "", "start": _r(turn.start), "end": _r(turn.end),
                         **({"typed": True} if turn.typed else {})},
                "agent": None if reply is None else {
                    "text": reply.text, "start": _r(reply.begins), "end": _r(reply.end),
                    "interrupted": reply.interrupted},
                "latency": _r(latency),
                "tools": turn.tools,
            })
        return out


def latency_summary(values: list[float]) -> dict[str, Any]:
    """Count, median, p90, min and max of latencies (s); p90 interpolates between ranks.

    Args:
        values: latencies in seconds.

    Returns:
        ``{"count": n, "median": s, "p90": s, "min": s, "max": s}``; None values when empty.
    """
    if not values:
        return {"count": 0, "median": None, "p90": None, "min": None, "max": None}
    ordered = sorted(values)
    rank = 0.9 * (len(ordered) - 1)  # linear interpolation between closest ranks (numpy's)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    p90 = ordered[low] + (ordered[high] - ordered[low]) * (rank - low)
    return {"count": len(ordered), "median": _r(statistics.median(ordered)), "p90": _r(p90),
            "min": _r(ordered[0]), "max": _r(ordered[-1])}
