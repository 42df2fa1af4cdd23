"""MCP servers as tools: real servers written with the SDK (tests/servers/calendar_mcp.py),
started by the tests over stdio (agentrun starts them) and Streamable HTTP on 127.0.0.1.

Each test opens the registry the way a call does and makes the calls the model would make.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from agentrun.spec import load_spec
from agentrun.tools import ToolRegistry
from tools_fixtures import SERVERS, running

SERVER = str(SERVERS / "calendar_mcp.py")
TOKEN = "cal-5e1b2f-very-secret"


@pytest.fixture
def agent_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(tools_yaml: str) -> Path:
        path = tmp_path / "agent.yaml"
        path.write_text("name: Clinic\ninstructions: Help the caller.\ntools:\n"
                        + textwrap.indent(textwrap.dedent(tools_yaml), "  "))
        return path
    return write


def stdio(*flags: str, tag: str = "", extra: str = "") -> str:
    args = ", ".join([json.dumps(SERVER), *(json.dumps(f) for f in flags),
                      *([json.dumps(f"--tag={tag}")] if tag else [])])
    return f"""
        - name: calendar
          timeout: 2s
          mcp:
            command: python
            args: [{args}]
            env: {{CALENDAR_TOKEN: TEST_CALENDAR_TOKEN}}
            startup_timeout: 20s
        {extra}"""


Calls = list[tuple[str, dict[str, Any]]]


def session(path: Path, calls: Calls, environ: dict[str, str] | None = None
            ) -> tuple[ToolRegistry, list[Any], list[tuple[str, str]]]:
    """Open the agent's tools, make the calls in order; (opened registry, results, reports)."""
    registry = ToolRegistry.for_spec(load_spec(path),
                                     environ={"TEST_CALENDAR_TOKEN": TOKEN, **(environ or {})})
    assert registry.problems == []
    reports: list[tuple[str, str]] = []

    async def run() -> tuple[ToolRegistry, list[Any]]:
        async with registry.open(report=lambda level, text: reports.append((level, text))
                                 ) as tools:
            results = [await tools.call(name, json.dumps(arguments), call_id=f"c{i}")
                       for i, (name, arguments) in enumerate(calls)]
            return tools, results
    opened, results = asyncio.run(asyncio.wait_for(run(), 120))
    return opened, results, reports


def test_a_stdio_server_s_tools_are_declared_called_and_stopped_with_the_call(
        agent_file: Callable[[str], Path]) -> None:
    tag = uuid.uuid4().hex
    path = agent_file(stdio(tag=tag))
    opened, results, reports = session(path, [
        ("free_slots", {"day": "2026-03-02"}), ("whoami", {})])
    schemas = {s["name"]: s for s in opened.function_schemas()}
    assert schemas["free_slots"] == {
        "type": "function", "name": "free_slots",
        "description": "Free appointment times on a day (YYYY-MM-DD).",
        "parameters": {"type": "object", "properties": {"day": {"title": "Day",
                                                                  "type": "string"}},
                       "required": ["day"]}}
    assert json.loads(results[0].output) == {"day": "2026-03-02",
                                             "free": ["09:00", "10:30", "14:00"]}
    # the server got the value of the named variable; the model sees it cut out
    assert results[1].output == "token=[hidden $TEST_CALENDAR_TOKEN]"
    assert reports == []
    assert running(tag) == []  # stopped with the call, not left running


def test_arguments_are_validated_before_the_call_and_errors_become_outputs(
        agent_file: Callable[[str], Path]) -> None:
    path = agent_file(stdio())
    _, results, _ = session(path, [
        ("free_slots", {"day": 20260302}),
        ("book_slot", {"day": "2026-03-02", "time": "08:00", "patient": "Ann"}),
        ("broken", {}),
        ("free_slots", {"day": "2026-03-03"})])
    errors = [json.loads(r.output).get("error") if not r.ok else None for r in results]
    assert errors[0] == "invalid arguments: day: 20260302 is not of type 'string'"
    assert errors[1] == ("Error executing tool book_slot: 2026-03-02 08:00 is not free; call "
                         "free_slots first")  # the server's own words (a ToolError)
    assert errors[2] is not None and "broken" in errors[2]  # the tool raised
    assert results[3].ok  # and the server still answers


def test_a_hung_tool_times_out_and_the_server_keeps_answering(
        agent_file: Callable[[str], Path]) -> None:
    path = agent_file(stdio())
    _, results, _ = session(path, [("slow", {"seconds": 30}),
                                   ("free_slots", {"day": "2026-03-03"})])
    assert json.loads(results[0].output) == {"error": "slow did not answer within 2 s"}
    assert results[0].seconds < 10
    assert json.loads(results[1].output)["free"] == ["11:00"]


