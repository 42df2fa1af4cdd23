"""The real ``agentrun`` CLI as a subprocess against the simulator over loopback."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

import pytest

AGENTRUN = [sys.executable, "-m", "agentrun"]

OFFLINE_NOTICE = ("agentrun: no XAI_API_KEY set — talking to the embedded simulator "
                  "(offline; replies are simulated)")


def write_agent(tmp_path: pathlib.Path) -> pathlib.Path:
    agent = tmp_path / "shop.yaml"
    agent.write_text(f"""\
name: Shop
instructions: You help with orders.
voice: Ara
greeting: Hi, this is the shop.
tools:
  - name: lookup_order
    config:
      database: {tmp_path / "orders.db"}
""")
    return agent


def stdout_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def test_offline_by_default_says_so_first_and_answers_each_line(
        tmp_path: pathlib.Path, agentrun: Any) -> None:
    result = agentrun(str(write_agent(tmp_path)), "--text", input="hello\nhow are you\n")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[0] == OFFLINE_NOTICE
    # piped: stdout holds both sides of the conversation
    assert stdout_lines(result) == ["agent: Hi, this is the shop.",
                                    "user: hello",
                                    "agent: (simulated) You said: hello",
                                    "user: how are you",
                                    "agent: (simulated) You said: how are you"]
    assert "Traceback" not in result.stderr


def test_slash_call_runs_the_real_plugin_offline(tmp_path: pathlib.Path, agentrun: Any) -> None:
    result = agentrun(str(write_agent(tmp_path)), input="/call lookup_order order_id=1234\n")
    assert result.returncode == 0, result.stderr
    last = stdout_lines(result)[-1]
    assert last.startswith('agent: (simulated) lookup_order returned {"found":true,'
                           '"order_id":"1234"')
    assert (tmp_path / "orders.db").exists()  # the YAML config reached the plugin


def test_verbose_tool_call_does_not_report_the_normal_item_pair_as_a_duplicate(
        tmp_path: pathlib.Path, agentrun: Any) -> None:
    result = agentrun(str(write_agent(tmp_path)), "-v",
                      input="/call lookup_order order_id=1234\n")
    assert result.returncode == 0, result.stderr
    assert "agentrun: tool lookup_order {\"order_id\":\"1234\"}" in result.stderr  # it ran
    assert "duplicate" not in result.stderr  # output_item.added + item.added is one call


def test_tool_call_sends_the_sqlite_row_and_one_response_create(
        tmp_path: pathlib.Path, agentrun: Any, simulator: Any) -> None:
    scenario = {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}}]}
    with simulator(scenario) as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url,
                          input="where is order 1234?\n")
    assert result.returncode == 0, result.stderr
    at = next(i for i, e in enumerate(sim.received)
              if e["type"] == "conversation.item.create"
              and e["item"]["type"] == "function_call_output")
    row = json.loads(sim.received[at]["item"]["output"])
    assert (row["order_id"], row["status"], row["carrier"]) == ("1234", "shipped", "UPS")
    assert [e["type"] for e in sim.received[at + 1:]] == ["response.create"]
    assert stdout_lines(result)[-1].startswith("agent: (simulated) lookup_order returned")


def test_every_fault_is_survived_in_one_call(tmp_path: pathlib.Path, agentrun: Any,
                                            simulator: Any) -> None:
    # the close comes first here; a reconnect after a tool call has its own test below
    faults: list[dict[str, Any]] = [
        {"fault": {"close": 1011}},
        {"fault": "malformed_json"}, {"fault": "unknown_event"},
        {"fault": {"error": "server_error"}}, {"fault": {"error": "rate_limit_exceeded"}},
        {"fault": {"error": "response_cancel_not_active"}}, {"fault": {"slow": 2}},
        {"fault": "burst"}, {"fault": "failed_response"},
        {"call": "lookup_order", "arguments": {"order_id": "5678"}, "fault": "duplicate_item"},
        {"say": "Order 5678 is on its way."},  # the reply after the tool output
        {"call": "lookup_order", "arguments": {"order_id": "1234"},
         "fault": "auto_response_race"},
        {"say": "Order 1234 has shipped."},  # the server's own response after the output
    ]
    turns = [f"turn {i}" for i in range(len(faults) - 2)] + ["still there?"]
    with simulator({"responses": faults}) as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url,
                          input="\n".join(turns) + "\n")
    assert result.returncode == 0, result.stderr
    lines = stdout_lines(result)
    assert lines[-1] == "agent: (simulated) You said: still there?", result.stdout
    assert "agent: Order 5678 is on its way." in lines
    assert "agent: Order 1234 has shipped." in lines
    assert "Traceback" not in result.stderr
    outputs = [e for e in sim.received if e["type"] == "conversation.item.create"
               and e["item"]["type"] == "function_call_output"]
    assert len({o["item"]["call_id"] for o in outputs}) == 2  # each call answered once


def test_reconnect_mid_call_resends_the_session_and_restores_history(
        tmp_path: pathlib.Path, agentrun: Any, simulator: Any) -> None:
    with simulator({"responses": [{"say": "this reply is cut", "fault": {"close": 1011}}]}) as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url,
                          input="first\nsecond\n")
    assert result.returncode == 0, result.stderr
    errors = result.stderr.splitlines()
    assert ("agentrun: warning: connection lost (close code 1011: simulated fault); "
            "reconnecting") in errors
    assert "agentrun: reconnected: conversation resumed, 2 items restored" in errors
    assert stdout_lines(result)[-3:] == ["agent: (simulated) You said: first",
                                         "user: second",
                                         "agent: (simulated) You said: second"]
    kinds = [e["type"] for e in sim.received]
    assert kinds.count("session.update") == 2 and sim.connections == 2
    resent = sim.received[kinds.index("session.update", 1):]
    texts = [e["item"]["content"][0]["text"] for e in resent
             if e["type"] == "conversation.item.create"]
    assert texts[:2] == ["Hi, this is the shop.", "first"]


def test_reconnect_after_a_tool_call_goes_on(tmp_path: pathlib.Path, agentrun: Any,
                                            simulator: Any) -> None:
    scenario = {"responses": [{"call": "lookup_order", "arguments": {"order_id": "1234"}},
                              {"say": "It has shipped."},
                              {"say": "cut", "fault": {"close": 1011}}]}
    with simulator(scenario) as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url,
                          input="order 1234?\nthanks\nstill there?\n", timeout=15)
    assert result.returncode == 0, result.stderr
    assert stdout_lines(result)[-6:] == ["agent: It has shipped.",
                                         "user: thanks",
                                         "agent: cut …",  # the reply the close cut short
                                         "agent: (simulated) You said: thanks",
                                         "user: still there?",
                                         "agent: (simulated) You said: still there?"]
    assert sim.connections == 2
    outputs = [e for e in sim.received if e["type"] == "conversation.item.create"
               and e["item"]["type"] == "function_call_output"]
    assert len({o["item"]["call_id"] for o in outputs}) == 1


@pytest.mark.parametrize("code", [1000, 1001])
def test_the_session_limit_close_reconnects_and_answers_the_last_question(
        tmp_path: pathlib.Path, agentrun: Any, simulator: Any, code: int) -> None:
    """Issue 9, bug 3: the service ends a session at its length limit with an error and a
    normal close; the call goes on, resumed, and the question is answered."""
    limit = {"type": "invalid_request_error", "code": "session_expired",
             "message": "Your session hit the maximum duration of 60 minutes."}
    with simulator({"responses": [{"say": "this reply is cut by the session limit",
                                   "fault": {"error": limit, "close": code}}]}) as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url,
                          input="first\n")
    assert result.returncode == 0, result.stderr
    assert f"the service closed the connection ({code}); reconnecting" in result.stderr
    assert "conversation resumed" in result.stderr
    lines = stdout_lines(result)
    assert any(line.startswith("agent: this reply") for line in lines)  # the cut line ended
    assert lines[-1] == "agent: (simulated) You said: first"
    assert sim.connections == 2


def test_a_typed_line_that_is_not_utf8_is_sent_with_a_replacement_character(
        tmp_path: pathlib.Path, cli_env: dict[str, str], simulator: Any) -> None:
    with simulator() as sim:
        result = subprocess.run([*AGENTRUN, str(write_agent(tmp_path)), "--url", sim.url],
                                input="caf\xe9?\n".encode("latin-1"), capture_output=True,
                                env={**cli_env, "LC_ALL": "C.UTF-8"}, timeout=30, check=False)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in result.stderr
    assert result.stdout.decode().splitlines()[-1] == "agent: (simulated) You said: caf\ufffd?"


def test_a_rejected_api_key_exits_3_with_one_clear_line(
        tmp_path: pathlib.Path, agentrun: Any, simulator: Any) -> None:
    with simulator(api_key="the-right-key") as sim:
        result = agentrun(str(write_agent(tmp_path)), "--text", "--url", sim.url, input="hi\n",
                          env_extra={"XAI_API_KEY": "a-wrong-key"})
    assert result.returncode == 3
    assert result.stderr == ("agentrun: the service rejected the API key (HTTP 401): "
                             "check XAI_API_KEY\n")
    assert result.stdout == ""


def test_an_unknown_tool_is_a_located_spec_error(tmp_path: pathlib.Path, agentrun: Any) -> None:
    agent = tmp_path / "bad.yaml"
    agent.write_text("name: Bad\ninstructions: x\ntools:\n  - lookup_ordr\n")
    result = agentrun(str(agent), input="")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(f"{agent}:4:")
    assert "Traceback" not in result.stderr


def test_sim_command_prints_its_url_first_and_traces(tmp_path: pathlib.Path, agentrun: Any,
                                                   cli_env: dict[str, str]) -> None:
    trace = tmp_path / "trace.jsonl"
    server = subprocess.Popen([*AGENTRUN, "sim", "--port", "0", "--trace", str(trace)],
                              stdout=subprocess.PIPE, text=True, env=cli_env)
    try:
        assert server.stdout is not None
        first = server.stdout.readline().strip()
        assert first.startswith("listening on ws://127.0.0.1:") and first.endswith(
            "/v1/realtime")
        url = first.removeprefix("listening on ")
        result = agentrun(str(write_agent(tmp_path)), "--url", url, input="hi\n")
        assert result.returncode == 0, result.stderr
    finally:
        server.terminate()
        server.wait(10)
    assert server.returncode == 0
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    assert events[0]["type"] == "session.created" and events[0]["dir"] == "out"
    assert {"in", "out"} == {e["dir"] for e in events}


@pytest.mark.parametrize("text", ["--help"])
def test_run_help_is_written_for_a_yaml_author(agentrun: Any, text: str) -> None:
    result = agentrun("run", text)
    assert result.returncode == 0
    assert "agentrun agents/support.yaml --dry-run" in result.stdout
    assert "/call lookup_order order_id=1234" in result.stdout


def test_builtin_tools_answer_offline_and_text_mode_says_audio_was_not_played(
        tmp_path: pathlib.Path, agentrun: Any) -> None:
    agent = tmp_path / "search.yaml"
    agent.write_text("name: Search\ninstructions: Search for people.\ntools: [web_search]\n",
                     encoding="utf-8")
    result = agentrun(str(agent), "--text",
                      input="/call web_search query='parcel carriers'\n/call web_serch q=1\n")
    assert result.returncode == 0, result.stderr
    lines = stdout_lines(result)
    assert lines[1].startswith("agent: (simulated) I searched the web for parcel carriers: ")
    assert lines[-1] == ("agent: (simulated) /call: this agent has no tool named web_serch. "
                         "Did you mean web_search? Its tools: web_search.")
    summary = result.stderr.splitlines()[-1]
    assert "s of agent audio received (text mode: not played)" in summary


def test_control_characters_in_the_conversation_never_reach_the_terminal(
        tmp_path: pathlib.Path, cli_env: dict[str, str], simulator: Any) -> None:
    # a reply (or a tool's output the model repeats) holding escape sequences would clear the
    # screen, retitle the window or overwrite the line; they are shown, not obeyed
    reply = "Done.\x1b[2J\x1b]0;owned\x07 Bye\r."
    with simulator({"responses": [{"say": reply}]}) as sim:
        result = subprocess.run([*AGENTRUN, str(write_agent(tmp_path)), "--url", sim.url,
                                 "--text"], input="hi \x1b[31mred\n", capture_output=True,
                                text=True, env=cli_env, timeout=30, check=False)
    assert result.returncode == 0, result.stderr
    for control in ("\x1b", "\x07", "\r"):
        assert control not in result.stdout + result.stderr
    assert stdout_lines(result)[-2:] == ["user: hi \\x1b[31mred",
                                         "agent: Done.\\x1b[2J\\x1b]0;owned\\x07 Bye\\r."]
