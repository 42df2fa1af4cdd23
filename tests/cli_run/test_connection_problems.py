"""Connection problems end in `agentrun:` lines that say what to do (real sockets, 127.0.0.1),
and `agentrun sim` keeps the same exit codes as every other command."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
from typing import Any

import pytest

AGENTRUN = [sys.executable, "-m", "agentrun"]
ROOT = pathlib.Path(__file__).resolve().parents[2]
SUPPORT = str(ROOT / "agents" / "support.yaml")


def test_a_host_that_cannot_be_found_is_not_retried(agentrun: Any) -> None:
    result = agentrun(SUPPORT, "--text", "--url", "ws://no-such-host.invalid/v1/realtime",
                      input="hi\n")
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert "retrying" not in result.stderr
    assert len(lines) == 1, lines
    assert lines[0].startswith("agentrun: cannot find the host 'no-such-host.invalid' "
                               "(name lookup failed: ")
    assert lines[0].endswith("): check the address for typos and that this machine is online")


def test_a_401_without_a_key_says_no_key_was_sent(agentrun: Any, simulator: Any) -> None:
    with simulator(api_key="the-key") as sim:
        url = sim.url
        result = agentrun(SUPPORT, "--text", "--url", url, input="hi\n")
    assert result.returncode == 3
    assert result.stderr == (f"agentrun: the service at {url}?model=grok-voice-latest needs "
                             "an API key and none was sent (HTTP 401): set XAI_API_KEY\n")
    assert result.stdout == ""


def test_every_status_line_of_a_refused_connection_has_the_prefix(agentrun: Any) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = agentrun(SUPPORT, "--text", "--url", f"ws://127.0.0.1:{port}/v1/realtime",
                      input="hi\n", timeout=60)
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("agentrun: ") for line in lines), lines
    assert "is the server running, and is the port right?" in lines[-1]
    assert "Traceback" not in result.stderr


def test_dry_run_with_url_describes_that_url_and_keeps_its_model(agentrun: Any) -> None:
    url = "ws://127.0.0.1:9/v1/realtime?model=grok-voice-beta"
    result = agentrun("--dry-run", SUPPORT, "--url", url)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["url"] == url
    assert document["authorization"] == ("none: XAI_API_KEY is not set, so no key is sent to "
                                         "this URL")
    plain = json.loads(agentrun("--dry-run", SUPPORT, "--url", url.split("?")[0]).stdout)
    assert plain["url"] == url.split("?")[0] + "?model=grok-voice-latest"


def test_a_url_model_reaches_the_server(agentrun: Any) -> None:
    # a bare HTTP server that records the upgrade request line and answers 404
    requests: list[str] = []
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer() -> None:
            connection, _ = server.accept()
            with connection:
                requests.append(connection.recv(65536).decode("latin-1").splitlines()[0])
                connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        url = f"ws://127.0.0.1:{port}/v1/realtime?model=grok-voice-beta"
        result = agentrun(SUPPORT, "--text", "--url", url, input="hi\n")
        thread.join(10)
    assert requests == ["GET /v1/realtime?model=grok-voice-beta HTTP/1.1"]
    assert result.returncode == 1
    assert result.stderr == (f"agentrun: no realtime endpoint at {url} (HTTP 404): check --url "
                             "(the path is usually /v1/realtime)\n")


def _start_sim(cli_env: dict[str, str], *args: str) -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen([*AGENTRUN, "sim", *args], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=cli_env)
    assert server.stdout is not None
    return server, server.stdout.readline().strip()


@pytest.mark.parametrize(("signal_number", "code"), [(signal.SIGINT, 130),
                                                     (signal.SIGTERM, 0)])
def test_sim_exits_130_on_ctrl_c_and_0_on_sigterm(cli_env: dict[str, str], signal_number: int,
                                                  code: int) -> None:
    server, first = _start_sim(cli_env)
    try:
        assert first.startswith("listening on ws://127.0.0.1:")
        server.send_signal(signal_number)
        assert server.wait(20) == code
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)
        server.communicate()


def test_sim_on_a_busy_port_is_one_line_and_exit_2(cli_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([*AGENTRUN, "sim", "--port", str(port)], capture_output=True,
                                text=True, env=cli_env, timeout=30, check=False)
    assert result.returncode == 2
    # the same line as `agentrun serve`, naming who holds the port (this test process)
    assert result.stderr == (f"agentrun: cannot listen on 127.0.0.1:{port}: Address already in "
                             f"use (held by {_comm()}, pid {os.getpid()}: stop it or pick "
                             "another --port; --port 0 picks a free one)\n")
    assert result.stdout == ""


def _comm() -> str:
    with open(f"/proc/{os.getpid()}/comm", encoding="utf-8") as comm:
        return comm.read().strip()


def test_run_interrupted_exits_130(cli_env: dict[str, str]) -> None:
    talk = subprocess.Popen([*AGENTRUN, SUPPORT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=cli_env)
    assert talk.stdout is not None
    assert talk.stdout.readline().startswith("agent: ")  # the greeting: the call is up
    talk.send_signal(signal.SIGINT)
    _out, err = talk.communicate(timeout=30)
    assert talk.returncode == 130
    assert err.splitlines()[-1] == "agentrun: interrupted"
