"""Running the service: uvicorn with a drain on SIGTERM, one or several worker processes.

:func:`run` binds the port once, prints the start-up lines, and runs the app in this process
(``workers=1``) or in N spawned worker processes sharing the socket, as uvicorn and gunicorn do
(calls share no state, so each worker is one core's worth of calls). Workers that die are
replaced. Metrics of all workers are merged through ``prometheus-client``'s multiprocess
directory (``PROMETHEUS_MULTIPROC_DIR``, made here when not given).

SIGTERM (or Ctrl-C) drains instead of stopping at once: the socket stays open, ``/readyz``
answers 503, webhooks get a polite refusal, calls in progress go on for ``drain_timeout``
seconds and are then hung up cleanly; then the server shuts down and the process exits 0. A
second signal ends the calls at once.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Generator
from types import FrameType
from typing import Any

import uvicorn

from agentrun.serve._app import create_app, default_channels, startup_lines
from agentrun.serve._registry import AgentRegistry
from agentrun.serve._service import ServeOptions, Service, _stream_secret

__all__ = ["run"]

_log = logging.getLogger("agentrun.serve")

WS_MAX_SIZE = 1024 * 1024  # bytes per WebSocket message (Twilio's are < 4 KiB)
_EARLY_SIGNALS: list[int] = []


def run(options: ServeOptions, *, host: str = "127.0.0.1", port: int = 8080,
        workers: int = 1, verbose: bool = False) -> int:
    """Serve until SIGTERM/SIGINT, drain, and return the exit code (0).

    Args:
        options: how to serve.
        host: address to listen on.
        port: TCP port (0 picks a free one, printed in the ``listening on`` line).
        workers: worker processes (each with its own event loop and call limit).
        verbose: debug logs (calls, transcripts, uvicorn's access log).

    Returns:
        0 after a clean drain.

    Raises:
        SpecError: the agent path does not exist.
        OSError: the port cannot be bound.
    """
    configure_logging(verbose)
    # a signal before the server's own handlers are in place is kept and honoured at start
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda s, f: _EARLY_SIGNALS.append(s))
    registry = AgentRegistry(options.path, variables=options.variables)
    events = registry.load_all()
    sock = _bind(host, port)
    actual = sock.getsockname()[1]
    listen = f"http://{host if ':' not in host else f'[{host}]'}:{actual}"
    for line in startup_lines(options, events, default_channels(), listen):
        _log.info("%s", line)
    _stream_secret(os.environ.get("TWILIO_AUTH_TOKEN") or None)  # one key for every worker
    options = dataclasses.replace(options, announce=False)
    _log.info("listening on %s (%d worker%s, up to %d calls each); SIGTERM drains",
              listen, workers, "s" if workers > 1 else "", options.max_calls)
    sys.stderr.flush()
    if workers <= 1:
        _Worker(options, verbose, 0, supervised=False)(sock)
        return 0
    return _supervise(options, verbose, workers, sock)


def configure_logging(verbose: bool, worker: int | None = None) -> None:
    """``agentrun: …`` lines on stderr for the service's own log (``agentrun.*`` loggers)."""
    root = logging.getLogger("agentrun")
    for handler in list(root.handlers):
        if getattr(handler, "_agentrun_serve", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._agentrun_serve = True  # type: ignore[attr-defined]
    tag = "agentrun" if worker is None else f"agentrun[{worker}]"
    handler.setFormatter(logging.Formatter(tag + ": %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Worker:
    """One worker process's body (picklable, for spawned workers)."""

    def __init__(self, options: ServeOptions, verbose: bool, index: int, *,
                 supervised: bool) -> None:
        self.options = options
        self.verbose = verbose
        self.index = index
        self.supervised = supervised

    def __call__(self, sock: socket.socket) -> None:
        if self.supervised:
            configure_logging(self.verbose, self.index)
        service = Service(self.options)
        app = create_app(self.options, service=service)
        config = uvicorn.Config(
            app, lifespan="on", log_level="info" if self.verbose else "warning",
            access_log=self.verbose, ws_max_size=WS_MAX_SIZE, timeout_graceful_shutdown=5,
            proxy_headers=True)
        server = _DrainingServer(config, service, supervised=self.supervised)
        server.run(sockets=[sock])


class _DrainingServer(uvicorn.Server):
    """uvicorn's server with a drain in front of its shutdown (see the module docstring)."""

    def __init__(self, config: uvicorn.Config, service: Service, *, supervised: bool) -> None:
        super().__init__(config)
        self._service = service
        self._supervised = supervised
        self._drain_started = False
        self._loop: Any = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        import asyncio

        self._loop = asyncio.get_running_loop()
        await super().startup(sockets)
        while _EARLY_SIGNALS:
            self.handle_exit(_EARLY_SIGNALS.pop(0), None)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._supervised and sig == signal.SIGINT:
            return  # Ctrl-C reaches the whole process group: the supervisor decides
        if self._drain_started or self._loop is None:
            self.should_exit = True  # a second signal: end calls now (uvicorn closes sockets)
            return
        self._drain_started = True
        self._loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        task = self._service.begin_drain()
        task.add_done_callback(lambda _: setattr(self, "should_exit", True))

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # uvicorn re-raises the signal after a graceful shutdown, so the process would die by
        # SIGTERM (exit 143); a drained service exits 0
        handlers = {sig: signal.signal(sig, self.handle_exit)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)


def _supervise(options: ServeOptions, verbose: bool, workers: int,
               sock: socket.socket) -> int:
    """Run ``workers`` spawned worker processes on ``sock`` until a signal, then drain them."""
    made_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        made_dir = tempfile.mkdtemp(prefix="agentrun-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made_dir
    context = multiprocessing.get_context("spawn")
    signals: list[int] = _EARLY_SIGNALS
    previous = {sig: signal.signal(sig, lambda s, f: signals.append(s))
                for sig in (signal.SIGINT, signal.SIGTERM)}

    def start(index: int) -> Any:
        process = context.Process(target=_Worker(options, verbose, index, supervised=True),
                                  args=(sock,), name=f"agentrun-worker-{index}")
        process.start()
        return process

    processes = [start(i) for i in range(workers)]
    stopping = 0
    try:
        while any(p.is_alive() for p in processes) or not stopping:
            time.sleep(0.2)
            while signals:
                signals.pop(0)
                stopping += 1
                if stopping == 1:
                    _log.info("draining %d workers (a second signal ends calls now)", workers)
                for process in processes:
                    if process.is_alive() and process.pid is not None:
                        os.kill(process.pid, signal.SIGTERM)
            if stopping:
                continue
            for index, process in enumerate(processes):
                if not process.is_alive():
                    _mark_dead(process.pid)
                    _log.warning("worker %d exited (code %s); starting a new one", index,
                                 process.exitcode)
                    processes[index] = start(index)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for process in processes:
            process.join(timeout=5)
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)
    return 0


def _mark_dead(pid: int | None) -> None:
    """Drop a dead worker's live gauges from the merged metrics."""
    if pid is None:
        return
    with contextlib.suppress(Exception):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
