"""Each kind of expectation passes when it holds and fails, in words, when it does not.

Every test runs ``agentrun test`` on a real test file against an agent with real plugin tools
(orders, clock) on the embedded simulator, and reads the one line a person would read.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Write = Callable[[str], Path]
Invoke = Callable[..., Result]


def one_turn(turn: str, mocks: str = "", timeout: str = "") -> str:
    """A test file with one scenario ("case") whose only turn is ``turn`` (YAML, 4 spaces)."""
    head = "agent: desk.yaml\n" + (f"timeout: {timeout}\n" if timeout else "")
    if mocks:
        head += "mocks:\n" + textwrap.indent(textwrap.dedent(mocks), "  ")
    return head + "scenarios:\n  - name: case\n    turns:\n" + textwrap.indent(
        textwrap.dedent(turn), "      ")


def failure(write: Write, invoke: Invoke, text: str) -> str:
    """Run the file; it must fail; returns its FAIL line after the scenario's name."""
    write(text)
    result = invoke("test")
    assert result.exit_code == 1, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("FAIL"))
    assert line.startswith("FAIL  desk.test.yaml::case (")
    return line.split("): ", 1)[1]


def test_a_scenario_whose_expectations_hold_passes(write: Write, invoke: Invoke) -> None:
    write(one_turn("""\
        - say: Where is my order 1234?
          model: {call: lookup_order, arguments: {order_id: "1234"}}
          expect:
            tool: {name: lookup_order, arguments: {order_id: 1234}, output: shipped}
            reply: {contains: [shipped, "1Z999AA10123456784"], excludes: sorry}
            latency_under: 30s
            ended: false
        - say: Thanks, bye!
          model: You are welcome. Goodbye!
          expect: {no_tool: true, reply: {matches: "good-?bye"}}
        """))
    result = invoke("test")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"PASS  desk\.test\.yaml::case \((\d+ ms|\d+\.\d s)\)", lines[0])
    assert re.fullmatch(r"1 passed in \S+ m?s", lines[-1])
    assert "conversation" not in result.stdout  # only failing scenarios print theirs


def test_a_wrong_argument_fails_with_what_the_model_sent(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Where is my order 1234?
          model: {call: lookup_order, arguments: {order_id: "5678"}}
          expect:
            tool: {name: lookup_order, arguments: {order_id: "1234"}}
        """))
    assert line == ('turn 1 (line 8): expected a call to lookup_order with order_id "1234", '
                    'but it was called with order_id "5678"')


def test_a_missing_tool_call_fails(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Where is my order 1234?
          expect:
            tool: lookup_order
        """))
    assert line == ("turn 1 (line 7): expected a call to lookup_order, but the model called "
                    "no tool")


def test_a_call_to_another_tool_is_named(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: My earbuds broke.
          model: {call: create_ticket, arguments: {summary: Broken earbuds}}
          expect:
            tools: [lookup_order]
        """, mocks="create_ticket: {result: {ticket_id: T-1}}\n"))
    assert line.endswith("expected a call to lookup_order, but the model called only "
                         "create_ticket")


def test_a_reply_that_does_not_match_shows_what_the_agent_said(write: Write,
                                                               invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Can you open a ticket?
          model: It is on its way.
          expect:
            reply: {matches: 'T-\\d+'}
        """))
    assert line == ('turn 1 (line 8): expected the reply to match T-\\d+, but the agent said: '
                    '"It is on its way."')
    assert "contain \"delivered\"" in failure(write, invoke, one_turn("""\
        - say: Is it there yet?
          expect: {reply: delivered}
        """))
    assert failure(write, invoke, one_turn("""\
        - say: Is it there yet?
          model: Sorry, I do not know.
          expect: {reply: {excludes: [sorry]}}
        """)).endswith('expected the reply not to contain "sorry", but the agent said: '
                       '"Sorry, I do not know."')


def test_a_tool_that_errors_fails_the_scenario_with_a_hint(write: Write,
                                                          invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: What time is it on Mars?
          model: {call: current_time, arguments: {timezone: Mars/Base}}
        """))
    assert line.startswith("turn 1 (line 5): the call to current_time failed: current_time "
                           "failed: ValueError: unknown timezone 'Mars/Base'")
    assert line.endswith("(if this failure is what you test, mock the tool with error: or "
                         "expect it with fails: true)")


def test_a_failure_asked_for_passes_and_fails_true_needs_one(write: Write,
                                                           invoke: Invoke) -> None:
    write(one_turn("""\
        - say: My earbuds broke.
          model: {call: create_ticket, arguments: {summary: Broken earbuds}}
          expect:
            tool: {name: create_ticket, fails: true, output: ticket system is down}
            reply: ticket system is down
        """, mocks="create_ticket: {error: the ticket system is down}\n"))
    assert invoke("test").exit_code == 0
    line = failure(write, invoke, one_turn("""\
        - say: What time is it?
          model: {call: current_time, arguments: {timezone: UTC}}
          expect:
            tool: {name: current_time, fails: true}
        """))
    assert line.startswith("turn 1 (line 8): expected the call to current_time to fail, but it "
                           'succeeded and returned: {"timezone":"UTC"')
    line = failure(write, invoke, one_turn("""\
        - say: My earbuds broke.
          model: {call: create_ticket, arguments: {summary: Broken earbuds}}
          expect:
            tool: {name: create_ticket, fails: false}
        """, mocks="create_ticket: {error: the ticket system is down}\n"))
    assert line == ("turn 1 (line 10): expected the call to create_ticket to succeed, but it "
                    "failed: create_ticket failed: ToolFailed: the ticket system is down")


def test_a_mock_never_hides_a_wrong_argument(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Open a ticket.
          model: {call: create_ticket, arguments: {summary: ab, priority: urgent}}
        """, mocks="create_ticket: {result: {ticket_id: T-1}}\n"))
    assert line.startswith('turn 1 (line 7): the model called create_ticket with arguments it '
                           'does not accept (summary "ab", priority "urgent"): summary: ')
    assert "priority" in line.split("): ", 1)[1]


