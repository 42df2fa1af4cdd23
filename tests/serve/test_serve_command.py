"""``agentrun serve`` as a process: start-up lines, SIGTERM drain and exit 0, several workers."""

from __future__ import annotations

import asyncio
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from twilio_fake import call_sid, placed_call, post_webhook, webhook_form

AGENTRUN = [sys.executable, "-m", "agentrun"]


class Serving:
    """``agentrun serve ...`` in a subprocess; ``url`` once it listens; stderr collected."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        environment = {k: v for k, v in os.environ.items()
                       if k not in ("XAI_API_KEY", "TWILIO_AUTH_TOKEN")}
        environment.update(env or {})
        self.proc = subprocess.Popen([*AGENTRUN, "serve", *args, "--port", "0"],
                                     stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=environment)
        self.lines: list[str] = []
        self.url = ""
        listening = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self.lines.append(line.rstrip("\n"))
                found = re.search(r"listening on (http://\S+)", line)
                if found:
                    self.url = found[1]
                    listening.set()
            listening.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        assert listening.wait(60) and self.url, "\n".join(self.lines)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        code = self.proc.wait(timeout)
        self._reader.join(10)
        return code

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@pytest.fixture
def serving() -> Iterator[Any]:
    started: list[Serving] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Serving:
        started.append(Serving(*args, env=env))
        return started[-1]

    yield start
    for process in started:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait(10)


def test_start_up_lines_name_the_backend_the_agents_their_urls_and_the_refused_files(
        serving: Any, agents: pathlib.Path) -> None:
    service = serving(str(agents), "--workers", "1")
    assert service.stop() == 0
    lines = service.lines
    assert lines[0].startswith("agentrun: no XAI_API_KEY set — talking to the embedded simulator")
    text = "\n".join(lines)
    assert f"serving line from {agents / 'line.yaml'}" in text
    assert "phone: Twilio voice webhook (HTTP POST) http://127.0.0.1:" in text
    assert f"not serving {agents / 'broken.yaml'}: it fails its check" in text
    assert re.search(r"broken\.yaml:2:8: unknown voice 'Aria'", text)
    assert "WARNING: TWILIO_AUTH_TOKEN is not set" in text and "ANYONE" in text
    assert "Traceback" not in text


def test_with_a_key_and_a_token_the_lines_say_grok_and_warn_nothing(
        serving: Any, agents: pathlib.Path) -> None:
    service = serving(str(agents / "line.yaml"), "--workers", "1",
                      env={"XAI_API_KEY": "xai-secret-value", "TWILIO_AUTH_TOKEN": "t" * 32})
    assert service.stop() == 0
    text = "\n".join(service.lines)
    assert "realtime server: Grok (key from $XAI_API_KEY)" in text
    assert "xai-secret-value" not in text and "t" * 32 not in text
    assert "WARNING" not in text


def test_a_missing_path_is_one_line_and_exit_2(tmp_path: pathlib.Path) -> None:
    result = subprocess.run([*AGENTRUN, "serve", str(tmp_path / "nope")], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert "nope: no such file or folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_busy_port_is_one_line_naming_its_holder_and_exit_2(agents: pathlib.Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*AGENTRUN, "serve", str(agents), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 2  # bad input, like a busy microphone: not "call failed"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"agentrun: cannot listen on 127.0.0.1:{port}: Address already "
                               "in use (")
    assert f"pid {os.getpid()}:" in lines[0]  # this test process holds it
    assert "pick another --port" in lines[0]


@pytest.mark.parametrize(("args", "said"), [
    (["--host", "192.0.2.7"], "this machine has no address 192.0.2.7: check --host"),
    (["--host", "no-such-host.invalid"], "'no-such-host.invalid' is not a name or address "
                                          "this machine can use: check --host"),
    (["--port", "70000"], "invalid value for '--port': '70000' is not a port number"),
])
def test_an_unusable_host_or_port_is_one_line_and_exit_2(agents: pathlib.Path, args: list[str],
                                                         said: str) -> None:
    result = subprocess.run([*AGENTRUN, "serve", str(agents), "--port", "0", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert said in result.stderr


def test_sigterm_drains_a_call_in_progress_then_exits_0(serving: Any, agents: Any) -> None:
    service = serving(str(agents), "--workers", "1", "--drain-timeout", "2")

    async def main() -> tuple[Any, ...]:
        stream = await placed_call(service.url, "line", call_sid(1), "+15550001111")
        async with stream:
            await stream.start()
            await stream.wait_for(lambda: stream.heard.media)
            service.proc.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            async with httpx.AsyncClient(timeout=10) as client, asyncio.timeout(20):
                # readiness fails once the worker has handled the signal (soon, not at once)
                while (ready := await client.get(service.url + "/readyz")).status_code == 200:
                    await asyncio.sleep(0.05)
            refused = await post_webhook(service.url, "line", webhook_form(call_sid(2), "+1"))
            code, _ = await asyncio.wait_for(stream.closed, 30)
            return ready, refused, code, time.monotonic() - signalled

    ready, refused, code, took = asyncio.run(main())
    assert ready.status_code == 503
    assert "<Hangup" in refused.text and "<Stream" not in refused.text
    assert code == 1000 and took >= 1.5
    assert service.stop() == 0
    assert any("draining" in line for line in service.lines)


def test_several_workers_share_the_port_and_their_metrics(serving: Any, agents: Any) -> None:
    service = serving(str(agents), "--workers", "2")

    async def main() -> list[str]:
        for n in range(4):
            stream = await placed_call(service.url, "line", call_sid(n + 1), "+15550002222")
            async with stream:
                await stream.start()
                await stream.wait_for(lambda s=stream: s.heard.media)
                await stream.stop()
                await asyncio.wait_for(stream.closed, 20)
        await asyncio.sleep(0.5)
        scrapes = []
        for _ in range(6):  # new connections: any worker may answer
            async with httpx.AsyncClient(timeout=10) as client:
                scrapes.append((await client.get(service.url + "/metrics")).text)
        return scrapes

    scrapes = asyncio.run(main())
    for text in scrapes:
        assert 'agentrun_calls_total{agent="line",channel="twilio"} 4.0' in text
        assert 'agentrun_calls_active{agent="line",channel="twilio"} 0.0' in text
    assert service.stop() == 0
    workers = {m[1] for line in service.lines if (m := re.match(r"agentrun\[(\d)\]", line))}
    assert workers <= {"0", "1"}
