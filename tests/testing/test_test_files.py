"""Bad test files get located errors like agent files: every problem at FILE:LINE:COL with a
hint, exit code 2, no traceback, before any call is made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.errors import SpecErrors
from agentrun.testing import load_test_file
from click.testing import Result

Write = Callable[..., Path]
Invoke = Callable[..., Result]


def problems(write: Write, invoke: Invoke, text: str) -> list[str]:
    """``agentrun check`` and ``agentrun test`` on the file: both exit 2 with the same lines."""
    write(text)
    checked = invoke("check", "desk.test.yaml")
    tested = invoke("test")
    assert (checked.exit_code, tested.exit_code) == (2, 2)
    assert checked.stdout == tested.stdout == ""
    assert checked.stderr == tested.stderr
    return checked.stderr.splitlines()


def test_every_problem_in_the_file_itself_at_once(write: Write, invoke: Invoke) -> None:
    assert problems(write, invoke, """\
        agent: desk.yaml
        timeout: 0
        mocks:
          create_ticket: {}
          current_time: {result: 1, error: x}
          lookup_order: {results: [{delay: 1s}]}
        scenarios:
          - name: x
            turns:
              - say: hi
                audio: a.wav
              - model: hello
              - say: hi
                model: {say: a, call: lookup_order}
                expect:
                  replly: x
                  greeting: y
              - say: yo
                expect:
                  reply: {matches: "(unclosed"}
              - say: bye
                expect: {latency_under: 5000, tool: {name: x, fails: maybe}}
              - Where is my order?
          - turns: [hi]
        """) == [
        "desk.test.yaml:2:10: timeout must be more than 0 and at most 3600, got 0",
        "desk.test.yaml:4:18: a mock needs result:, error:, results: or delay: (e.g. {result: "
        "{found: true}} or {error: the database is down})",
        "desk.test.yaml:5:29: give result: or error:, not both (a call either returns or fails)",
        "desk.test.yaml:6:28: say what the mocked call returns (add result: VALUE or error: "
        "MESSAGE)",
        "desk.test.yaml:11:9: a turn is either typed (say:) or spoken (audio:), not both (make "
        "two turns)",
        "desk.test.yaml:12:9: a turn needs what the caller says (add say: TEXT or audio: "
        "FILE.wav)",
        "desk.test.yaml:14:17: give say: for a reply, or call: for a tool call, not both (what "
        "the model says after the tool answered goes under then:)",
        "desk.test.yaml:16:11: unknown key 'replly' (did you mean 'reply'? allowed: reply, tool, "
        "tools, no_tool, ended, latency_under)",
        "desk.test.yaml:17:11: unknown key 'greeting' (the greeting is checked once per "
        "scenario: move it to the scenario's expect:, next to name: and turns:)",
        "desk.test.yaml:20:28: matches is not a valid regular expression: missing ), "
        "unterminated subpattern (escape special characters such as ( ) [ ] . * + ? with a "
        "backslash)",
        "desk.test.yaml:22:33: latency_under is in seconds: 5000 looks like milliseconds (write "
        "5 or '5000ms')",
        "desk.test.yaml:22:62: fails must be true or false, got 'maybe'",
        "desk.test.yaml:24:5: missing required key 'name'",
    ]


def test_every_problem_against_the_agent_and_the_files_at_once(write: Write, invoke: Invoke,
                                                                tmp_path: Path) -> None:
    (tmp_path / "notes.wav").write_text("not audio")
    assert problems(write, invoke, """\
        agent: desk.yaml
        variables: {compny: Globex}
        mocks:
          lookup_ordr: {result: 1}
          web_search: {result: 1}
        scenarios:
          - name: x
            variables: {company: [1, 2]}
            turns:
              - say: hi
          - name: y
            mocks:
              currenttime: {error: down}
            turns:
              - say: hi
                model: {call: create_tickt, arguments: {summary: x}}
                expect:
                  tool: {name: lookup_order, arguments: {orderid: "1"}}
                  tools: [web_search]
              - audio: missing.wav
              - audio: notes.wav
        """)[:1] == ["desk.test.yaml:8:26: a variable's value is text, a number or true/false, "
                     "got a list"]
    (tmp_path / "desk.test.yaml").write_text(
        (tmp_path / "desk.test.yaml").read_text().replace("[1, 2]", "Initech"))
    result = invoke("check", "desk.test.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "desk.test.yaml:2:13: the agent has no variable 'compny' (did you mean 'company'? "
        "allowed: company)",
        "desk.test.yaml:4:3: desk.yaml has no tool 'lookup_ordr' (did you mean 'lookup_order'? "
        "allowed: lookup_order, create_ticket, current_time, web_search)",
        "desk.test.yaml:5:3: web_search runs on Grok's servers: it cannot be mocked",
        "desk.test.yaml:13:7: desk.yaml has no tool 'currenttime' (did you mean 'current_time'? "
        "allowed: see line 4)",
        "desk.test.yaml:16:23: desk.yaml has no tool 'create_tickt' (did you mean "
        "'create_ticket'? allowed: see line 4)",
        "desk.test.yaml:18:50: lookup_order has no argument 'orderid' (did you mean 'order_id'? "
        "allowed: order_id)",
        "desk.test.yaml:19:19: web_search runs on Grok's servers: agentrun does not see its calls",
        "desk.test.yaml:20:16: missing.wav: no such file (give a WAV file: 8-48 kHz, mono or "
        "stereo, 8/16/24/32-bit integer or float)",
        "desk.test.yaml:21:16: notes.wav: not a WAV file (Format not recognised) (give a WAV "
        "file: 8-48 kHz, mono or stereo, 8/16/24/32-bit integer or float)",
    ]


def test_a_misspelt_built_in_in_an_expectation_is_pointed_to(write: Write,
                                                             invoke: Invoke) -> None:
    assert problems(write, invoke, """\
        agent: desk.yaml
        scenarios:
          - name: search
            turns:
              - say: look it up
                expect: {tool: {name: web_serch}}
        """) == [
        "desk.test.yaml:6:24: desk.yaml has no tool 'web_serch' (did you mean 'web_search'? "
        "allowed: lookup_order, create_ticket, current_time, web_search)"]


@pytest.mark.parametrize(("text", "line"), [
    ("", "desk.test.yaml: the test file is empty (a test file needs 'agent:' and 'scenarios:'; "
         "'agentrun new NAME' writes a starter)"),
    ("- agent: desk.yaml\n", "desk.test.yaml:1:1: a test file must be a mapping of keys (start "
                             "with lines like 'agent: support.yaml')"),
    ("agent: desk.yaml\nscenarios: [\n", "desk.test.yaml:3:1: YAML syntax error: the file ends "
                                         "in the middle of a value (close every '[' with ']', "
                                         "every '{' with '}' and every quote)"),
    # a key at the level of the turns' '- ' (meant for the last turn, or for the scenario)
    ("agent: desk.yaml\nscenarios:\n  - name: a\n    turns:\n      - say: hi\n"
     "      expect: {reply: {contains: hi}}\n",
     "desk.test.yaml:6:7: YAML syntax error: a key here is not in line with the list items "
     "above it (check the indentation of line 6: a key of the last item lines up with that "
     "item's first key, after its '- '; a key after the list lines up with the key that holds "
     "the list)"),
    ("agent: dsk.yaml\nscenarios: [{name: a, turns: [hi]}]\n",
     "desk.test.yaml:1:8: no agent file dsk.yaml (did you mean 'desk.yaml'?)"),
    ("agent: desk.yaml\nscenarios: []\n",
     "desk.test.yaml:2:12: a test file needs at least one scenario (add one: - name: …, with "
     "turns: or expect: {greeting: …})"),
    ("agent: desk.yaml\nscenarios:\n  - {name: a, turns: [hi]}\n  - {name: a, turns: [ho]}\n",
     "desk.test.yaml:4:12: two scenarios are named 'a' (also scenario 1; names pick scenarios "
     "with -k and label reports)"),
    ("agent: desk.yaml\nscenarios:\n  - name: a\n    turns:\n      - say: bye\n"
     "        expect: {ended: true}\n      - hello?\n",
     "desk.test.yaml:6:25: the call is expected to end in this turn, so the turns after it can "
     "never happen (make it the last turn, or start another scenario)"),
    ("agent: desk.yaml\nnow: tomorrow\nscenarios: [{name: a, turns: [hi]}]\n",
     "desk.test.yaml:2:6: now must be a time like 2026-03-02T09:30, got 'tomorrow'"),
])
def test_one_problem_one_line(write: Write, invoke: Invoke, text: str, line: str) -> None:
    write(text)
    result = invoke("test")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [line]


def test_a_required_variable_without_a_value_is_named(write: Write, invoke: Invoke,
                                                      tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(
        "name: Clinic\ninstructions: You book for {{ clinic }}.\n"
        "variables:\n  clinic: {type: string, required: true}\n")
    write("agent: clinic.yaml\nscenarios: [{name: a, turns: [hi]}]\n")
    result = invoke("test")
    assert result.exit_code == 2
    assert result.stderr == ("desk.test.yaml:1:8: the agent needs a value for its variable "
                             "'clinic' (add it under variables:, e.g. clinic: …)\n")
    write("agent: clinic.yaml\nvariables: {clinic: Smile Dental}\n"
          "scenarios: [{name: a, turns: [hi]}]\n")
    assert invoke("test").exit_code == 0


def test_the_agent_files_own_problems_are_located_in_it(write: Write, invoke: Invoke,
                                                        tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("name: Broken\nvoice: Aria\ninstructions: hi\n")
    write("agent: broken.yaml\nscenarios: [{name: a, turns: [hi]}]\n")
    result = invoke("test")
    assert result.exit_code == 2
    assert result.stderr.startswith("broken.yaml:2:8: unknown voice 'Aria' (did you mean 'Ara'?")


def test_load_raises_every_problem_as_spec_errors(write: Write) -> None:
    path = write("agent: desk.yaml\nmocks: {nope: {result: 1}}\nscenarios: [{name: a, turns: "
                 "[hi], expect: {greeting: {contains: []}}}]\n")
    with pytest.raises(SpecErrors) as caught:
        load_test_file(path)
    assert [e.line for e in caught.value.errors] == [3]  # the model first, then the agent
    assert "say what the text must contain" in str(caught.value)
