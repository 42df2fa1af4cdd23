"""A lean Twilio load generator: N phone calls, paced in real time, for `serve_bench.py`.

Each call does what Twilio does: (for agentrun) POST the voice webhook and read the TwiML, open
the Media Stream, send ``connected`` and ``start`` (with the TwiML's parameters), then a 20 ms
μ-law ``media`` frame every 20 ms for as long as the call is held: 2 s of speech (espeak-ng),
then 5 s of silence while the agent's 4 s reply plays, and again. Agent audio is "played" on a
real-time clock per call: playback starts 100 ms after a reply's first chunk (a jitter buffer),
and a chunk that arrives after the audio before it has run out is an underrun. Marks are echoed
when the audio before them has played, as Twilio does; ``clear`` empties the buffer.

Lean on purpose (the generator must not be the limit): its own WebSocket client on asyncio
protocols (no library, no task per call, a zero masking key), one 20 ms ticker for every call,
pre-built frames, and no JSON parsing of agent audio (the payload length is all it needs).
Prints one JSON document: per-call timings and counters, and its own CPU time.

    python bench/_phone_load.py --target agentrun --base http://127.0.0.1:PORT --calls 100 \
        --hold 60 --speech speech.ulaw
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import resource
import struct
import sys
import time
import urllib.parse
from typing import Any

FRAME = 160  # bytes: 20 ms of μ-law at 8 kHz
TICK = 0.02
SPEECH_FRAMES = 100  # 2 s
SILENCE_FRAMES = 250  # 5 s
JITTER = 0.1  # s of agent audio buffered before playback starts
# json.dumps puts a space after ':' (pipecat), a hand-built message does not (agentrun)
_MEDIA_AT = re.compile(rb'"event": ?"(media|mark|clear)"')
_PAYLOAD = re.compile(rb'"payload": ?"')
_MARK_NAME = re.compile(rb'"name": ?"([^"]*)"')


class Call(asyncio.Protocol):
    """One phone call's WebSocket (client side) and its accounting."""

    def __init__(self, gen: Generator, index: int) -> None:
        self.gen = gen
        self.index = index
        self.sid = f"CA{index:032x}"
        self.stream_sid = f"MZ{index:032x}"
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.handshaken = False
        self.ready = asyncio.get_running_loop().create_future()
        self.frame = 0
        self.started_at = 0.0
        self.first_audio = 0.0
        self.closed = False
        self.refused = ""
        # playback
        self.play_end = 0.0  # when the audio received so far has played out
        self.reply_open = False
        self.underruns = 0
        self.chunks = 0
        self.recv_t: list[float] = []
        self.recv_ms: list[float] = []
        self.recv_total = 0.0
        self.marks: list[tuple[float, bytes]] = []
        self.clears = 0
        # what was sent: frame k (20 ms each) left at sent_t[k]
        self.sent_t: list[float] = []

    # -- transport ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.handshaken:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4:]
            if not head.startswith(b"HTTP/1.1 101"):
                self.refused = head.split(b"\r\n", 1)[0].decode(errors="replace")
                self.ready.set_exception(ConnectionError(self.refused))
                return
            self.handshaken = True
            self.ready.set_result(None)
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
            offset = 2
            if length == 126:
                if len(buffer) < 4:
                    break
                length, offset = struct.unpack_from(">H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    break
                length, offset = struct.unpack_from(">Q", buffer, 2)[0], 10
            if len(buffer) < offset + length:
                break
            payload, buffer = buffer[offset:offset + length], buffer[offset + length:]
            if opcode == 1:
                self.on_text(payload)
            elif opcode == 8:
                code = struct.unpack_from(">H", payload)[0] if len(payload) >= 2 else 1005
                reason = payload[2:].decode(errors="replace")
                self.refused = self.refused or f"closed {code} {reason}"
                self.send_frame(8, payload[:2])
                self.closed = True
            elif opcode == 9:
                self.send_frame(10, payload)
        self.buffer = buffer

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        size = len(payload)
        if size < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | size)
        elif size < 65536:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, size)
        # masking key 0: the masked payload is the payload (RFC 6455 allows any key)
        self.transport.write(head + b"\0\0\0\0" + payload)

    def send_text(self, text: bytes) -> None:
        self.send_frame(1, text)

    # -- Twilio ---------------------------------------------------------------------------------

    def on_text(self, payload: bytes) -> None:
        found = _MEDIA_AT.search(payload, 0, 60)
        if found is None:
            return
        kind = found[1]
        now = time.monotonic()
        if kind == b"media":
            start = _PAYLOAD.search(payload).end()  # type: ignore[union-attr]
            end = payload.index(b'"', start)
            size = (end - start) * 3 // 4 - payload[end - 2:end].count(b"=")
            ms = size / 8  # μ-law at 8 kHz
            if not self.first_audio:
                self.first_audio = now
            if not self.reply_open or now > self.play_end + 0.5:
                self.reply_open = True  # a new reply: playback starts after the jitter buffer
                self.play_end = now + JITTER
            elif now > self.play_end:
                self.underruns += 1  # the caller heard a gap inside a reply
                self.play_end = now
            self.play_end += ms / 1000
            self.chunks += 1
            self.recv_total += ms
            self.recv_t.append(now)
            self.recv_ms.append(self.recv_total)
        elif kind == b"mark":
            name = _MARK_NAME.search(payload)
            if name:
                self.marks.append((max(now, self.play_end), name[1]))
        else:  # clear
            self.clears += 1
            self.play_end = now
            self.reply_open = False
            for _, name in self.marks:
                self.echo_mark(name)
            self.marks.clear()

    def echo_mark(self, name: bytes) -> None:
        self.send_text(b'{"event":"mark","streamSid":"' + self.stream_sid.encode()
                       + b'","mark":{"name":"' + name + b'"}}')

    def tick(self, now: float) -> None:
        """Send this call's next 20 ms frame and echo marks whose audio has played."""
        if self.closed:
            return
        frames = self.gen.frames
        self.frame += 1
        cycle = self.frame % (SPEECH_FRAMES + SILENCE_FRAMES)
        body = frames[cycle] if cycle < SPEECH_FRAMES else self.gen.silence
        self.send_text(b'{"event":"media","sequenceNumber":"%d","streamSid":"%s","media":'
                       b'{"track":"inbound","chunk":"%d","timestamp":"%d","payload":"%s"}}'
                       % (self.frame + 2, self.stream_sid.encode(), self.frame,
                          self.frame * 20, body))
        self.sent_t.append(now)
        if self.marks and self.marks[0][0] <= now:
            due = [m for m in self.marks if m[0] <= now]
            self.marks = [m for m in self.marks if m[0] > now]
            for _, name in due:
                self.echo_mark(name)
        if self.reply_open and now > self.play_end + 0.5:
            self.reply_open = False


