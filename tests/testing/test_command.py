"""``agentrun test``, ``check`` and ``schema --tests`` as a person uses them: finding files,
selecting scenarios, reports for CI, repeats, and the exit codes."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import agentrun.testing
import pytest
from click.testing import Result

Write = Callable[..., Path]
Invoke = Callable[..., Result]
REPO = Path(__file__).resolve().parents[2]

TWO = """\
agent: desk.yaml
scenarios:
  - name: looks up an order
    turns:
      - say: Where is my order 1234?
        model: {call: lookup_order, arguments: {order_id: "1234"}}
        expect: {tool: lookup_order, reply: shipped}
  - name: answers without tools
    turns:
      - say: Hello?
        expect: {no_tool: true, reply: "You said: Hello"}
  - name: fails on purpose
    turns:
      - say: Hello?
        expect: {reply: goodbye}
"""


def test_the_committed_test_schema_is_up_to_date(invoke: Invoke) -> None:
    result = invoke("schema", "--tests")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == agentrun.testing.json_schema()
    assert result.stdout == (REPO / "agentrun.test.schema.json").read_text(encoding="utf-8")
    assert json.loads(result.stdout)["title"] == "agentrun test file"


def test_the_package_exports_what_it_lists() -> None:
    for name in agentrun.testing.__all__:
        assert getattr(agentrun.testing, name) is not None, name


def test_default_finds_every_test_file_below_and_reports_each_scenario(
        write: Write, invoke: Invoke, tmp_path: Path) -> None:
    write(TWO)
    (tmp_path / "more").mkdir()
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.test.yaml").write_text("not: [valid")  # never read
    write(TWO.replace("agent: desk.yaml", "agent: ../desk.yaml"), "more/again.test.yaml")
    result = invoke("test")
    assert result.exit_code == 1
    assert result.stderr == ("agentrun: 6 scenarios in 2 files, offline: embedded simulator, "
                             "model scripted by the test files\n")
    verdicts = [line.split(" (")[0] for line in result.stdout.splitlines()
                if line[:4] in ("PASS", "FAIL")]
    assert verdicts == [
        "PASS  desk.test.yaml::looks up an order",
        "PASS  desk.test.yaml::answers without tools",
        "FAIL  desk.test.yaml::fails on purpose",
        "PASS  more/again.test.yaml::looks up an order",
        "PASS  more/again.test.yaml::answers without tools",
        "FAIL  more/again.test.yaml::fails on purpose",
    ]
    assert re.fullmatch(r"4 passed, 2 failed in \S+ m?s", result.stdout.splitlines()[-1])


def test_a_failing_scenario_prints_the_conversation_so_far(write: Write,
                                                            invoke: Invoke) -> None:
    write(TWO)
    result = invoke("test", "-k", "purpose")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:5] == [
        "      conversation so far:",
        "        agent: Hi, this is Acme orders. How can I help?",
        "        caller: Hello?",
        "        agent: (simulated) You said: Hello?",
    ]
    assert ('turn 1 (line 15): expected the reply to contain "goodbye", but the agent said: '
            '"(simulated) You said: Hello?"') in result.stdout.splitlines()[0]


def test_k_selects_scenarios_and_a_miss_is_a_usage_error(write: Write, invoke: Invoke) -> None:
    write(TWO)
    result = invoke("test", "-k", "ORDER", "-k", "without")
    assert result.exit_code == 0
    assert [line.split(" (")[0] for line in result.stdout.splitlines()[:2]] == [
        "PASS  desk.test.yaml::looks up an order", "PASS  desk.test.yaml::answers without tools"]
    missed = invoke("test", "-k", "refund")
    assert missed.exit_code == 2
    assert missed.stderr == ("agentrun: no scenario matches -k refund (scenarios: 'looks up an "
                             "order', 'answers without tools', 'fails on purpose')\n")


def test_junit_report_has_a_case_per_scenario_and_the_failure(write: Write, invoke: Invoke,
                                                              tmp_path: Path) -> None:
    write(TWO)
    assert invoke("test", "--junit", "out/results.xml").exit_code == 2  # no such folder
    result = invoke("test", "--junit", "results.xml")
    assert result.exit_code == 1
    root = ET.parse(tmp_path / "results.xml").getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "3", "1")
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "desk.test.yaml"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == ["looks up an order", "answers without tools", "fails on purpose"]
    failed = cases["fails on purpose"].find("failure")
    assert failed is not None
    assert failed.get("message", "").startswith('turn 1 (line 15): expected the reply to '
                                                'contain "goodbye"')
    assert "caller: Hello?" in (failed.text or "")
    assert cases["looks up an order"].find("failure") is None
    assert cases["fails on purpose"].get("line") == "12"


def test_repeat_reports_a_pass_rate(write: Write, invoke: Invoke) -> None:
    write(TWO)
    result = invoke("test", "--repeat", "3", "-k", "order", "-k", "purpose")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS  desk.test.yaml::looks up an order 3/3 runs passed (100%)")
    assert lines[1].startswith("FAIL  desk.test.yaml::fails on purpose 0/3 runs passed (0%)")
    assert ": run 1, turn 1 (line 15): expected the reply" in lines[1]
    assert re.fullmatch(r"1 passed, 1 failed \(3 runs each\) in \S+ m?s", lines[-1])
    lenient = invoke("test", "--repeat", "2", "--min-pass-rate", "0", "-k", "purpose")
    assert lenient.exit_code == 0


def test_check_accepts_test_files_with_their_agent(write: Write, invoke: Invoke) -> None:
    write(TWO)
    result = invoke("check", "desk.yaml", "desk.test.yaml")
    assert (result.exit_code, result.stdout) == (0, "desk.yaml: ok\ndesk.test.yaml: ok (3 "
                                                    "scenarios)\n")


def test_no_test_files_and_not_a_test_file_are_usage_errors(write: Write,
                                                            invoke: Invoke) -> None:
    empty = invoke("test")
    assert empty.exit_code == 2
    assert empty.stderr == (".: no test files (*.test.yaml) here or below ('agentrun new NAME' "
                            "writes an agent with a starter test)\n")
    wrong = invoke("test", "desk.yaml")
    assert wrong.exit_code == 2
    assert wrong.stderr.startswith("desk.yaml: not a test file: test files are named "
                                   "NAME.test.yaml")
    live = invoke("test", "--live", "desk.yaml")
    assert live.exit_code == 2


def test_live_without_a_key_says_what_is_missing(write: Write, invoke: Invoke) -> None:
    write(TWO)
    result = invoke("test", "--live")
    assert result.exit_code == 2
    assert result.stderr == ("agentrun: --live talks to Grok and needs the API key in "
                             "XAI_API_KEY (or give --url for another realtime endpoint)\n")


def test_help_explains_the_command_with_examples(invoke: Invoke) -> None:
    result = invoke("test", "--help")
    assert result.exit_code == 0
    assert "agentrun test --junit results.xml" in result.stdout
    assert "Exit codes" in result.stdout


def test_each_scenario_is_its_own_call_with_fresh_mocks(write: Write, invoke: Invoke) -> None:
    scenario = """\
  - name: {name}
    turns:
      - say: Where is order 1?
        model: {{call: lookup_order, arguments: {{order_id: "1"}}}}
        expect: {{tool: {{name: lookup_order, output: only once}}}}
