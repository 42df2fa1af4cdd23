"""Bad input never takes the service down, never reaches another call."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from typing import Any

import httpx
from agentrun.serve import TwilioCall, TwilioChannel
from twilio_fake import (
    TwilioStream,
    call_sid,
    parse_twiml,
    placed_call,
    post_webhook,
    webhook_form,
)
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

CALLER = "+15554440000"


def appended(sim: Any) -> bytes:
    return b"".join(base64.b64decode(e["audio"]) for e in sim.received
                    if e["type"] == "input_audio_buffer.append")


async def healthy_call(base: str, n: int) -> TwilioStream:
    """A normal call that hears its greeting and hangs up."""
    stream = await placed_call(base, "line", call_sid(1000 + n), CALLER)
    async with stream:
        await stream.start()
        await stream.wait_for(lambda: stream.heard.media)
        await stream.stop()
        await asyncio.wait_for(stream.closed, 20)
    return stream


def test_junk_messages_are_ignored_and_the_call_goes_on(served: Any) -> None:
    junk: list[str | bytes] = [
        "not json", "[1, 2, 3]", '{"event": 42}', '{"event": "unheard-of"}',
        '{"event": "media"}', '{"event": "media", "streamSid": "MZ' + "1" * 32 + '", "media": '
        '{"payload": "***not base64***"}}',
        '{"event": "mark", "streamSid": "MZ' + "1" * 32 + '", "mark": {"name": "never-sent"}}',
        '{"event": "dtmf", "streamSid": "MZ' + "1" * 32 + '", "dtmf": {"digit": "?"}}',
        "[" * 100_000, '{"event": "media", "pad": "' + "x" * 200_000 + '"}', b"\x00\xff" * 50,
        '{"event": "start", "start": {}}',
    ]
    spoken = b"\x10" * 1600

    async def main(server: Any) -> TwilioStream:
        stream = await placed_call(server.url, "line", call_sid(11), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)  # the greeting
            for message in junk:
                await stream.send(message)
            greeting = len(stream.heard.media)
            await stream.speak(spoken, paced=False)
            await stream.silence(600, paced=False)
            await stream.wait_for(lambda: len(stream.heard.media) > greeting)  # the answer
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)
        return stream

    with served() as (server, sim):
        asyncio.run(main(server))
        asyncio.run(healthy_call(server.url, 1))
    assert appended(sim) == spoken + b"\xff" * 4800


def test_media_before_start_and_for_an_unknown_stream_is_not_passed_on(served: Any) -> None:
    early, foreign, real = b"\x21" * 160, b"\x42" * 160, b"\x63" * 160

    async def main(server: Any) -> None:
        stream = await placed_call(server.url, "line", call_sid(12), CALLER)
        async with stream:
            await stream.send(stream.media_message(early))
            await stream.start()
            await stream.send(stream.media_message(foreign, stream_sid="MZ" + "9" * 32))
            await stream.speak(real, paced=False)
            await stream.wait_for(lambda: stream.heard.media)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)

    with served() as (server, sim):
        asyncio.run(main(server))
    assert appended(sim) == real


def test_a_stream_that_never_starts_is_closed(served: Any) -> None:
    async def main(server: Any) -> tuple[int | None, str]:
        stream = TwilioStream(f"ws://127.0.0.1:{server.port}/twilio/line/stream", {}, "CA1")
        async with stream:
            for _ in range(60):
                await stream.send({"event": "connected"})
            return await asyncio.wait_for(stream.closed, 20)

    with served() as (server, _):
        code, _ = asyncio.run(main(server))
    assert code == 1008


def test_an_unknown_agent_gets_404_twiml_and_its_stream_is_refused(served: Any) -> None:
    async def main(server: Any) -> tuple[httpx.Response, int]:
        response = await post_webhook(server.url, "nobody", webhook_form(call_sid(), CALLER))
        try:
            async with connect(f"ws://127.0.0.1:{server.port}/twilio/nobody/stream"):
                status = 101
        except InvalidStatus as exc:
            status = exc.response.status_code
        return response, status

    with served() as (server, _):
        response, status = asyncio.run(main(server))
        asyncio.run(healthy_call(server.url, 2))
    assert response.status_code == 404
    assert "<Say>" in response.text and "<Hangup" in response.text
    assert status == 403


def test_a_message_larger_than_the_socket_limit_ends_only_that_call(served: Any) -> None:
    async def main(server: Any) -> tuple[int | None, str]:
        stream = await placed_call(server.url, "line", call_sid(13), CALLER)
        async with stream:
            await stream.start()
            await stream.send('{"event": "media", "x": "' + "y" * (2 * 1024 * 1024) + '"}')
            return await asyncio.wait_for(stream.closed, 20)

    with served() as (server, _):
        code, _ = asyncio.run(main(server))
        healthy = asyncio.run(healthy_call(server.url, 3))
        assert server.service.active_calls == 0
    assert code == 1009
    assert healthy.heard.media


def test_a_huge_webhook_body_is_refused(served: Any) -> None:
    async def main(server: Any) -> httpx.Response:
        async with httpx.AsyncClient(timeout=20) as client:
            return await client.post(f"{server.url}/twilio/line", content=b"a=" + b"b" * 200_000,
                                     headers={"content-type":
                                              "application/x-www-form-urlencoded"})

    with served() as (server, _):
        assert asyncio.run(main(server)).status_code == 413


def test_a_client_that_stops_reading_is_dropped_without_hurting_other_calls(
        served: Any, agents: Any, caplog: Any) -> None:
    """A Twilio side that never reads: its queue is bounded, the call is ended, the slot
    comes back, and a concurrent call hears its greeting."""
    long = (agents / "line.yaml").read_text().replace(
        "greeting: Hello, thanks for calling Acme. How can I help you today?",
        "greeting: " + "Please hold the line. " * 200)
    (agents / "chatty.yaml").write_text(long)
    caplog.set_level("DEBUG", logger="agentrun")

    async def main(server: Any) -> tuple[TwilioStream, Any]:
        response = await post_webhook(server.url, "chatty", webhook_form(call_sid(14), CALLER))
        url, params = parse_twiml(response.text)
        # a tiny receive buffer, max_queue=1 and no recv(): the socket fills at once
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        stuck = await connect(url, sock=raw, max_queue=1, max_size=2**20)
        start = TwilioStream(url, params, call_sid(14))
        start.ws = stuck
        await start.start()
        healthy = await healthy_call(server.url, 4)
        async with asyncio.timeout(90):  # the bounded queue, or uvicorn's ping timeout
            while server.service.active_calls:
                await asyncio.sleep(0.1)
        stuck.transport.abort()
        return healthy, None

    with served(channels=[TwilioChannel(max_outbox=500)]) as (server, _):
        healthy, _ = asyncio.run(main(server))
        assert server.service.active_calls == 0
    assert healthy.heard.media


def test_the_queue_for_a_socket_that_is_not_read_is_bounded() -> None:
    """Agent audio for a Twilio side that does not read piles up only to a bound; then the
    call is hung up and the queue dropped (memory stays bounded whatever the kernel buffers)."""
    from agentrun.serve._twilio_stream import MediaStream

    class Stuck:
        async def send_text(self, text: str) -> None:
            await asyncio.Event().wait()  # never returns: the peer stopped reading

    async def main() -> tuple[Any, int]:
        protocol = MediaStream()
        protocol.receive(json.dumps({"event": "start", "streamSid": "MZ1", "start": {
            "callSid": "CA1", "customParameters": {}}}))
        call = TwilioCall(Stuck(), protocol, max_outbox=50)  # type: ignore[arg-type]
        writer = asyncio.create_task(call.write_loop())
        caller = call.caller(None)  # type: ignore[arg-type]
        for _ in range(60):  # 60 media messages and their marks: more than 50 queued
            call.play_audio(b"\xff" * 160, "item_1")
            await asyncio.sleep(0)
        async with asyncio.timeout(10):  # the call must end by itself, not hang
            ended = [item async for item in caller]
        writer.cancel()
        return ended, len(call._outbox)

    ended, queued = asyncio.run(main())
    assert ended == []  # the caller's stream ended: the call hangs up
    assert queued == 0


def test_binary_frames_and_a_stop_before_start_do_not_open_a_session(served: Any) -> None:
    async def main(server: Any) -> tuple[int | None, str]:
        stream = TwilioStream(f"ws://127.0.0.1:{server.port}/twilio/line/stream", {}, "CA1")
        async with stream:
            await stream.send(json.dumps({"event": "stop", "streamSid": "MZ1"}))
            return await asyncio.wait_for(stream.closed, 20)

    with served() as (server, sim):
        code, _ = asyncio.run(main(server))
    assert code == 1008
    assert not sim.received
