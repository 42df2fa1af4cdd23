"""What an operator relies on: health, readiness while draining, metrics, the call limit, reload."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

import httpx
import pytest
from twilio_fake import (
    TwilioStream,
    call_sid,
    parse_twiml,
    placed_call,
    post_webhook,
    webhook_form,
)

CALLER = "+15553330000"


async def get(url: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=20) as client:
        return await client.get(url)


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """One sample's value from the Prometheus text, or None."""
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_health_readiness_and_the_agent_list(served: Any) -> None:
    with served() as (server, _):
        health = asyncio.run(get(server.url + "/healthz"))
        ready = asyncio.run(get(server.url + "/readyz"))
        index = asyncio.run(get(server.url + "/")).json()
    assert health.status_code == 200 and ready.status_code == 200
    assert list(index["agents"]) == ["line"]  # broken.yaml fails its check: not served
    assert index["agents"]["line"]["name"] == "Test Line"


def test_metrics_count_calls_latency_and_refusals(served: Any, speech_ulaw: bytes) -> None:
    async def main(server: Any) -> tuple[str, str]:
        stream = await placed_call(server.url, "line", call_sid(1), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            during = (await get(server.url + "/metrics")).text
            greeting = len(stream.heard.media)
            await stream.speak(speech_ulaw, paced=False)
            await stream.silence(600, paced=False)
            await stream.wait_for(lambda: len(stream.heard.media) > greeting + 5)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)
        await post_webhook(server.url, "nobody", webhook_form(call_sid(2), CALLER))
        async with asyncio.timeout(20):
            while server.service.active_calls:
                await asyncio.sleep(0.05)
        return during, (await get(server.url + "/metrics")).text

    with served() as (server, _):
        during, after = asyncio.run(main(server))
    assert sample(during, "agentrun_calls_active", agent="line", channel="twilio") == 1
    assert sample(after, "agentrun_calls_active", agent="line", channel="twilio") == 0
    assert sample(after, "agentrun_calls_total", agent="line", channel="twilio") == 1
    assert sample(after, "agentrun_response_latency_seconds_count", agent="line",
                  channel="twilio") >= 1
    assert sample(after, "agentrun_calls_refused_total", channel="twilio",
                  reason="unknown_agent") == 1
    assert "# TYPE agentrun_tool_latency_seconds histogram" in after
    assert "# TYPE agentrun_reconnects_total counter" in after


def test_the_call_limit_refuses_cleanly_and_keeps_the_running_call(served: Any) -> None:
    async def main(server: Any) -> tuple[Any, ...]:
        first = await placed_call(server.url, "line", call_sid(1), CALLER)
        # announced while idle, so its token is valid; it arrives when the line is full
        late = await placed_call(server.url, "line", call_sid(2), CALLER)
        async with first:
            await first.start()
            await first.wait_for(lambda: first.heard.media)
            busy = await post_webhook(server.url, "line", webhook_form(call_sid(3), CALLER))
            async with late:
                await late.start()
                closed = await asyncio.wait_for(late.closed, 20)
            heard = len(first.heard.media)
            await first.dtmf("1")  # the first call still answers
            await first.wait_for(lambda: len(first.heard.media) > heard)
            await first.stop()
            await asyncio.wait_for(first.closed, 20)
        metrics = (await get(server.url + "/metrics")).text
        return busy, closed, late, metrics

    with served(max_calls=1) as (server, _):
        busy, (code, _), late, metrics = asyncio.run(main(server))
    assert busy.status_code == 200
    assert "<Say>" in busy.text and "<Hangup" in busy.text and "<Stream" not in busy.text
    assert code == 1013 and not late.heard.media
    assert sample(metrics, "agentrun_calls_refused_total", channel="twilio",
                  reason="capacity") == 2


