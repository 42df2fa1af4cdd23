"""The real service on uvicorn (127.0.0.1, own thread and loop) and a simulator, for tests.

The service runs exactly as deployed (uvicorn, httptools, real WebSockets); tests talk to it
over loopback like Twilio would, from their own event loop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import uvicorn
from agentrun.serve import ServeOptions, Service, create_app
from agentrun.sim import Scenario, Simulator


class SimThread:
    """A simulator on its own loop in a thread (``sim.received`` lists what it got)."""

    def __init__(self, scenario: dict[str, Any] | None = None) -> None:
        self.sim = Simulator(Scenario.load(scenario))
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with self.sim:
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Simulator:
        self._thread.start()
        assert self._ready.wait(20), "the simulator did not start"
        return self.sim

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)


class LiveServer:
    """``create_app(...)`` on a real uvicorn server on 127.0.0.1 (port picked by the OS)."""

    def __init__(self, options: ServeOptions, **app_kwargs: Any) -> None:
        self.service = Service(options)
        self.app = create_app(options, service=self.service, **app_kwargs)
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.app, lifespan="on", log_level="warning",
                                ws_max_size=1024 * 1024, timeout_graceful_shutdown=3)
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self.server.run,
                                        kwargs={"sockets": [self._sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        for _ in range(400):
            if self.server.started:
                return self
            if not self._thread.is_alive():
                break
            threading.Event().wait(0.05)
        raise AssertionError("the service did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(30)
        self._sock.close()

    def submit(self, coroutine: Any) -> Any:
        """Run a coroutine on the server's loop (e.g. a drain); returns a concurrent Future."""
        assert self.service.loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self.service.loop)
