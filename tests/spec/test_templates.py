"""Instructions templates: located load-time checks, the sandbox, typed variables, secrets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from agentrun.errors import SpecErrors
from agentrun.spec import AgentSpec, load_spec, render_instructions, trial_render

Problems = Callable[..., list[str]]
Loaded = Callable[[str], AgentSpec]
MONDAY = datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("UTC"))


def rendered_problems(spec: AgentSpec, variables: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(SpecErrors) as info:
        render_instructions(spec, variables, now=MONDAY)
    return str(info.value).splitlines()


def test_syntax_error_in_a_block_is_located_at_its_template_line(problems: Problems) -> None:
    assert problems("name: T\ninstructions: |\n  Hello.\n  Today {{ now.strftime( }}\n") == [
        "bad.yaml:4:3: instructions line 2 (\"Today {{ now.strftime( }}\"): a '(' is never "
        "closed with ')' (add ')' before the '}')"]


def test_leading_blank_lines_of_a_block_keep_line_numbers(problems: Problems) -> None:
    assert problems("name: T\ninstructions: |\n\n  Hello.\n  {{ nme }}\n") == [
        "bad.yaml:5:3: instructions use 'nme', which is not a declared variable (declare it under "
        "variables:)"]


def test_unclosed_block_tag(problems: Problems) -> None:
    assert problems("name: T\ninstructions: |\n  {% if x %}\n  hi\nvariables: {x: 1}\n") == [
        "bad.yaml:3:3: instructions line 1 (\"{% if x %}\"): the '{% if %}' block is never "
        "closed (add '{% endif %}' where it should end)"]


def test_unknown_filter_is_a_load_time_error(problems: Problems) -> None:
    assert problems("name: T\ninstructions: 'Hi {{ agent.name | shout }}'\n") == [
        "bad.yaml:2:16: instructions line 1 (\"Hi {{ agent.name | shout }}\"): unknown filter "
        "'shout' (did you mean 'sort'?)"]


def test_undeclared_names_are_located_with_did_you_mean(problems: Problems) -> None:
    assert problems("name: T\nvariables:\n  company: Acme\ninstructions: |\n  Hi.\n"
                    "  You work for {{ compnay }}.\n  {{ env.HOME }} {{ nwo }}\n") == [
        "bad.yaml:6:3: instructions use 'compnay', which is not a declared variable (did you "
        "mean 'company'? declare it under variables:)",
        "bad.yaml:7:3: instructions use 'env', which is not a declared variable (declare a "
        "variable with from_env: NAME to use an environment variable)",
        "bad.yaml:7:3: instructions use 'nwo', which is not a declared variable (did you mean "
        "'now'? declare it under variables:)",
    ]


@pytest.mark.parametrize(("template", "name"), [
    ("{{ ''.__class__ }}", "__class__"),
    ("{{ cycler.__init__ }}", "__init__"),
    ("{{ now['__class__'] }}", "__class__"),
    ("{{ agent | attr('__dict__') }}", "__dict__"),
])
def test_underscore_names_are_blocked_at_load_time(problems: Problems, template: str,
                                                   name: str) -> None:
    assert problems(f"name: T\ninstructions: |\n  ok\n  {template}\n") == [
        f"bad.yaml:4:3: instructions use '{name}', which templates may not reach (templates "
        "cannot reach names that start with '_')"]


def test_the_sandbox_also_holds_at_render_time() -> None:
    # A spec built in code skips load-time checks; the sandbox still refuses.
    spec = AgentSpec.model_validate({"name": "T", "instructions": "x {{ ''.__class__ }}"})
    assert rendered_problems(spec) == [
        "<agent>:1:1: instructions line 1 (\"x {{ ''.__class__ }}\"): cannot be rendered: "
        "'__class__' cannot be reached from a template (templates can read values but cannot "
        "change them or reach Python internals)"]
    mutating = AgentSpec.model_validate({"name": "T", "instructions": "{{ [1].append(2) }}"})
    assert rendered_problems(mutating) == [
        "<agent>:1:1: instructions line 1 (\"{{ [1].append(2) }}\"): cannot be rendered: "
        "'append' cannot be reached from a template (templates can read values but cannot "
        "change them or reach Python internals)"]


@pytest.mark.parametrize(("template", "reason"), [
    ("{{ 'a' * 10**6 }}", "result longer than 100000 characters or items"),
    ("{{ [0] * 200000 }}", "result longer than 100000 characters or items"),
    ("{{ 2 ** 1000 }}", "exponent too large for a template"),
])
def test_huge_results_are_refused(template: str, reason: str) -> None:
    spec = AgentSpec.model_validate({"name": "T", "instructions": template})
    assert rendered_problems(spec) == [
        f'<agent>:1:1: instructions line 1 ("{template}"): cannot be rendered: {reason}']
    small = AgentSpec.model_validate({"name": "T", "instructions": "{{ 'ab' * 3 }} {{ 2 ** 3 }}"})
    assert render_instructions(small, now=MONDAY) == "ababab 8"


def test_a_runtime_failure_is_located_at_its_line(loaded: Loaded) -> None:
    spec = loaded("name: T\ninstructions: |\n  one\n  two {{ 1 // zero }}\n"
                  "variables: {zero: 0}\n")
    assert rendered_problems(spec) == [
        "good.yaml:4:3: instructions line 2 (\"two {{ 1 // zero }}\"): cannot be rendered: "
        "division by zero"]


def test_render_with_builtins(loaded: Loaded) -> None:
    spec = loaded("name: Acme Support\ndescription: Helps.\nvoice: eve\ntimezone: Europe/Berlin\n"
                  "instructions: |\n  {{ agent.name }} ({{ agent.voice }}): {{ agent.description }}"
                  "\n  {{ now.strftime('%A %H:%M %Z') }} caller={{ call.caller }}"
                  " id={{ call.call_id }}\n")
    assert render_instructions(spec, now=MONDAY) == (
        "Acme Support (Eve): Helps.\nMonday 10:30 CET caller= id=")
    assert render_instructions(spec, call={"caller": "+4930123", "call_id": "c1"},
                               now=datetime(2026, 3, 2, 9, 30)) == (
        "Acme Support (Eve): Helps.\nMonday 09:30 CET caller=+4930123 id=c1")


def test_now_defaults_to_the_current_time_in_the_spec_timezone(loaded: Loaded) -> None:
    spec = loaded("name: T\ntimezone: Asia/Tokyo\ninstructions: '{{ now.tzinfo }}'\n")
    assert render_instructions(spec) == "Asia/Tokyo"


def test_variables_are_typed_by_their_declaration(loaded: Loaded) -> None:
    spec = loaded("name: T\ninstructions: '{{ count + 1 }} {{ ratio * 2 }} {{ vip }} {{ who }}'\n"
                  "variables:\n  count: {type: integer, default: 1}\n  ratio: 0.25\n"
                  "  vip: {type: boolean}\n  who: {type: string}\n")
    assert render_instructions(spec, now=MONDAY) == "2 0.5"  # unset optional values are empty
    assert render_instructions(spec, {"count": "3", "ratio": "1", "vip": "yes", "who": "Ann"},
                               now=MONDAY) == "4 2 True Ann"


def test_bad_and_unknown_var_values(loaded: Loaded) -> None:
    spec = loaded("name: T\ninstructions: '{{ count }}'\n"
                  "variables:\n  count: {type: integer, default: 1}\n")
    assert rendered_problems(spec, {"count": "three", "cuont": "1"}) == [
        "good.yaml: --var cuont: the agent has no variable 'cuont' (did you mean 'count'? "
        "allowed: count)",
        "good.yaml:4:3: --var count=three: expected a whole number ('count' is declared as "
        "integer)",
    ]


def test_required_variable_without_value(loaded: Loaded) -> None:
    spec = loaded("name: T\ninstructions: '{{ clinic }}'\n"
                  "variables:\n  clinic: {required: true}\n")
    assert rendered_problems(spec) == [
        "good.yaml:4:3: variable 'clinic' is required but has no value (pass --var "
        "clinic=VALUE when you check or run the agent)"]
    assert render_instructions(spec, {"clinic": "Smile"}, now=MONDAY) == "Smile"


def test_from_env_reads_only_the_named_variable_and_never_shows_it(
        loaded: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = loaded("name: T\ninstructions: '{{ token }} {{ seats }}'\nvariables:\n"
                  "  token: {from_env: CRM_TOKEN, required: true}\n"
                  "  seats: {type: integer, from_env: CRM_SEATS, default: 2}\n")
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    monkeypatch.delenv("CRM_SEATS", raising=False)
    assert rendered_problems(spec) == [
        "good.yaml:4:3: variable 'token' reads environment variable CRM_TOKEN, which is not set "
        "(set it before you check or run the agent, e.g. export CRM_TOKEN=VALUE; or pass --var "
        "token=VALUE)"]
    monkeypatch.setenv("CRM_TOKEN", "s3cret-value")
    assert render_instructions(spec, now=MONDAY) == "s3cret-value 2"
    monkeypatch.setenv("CRM_SEATS", "lots-of-s3cret")
    problems = rendered_problems(spec)
    assert problems == [
        "good.yaml:5:3: environment variable CRM_SEATS (for 'seats') is not valid: expected a "
        "whole number ('seats' is declared as integer)"]
    assert "s3cret" not in "\n".join(problems)


def test_instructions_file_is_relative_to_the_yaml(agent_dir: Path) -> None:
    (agent_dir / "agents").mkdir()
    (agent_dir / "agents" / "prompt.j2").write_text("Line one.\nHello {{ company }}.\n")
    (agent_dir / "agents" / "a.yaml").write_text(
        "name: T\ninstructions_file: prompt.j2\nvariables: {company: Acme}\n")
    spec = load_spec("agents/a.yaml")
    assert render_instructions(spec, now=MONDAY) == "Line one.\nHello Acme."
    (agent_dir / "agents" / "prompt.j2").write_text("Line one.\nHello {{ compny }}.\n")
    with pytest.raises(SpecErrors) as info:
        load_spec("agents/a.yaml")
    assert str(info.value) == ("agents/prompt.j2:2:1: instructions use 'compny', which is not a "
                               "declared variable (did you mean 'company'? declare it under "
                               "variables:)")


def test_instructions_file_problems(problems: Problems, agent_dir: Path) -> None:
    assert problems("name: T\ninstructions_file: missing.md\n") == [
        "bad.yaml:2:20: instructions_file file not found: missing.md (check the path and the "
        "spelling)"]
    assert problems("name: T\ninstructions: hi\ninstructions_file: x.md\n") == [
        "bad.yaml:3:1: give either instructions or instructions_file, not both"]
    (agent_dir / "latin1.md").write_bytes(b"ok\ncaf\xe9\n")
    assert problems("name: T\ninstructions_file: latin1.md\n") == [
        "latin1.md:2:4: the file is not valid UTF-8 text (byte 0xe9) (save the file as UTF-8 in "
        "your editor)"]


def test_trial_render_uses_stand_ins_and_reads_no_environment(
        loaded: Loaded, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATS", "not a number")
    spec = loaded("name: T\ninstructions: '{{ who }} {{ seats * 2 }} {{ ratio }} {{ vip }}'\n"
                  "variables:\n  who: {required: true}\n"
                  "  seats: {type: integer, from_env: SEATS}\n  ratio: {type: number}\n"
                  "  vip: {type: boolean}\n")
    assert trial_render(spec) == []
    broken = loaded("name: T\ninstructions: |\n  ok\n  {{ who | int + 'x' }}\n"
                    "variables: {who: Ann}\n")
    assert [str(p) for p in trial_render(broken)] == [
        "good.yaml:4:3: instructions line 2 (\"{{ who | int + 'x' }}\"): cannot be rendered: "
        "cannot use + between a whole number and text (join text and values with ~, or convert "
        "first, e.g. {{ count | int }})"]


def test_deeply_nested_templates_are_an_error_not_a_crash(problems: Problems) -> None:
    nested = "{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}"
    assert problems(f"name: T\ninstructions: '{nested}'\n") == [
        "bad.yaml:2:16: instructions nest brackets or tags too deeply"]