"""
    write("agent: desk.yaml\nmocks:\n  lookup_order: {results: [{result: only once}]}\n"
          "scenarios:\n" + scenario.format(name="first") + scenario.format(name="second"))
    result = invoke("test")
    assert result.exit_code == 0, result.output  # the second call starts the list over


def test_timeout_option_overrides_the_files_limit(write: Write, invoke: Invoke) -> None:
    write("agent: desk.yaml\nmocks:\n  lookup_order: {result: late, delay: 8s}\nscenarios:\n"
          "  - name: slow\n    turns:\n      - say: Where is order 1?\n"
          "        model: {call: lookup_order, arguments: {order_id: '1'}}\n")
    result = invoke("test", "--timeout", "1s")
    assert result.exit_code == 1
    assert "did not finish within 1 s: stopped while waiting for the reply to turn 1" in \
        result.stdout
    bad = invoke("test", "--timeout", "soon")
    assert bad.exit_code == 2
    assert "'soon' is not a time limit like 30, '30s' or '2m'" in bad.stderr


def test_new_writes_a_starter_test_that_passes(invoke: Invoke, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    assert invoke("new", "pizza-orders").exit_code == 0
    assert invoke("check", "pizza-orders.test.yaml").stdout == \
        "pizza-orders.test.yaml: ok (2 scenarios)\n"
    result = invoke("test")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("2 passed in ")
    (tmp_path / "taken.test.yaml").write_text("precious\n")
    refused = invoke("new", "taken")
    assert refused.exit_code == 2
    assert not (tmp_path / "taken.yaml").exists()  # neither file is written
    assert (tmp_path / "taken.test.yaml").read_text() == "precious\n"
