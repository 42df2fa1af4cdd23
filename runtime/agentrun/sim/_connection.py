"""One simulated realtime conversation: the server side of the Grok protocol for one socket.

Behaviour follows the wire reference (``grok-realtime.md``): §1.1 handshake, §3.1 event shapes
and order, §3.3 turn flows and the §8 fake-server checklist. Events are built as plain dicts and
audio deltas from precomputed base64 text, because this is the hot path of every benchmark; no
pydantic here. This module owns no socket lifecycle (``_server`` does) and no clock except the
pacing sleeps of a response.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from agentrun.sim._audio import bytes_per_ms, input_level, parse_format
from agentrun.sim._responses import Closed, Response, respond
from agentrun.sim._scenario import ERROR_PRESETS, Call, Entry, Fault
from agentrun.sim._slash import parse_slash_call

if TYPE_CHECKING:
    from websockets.asyncio.server import ServerConnection

    from agentrun.sim._server import Simulator

__all__ = ["SimConnection"]

_SPOKEN_OUTPUT = 200  # characters of a tool output the default reply reads out
_SPEECH_LEVEL = 500  # peak level (of 32768) that counts as speech: about -36 dBFS
_DEFAULT_SILENCE_MS = 500
_RACE_HOLD_S = 2.0  # fault auto_response_race: the longest wait for the client's response.create

_log = logging.getLogger("agentrun.sim")




def _dumps(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False)


_MERGED_KEYS = frozenset({"audio", "input", "output"})  # containers; everything else is a value


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    """Merge a ``session.update`` into the session (§8): ``audio.input``/``audio.output`` merge,
    every other field (``format``, ``turn_detection``, ``tools``...) is replaced as a whole."""
    for key, value in update.items():
        if key in _MERGED_KEYS and isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value




class SimConnection:
    """Serve one WebSocket: handshake, then answer client events until the socket closes."""

    def __init__(self, sim: Simulator, ws: ServerConnection, model: str) -> None:
        self.sim = sim
        self.ws = ws
        self.session: dict[str, Any] = {
            # the live session.created shape (reference §3.1): manual turns until server_vad is set
            "id": sim.next_id("sess"), "object": "realtime.session", "model": model,
            "instructions": "", "voice": "xai_ara", "modalities": ["audio"],
            "turn_detection": {"type": None}, "tools": [],
        }
        self.items: list[dict[str, Any]] = []
        self.active: Response | None = None
        self.pending_call: Call | None = None  # from a /call line
        self.pending_say: str | None = None  # why a /call line could not be made a call
        self.race_armed = False
        self.create_heard = asyncio.Event()  # each response.create sets it (auto_response_race)
        self.audio_bytes = 0
        self.speech_item: str | None = None
        self.speech_bytes = 0
        self.silence_ms = 0.0
        self.fault = Fault()
        self.audio_turns: dict[str, int] = {}  # user item id -> ms of audio it was made of
        self.last_event_id = ""  # the client's last event_id (fault error_names_event)
        self.handlers = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._on_audio_append,
            "input_audio_buffer.commit": self._on_audio_commit,
            "input_audio_buffer.clear": self._on_audio_clear,
            "conversation.item.create": self._on_item_create,
            "conversation.item.delete": self._on_item_delete,
            "conversation.item.truncate": self._on_item_truncate,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
        }

    # -- sending -------------------------------------------------------------------------------

    async def send(self, event: dict[str, Any], call_id: str | None = None) -> None:
        """Send one event with a fresh ``event_id`` (every server event has one, §1)."""
        event["event_id"] = self.sim.next_id("evt")
        await self.send_raw(_dumps(event), event["type"], call_id)

    async def send_raw(self, text: str, kind: str, call_id: str | None = None) -> None:
        self.sim.trace("out", kind, call_id)
        await self.ws.send(text)
        if self.fault.slow_ms:
            await asyncio.sleep(self.fault.slow_ms / 1000)

    async def error(self, preset: str, message: str | None = None, **extra: Any) -> None:
        body = dict(ERROR_PRESETS[preset])
        if message is not None:
            body["message"] = message
        body.update(extra)
        await self.send({"type": "error", "error": body})

    # -- lifecycle -----------------------------------------------------------------------------

    async def serve(self) -> None:
        """Run the §1.1 handshake, then handle client events until the socket closes."""
        await self.send({"type": "session.created", "session": dict(self.session)})
        await self.send({"type": "conversation.created",
                         "conversation": {"id": self.sim.next_id("conv"),
                                          "object": "realtime.conversation"}})
        async with asyncio.TaskGroup() as tg:
            pinger = tg.create_task(self._ping_loop()) if self.sim.scenario.ping_interval else None
            try:
                async for message in self.ws:
                    await self._receive(message)
            except ConnectionClosed:
                return  # the client went away (or a fault closed the socket): nothing to answer
            finally:
                if pinger is not None:
                    pinger.cancel()
                await self._abandon_response()

    async def _ping_loop(self) -> None:
        interval = self.sim.scenario.ping_interval or 15.0
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                await self.send({"type": "ping", "timestamp": int(time.time() * 1000)})

    async def _abandon_response(self) -> None:
        active, self.active = self.active, None
        if active is not None and active.task is not None:
            active.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await active.task

    async def _receive(self, message: str | bytes) -> None:
        try:
            event = json.loads(message)
            kind = event["type"]
        except (ValueError, TypeError, KeyError):
            self.sim.trace("in", "(malformed)", None)
            await self.error("invalid_request_error", "Invalid event: expected a JSON object "
                             "with a 'type'.", code="invalid_event")
            return
        if not isinstance(event, dict) or not isinstance(kind, str):
            await self.error("invalid_request_error", "Invalid event type.", code="invalid_event")
            return
        item = event.get("item")
        self.sim.trace("in", kind, item.get("call_id") if isinstance(item, dict) else None)
        self.sim.record(event)
        if isinstance(event.get("event_id"), str):
            self.last_event_id = event["event_id"]
        handler = self.handlers.get(kind)
        if handler is None:
            await self.error("invalid_request_error", f"Unknown event type '{kind}'.",
                             code="unknown_event", event_id=str(event.get("event_id", "")))
            return
        await handler(event)

    # -- session and items ---------------------------------------------------------------------

    async def _on_session_update(self, event: dict[str, Any]) -> None:
        update = event.get("session")
        if not isinstance(update, dict):
            await self.error("invalid_request_error", "session.update needs a 'session' object.")
            return
        _merge(self.session, update)
        await self.send({"type": "session.updated", "session": self.session})

    def _turn_detection(self) -> dict[str, Any] | None:
        td = self.session.get("turn_detection")
        return td if isinstance(td, dict) and td.get("type") == "server_vad" else None

    def audio_format(self, direction: str) -> tuple[str, int]:
        audio = self.session.get("audio")
        side = audio.get(direction) if isinstance(audio, dict) else None
        return parse_format(side.get("format") if isinstance(side, dict) else None)

    async def add_item(self, item: dict[str, Any]) -> None:
        self.items.append(item)
        await self.send({"type": "conversation.item.added", "previous_item_id": None,
                         "item": item}, item.get("call_id"))

    async def _on_item_create(self, event: dict[str, Any]) -> None:
        item = event.get("item")
        if not isinstance(item, dict) or not isinstance(item.get("type"), str):
            await self.error("invalid_request_error", "conversation.item.create needs an 'item'.")
            return
        # keep the client's id (reference §2 notes, §8)
        item = {"id": item.get("id") or self.sim.next_id("item"), "object": "realtime.item",
                "status": "completed", **{k: v for k, v in item.items() if k != "id"}}
        if item["type"] == "force_message":
            # the server speaks the text verbatim and runs the response itself (§2 notes)
            text = " ".join(p.get("text", "") for p in item.get("content") or []
                            if isinstance(p, dict))
            await self._start_response(Entry(say=text), server_initiated=True)
            return
        await self.add_item(item)
        if item["type"] == "message" and item.get("role") == "user":
            typed = parse_slash_call(_item_text(item), self.session.get("tools") or [])
            if isinstance(typed, str):
                self.pending_call, self.pending_say = None, typed
            elif typed is not None:
                self.pending_call, self.pending_say = typed, None
        if item["type"] == "function_call_output" and self.race_armed and self.active is None:
            # fault auto_response_race: the server answers the output before the client asks.
            # A real server's reply takes seconds, so the client's response.create, sent right
            # after the output, always lands while it is active; hold this one until then (at
            # most _RACE_HOLD_S) so a client descheduled between its two frames on a loaded
            # machine still meets the race instead of a reply already finished.
            self.race_armed = False
            self.create_heard.clear()
            await self._start_response(None, hold=self.create_heard)

    async def _on_item_delete(self, event: dict[str, Any]) -> None:
        target = event.get("item_id")
        self.items = [i for i in self.items if i.get("id") != target]
        await self.send({"type": "conversation.item.deleted", "item_id": ""})  # LK: empty id

    async def _on_item_truncate(self, event: dict[str, Any]) -> None:
        await self.error("invalid_request_error",
                         "conversation.item.truncate is not supported.", code="unsupported")

    # -- input audio ---------------------------------------------------------------------------

    async def _on_audio_append(self, event: dict[str, Any]) -> None:
        try:
            raw = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, TypeError):
            await self.error("invalid_request_error", "input_audio_buffer.append: audio is not "
                             "valid base64.", code="invalid_audio")
            return
        self.audio_bytes += len(raw)
        vad = self._turn_detection()
        if vad is None or not raw:
            return
        fmt = self.audio_format("input")
        chunk_ms = len(raw) / bytes_per_ms(fmt)
        loud = input_level(raw, fmt[0]) >= _SPEECH_LEVEL
        if self.speech_item is None:
            if loud:
                self.speech_item = self.sim.next_id("item")
                self.speech_bytes, self.silence_ms = len(raw), 0.0
                await self.send({"type": "input_audio_buffer.speech_started",
                                 "item_id": self.speech_item,
                                 "audio_start_ms": int((self.audio_bytes - len(raw))
                                                      / bytes_per_ms(fmt))})
                if self.active is not None:  # barge-in: the server cancels by itself (§3.3)
                    await self._cancel_active()
            return
        self.speech_bytes += len(raw)
        self.silence_ms = 0.0 if loud else self.silence_ms + chunk_ms
        silence = vad.get("silence_duration_ms")
        if self.silence_ms >= (silence if isinstance(silence, int) else _DEFAULT_SILENCE_MS):
            item_id, self.speech_item = self.speech_item, None
            await self.send({"type": "input_audio_buffer.speech_stopped", "item_id": item_id,
                             "audio_end_ms": int(self.audio_bytes / bytes_per_ms(fmt))})
            await self._commit(item_id, self.speech_bytes / bytes_per_ms(fmt))
            await self._start_response(None, server_initiated=True)

    async def _commit(self, item_id: str, ms: float) -> None:
        transcript = "(simulated transcript)"
        self.audio_bytes = 0
        await self.send({"type": "input_audio_buffer.committed", "previous_item_id": None,
                         "item_id": item_id})
        await self.add_item({"id": item_id, "object": "realtime.item", "type": "message",
                              "status": "completed", "role": "user",
                              "content": [{"type": "input_audio", "transcript": transcript}]})
        self.audio_turns[item_id] = int(ms)
        await self.send({"type": "conversation.item.input_audio_transcription.completed",
                         "item_id": item_id, "content_index": 0, "transcript": transcript})

    async def _on_audio_commit(self, event: dict[str, Any]) -> None:
        if self.audio_bytes == 0 and self.speech_item is None:
            await self.error("invalid_request_error", "Error committing input audio buffer: "
                             "the buffer is empty.", code="input_audio_buffer_commit_empty")
            return
        ms = self.audio_bytes / bytes_per_ms(self.audio_format("input"))
        item_id = self.speech_item or self.sim.next_id("item")
        self.speech_item = None
        await self._commit(item_id, ms)

    async def _on_audio_clear(self, event: dict[str, Any]) -> None:
        self.audio_bytes, self.speech_item = 0, None
        await self.send({"type": "input_audio_buffer.cleared"})

    # -- responses -----------------------------------------------------------------------------

    async def _on_response_create(self, event: dict[str, Any]) -> None:
        self.create_heard.set()
        if self.active is not None:
            await self.error("conversation_already_has_active_response",
                             event_id=str(event.get("event_id", "")))
            return
        params = event.get("response")
        await self._start_response(params if isinstance(params, dict) else {})

    async def _on_response_cancel(self, event: dict[str, Any]) -> None:
        if self.active is None:
            await self.error("response_cancel_not_active")
            return
        await self._cancel_active()

    async def _cancel_active(self) -> None:
        active, self.active = self.active, None
        if active is None:
            return
        if active.task is not None:
            active.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await active.task
        for item in active.output:
            item["status"] = "incomplete"
        await self.send({"type": "response.done", "response": {
            "id": active.id, "object": "realtime.response", "status": "cancelled",
            "status_details": {"type": "cancelled", "reason": "client_cancelled"},
            "output": active.output}})

    async def _start_response(self, params: dict[str, Any] | Entry | None, *,
                              server_initiated: bool = False,
                              hold: asyncio.Event | None = None) -> None:
        entry = params if isinstance(params, Entry) else self._next_entry()
        response = Response(self.sim.next_id("resp"))
        self.active = response
        text_only = (isinstance(params, dict)
                     and params.get("modalities") in (["text"], ("text",)))
        # response.created goes out before the next client event is read, as on a real server
        await self.send({"type": "response.created", "response": {
            "id": response.id, "object": "realtime.response", "status": "in_progress",
            "output": []}})
        response.task = asyncio.create_task(
            self._run_response(response, entry, text_only, hold))

    async def _run_response(self, response: Response, entry: Entry, text_only: bool,
                            hold: asyncio.Event | None = None) -> None:
        try:
            if hold is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(hold.wait(), _RACE_HOLD_S)
            await respond(self, response, entry, text_only)
        except (Closed, ConnectionClosed):
            self.active = None
        except Exception:
            # a simulator bug: behave like a server that fails, so the client's reconnect runs
            _log.exception("simulator: response %s failed", response.id)
            await self.ws.close(1011, "simulator error")

    def _next_entry(self) -> Entry:
        if self.pending_call is not None:
            call, self.pending_call = self.pending_call, None
            return Entry(calls=(call,))
        if self.pending_say is not None:
            say, self.pending_say = self.pending_say, None
            return Entry(say=say)
        entry = self.sim.next_entry()
        if entry is None:
            return Entry(say=self._default_reply())
        if entry.say is None and not entry.calls:
            return Entry(say=self._default_reply(), fault=entry.fault)
        return entry

    def _default_reply(self) -> str:
        """The honest templated reply to whatever came last (reference: issue 3, "sim/")."""
        outputs: list[str] = []
        for item in reversed(self.items):
            if item.get("type") == "function_call_output":
                name = next((i.get("name") for i in self.items
                             if i.get("type") == "function_call"
                             and i.get("call_id") == item.get("call_id")), "the tool")
                output = str(item.get("output", ""))
                if len(output) > _SPOKEN_OUTPUT:  # say so: a cut the listener cannot see
                    output = f"{output[:_SPOKEN_OUTPUT]} … (cut here; {len(output)} " \
                             "characters in all)"
                outputs.append(f"{name} returned {output}")
                continue
            if outputs:
                break
            if item.get("type") == "message" and item.get("role") == "user":
                if item.get("id") in self.audio_turns:
                    seconds = self.audio_turns[item["id"]] / 1000
                    return f"(simulated) I heard {seconds:.1f} s of audio."
                return f"(simulated) You said: {_item_text(item)}"
            if item.get("type") == "message":
                break
        if outputs:
            return "(simulated) " + "; ".join(reversed(outputs))
        return "(simulated) Hello! This is the agentrun simulator."

def _item_text(item: dict[str, Any]) -> str:
    return " ".join(str(p.get("text", "")) for p in item.get("content") or []
                    if isinstance(p, dict) and p.get("type") in ("input_text", "text"))
