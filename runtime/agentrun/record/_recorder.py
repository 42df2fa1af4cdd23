"""``CallRecorder``: an observer that leaves one folder per call (CONTRACTS §3.2).

It only watches: caller audio goes on the left track where it arrived, agent audio on the right
as a speaker queue plays it, a barge-in cuts what was queued; every wire frame becomes a line
of ``events.jsonl``; the timeline dates utterances, turns and tool calls. Work on the session's
loop is kept to appending to buffers; every half second of call time one batch goes to the
shared writer thread (``_files``). A record that cannot be written is reported once and never
breaks the call. Imports engine observations and actions, ``agentrun.errors`` and the record
modules.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agentrun._secrets import Redactor
from agentrun.engine.actions import (
    EmitTranscript,
    PlayAudio,
    RecordMetric,
    Report,
    RunTool,
    StopPlayback,
)
from agentrun.engine.observe import (
    CallEnded,
    CallerAudioIn,
    CallStarted,
    Reconnected,
    ToolCallDone,
    WireFrame,
)
from agentrun.errors import RecordError
from agentrun.record._files import CallFiles, writer_thread
from agentrun.record._report import render_markdown
from agentrun.record._timeline import Timeline, latency_summary
from agentrun.record._tracks import SPEECH_PEAK, StereoTracks
from agentrun.record._wire import local_line, wire_line

__all__ = ["CallRecorder", "folder_name", "prepare_root"]

_log = logging.getLogger("agentrun.record")
_FLUSH_EVERY_S = 0.5
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_CONNECTION_LOST = "connection lost"  # StopPlayback reason of engine.Conversation.connection_lost


INTERRUPTED = 130
"""The exit code of a call stopped from outside (Ctrl-C, a service shutting down)."""


def _outcome(result: Any) -> tuple[int | None, str]:
    """(exit code, reason) of a call; a call whose task is being cancelled was interrupted,
    not failed (the session reports the cancellation as an error it cannot name)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # observed without a running loop
        task = None
    if task is not None and task.cancelling():
        return INTERRUPTED, "interrupted"
    return getattr(result, "exit_code", None), getattr(result, "reason", "")


def prepare_root(path: str | os.PathLike[str]) -> Path:
    """Make sure calls can be recorded under ``path`` (created when missing).

    Args:
        path: the record directory (``--record DIR``).

    Returns:
        The directory, resolved.

    Raises:
        RecordError: it cannot be created or written (exit code 2), before any call starts.
    """
    root = Path(path).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".agentrun-write-test-{os.getpid()}-{id(root):x}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "a file is in the way (it must be a folder)"
        raise RecordError(f"cannot record calls in {os.fspath(path)}: {reason}",
                          hint="choose a folder you can write, e.g. --record records") from None
    return root.resolve()


def _safe(text: str, default: str) -> str:
    return _UNSAFE.sub("-", text).strip("-.") or default


def folder_name(started: datetime, agent_file: str, call_id: str) -> str:
    """``<UTC start as yyyymmddThhmmssZ>-<agent file stem>-<short id>``.

    Args:
        started: when the call started (any time zone; named in UTC).
        agent_file: the agent file's stem (or the agent's name).
        call_id: the call's id; its last 8 safe characters are the short id (a Twilio CallSid
            starts with the constant ``CA``; its end is what tells calls apart).

    Returns:
        The folder name.
    """
    stamp = started.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{_safe(agent_file, 'agent')}-{_safe(call_id, 'call')[-8:]}"