def test_an_unexpected_tool_call_fails_no_tool(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Hello
          model: {call: lookup_order, arguments: {order_id: "1234"}}
          expect: {no_tool: true}
        """))
    assert line == ('turn 1 (line 7): expected no tool call, but the model called lookup_order '
                    '(order_id "1234")')


def test_a_tool_output_is_checked(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Where is my order 1234?
          model: {call: lookup_order, arguments: {order_id: "1234"}}
          expect:
            tool: {name: lookup_order, output: delivered}
        """))
    assert line.startswith('turn 1 (line 8): expected the output of lookup_order to contain '
                           '"delivered", but it returned: {"found":true,"order_id":"1234"')


def test_latency_over_the_bound_fails_with_the_measured_time(write: Write,
                                                           invoke: Invoke) -> None:
    # the mock answers after 0.6 s, so the reply cannot begin within 0.3 s
    line = failure(write, invoke, one_turn("""\
        - say: Where is my order 1234?
          model: {call: lookup_order, arguments: {order_id: "1234"}}
          expect: {latency_under: 300ms}
        """, mocks="lookup_order: {result: {found: true}, delay: 0.6s}\n"))
    assert re.fullmatch(r"turn 1 \(line 9\): expected the reply to begin within 0\.3 s, but "
                        r"it took \d+\.\d\d s", line), line


def test_a_scenario_out_of_time_says_where_it_stopped(write: Write, invoke: Invoke) -> None:
    line = failure(write, invoke, one_turn("""\
        - say: Where is my order 1234?
          model: {call: lookup_order, arguments: {order_id: "1234"}}
        """, mocks="lookup_order: {result: {found: true}, delay: 8s}\n", timeout="1s"))
    assert re.fullmatch(
        r'turn 1 \(line 8\): did not finish within 1 s: stopped while waiting for the reply to '
        r'turn 1 "Where is my order 1234\?"; tool lookup_order \(order_id "1234"\) was still '
        r"running after \d+\.\d s \(timeout: in the test file sets the limit\)", line), line


def test_the_greeting_is_checked(write: Write, invoke: Invoke) -> None:
    write("""\
        agent: desk.yaml
        scenarios:
          - name: case
            expect: {greeting: Globex}
        """)
    result = invoke("test")
    assert result.exit_code == 1
    assert ('FAIL  desk.test.yaml::case' in result.stdout and 'greeting (line 4): expected the '
            'greeting to contain "Globex", but the agent said: "Hi, this is Acme orders. How '
            'can I help?"' in result.stdout)


def test_a_list_of_results_is_used_in_turn_and_running_out_fails(write: Write,
                                                                invoke: Invoke) -> None:
    turn = """\
        - say: Where is order 1?
          model: {call: lookup_order, arguments: {order_id: "1"}}
          expect: {tool: {name: lookup_order, output: first}}
        - say: And order 2?
          model: {call: lookup_order, arguments: {order_id: "2"}}
          expect: {tool: {name: lookup_order, fails: true, output: down}}
        """
    mocks = """\
        lookup_order:
          results:
            - result: first
            - error: the order database is down
        """
    write(one_turn(turn, mocks))
    assert invoke("test").exit_code == 0
    third = """\
        - say: And order 3?
          model: {call: lookup_order, arguments: {order_id: "3"}}
        """
    line = failure(write, invoke, one_turn(textwrap.dedent(turn) + textwrap.dedent(third), mocks))
    assert line == ("turn 3 (line 16): lookup_order was called 3 times, but its mock lists only "
                    "2 results (add results to its mock, or expect fewer calls)")


def test_a_mocked_http_tool_still_checks_its_declared_arguments(write: Write, invoke: Invoke,
                                                               tmp_path: Path) -> None:
    (tmp_path / "api.yaml").write_text("""\
name: Price List
instructions: You tell prices.
tools:
  - name: services
    http:
      url: http://127.0.0.1:9/services
      arguments:
        kind: {type: string, enum: [cleaning, check-up], required: true}
""")
    write("""\
        agent: api.yaml
        mocks:
          services: {result: [{name: cleaning, price: 90 USD}]}
        scenarios:
          - name: case
            turns:
              - say: How much is whitening?
                model: {call: services, arguments: {kind: cleaning}}
                expect: {tool: {name: services, output: 90 USD}, reply: 90 USD}
              - say: And whitening?
                model: {call: services, arguments: {kind: whitening}}
        """)
    result = invoke("test")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].endswith(
        'turn 2 (line 10): the model called services with arguments it does not accept (kind '
        '"whitening"): kind: expected one of cleaning, check-up')