def test_a_server_that_dies_mid_call_is_one_line_and_an_error_for_the_lost_calls(
        agent_file: Callable[[str], Path]) -> None:
    tag = uuid.uuid4().hex
    path = agent_file(stdio(tag=tag))
    _, results, reports = session(path, [("crash", {}), ("free_slots", {"day": "2026-03-02"})])
    assert [r.ok for r in results] == [False, False]
    for result in results:
        assert "unavailable: the 'calendar' tool server stopped" in json.loads(
            result.output)["error"]
    assert reports == [("warning", "MCP server 'calendar' stopped: MCPError: Connection closed "
                        "(last stderr line: calendar: fatal: out of cheese); its tools now "
                        "answer with an error")]
    assert running(tag) == []


@pytest.mark.parametrize(("flag", "why"), [
    ("--crash-on-start", "(last stderr line: calendar: cannot open calendar.db: permission "
                         "denied)"),
    ("--hang-on-start", "no answer within 1 s"),
])
def test_a_server_that_cannot_start_leaves_the_other_tools_working(
        agent_file: Callable[[str], Path], flag: str, why: str) -> None:
    tag = uuid.uuid4().hex
    path = agent_file(stdio(flag, tag=tag).replace("startup_timeout: 20s", "startup_timeout: 1s")
                      + """
        - name: services
          http: {url: "http://127.0.0.1:9/services"}
        """)
    opened, results, reports = session(path, [("free_slots", {"day": "2026-03-02"})])
    assert [s["name"] for s in opened.function_schemas()] == ["services"]
    assert json.loads(results[0].output)["error"].startswith("unknown tool 'free_slots'")
    assert len(reports) == 1 and reports[0][0] == "warning"
    assert reports[0][1].startswith(f"MCP server 'calendar' (python {SERVER} {flag}")
    assert why in reports[0][1] and reports[0][1].endswith(
        "; the call goes on without its tools")
    assert [str(p).split(": ", 1)[1] for p in opened.problems] == [
        f"MCP server 'calendar' cannot start: {reports[0][1].split('cannot start: ')[1]}"
        .removesuffix("; the call goes on without its tools")]
    assert running(tag) == []


def test_a_streamable_http_server_gets_its_secret_header(
        agent_file: Callable[[str], Path], calendar_http: str) -> None:
    path = agent_file(f"""
        - name: calendar
          mcp:
            url: {calendar_http}
            headers: {{Authorization: "Bearer {{{{ secrets.token }}}}"}}
            secrets: {{token: TEST_CALENDAR_TOKEN}}
            allowed_tools: [free_slots, last_authorization]
            prefix: cal_
            rename: {{free_slots: find_free_slots}}
        """)
    opened, results, _ = session(path, [("find_free_slots", {"day": "2026-03-03"}),
                                        ("cal_last_authorization", {})])
    assert sorted(opened.function_names) == ["cal_last_authorization", "find_free_slots"]
    assert json.loads(results[0].output)["free"] == ["11:00"]
    # it arrived, and the model sees only the variable's name
    assert results[1].output == "Bearer [hidden $TEST_CALENDAR_TOKEN]"


def test_names_that_clash_or_do_not_exist_are_located_problems(
        agent_file: Callable[[str], Path]) -> None:
    path = agent_file(f"""
        - lookup_order
        - name: calendar
          mcp:
            command: python
            args: [{json.dumps(SERVER)}, --collide]
            allowed_tools: [free_slot, lookup_order]
        """)
    opened, results, reports = session(path, [("lookup_order", {"order_id": "1234"})])
    assert results[0].ok and json.loads(results[0].output)["carrier"]  # the plugin's, not MCP's
    assert [str(p) for p in opened.problems] == [
        f"{path}:10:23: MCP server 'calendar' offers no tool 'free_slot' (did you mean "
        "'free_slots'? it offers: free_slots, book_slot, whoami, last_authorization, broken, "
        "slow, crash, lookup_order)",
        f"{path}:6:5: MCP server 'calendar' offers 'lookup_order', but 'lookup_order' is "
        "already taken by agentrun-orders 0.1.0 (entry point lookup_order = "
        "agentrun_orders:lookup_order); it is left out (give it another name: rename: "
        "{lookup_order: calendar_lookup_order} or prefix: calendar_)"]
    assert [text for _, text in reports] == [str(p) for p in opened.problems]


