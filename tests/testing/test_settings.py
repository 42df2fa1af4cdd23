"""What a test file sets for the agent (variables, call facts, the time) and the less common
mocks and scripts: each reaches the call as written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Write = Callable[..., Path]
Invoke = Callable[..., Result]


def test_variables_call_facts_and_now_reach_the_agents_templates(write: Write, invoke: Invoke,
                                                                tmp_path: Path) -> None:
    (tmp_path / "front.yaml").write_text("""\
name: Front
instructions: You answer for {{ company }}.
variables: {company: Acme}
timezone: Europe/Berlin
greeting: "{{ company }} here, {{ now.strftime('%A') }}. You are {{ call.caller }}."
""")
    write("""\
        agent: front.yaml
        call: {caller: "+15550100", id: CA1}
        now: 2026-03-02T09:30
        scenarios:
          - name: file settings
            expect: {greeting: "Acme here, Monday. You are +15550100."}
          - name: scenario settings
            variables: {company: Globex}
            call: {caller: "+4930123"}
            now: 2026-03-03T09:30
            expect: {greeting: "Globex here, Tuesday. You are +4930123."}
        """)
    result = invoke("test")
    assert result.exit_code == 0, result.output


def test_a_delay_alone_runs_the_real_tool_late(write: Write, invoke: Invoke) -> None:
    write("""\
        agent: desk.yaml
        mocks:
          lookup_order: {delay: 300ms}
        scenarios:
          - name: slow database
            turns:
              - say: Where is my order 1234?
                model: {call: lookup_order, arguments: {order_id: "1234"}}
                expect:
                  tool: {name: lookup_order, output: 1Z999AA10123456784}
        """)
    assert invoke("test").exit_code == 0
    write("""\
        agent: desk.yaml
        mocks:
          create_ticket: {delay: 5s}
        scenarios:
          - name: past the tool's timeout
            turns:
              - say: Open a ticket.
                model: {call: create_ticket, arguments: {summary: Broken earbuds}}
                expect:
                  tool: {name: create_ticket, output: timed out after 2 s}
        """)
    result = invoke("test")  # create_ticket's timeout is 2 s: the failure was asked for
    assert result.exit_code == 0, result.output


def test_several_calls_in_one_response_are_all_checked(write: Write, invoke: Invoke) -> None:
    write("""\
        agent: desk.yaml
        mocks:
          create_ticket: {result: {ticket_id: T-7}}
        scenarios:
          - name: two calls
            turns:
              - say: Where is 1234, and please open a ticket about it.
                model:
                  calls:
                    - {name: lookup_order, arguments: {order_id: "1234"}}
                    - {name: create_ticket, arguments: {summary: About 1234, order_id: "1234"}}
                  then: Shipped, and ticket T-7 is open.
                expect:
                  tools:
                    - {name: create_ticket, arguments: {order_id: "1234"}, output: T-7}
                    - {name: lookup_order, output: shipped}
                  reply: T-7
        """)
    result = invoke("test")
    assert result.exit_code == 0, result.output
