"""The live path (``--live`` / ``--url``) against a scripted realtime server on 127.0.0.1.

Grok is not reachable here, so the server is ``agentrun sim`` with a scenario file, started as
its own process: the test file's ``model:`` lines are ignored, the server decides what the model
does, and the expectations are the evaluation. Also: a call the service ends, a refused key
(exit 3), a server that never answers (the time limit says where it stopped).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

Write = Callable[..., Path]
Invoke = Callable[..., Result]
Serve = Callable[..., str]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start ``agentrun sim --scenario FILE`` and return its URL; stopped after the test."""
    processes: list[subprocess.Popen[str]] = []

    def start(scenario: str, *extra: str) -> str:
        path = tmp_path / f"server{len(processes)}.yaml"
        path.write_text(scenario, encoding="utf-8")
        process = subprocess.Popen([sys.executable, "-m", "agentrun", "sim", "--scenario",
                                    str(path), *extra], stdout=subprocess.PIPE, text=True)
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("listening on "), line
        return line.split()[-1]
    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


ORDER = """\
agent: desk.yaml
scenarios:
  - name: looks up an order
    turns:
      - say: Where is my order 1234?
        model: I will never be said.        # ignored live: the server decides
        expect:
          tool: {name: lookup_order, arguments: {order_id: "1234"}, output: shipped}
          reply: has shipped
"""

SERVER = """\
responses:
  - call: lookup_order
    arguments: {order_id: "1234"}
  - say: Your order has shipped with UPS.
"""


def test_live_runs_ignore_the_model_lines_and_evaluate_the_expectations(
        write: Write, invoke: Invoke, serve: Serve) -> None:
    write(ORDER)
    url = serve(SERVER)
    result = invoke("test", "--url", url, "-v")
    assert result.exit_code == 0, result.output
    assert result.stderr == (f"agentrun: 1 scenario in 1 file, {url} (scripted model lines "
                             "ignored)\n")
    assert "        agent: Your order has shipped with UPS.\n" in result.stdout
    assert "never be said" not in result.stdout


def test_repeat_against_a_live_service_reports_the_pass_rate(write: Write, invoke: Invoke,
                                                            serve: Serve) -> None:
    write(ORDER)
    url = serve(SERVER)  # scripted once: the second run gets the server's default reply
    result = invoke("test", "--url", url, "--repeat", "2")
    assert result.exit_code == 1
    first = result.stdout.splitlines()[0]
    assert first.startswith("FAIL  desk.test.yaml::looks up an order 1/2 runs passed (50%)")
    assert "run 2, turn 1 (line 8): expected a call to lookup_order with order_id \"1234\", " \
           "but the model called no tool" in first
    url = serve(SERVER)
    assert invoke("test", "--url", url, "--repeat", "2", "--min-pass-rate", "50").exit_code == 0


def test_a_call_the_service_ends_meets_ended_and_fails_otherwise(write: Write, invoke: Invoke,
                                                                 serve: Serve) -> None:
    hang_up = "responses:\n  - say: Goodbye for now.\n    fault: {close: 1003}\n"
    write("""\
        agent: desk.yaml
        scenarios:
          - name: ends
            turns:
              - say: That is all.
                expect: {ended: true}
        """)
    result = invoke("test", "--url", serve(hang_up), "-v")
    assert result.exit_code == 0, result.output
    assert "        note: the call ended: " in result.stdout
    write("""\
        agent: desk.yaml
        scenarios:
          - name: ends
            turns:
              - say: That is all.
              - say: Are you still there?
        """)
    result = invoke("test", "--url", serve(hang_up))
    assert result.exit_code == 1
    assert "FAIL  desk.test.yaml::ends" in result.stdout
    assert "turn 1 (line 5): the call ended during this turn: " in result.stdout


def test_a_refused_key_stops_the_run_with_exit_code_3(write: Write, invoke: Invoke,
                                                      serve: Serve) -> None:
    write(ORDER)
    url = serve(SERVER, "--require-key", "right-key")
    result = invoke("test", "--url", url, env={"XAI_API_KEY": "wrong-key"})
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "rejected the API key" in result.stderr
    assert "wrong-key" not in result.output


def test_a_server_that_never_answers_cannot_hang_a_test(write: Write, invoke: Invoke) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
        port = silent.getsockname()[1]
        write(ORDER.replace("scenarios:", "timeout: 1s\nscenarios:"))
        result = invoke("test", "--url", f"ws://127.0.0.1:{port}/v1/realtime")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(
        f": line 4: did not finish within 1 s: stopped while connecting to the realtime service "
        f"(ws://127.0.0.1:{port}/v1/realtime) (timeout: in the test file sets the limit)")