def test_check_connect_lists_the_tools_and_reports_names_with_did_you_mean(
        agent_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from agentrun.cli import main
    from click.testing import CliRunner

    monkeypatch.setenv("TEST_CALENDAR_TOKEN", TOKEN)
    good = agent_file(stdio())
    result = CliRunner().invoke(main, ["check", "--connect", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{good}: MCP server 'calendar' (stdio python {SERVER}) offers: free_slots, book_slot, "
        "whoami, last_authorization, broken, slow, crash",
        f"{good}: ok"]
    assert CliRunner().invoke(main, ["check", str(good)]).output == f"{good}: ok\n"
    bad = agent_file(stdio().replace("startup_timeout: 20s",
                                     "allowed_tools: [free_slots, bok_slot]"))
    result = CliRunner().invoke(main, ["check", "--connect", str(bad)])
    assert result.exit_code == 2
    assert result.output == (f"{bad}:11:35: MCP server 'calendar' offers no tool 'bok_slot' "
                             "(did you mean 'book_slot'? it offers: free_slots, book_slot, "
                             "whoami, last_authorization, broken, slow, crash)\n")
    monkeypatch.delenv("TEST_CALENDAR_TOKEN")
    result = CliRunner().invoke(main, ["check", "--connect", str(good)])
    assert result.exit_code == 2 and "TEST_CALENDAR_TOKEN, which is not set" in result.output


def test_tools_agent_lists_the_agent_s_tools_as_the_model_sees_them(
        agent_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    from agentrun.cli import main
    from click.testing import CliRunner

    monkeypatch.setenv("TEST_CALENDAR_TOKEN", TOKEN)
    path = agent_file(stdio() + """
        - name: services
          description: The clinic's services.
          http: {url: "http://127.0.0.1:9/services"}
        - web_search
        """)
    result = CliRunner().invoke(main, ["tools", "--agent", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "FROM", "DESCRIPTION"]
    assert lines[1].split()[:3] == ["free_slots", "mcp", "mcp"]
    assert any(line.split()[:2] == ["services", "http"] for line in lines)
    assert lines[-1].split()[:3] == ["web_search", "built-in", "Grok"]
    data = json.loads(CliRunner().invoke(main, ["tools", "--agent", str(path), "--json"]).output)
    assert data["servers"][0]["offers"][:2] == ["free_slots", "book_slot"]


def test_a_public_server_can_be_handed_to_grok(agent_file: Callable[[str], Path]) -> None:
    path = agent_file("""
        - name: docs
          description: Product manuals.
          mcp:
            url: https://mcp.example.com/mcp
            called_by: grok
            headers: {Authorization: "Bearer {{ secrets.token }}"}
            secrets: {token: DOCS_TOKEN}
            allowed_tools: [search]
        """)
    registry = ToolRegistry.for_spec(load_spec(path), environ={"DOCS_TOKEN": TOKEN})
    entry = {"type": "mcp", "server_url": "https://mcp.example.com/mcp", "server_label": "docs",
             "server_description": "Product manuals.", "allowed_tools": ["search"]}
    assert registry.server_tools() == [{**entry, "headers": {"Authorization":
                                                             f"Bearer {TOKEN}"}}]
    assert registry.server_tools(reveal=False) == [
        {**entry, "headers": {"Authorization": "Bearer ${DOCS_TOKEN}"}}]
    assert registry.function_schemas() == []  # nothing for agentrun to start or call


def test_without_the_mcp_package_the_file_says_how_to_install_it(
        agent_file: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "mcp" else real(name, *a))
    path = agent_file(stdio())
    assert [str(p) for p in ToolRegistry.for_spec(load_spec(path)).problems] == [
        f"{path}:5:5: MCP servers need the mcp package, which is not installed (pip install "
        "'agentrun-voice[mcp]')"]


def test_check_reports_every_problem_of_an_mcp_block_in_one_run(tmp_path: Path) -> None:
    from agentrun.cli import main
    from click.testing import CliRunner

    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        name: T
        instructions: hi
        tools:
          - name: calendar
            mcp:
              command: python
              headers: {Authorization: "Bearer {{ secrets.token }}"}
              secrets: {token: CALENDAR_TOKEN}
              rename: {free_slots: "find slots", book_slot: "book slot"}
        """))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{path}:7:16: 'headers' only applies to a url server",
        f"{path}:8:16: 'secrets' only applies to a url server",
        f"{path}:9:28: 'find slots' cannot be a tool name the model sees (use up to 64 letters, "
        "digits, '_' or '-')",
        f"{path}:9:53: 'book slot' cannot be a tool name the model sees (use up to 64 letters, "
        "digits, '_' or '-')",
    ]
