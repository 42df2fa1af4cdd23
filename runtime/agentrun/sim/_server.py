"""The simulator's server: socket lifecycle, authentication, shared script cursor and trace.

:class:`Simulator` is a real ``websockets`` server on 127.0.0.1 that speaks the Grok realtime
protocol (``_connection`` holds the per-socket behaviour). It is the offline default of
``agentrun FILE.yaml``, the ``agentrun sim`` command and the test double of our own suite.
"""

from __future__ import annotations

import hmac
import itertools
import json
import pathlib
import time
import urllib.parse
from collections.abc import Iterable
from http import HTTPStatus
from types import TracebackType
from typing import IO, Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

from agentrun.sim._connection import SimConnection
from agentrun.sim._scenario import Entry, Scenario

__all__ = ["PATH", "Simulator"]

PATH = "/v1/realtime"
_MAX_MESSAGE = 16 * 1024 * 1024  # a long input_audio_buffer.append is a big frame


class Simulator:
    """An in-process Grok realtime server for offline runs, tests and benchmarks.

    Use it as ``async with Simulator(...) as sim:``; ``sim.url`` is where to connect and
    ``sim.received`` lists every client event it received (for assertions).

    Args:
        scenario: what the simulated model does on each response (default replies when None).
        api_key: when set, the upgrade request must carry ``Authorization: Bearer <api_key>``;
            anything else is rejected with HTTP 401, as the live service does.
        trace: a JSONL file that gets one line per event sent or received
            (``{"t_ns", "dir", "type", "call_id"}``, ``time.perf_counter_ns`` on the server).
        port: TCP port on 127.0.0.1 (0 picks a free one).
        record: keep ``received`` (turn off for long benchmarks to save memory).
    """

    def __init__(self, scenario: Scenario | None = None, *, api_key: str | None = None,
                 trace: str | pathlib.Path | None = None, port: int = 0,
                 record: bool = True) -> None:
        self.scenario = scenario or Scenario()
        self.api_key = api_key
        self.received: list[dict[str, Any]] = []
        self.connections = 0
        self._trace_path = trace
        self._trace: IO[str] | None = None
        self._port = port
        self._record = record
        self._server: Server | None = None
        self._counter = itertools.count(1)
        self._cursor = 0
        self._repeats_left = 0

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start listening on 127.0.0.1 (``url`` is valid afterwards)."""
        if self._trace_path is not None:
            self._trace = open(self._trace_path, "a", encoding="utf-8")  # noqa: SIM115
        self._server = await serve(self._handle, "127.0.0.1", self._port,
                                   process_request=self._check_request, max_size=_MAX_MESSAGE,
                                   compression=None)

    async def aclose(self) -> None:
        """Stop the server, close every connection and flush the trace."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._trace is not None:
            self._trace.close()
            self._trace = None

    async def serve_forever(self) -> None:
        """Serve until cancelled (the ``agentrun sim`` command)."""
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.aclose()

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        return int(next(iter(self._server.sockets)).getsockname()[1])

    @property
    def url(self) -> str:
        """``ws://127.0.0.1:PORT/v1/realtime``."""
        return f"ws://127.0.0.1:{self.port}{PATH}"

    # -- shared state used by connections ------------------------------------------------------

    def next_id(self, prefix: str) -> str:
        """A deterministic id, unique within this simulator (``evt_12``, ``call_3``...)."""
        return f"{prefix}_{next(self._counter)}"

    def next_entry(self) -> Entry | None:
        """The scripted entry for the next response, honouring ``repeat``; None when used up."""
        entries = self.scenario.entries
        if self._cursor >= len(entries):
            return None
        entry = entries[self._cursor]
        if self._repeats_left == 0:
            self._repeats_left = entry.repeat
        self._repeats_left -= 1
        if self._repeats_left == 0:
            self._cursor += 1
        return entry

    def script(self, entries: Iterable[Entry]) -> None:
        """Script the next responses, replacing whatever is left of the scenario.

        For a driver that scripts the model turn by turn (the ``agentrun test`` runner): entries
        a turn did not use never leak into the next one. Responses beyond these get the default
        reply, as when a scenario is used up.

        Args:
            entries: what the model does on each of the next responses, in order.
        """
        self.scenario.entries = list(entries)
        self._cursor = 0
        self._repeats_left = 0

    def record(self, event: dict[str, Any]) -> None:
        if self._record:
            self.received.append(event)

    def trace(self, direction: str, kind: str, call_id: str | None) -> None:
        if self._trace is None:
            return
        # formatted by hand: this runs for every audio delta; types and ids are plain ASCII
        # names we generate, so only a client-chosen call_id needs real JSON quoting
        t_ns = time.perf_counter_ns()
        tail = "}\n" if call_id is None else f',"call_id":{json.dumps(call_id)}}}\n'
        self._trace.write(f'{{"t_ns":{t_ns},"dir":"{direction}","type":{json.dumps(kind)}{tail}')

    def flush_trace(self) -> None:
        if self._trace is not None:
            self._trace.flush()

    # -- websockets callbacks ------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Reject a wrong path (404) or a missing/wrong key (401) before the upgrade (§1, §8)."""
        path = urllib.parse.urlsplit(request.path).path
        if path != PATH:
            return connection.respond(HTTPStatus.NOT_FOUND,
                                      f"no realtime endpoint at {path}; use {PATH}\n")
        if self.api_key is not None:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode()):
                return connection.respond(
                    HTTPStatus.UNAUTHORIZED,
                    '{"error":{"type":"authentication_error","code":"invalid_api_key",'
                    '"message":"Incorrect API key provided."}}\n')
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections += 1
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(ws.request.path).query
                                      if ws.request else "")
        model = query.get("model", ["grok-voice-think-fast-1.0"])[0]
        try:
            await SimConnection(self, ws, model).serve()
        finally:
            self.flush_trace()