class Generator:
    """Every call of one run, their ticker and the report."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        with open(args.speech, "rb") as handle:
            speech = handle.read()
        speech = (speech * (1 + SPEECH_FRAMES * FRAME // max(1, len(speech))))[
            :SPEECH_FRAMES * FRAME]
        self.frames = [base64.b64encode(speech[i * FRAME:(i + 1) * FRAME])
                       for i in range(SPEECH_FRAMES)]
        self.silence = base64.b64encode(b"\xff" * FRAME)
        self.calls: list[Call] = []
        self.failed: list[str] = []

    async def place(self, index: int) -> None:
        base = urllib.parse.urlsplit(self.args.base)
        host, port = base.hostname or "127.0.0.1", base.port or 80
        sid = f"CA{index:032x}"
        params = {"caller": f"+1555{index:07d}", "call_id": sid}
        path = f"/{self.args.path.strip('/')}"
        if self.args.target == "agentrun":
            params, path = await self.webhook(host, port, sid, params["caller"])
            if params is None:
                self.failed.append("refused by the webhook")
                return
        loop = asyncio.get_running_loop()
        try:
            _, call = await loop.create_connection(lambda: Call(self, index), host, port)
            call.send_handshake = None  # type: ignore[attr-defined]
            key = base64.b64encode(os.urandom(16)).decode()
            assert call.transport is not None
            call.transport.write(
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n\r\n".encode())
            await asyncio.wait_for(call.ready, 30)
        except (OSError, ConnectionError, TimeoutError) as exc:
            self.failed.append(f"connect: {exc}")
            return
        call.send_text(b'{"event":"connected","protocol":"Call","version":"1.0.0"}')
        call.started_at = time.monotonic()
        start = {"event": "start", "sequenceNumber": "1", "streamSid": call.stream_sid,
                 "start": {"accountSid": "AC" + "0" * 32, "streamSid": call.stream_sid,
                           "callSid": sid, "tracks": ["inbound"],
                           "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                           "channels": 1},
                           "customParameters": params}}
        call.send_text(json.dumps(start).encode())
        self.calls.append(call)

    async def webhook(self, host: str, port: int, sid: str, caller: str
                      ) -> tuple[dict[str, str] | None, str]:
        body = urllib.parse.urlencode({"CallSid": sid, "From": caller, "To": "+15550000000",
                                       "AccountSid": "AC" + "0" * 32}).encode()
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(f"POST /twilio/{self.args.agent} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Content-Type: application/x-www-form-urlencoded\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        response = (await reader.read()).decode(errors="replace")
        writer.close()
        if "<Stream" not in response:
            return None, ""
        url = re.search(r'<Stream url="([^"]+)"', response)[1]  # type: ignore[index]
        params = dict(re.findall(r'<Parameter name="([^"]+)" value="([^"]*)"', response))
        return params, urllib.parse.urlsplit(url).path

    async def run(self) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        ramp = self.args.ramp / max(1, self.args.calls)
        placing = []
        for index in range(1, self.args.calls + 1):
            placing.append(asyncio.ensure_future(self.place(index)))
            await asyncio.sleep(ramp)
        await asyncio.gather(*placing)
        placed_at = time.monotonic()
        next_tick = loop.time()
        hold_end = placed_at + self.args.hold
        held_start = None
        while time.monotonic() < hold_end:
            now = time.monotonic()
            for call in self.calls:
                call.tick(now)
            if held_start is None:
                held_start = now
                print("holding", file=sys.stderr, flush=True)
                # tell the orchestrator the hold window starts (CPU sampling)
                sys.stdout.write("HOLD\n")
                sys.stdout.flush()
            next_tick += TICK
            await asyncio.sleep(max(0.0, next_tick - loop.time()))
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        alive = {c.sid: not c.closed for c in self.calls}
        sys.stdout.write("DONE\n")
        sys.stdout.flush()
        for call in self.calls:
            if call.transport is not None:
                call.send_text((f'{{"event":"stop","sequenceNumber":"0","streamSid":"{call.stream_sid}",'
                                '"stop":{}}').encode())
        await asyncio.sleep(1.0)
        for call in self.calls:
            if call.transport is not None:
                call.transport.close()
        return {
            "calls": [{"sid": c.sid, "start": c.started_at, "first_audio": c.first_audio,
                       "closed": not alive[c.sid], "why": c.refused, "underruns": c.underruns,
                       "chunks": c.chunks, "clears": c.clears,
                       "sent_t": c.sent_t, "recv_t": c.recv_t, "recv_ms": c.recv_ms}
                      for c in self.calls],
            "failed": self.failed,
            "hold": [held_start, time.monotonic()],
            "cpu_s": (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime),
        }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=["agentrun", "bare", "pipecat"], required=True)
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--path", default="/stream", help="stream path (bare, pipecat)")
    parser.add_argument("--agent", default="phone")
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--hold", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, default=5.0)
    parser.add_argument("--speech", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    try:
        import uvloop  # the generator should cost as little as it can
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    report = runner(Generator(args).run())
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(report, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