class CallRecorder:
    """Record one call into a new folder under ``root``: transcript, stereo audio, wire events
    and a report (``report.json``, ``report.md``).

    Pass it to ``Agent.run(..., observers=[...])`` or ``Session(observers=[...])``; most code
    passes ``record=DIR`` to ``Agent.run`` instead. One recorder records one call.

    Args:
        root: the record directory (see :func:`prepare_root`).
        secrets: more values that must never be written: plain values (replaced by
            ``[hidden]``) or ``{value: environment variable}`` (``[hidden $VARIABLE]``). Every
            secret the process knows (``from_env`` values, the API key, tool secrets: see
            ``agentrun._secrets``) is replaced by ``[hidden $NAME]`` anyway, also one
            remembered after the recorder was made. Matching as ``agentrun._secrets.Redactor``.
        on_error: called once, on the session's loop, with a one-line message when the record
            cannot be written (a full disk); the call goes on. Default: a log warning.
        service: where the call went, for the report (no query string, no credentials).

    Attributes:
        path: the call folder, once the call started (None before).
        service: where the call went (set before the call starts).
    """

    def __init__(self, root: str | os.PathLike[str], *,
                 secrets: Iterable[str] | Mapping[str, str] = (),
                 on_error: Callable[[str], None] | None = None, service: str = "") -> None:
        self.root = Path(root)
        self.path: Path | None = None
        self._redact = Redactor(secrets, remembered=True)
        self._on_error = on_error
        self.service = service
        self._loop: asyncio.AbstractEventLoop | None = None
        self._files: CallFiles | None = None
        self._tracks: StereoTracks | None = None
        self._timeline = Timeline()
        self._start = 0.0
        self._started_at = datetime.now(UTC)
        self._call: CallStarted | None = None
        self._events: list[str] = []
        self._lines: list[dict[str, Any]] = []
        self._last_flush = 0.0
        self._restoring = ""  # "" | "waiting" (reconnected) | "batch" (restored items go out)
        self._user_texts: set[str] = set()
        self._problem: str | None = None
        self._done: Future[None] | None = None
        self._handlers: dict[type, Callable[[float, Any], None]] = {
            WireFrame: self._on_frame, CallerAudioIn: self._on_caller_audio,
            PlayAudio: self._on_play, StopPlayback: self._on_stop,
            EmitTranscript: self._on_transcript, RunTool: self._on_run_tool,
            ToolCallDone: self._on_tool_done, Report: self._on_report,
            RecordMetric: self._on_metric, Reconnected: self._on_reconnected,
        }

    # -- the observer --------------------------------------------------------------------------

    def observe(self, now: float, what: Any) -> None:
        """Take one observation (``engine.observe.Observation``); never blocks on the disk."""
        kind = type(what)
        if kind is CallStarted:
            self._on_started(now, what)
            return
        if self._tracks is None:
            return  # not started, or the folder could not be made
        if kind is CallEnded:
            self._on_ended(now, what)
            return
        handler = self._handlers.get(kind)
        if handler is not None:  # anything else (sends, end requests) is in the wire frames
            handler(now, what)
        if now - self._last_flush >= _FLUSH_EVERY_S:
            self._flush(now)

    async def wait_closed(self) -> None:
        """Wait until the whole record is on disk (after the call ended)."""
        if self._done is not None:
            await asyncio.wrap_future(self._done)

    def close(self, timeout: float | None = None) -> None:
        """Block until the whole record is on disk (for code without an event loop)."""
        if self._done is not None:
            self._done.result(timeout)

    # -- start and end -------------------------------------------------------------------------

    def _on_started(self, now: float, what: CallStarted) -> None:
        if self._call is not None:
            return
        self._call, self._start, self._last_flush = what, now, now
        self._started_at = datetime.now(UTC)
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        name = folder_name(self._started_at, what.agent_file or what.agent, what.call_id)
        try:
            self.path = self._make_folder(name)
        except OSError as exc:
            self._report_problem(f"recording stopped: cannot create a folder in {self.root}: "
                                 f"{exc.strerror or exc}; the call goes on")
            return
        fin, fout = what.input_format, what.output_format
        self._tracks = StereoTracks((fin.encoding, fin.rate), (fout.encoding, fout.rate), now)
        self._files = CallFiles(self.path, self._tracks.rate, self._problem_from_thread)
        self._events.append(local_line(0.0, "call.started", self._redact, call_id=what.call_id,
                                       agent=what.agent, channel=what.channel,
                                       caller=what.caller))

    def _make_folder(self, name: str) -> Path:
        for attempt in range(1, 100):
            folder = self.root / (name if attempt == 1 else f"{name}-{attempt}")
            try:
                folder.mkdir(parents=True)
            except FileExistsError:
                continue
            return folder
        raise FileExistsError(f"{name}: 99 folders of that name exist")

    def _on_ended(self, now: float, what: CallEnded) -> None:
        assert self._tracks is not None and self._files is not None
        t = now - self._start
        code, reason = _outcome(what.result)
        self._events.append(local_line(t, "call.ended", self._redact, exit_code=code,
                                       reason=reason))
        if code not in (0, INTERRUPTED):
            self._timeline.report(t, "error", f"the call failed: {reason}")
        frames = self._tracks.finish(now)
        self._lines += self._timeline.finish(t)
        self._submit(frames)
        report = self._report(t, code, reason)
        transcript = sorted(self._lines, key=lambda line: (line["start"], line["end"]))
        files, redact = self._files, self._redact
        text = "".join(redact(json.dumps(line, ensure_ascii=False)) + "\n"
                       for line in transcript)

        def finish() -> None:  # on the writer thread, after every earlier write
            files.close()
            if files.problem:  # the disk filled: say so in the report, which is small and
                report["errors"].append({"at": None, "source": "record",  # may still fit
                                         "message": files.problem})
            files.failed = False
            files.replace("transcript.jsonl", text)  # the streamed lines, in call order
            files.replace("report.json",
                          redact(json.dumps(report, indent=2, ensure_ascii=False)) + "\n")
            files.replace("report.md", redact(render_markdown(report)))

        self._done = writer_thread().submit(finish)
        self._tracks = None

    # -- observations --------------------------------------------------------------------------

    def _on_frame(self, now: float, what: WireFrame) -> None:
        t = now - self._start
        line, event = wire_line(t, what.direction, what.text, self._redact)
        self._events.append(line)
        if event is None:
            return
        kind = event.get("type")
        if what.direction == "in":
            self._frame_in(t, kind, event)
        elif kind == "input_audio_buffer.commit":
            self._timeline.commit_sent(t)
        elif kind == "conversation.item.create":
            self._item_out(t, event.get("item"))

    def _frame_in(self, t: float, kind: Any, event: dict[str, Any]) -> None:
        item_id = str(event.get("item_id") or "")
        if kind == "input_audio_buffer.speech_started":
            self._timeline.speech_started(t, item_id)
        elif kind == "input_audio_buffer.speech_stopped":
            self._timeline.speech_stopped(t, item_id)
        elif kind == "input_audio_buffer.committed":
            self._timeline.committed(item_id)
        if self._restoring == "waiting" and kind == "session.updated":
            self._restoring = "batch"  # the restored items go out before the next frame in
        elif self._restoring == "batch":
            self._restoring = ""

    def _item_out(self, t: float, item: Any) -> None:
        if not isinstance(item, dict) or item.get("type") != "message" \
                or item.get("role") != "user":
            return
        text = " ".join(str(part.get("text", "")) for part in item.get("content") or ()
                        if isinstance(part, dict) and part.get("type") == "input_text").strip()
        if not text or (self._restoring == "batch" and text in self._user_texts):
            return  # a typed turn restored after a reconnect was recorded the first time
        self._user_texts.add(text)
        self._timeline.user_text(t, str(item.get("id") or ""), text)

    def _on_caller_audio(self, now: float, what: CallerAudioIn) -> None:
        tracks = self._tracks
        assert tracks is not None
        start, pcm = tracks.add_caller(now, what.audio)
        loud = bool(len(pcm)) and max(int(pcm.max()), -int(pcm.min())) >= SPEECH_PEAK
        self._timeline.caller_audio(tracks.seconds(start), tracks.seconds(tracks.caller.cursor),
                                    loud)

    def _on_play(self, now: float, what: PlayAudio) -> None:
        tracks = self._tracks
        assert tracks is not None
        start, _ = tracks.add_agent(now, what.audio, what.item_id)
        self._timeline.agent_audio(what.item_id, tracks.seconds(start),
                                   tracks.seconds(tracks.agent.cursor))

    def _on_stop(self, now: float, what: StopPlayback) -> None:
        tracks = self._tracks
        assert tracks is not None
        at = tracks.seconds(tracks.position(now))
        removed = tracks.seconds(tracks.cut_agent(now))
        self._timeline.cut(at, removed, what.reason, barge_in=what.reason != _CONNECTION_LOST)
        self._events.append(local_line(now - self._start, "playback.stopped", self._redact,
                                       reason=what.reason, cut_s=round(removed, 3)))

    def _on_transcript(self, now: float, what: EmitTranscript) -> None:
        t = now - self._start
        if what.role == "user":
            if what.final:
                self._timeline.user_transcript(what.item_id, what.text)
                self._user_texts.add(what.text)
        elif what.final:
            self._timeline.agent_final(t, what.item_id, what.text)
        else:
            self._timeline.agent_text(t, what.item_id, what.text)

    def _on_run_tool(self, now: float, what: RunTool) -> None:
        t = now - self._start
        self._timeline.tool_started(t, what.call_id)
        self._events.append(local_line(t, "tool.started", self._redact, call_id=what.call_id,
                                       name=what.name, arguments=what.arguments))

    def _on_tool_done(self, now: float, what: ToolCallDone) -> None:
        t = now - self._start
        self._timeline.tool_done(t, what)
        self._events.append(local_line(t, "tool.finished", self._redact, call_id=what.call_id,
                                       name=what.name, ok=what.ok, seconds=round(what.seconds, 6),
                                       output=what.output, error=what.error))

    def _on_report(self, now: float, what: Report) -> None:
        t = now - self._start
        self._timeline.report(t, what.level, what.message)
        if what.level in ("warning", "error"):
            self._events.append(local_line(t, "report", self._redact, level=what.level,
                                           message=what.message))

    def _on_metric(self, now: float, what: RecordMetric) -> None:
        self._timeline.metric(what.name, what.value, what.unit)

    def _on_reconnected(self, now: float, what: Reconnected) -> None:
        t = now - self._start
        self._timeline.reconnected(t, what.count)
        self._restoring = "waiting"
        self._events.append(local_line(t, "reconnected", self._redact, count=what.count))

    # -- writing -------------------------------------------------------------------------------

    def _flush(self, now: float) -> None:
        tracks = self._tracks
        assert tracks is not None
        self._last_flush = now
        frames = tracks.take(tracks.final(now))
        self._lines += (lines := self._timeline.settle(now - self._start))
        self._submit(frames, lines)

    def _submit(self, frames: bytes, lines: Iterable[dict[str, Any]] = ()) -> None:
        files, redact = self._files, self._redact
        assert files is not None
        events = "".join(line + "\n" for line in self._events)
        self._events = []
        transcript = "".join(redact(json.dumps(line, ensure_ascii=False)) + "\n"
                             for line in lines)
        if not (frames or events or transcript):
            return

        def write() -> None:
            files.audio(frames)
            files.append("events.jsonl", events)
            files.append("transcript.jsonl", transcript)

        writer_thread().submit(write)

    def _report(self, t: float, code: int | None, reason: str) -> dict[str, Any]:
        call, tracks, timeline = self._call, self._tracks, self._timeline
        assert call is not None and tracks is not None
        turns = timeline.turns()
        fin, fout = call.input_format, call.output_format
        return {
            "call_id": call.call_id, "agent": call.agent, "agent_file": call.agent_file,
            "channel": call.channel, "caller": call.caller, "service": self.service,
            "started_at": self._started_at.isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "monotonic_start": round(self._start, 6),  # the session clock at t = 0
            "duration": round(max(t, tracks.seconds(tracks.written)), 3),
            "session_seconds": round(t, 3),
            "result": {"exit_code": code, "reason": reason},
            "audio": {"file": "audio.wav", "rate": tracks.rate, "channels": ["caller", "agent"],
                      "input": {"encoding": fin.encoding, "rate": fin.rate},
                      "output": {"encoding": fout.encoding, "rate": fout.rate},
                      "seconds": round(tracks.seconds(tracks.written), 3),
                      "caller_seconds": round(tracks.seconds(tracks.caller.samples), 3),
                      "agent_seconds": round(tracks.seconds(tracks.agent.samples), 3)},
            "turns": turns,
            "latency": latency_summary([turn["latency"] for turn in turns
                                        if turn["latency"] is not None]),
            "tool_calls": timeline.tools,
            "barge_ins": timeline.barge_ins,
            "reconnects": timeline.reconnects,
            "tokens": {name: int(value) if float(value).is_integer() else value
                       for name, value in timeline.tokens.items()},
            "errors": timeline.errors,
            "warnings": timeline.warnings,
        }

    # -- problems ------------------------------------------------------------------------------

    def _problem_from_thread(self, message: str) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self._report_problem, message)
            except RuntimeError:  # the loop closed meanwhile: report from this thread
                self._report_problem(message)
            return
        self._report_problem(message)

    def _report_problem(self, message: str) -> None:
        if self._problem is not None:
            return
        self._problem = message
        _log.warning("%s", message)
        if self._on_error is not None:
            try:
                self._on_error(message)
            except Exception:  # the channel may be gone; the log has it
                _log.debug("could not show the record problem", exc_info=True)
