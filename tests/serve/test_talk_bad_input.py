"""A page that misbehaves never takes the service down, never reaches another call; browser
calls are admitted, counted, refused and drained like phone calls."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from typing import Any

import httpx
from agentrun.serve import BrowserChannel, TwilioChannel
from talk_client import TalkClient
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def get(url: str) -> str:
    async with httpx.AsyncClient(timeout=20) as client:
        return (await client.get(url)).text


async def healthy_call(base: str) -> TalkClient:
    """A normal browser call that hears its greeting and hangs up."""
    async with TalkClient(base, "line") as page:
        await page.start(24000)
        await page.wait_for(lambda: page.heard.audio)
        await page.hangup()
        await asyncio.wait_for(page.closed, 20)
    return page


def appended(sim: Any) -> bytes:
    import base64

    return b"".join(base64.b64decode(e["audio"]) for e in sim.received
                    if e["type"] == "input_audio_buffer.append")


def test_junk_frames_are_ignored_and_the_call_goes_on(served: Any) -> None:
    """At the agent's own rate the caller's audio passes through byte for byte: only the
    valid frames reach the model, whatever junk came between them."""
    junk: list[str | bytes] = [
        "not json", "[1, 2, 3]", '{"type": 42}', '{"type": "unheard-of"}', "[" * 4000,
        "x" * 100_000, '{"type": "start", "sample_rate": 8000}',
        '{"type": "played", "item_id": "not-ours", "played_ms": 5}',
        '{"type": "played", "item_id": 1, "played_ms": "a lot"}',
        b"", b"\x01", b"\x01\x02\x03", b"\x00\x00" * 30_000,  # empty, odd, over one second
    ]
    spoken = b"\x00\x10" * 4800  # 200 ms, loud

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: page.heard.audio)  # the greeting
            for frame in junk:
                await page.send(frame)
            before = len(page.heard.items)
            await page.speak(spoken + b"\x00\x00" * 14400)  # then 600 ms of silence
            await page.wait_for(lambda: len(page.heard.items) > before)  # the answer
            await page.hangup()
            await asyncio.wait_for(page.closed, 20)
        return page

    with served() as (server, sim):
        page = asyncio.run(main(server))
        asyncio.run(healthy_call(server.url))
        assert server.service.active_calls == 0
    assert appended(sim) == spoken + b"\x00\x00" * 14400
    assert page.heard.error is None and page.closed.result()[0] == 1000


def test_a_page_that_sends_only_junk_is_ended_and_told_why(served: Any) -> None:
    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: page.heard.ready)
            for n in range(400):
                await page.send(f"junk {n}")
            await asyncio.wait_for(page.closed, 20)
        return page

    with served() as (server, _):
        page = asyncio.run(main(server))
        healthy = asyncio.run(healthy_call(server.url))
        assert server.service.active_calls == 0
    assert page.heard.error is not None and page.heard.error["code"] == "bad_input"
    assert page.closed.result()[0] == 1008
    assert healthy.heard.audio


def test_a_socket_that_never_starts_or_starts_badly_gets_no_call(served: Any) -> None:
    async def never(server: Any) -> tuple[int | None, str]:
        async with TalkClient(server.url, "line") as page:
            await page.send(b"\x00\x00" * 480)  # audio before start is not a call
            return await asyncio.wait_for(page.closed, 20)

    async def badly(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            for _ in range(25):
                await page.send(json.dumps({"type": "start", "sample_rate": 1}))
            await asyncio.wait_for(page.closed, 20)
        return page

    channels = [TwilioChannel(), BrowserChannel(start_timeout=1.0)]
    with served(channels=channels) as (server, sim):
        code, _ = asyncio.run(never(server))
        page = asyncio.run(badly(server))
        metrics = asyncio.run(get(server.url + "/metrics"))
    assert code == 1008
    assert page.heard.error is not None and page.heard.error["code"] == "bad_start"
    assert not sim.received  # no session was opened
    assert 'agentrun_calls_refused_total{channel="browser",reason="bad_start"} 2.0' in metrics


def test_a_frame_larger_than_the_socket_limit_ends_only_that_call(served: Any) -> None:
    async def main(server: Any) -> tuple[int | None, str]:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: page.heard.ready)
            await page.send(b"\x00" * (2 * 1024 * 1024))
            return await asyncio.wait_for(page.closed, 20)

    with served() as (server, _):
        code, _ = asyncio.run(main(server))
        healthy = asyncio.run(healthy_call(server.url))
        assert server.service.active_calls == 0
    assert code == 1009
    assert healthy.heard.audio


def test_a_page_that_stops_reading_is_dropped_without_hurting_other_calls(
        served: Any, agents: Any, caplog: Any) -> None:
    long = (agents / "line.yaml").read_text().replace(
        "greeting: Hello, thanks for calling Acme. How can I help you today?",
        "greeting: " + "Please hold the line. " * 600)
    (agents / "chatty.yaml").write_text(long)
    caplog.set_level("DEBUG", logger="agentrun")

    async def main(server: Any) -> TalkClient:
        # a tiny receive buffer, max_queue=1 and no recv(): the socket fills at once
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.setblocking(False)
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", server.port))
        stuck = await connect(f"ws://127.0.0.1:{server.port}/talk/chatty/socket", sock=raw,
                              origin=server.url, max_queue=1, max_size=2**20)
        await stuck.send(json.dumps({"type": "start", "sample_rate": 48000}))
        healthy = await healthy_call(server.url)
        async with asyncio.timeout(60):
            while server.service.active_calls:
                await asyncio.sleep(0.1)
        stuck.transport.abort()
        return healthy

    channels = [TwilioChannel(), BrowserChannel(max_outbox_seconds=5)]
    with served(channels=channels) as (server, _):
        healthy = asyncio.run(main(server))
        assert server.service.active_calls == 0
    assert healthy.heard.audio
    assert any("the page stopped reading" in r.getMessage() for r in caplog.records)


def test_browser_calls_count_toward_the_limit_and_are_refused_cleanly(served: Any) -> None:
    async def main(server: Any) -> tuple[TalkClient, TalkClient]:
        async with TalkClient(server.url, "line") as first:
            await first.start(24000)
            await first.wait_for(lambda: first.heard.audio)
            async with TalkClient(server.url, "line") as second:
                await second.start(24000)
                await asyncio.wait_for(second.closed, 20)
            await first.speak(b"\x00\x10" * 4800 + b"\x00\x00" * 14400)
            await first.wait_for(lambda: len(first.heard.items) >= 2)  # still served
            await first.hangup()
        return first, second

    with served(max_calls=1) as (server, _):
        _, second = asyncio.run(main(server))
        metrics = asyncio.run(get(server.url + "/metrics"))
    assert second.heard.error is not None and second.heard.error["code"] == "busy"
    assert "busy" in second.heard.error["message"]
    assert second.closed.result()[0] == 1013
    assert 'agentrun_calls_total{agent="line",channel="browser"} 1.0' in metrics
    assert 'agentrun_calls_refused_total{channel="browser",reason="capacity"} 1.0' in metrics
    assert 'agentrun_calls_active{agent="line",channel="browser"} 0.0' in metrics


def test_a_drain_ends_browser_calls_cleanly_and_refuses_new_ones(served: Any) -> None:
    async def main(server: Any) -> tuple[TalkClient, TalkClient]:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await page.wait_for(lambda: page.heard.audio)
            draining = server.submit(server.service.drain())
            await asyncio.wait_for(page.closed, 20)
        async with TalkClient(server.url, "line") as late:
            await late.start(24000)
            await asyncio.wait_for(late.closed, 20)
        await asyncio.wrap_future(draining)
        return page, late

    with served(drain_timeout=0.5) as (server, _):
        page, late = asyncio.run(main(server))
    assert page.heard.ended is not None and "shutting down" in page.heard.ended["reason"]
    assert page.closed.result()[0] == 1000
    assert late.heard.error is not None and late.heard.error["code"] == "draining"
    assert late.closed.result()[0] == 1013


def test_a_page_closed_mid_reply_ends_the_call_and_frees_its_slot(served: Any) -> None:
    async def main(server: Any) -> None:
        page = TalkClient(server.url, "line")
        await page.__aenter__()
        await page.start(24000)
        await page.wait_for(lambda: page.heard.audio)
        assert page.ws is not None
        page.ws.transport.abort()  # the tab was closed: no close frame
        with contextlib.suppress(ConnectionClosed):
            await page.ws.wait_closed()
        async with asyncio.timeout(20):
            while server.service.active_calls:
                await asyncio.sleep(0.05)

    with served() as (server, _):
        asyncio.run(main(server))
        assert server.service.active_calls == 0
        asyncio.run(healthy_call(server.url))


def test_a_realtime_service_that_refuses_the_call_is_explained_and_frees_the_slot(
        agents: Any) -> None:
    """The page learns that the agent cannot be reached (the details, here a refused key, are
    the operator's and go to the log), and the call's slot comes back."""
    from agentrun.serve import ServeOptions
    from agentrun.sim import Scenario, Simulator
    from serve_harness import LiveServer, SimThread

    refusing = SimThread()
    refusing.sim = Simulator(Scenario.load(None), api_key="not-the-services-key")

    async def main(server: Any) -> TalkClient:
        async with TalkClient(server.url, "line") as page:
            await page.start(24000)
            await asyncio.wait_for(page.closed, 30)
        return page

    with refusing as sim, LiveServer(ServeOptions(agents, url=sim.url, reload=False)) as server:
        page = asyncio.run(main(server))
        assert server.service.active_calls == 0
    assert page.heard.ready is None  # never told to speak
    assert page.heard.error is not None and page.heard.error["code"] == "unavailable"
    assert "key" not in page.heard.error["message"].lower()