def test_drain_fails_readiness_refuses_politely_and_ends_running_calls_cleanly(
        served: Any) -> None:
    async def main(server: Any) -> tuple[Any, ...]:
        stream = await placed_call(server.url, "line", call_sid(1), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            started = time.monotonic()
            drained = server.submit(server.service.drain())
            async with asyncio.timeout(20):  # the drain has begun on the service's loop
                while not server.service.draining:
                    await asyncio.sleep(0.02)
            ready = await get(server.url + "/readyz")
            health = await get(server.url + "/healthz")
            refused = await post_webhook(server.url, "line", webhook_form(call_sid(2), CALLER))
            code, _ = await asyncio.wait_for(stream.closed, 30)
            took = time.monotonic() - started
            await asyncio.wrap_future(drained)
        metrics = (await get(server.url + "/metrics")).text
        return ready, health, refused, code, took, metrics

    with served(drain_timeout=1.0) as (server, _):
        ready, health, refused, code, took, metrics = asyncio.run(main(server))
        assert server.service.active_calls == 0
    assert ready.status_code == 503 and ready.text.strip() == "draining"
    assert health.status_code == 200
    assert refused.status_code == 200 and "<Hangup" in refused.text
    assert "<Stream" not in refused.text
    assert code == 1000, "the call was not ended cleanly"
    assert took >= 0.9, "the call was cut before the drain timeout"
    assert sample(metrics, "agentrun_calls_refused_total", channel="twilio",
                  reason="draining") == 1
    assert sample(metrics, "agentrun_draining") == 1


def test_a_changed_file_serves_the_next_call_and_a_broken_one_keeps_the_last_good(
        served: Any, agents: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="agentrun")
    line = agents / "line.yaml"
    original = line.read_text()

    async def instructions(server: Any, sim: Any, n: int) -> str:
        before = sum(e["type"] == "session.update" for e in sim.received)
        stream = await placed_call(server.url, "line", call_sid(n), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)
        updates = [e for e in sim.received if e["type"] == "session.update"]
        assert len(updates) > before
        return str(updates[-1]["session"]["instructions"])

    async def until(condition: Any) -> None:
        async with asyncio.timeout(20):
            while not condition():
                await asyncio.sleep(0.05)

    async def main(server: Any, sim: Any) -> list[str]:
        seen = [await instructions(server, sim, 1)]
        line.write_text(original.replace("for Acme", "for Globex"))
        await until(lambda: "Globex" in server.service.agent("line").config().session
                    .instructions)
        seen.append(await instructions(server, sim, 2))
        line.write_text(original.replace("voice: Ara", "").replace("name:", "voice: Aria\nname:"))
        await until(lambda: any("keeping the last good version" in r.getMessage()
                                for r in caplog.records))
        seen.append(await instructions(server, sim, 3))
        (agents / "extra.yaml").write_text(original)
        await until(lambda: server.service.agent("extra") is not None)
        (agents / "extra.yaml").unlink()
        await until(lambda: server.service.agent("extra") is None)
        gone = await post_webhook(server.url, "extra", webhook_form(call_sid(4), CALLER))
        assert gone.status_code == 404
        return seen

    with served(reload=True) as (server, sim):
        seen = asyncio.run(main(server, sim))
    assert "for Acme" in seen[0] and "for Globex" in seen[1] and "for Globex" in seen[2]
    kept = next(r.getMessage() for r in caplog.records
                if "keeping the last good version" in r.getMessage())
    assert re.search(r"line\.yaml:1:8: unknown voice 'Aria'", kept), kept


def test_a_running_call_keeps_the_version_it_started_with(served: Any, agents: Any) -> None:
    """Tools and instructions of a call in progress never change under it."""
    line = agents / "line.yaml"

    async def main(server: Any) -> tuple[object, object]:
        stream = await placed_call(server.url, "line", call_sid(1), CALLER)
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            before = server.service.agent("line")
            line.write_text(line.read_text().replace("for Acme", "for Initech"))
            async with asyncio.timeout(20):
                while server.service.agent("line") is before:
                    await asyncio.sleep(0.05)
            heard = len(stream.heard.media)
            await stream.dtmf("5")
            await stream.wait_for(lambda: len(stream.heard.media) > heard)
            await stream.stop()
            await asyncio.wait_for(stream.closed, 20)
        return before, server.service.agent("line")

    with served(reload=True) as (server, sim):
        before, after = asyncio.run(main(server))
    assert before is not after
    updates = [e for e in sim.received if e["type"] == "session.update"]
    assert all("for Acme" in u["session"]["instructions"] for u in updates)


def test_the_embedded_simulator_is_started_once_per_process(agents: Any,
                                                           monkeypatch: Any) -> None:
    from agentrun.serve import ServeOptions
    from serve_harness import LiveServer

    monkeypatch.delenv("XAI_API_KEY", raising=False)

    async def main(server: Any) -> None:
        for n in (1, 2):
            stream = await placed_call(server.url, "line", call_sid(n), CALLER)
            async with stream:
                await stream.start()
                await stream.wait_for(lambda s=stream: s.heard.media)
                await stream.stop()
                await asyncio.wait_for(stream.closed, 20)

    with LiveServer(ServeOptions(agents, reload=False)) as server:
        assert server.service.backend == "simulator"
        simulator = server.service._simulator
        asyncio.run(main(server))
        assert server.service._simulator is simulator
        assert simulator.connections == 2


def test_a_stream_url_from_twiml_works_when_the_app_is_mounted(agents: Any,
                                                              monkeypatch: Any) -> None:
    """Mounted under /voice in someone's Starlette app, the TwiML points inside the mount."""
    from agentrun.serve import ServeOptions, Service, create_app
    from serve_harness import LiveServer, SimThread
    from starlette.applications import Starlette
    from starlette.routing import Mount

    with SimThread() as sim:
        options = ServeOptions(agents, url=sim.url, reload=False)
        service = Service(options)
        voice = create_app(options, service=service)
        outer = Starlette(routes=[Mount("/voice", voice)],
                          lifespan=lambda app: voice.router.lifespan_context(voice))
        server = LiveServer(options)
        server.app, server.service = outer, service
        server.server.config.app = outer
        server.server.config.loaded = False
        with server:
            async def main() -> TwilioStream:
                async with httpx.AsyncClient(timeout=20) as client:
                    response = await client.post(f"{server.url}/voice/twilio/line",
                                                 data=webhook_form(call_sid(1), CALLER))
                url, params = parse_twiml(response.text)
                assert url == f"ws://127.0.0.1:{server.port}/voice/twilio/line/stream"
                stream = TwilioStream(url, params, call_sid(1))
                async with stream:
                    await stream.start()
                    await stream.wait_for(lambda: stream.heard.media)
                    await stream.stop()
                    await asyncio.wait_for(stream.closed, 20)
                return stream

            assert asyncio.run(main()).heard.media
