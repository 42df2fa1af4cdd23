"""Transport: failure classification, backoff, and the websockets edge against the simulator."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from agentrun.errors import ServiceError, TransportError
from agentrun.sim import Scenario, Simulator
from agentrun.transport import MemoryTransport, WebSocketTransport, backoff, is_retryable
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Response


@pytest.mark.parametrize(("failure", "retryable"), [
    (1006, True), (1011, True), (1012, True), (1013, True), (1014, True),
    (1000, False), (1001, False), (1008, False), (None, True),
    (ConnectionRefusedError(), True), (ConnectionResetError(), True), (TimeoutError(), True),
    (ServiceError("no"), False), (TransportError("x", retryable=True), True),
    (ConnectionClosedError(Close(1011, ""), None), True),
    (ConnectionClosedError(None, None), True),
    (ConnectionClosedError(Close(1008, ""), None), False),
    (InvalidStatus(Response(401, "Unauthorized", Headers())), False),
    (InvalidStatus(Response(503, "Unavailable", Headers())), True),
    (ValueError("bug"), False),
])
def test_is_retryable(failure: object, retryable: bool) -> None:
    assert is_retryable(failure) is retryable  # type: ignore[arg-type]


def test_backoff_grows_to_a_cap_with_bounded_jitter() -> None:
    delays = list(itertools.islice(backoff(initial=0.25, factor=2, maximum=5, jitter=0.1), 8))
    bases = [0.25, 0.5, 1, 2, 4, 5, 5, 5]
    assert all(b <= d <= b * 1.1 for d, b in zip(delays, bases, strict=True))


def test_a_wrong_key_is_a_service_error_with_one_line() -> None:
    async def main() -> None:
        async with Simulator(api_key="right") as sim:
            await WebSocketTransport.connect(sim.url, api_key="wrong")

    with pytest.raises(ServiceError) as info:
        asyncio.run(main())
    assert str(info.value) == "the service rejected the API key (HTTP 401): check XAI_API_KEY"


def test_a_wrong_path_is_a_non_retryable_transport_error() -> None:
    async def main() -> str:
        async with Simulator() as sim:
            url = sim.url.replace("/v1/realtime", "/v2/nothing")
            with pytest.raises(TransportError) as info:
                await WebSocketTransport.connect(url)
            assert not info.value.retryable
            return url

    url = asyncio.run(main())
    assert url.endswith("/v2/nothing")


def test_nothing_listening_is_retryable() -> None:
    async def main() -> str:
        async with Simulator() as sim:
            url = sim.url
        with pytest.raises(TransportError) as info:
            await WebSocketTransport.connect(url, timeout=2)
        assert info.value.retryable
        return str(info.value)

    assert asyncio.run(main()).endswith(": connection refused (nothing listens there: is the "
                                        "server running, and is the port right?)")


def test_frames_flow_and_a_1011_close_is_retryable_with_its_code() -> None:
    async def main() -> tuple[str, TransportError]:
        scenario = Scenario.load({"responses": [{"fault": {"close": 1011}}]})
        async with Simulator(scenario) as sim:
            transport = await WebSocketTransport.connect(sim.url, api_key="xai-SECRET")
            assert "SECRET" not in repr(transport)
            first = await transport.recv()
            await transport.send('{"type":"response.create"}')
            with pytest.raises(TransportError) as info:
                while True:
                    await transport.recv()
            await transport.aclose()
            await transport.aclose()  # idempotent
            return first, info.value

    first, error = asyncio.run(main())
    assert first.startswith('{"type":"session.created"')
    assert (error.code, error.retryable) == (1011, True)
    assert str(error) == "connection lost (close code 1011: simulated fault)"


def test_memory_pair_delivers_and_fails_both_ends() -> None:
    async def main() -> tuple[str, TransportError, TransportError]:
        client, server = MemoryTransport.pair()
        await client.send("hello")
        received = await server.recv()
        server.fail(1011)
        with pytest.raises(TransportError) as on_recv:
            await client.recv()
        with pytest.raises(TransportError) as on_send:
            await client.send("late")
        return received, on_recv.value, on_send.value

    received, on_recv, on_send = asyncio.run(main())
    assert received == "hello"
    assert (on_recv.code, on_recv.retryable) == (1011, True)
    assert on_send.code == 1011
