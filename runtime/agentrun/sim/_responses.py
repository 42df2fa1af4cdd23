"""The simulated model's side of a response: the §3.1 event sequence, audio and faults.

Split from ``_connection`` (which owns the socket and the client events) to keep both small.
Audio deltas are formatted from precomputed base64 text without ``json.dumps``: this is the hot
path of every benchmark.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from agentrun.sim._audio import chunk_b64
from agentrun.sim._builtins import INTERNAL_NAMES, canned_result
from agentrun.sim._scenario import Call, Entry, Fault

if TYPE_CHECKING:
    from agentrun.sim._connection import SimConnection

__all__ = ["Closed", "Response", "respond"]

_MS_PER_CHAR = 60  # simulated speaking rate, about 16 characters per second
_YIELD_EVERY = 16  # fast pace: let incoming events (cancel, barge-in) in this often


class Closed(Exception):
    """A ``close`` fault ended the socket; the response stops there."""


class Response:
    """The one active response of a connection (at most one at a time, reference §8)."""

    __slots__ = ("id", "output", "task")

    def __init__(self, response_id: str) -> None:
        self.id = response_id
        self.output: list[dict[str, Any]] = []
        self.task: asyncio.Task[None] | None = None


async def respond(conn: SimConnection, response: Response, entry: Entry, text_only: bool) -> None:
    """Stream one response after its ``response.created``, ending with ``response.done``.

    Args:
        conn: the connection (its ``active`` response is ``response`` until done or cancelled).
        response: the response being produced.
        entry: what to say or call, and the faults to inject.
        text_only: the client asked for ``modalities: ["text"]``.

    Raises:
        Closed: a ``close`` fault ended the socket mid-reply.
    """
    fault, conn.fault = entry.fault, entry.fault
    conn.race_armed = conn.race_armed or fault.auto_response_race
    rid = response.id
    await _inject(conn, fault)
    if entry.calls:
        spoken = await _emit_calls(conn, response, entry.calls, fault)
        if spoken:  # server-side tools: the model speaks their results in the same response
            await _emit_say(conn, response, Entry(say=" ".join(spoken)), fault, text_only)
    else:
        await _emit_say(conn, response, entry, fault, text_only)
    if conn.active is not response:
        return
    conn.active = None
    conn.fault = Fault()
    status = "failed" if fault.failed_response else "completed"
    body: dict[str, Any] = {"id": rid, "object": "realtime.response", "status": status,
                            "output": response.output,
                            "usage": _usage(conn, response.output)}
    if fault.failed_response:
        body["status_details"] = {"type": "failed", "error": {
            "type": "server_error", "code": "simulated_failure",
            "message": "The simulator failed this response on purpose."}}
    done: dict[str, Any] = {"type": "response.done", "response": body, "usage": body["usage"]}
    if fault.null_fields:  # nulls and odd types where a lenient client must cope (issue 9)
        body.update(usage=[], status_details=None, object=None)
        done.update(usage=None, previous_item_id=7)
    await conn.send(done)
    conn.sim.flush_trace()  # a reader of the trace (bench) sees whole responses

async def _inject(conn: SimConnection, fault: Fault) -> None:
    if fault.unknown_event:
        await conn.send({"type": "sim.unannounced_event", "detail": "injected fault"})
    if fault.malformed_json:
        await conn.send_raw('{"type": "response.output_audio.delta", "delta": ',
                            "(malformed)")
    if fault.error is not None:
        error = dict(fault.error)
        if fault.error_names_event and conn.last_event_id:
            error["event_id"] = conn.last_event_id
        await conn.send({"type": "error", "error": error})

async def _close_now(conn: SimConnection, code: int) -> None:
    """Fault ``close``: drop the socket mid-reply (1006 means no close frame at all)."""
    conn.sim.trace("out", f"(close {code})", None)
    if code == 1006:
        conn.ws.transport.abort()
    else:
        await conn.ws.close(code, "simulated fault")
    raise Closed

async def _emit_calls(conn: SimConnection, response: Response, calls: tuple[Call, ...],
                      fault: Fault) -> list[str]:
    """Emit each call; built-ins run here, on the server. Returns what to say about those."""
    spoken: list[str] = []
    enabled = {t.get("type") for t in conn.session.get("tools") or [] if isinstance(t, dict)}
    for index, call in enumerate(calls):
        call_id = conn.sim.next_id("call")
        name = call.name
        if call.name in INTERNAL_NAMES:
            if call.name not in enabled:
                spoken.append(f"(simulated) {call.name} is not enabled for this agent; add it "
                              "under tools: to use it.")
                continue
            name = INTERNAL_NAMES[call.name]
            spoken.append(canned_result(call.name, call.arguments)[1])
        item = {"id": conn.sim.next_id("item"), "object": "realtime.item",
                "type": "function_call", "status": "in_progress", "call_id": call_id,
                "name": name, "arguments": ""}
        response.output.append(item)
        arguments = json.dumps(call.arguments, separators=(",", ":"))
        common = {"response_id": response.id, "item_id": item["id"],
                  "output_index": index, "call_id": call_id}
        if fault.out_of_order:  # the arguments overtake their item (seen on busy servers)
            await conn.send({"type": "response.function_call_arguments.done", **common,
                             "name": name, "arguments": arguments}, call_id)
        # the item (with call_id) comes before arguments.done (reference §3.3, §8)
        await conn.send({"type": "response.output_item.added", "response_id": response.id,
                         "output_index": index, "item": item}, call_id)
        await conn.add_item(item)
        if fault.duplicate_item:  # known bug 10: Grok repeats function_call items
            await conn.add_item(item)
            conn.items.pop()
        if fault.close is not None:
            await _close_now(conn, fault.close)
        if fault.stall_ms:
            await asyncio.sleep(fault.stall_ms / 1000)
        await conn.send({"type": "response.function_call_arguments.delta", **common,
                         "delta": arguments}, call_id)
        if not fault.out_of_order:
            await conn.send({"type": "response.function_call_arguments.done", **common,
                             "name": name, "arguments": arguments}, call_id)
        item.update(status="completed", arguments=arguments)
        await conn.send({"type": "response.output_item.done", "response_id": response.id,
                         "output_index": index, "item": item}, call_id)
    return spoken

async def _emit_say(conn: SimConnection, response: Response, entry: Entry, fault: Fault,
                    text_only: bool) -> None:
    text = entry.say or ""
    rid, iid = response.id, conn.sim.next_id("item")
    item: dict[str, Any] = {"id": iid, "object": "realtime.item", "type": "message",
                            "status": "in_progress", "role": "assistant", "content": []}
    response.output.append(item)
    await conn.send({"type": "response.output_item.added", "response_id": rid,
                     "output_index": 0, "item": item})
    await conn.add_item(item)
    if fault.duplicate_item:
        await conn.add_item(item)
        conn.items.pop()
    part = "text" if text_only else "audio"
    await conn.send({"type": "response.content_part.added", "response_id": rid,
                     "item_id": iid, "output_index": 0, "content_index": 0,
                     "part": {"type": part, "transcript": ""} if part == "audio"
                     else {"type": "text", "text": ""}})
    words = [w + " " for w in text.split(" ")]
    if words:
        words[-1] = words[-1][:-1]
    if text_only:
        for word in words:
            await conn.send({"type": "response.text.delta", "response_id": rid,
                             "item_id": iid, "output_index": 0, "content_index": 0,
                             "delta": word})
        await conn.send({"type": "response.text.done", "response_id": rid, "item_id": iid,
                         "output_index": 0, "content_index": 0, "text": text})
        content = {"type": "text", "text": text}
    else:
        await _stream_audio(conn, rid, iid, words, entry, fault)
        await conn.send({"type": "response.output_audio.done", "response_id": rid,
                         "item_id": iid, "output_index": 0, "content_index": 0})
        await conn.send({"type": "response.output_audio_transcript.done", "response_id": rid,
                         "item_id": iid, "output_index": 0, "content_index": 0,
                         "transcript": text})
        content = {"type": "output_audio", "transcript": text}
    await conn.send({"type": "response.content_part.done", "response_id": rid,
                     "item_id": iid, "output_index": 0, "content_index": 0,
                     "part": content})
    item.update(status="completed", content=[content])
    await conn.send({"type": "response.output_item.done", "response_id": rid,
                     "output_index": 0, "item": item})

async def _stream_audio(conn: SimConnection, rid: str, iid: str, words: list[str], entry: Entry,
                        fault: Fault) -> None:
    fmt = conn.audio_format("output")
    total_ms = entry.audio_ms if entry.audio_ms is not None else max(
        300, _MS_PER_CHAR * len("".join(words)))
    chunk_ms = conn.sim.scenario.chunk_ms
    count = -(-total_ms // chunk_ms) if total_ms else 0
    prefix = (f'{{"type":"response.output_audio.delta","response_id":"{rid}",'
              f'"item_id":"{iid}","output_index":0,"content_index":0,"event_id":"')
    paced = conn.sim.scenario.realtime and not fault.burst
    loop = asyncio.get_running_loop()
    start = loop.time()
    next_word = 0
    for n in range(count):
        # transcript runs slightly ahead of the audio it describes, as on the live API
        while next_word < len(words) and next_word * count <= n * len(words):
            await conn.send({"type": "response.output_audio_transcript.delta",
                             "response_id": rid, "item_id": iid, "output_index": 0,
                             "content_index": 0, "delta": words[next_word]})
            next_word += 1
        if fault.close is not None and n >= count // 2:
            await _close_now(conn, fault.close)
        if fault.stall_ms and n == count // 2:
            await asyncio.sleep(fault.stall_ms / 1000)
        ms = min(chunk_ms, total_ms - n * chunk_ms)
        text = f'{prefix}{conn.sim.next_id("evt")}","delta":"{chunk_b64(fmt, ms)}"}}'
        if fault.null_fields:
            text = text.replace('"output_index":0', '"output_index":null', 1)
        await conn.send_raw(text, "response.output_audio.delta")
        if paced:
            delay = start + (n + 1) * chunk_ms / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        elif not fault.burst and n % _YIELD_EVERY == _YIELD_EVERY - 1:
            await asyncio.sleep(0)
    for word in words[next_word:]:
        await conn.send({"type": "response.output_audio_transcript.delta", "response_id": rid,
                         "item_id": iid, "output_index": 0, "content_index": 0,
                         "delta": word})
    if fault.close is not None:
        await _close_now(conn, fault.close)


_CHARS_PER_TOKEN = 4  # the usual rule of thumb for English text


def _usage(conn: SimConnection, output: list[dict[str, Any]]) -> dict[str, int]:
    """Plausible token counts for ``response.done`` (§ response.done ``usage``): the text
    this response said or called with as output, the instructions and the conversation so
    far as input, at about four characters a token (offline summaries and records then show
    real-looking numbers, never a constant)."""
    def chars(items: list[dict[str, Any]]) -> int:
        total = 0
        for item in items:
            total += len(item.get("arguments") or "") + len(item.get("output") or "")
            for part in item.get("content") or ():
                total += len(part.get("transcript") or part.get("text") or "")
        return total

    output_tokens = max(1, chars(output) // _CHARS_PER_TOKEN)
    input_tokens = max(1, (len(str(conn.session.get("instructions") or "")) + chars(conn.items))
                       // _CHARS_PER_TOKEN)
    return {"total_tokens": input_tokens + output_tokens, "input_tokens": input_tokens,
            "output_tokens": output_tokens}

