"""HTTP tools declared in YAML, against a real HTTP server on 127.0.0.1 started by the tests.

Each test writes an agent file, builds the registry the way a call does (``for_spec`` then
``open``) and makes the call the model would make; the server records what it received.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from agentrun.spec import load_spec
from agentrun.tools import ToolRegistry, ToolResult

TOKEN = "tok-8d1f0c55-very-secret"


@pytest.fixture
def agent_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(tools_yaml: str, variables: str = "") -> Path:
        path = tmp_path / "agent.yaml"
        path.write_text("name: Clinic\ninstructions: Help the caller.\n" + variables
                        + "tools:\n" + textwrap.indent(textwrap.dedent(tools_yaml), "  "))
        return path
    return write


def call(path: Path, name: str, arguments: dict[str, Any] | str,
         variables: dict[str, str] | None = None,
         environ: dict[str, str] | None = None) -> ToolResult:
    registry = ToolRegistry.for_spec(load_spec(path), environ=environ or {})
    assert registry.problems == []
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)

    async def run() -> ToolResult:
        async with registry.open() as tools:
            return await tools.call(name, text, call_id="c1", variables=variables or {})
    return asyncio.run(run())


def error(result: ToolResult) -> str:
    assert not result.ok
    return str(json.loads(result.output)["error"])


def test_get_with_arguments_encoded_variables_raw_secret_header_and_a_field(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file("""
        - name: services
          description: The clinic's services and prices.
          http:
            url: "{{ api }}/echo/{{ clinic }}/x"
            query: {lang: en, day: "{{ day }}", limit: 5}
            headers: {Authorization: "Bearer {{ secrets.token }}", X-Agent: clinic}
            secrets: {token: CLINIC_TOKEN}
            arguments:
              clinic: {type: string, description: The clinic's short name}
              day: {type: string, required: false}
            response: {field: path}
        """, variables="variables:\n  api: http://127.0.0.1:1\n")
    result = call(path, "services", {"clinic": "../../admin?x=1#y"},
                  variables={"api": clinic_api.url}, environ={"CLINIC_TOKEN": TOKEN})
    assert result.ok, result.output
    seen = clinic_api.requests[-1]
    # the argument stays one path segment: no climbing, no query, no fragment smuggled in
    assert seen["raw_path"].startswith("/echo/..%2F..%2Fadmin%3Fx%3D1%23y/x?")
    assert seen["query"] == {"lang": "en", "limit": "5"}  # day left out: not sent at all
    assert seen["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert seen["headers"]["x-agent"] == "clinic"
    assert result.output == "/echo/..%2F..%2Fadmin%3Fx%3D1%23y/x"  # a text field: as is


def test_the_model_never_sees_a_secret_even_when_the_server_echoes_it(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file(f"""
        - name: echo
          http:
            url: "{clinic_api.url}/echo?key={{{{ secrets.token }}}}"
            headers: {{Authorization: "Bearer {{{{ secrets.token }}}}"}}
            secrets: {{token: CLINIC_TOKEN}}
        """)
    result = call(path, "echo", {}, environ={"CLINIC_TOKEN": TOKEN})
    assert result.ok
    assert clinic_api.requests[-1]["query"]["key"] == TOKEN  # it did reach the server
    assert TOKEN not in result.output
    echoed = json.loads(result.output)  # the model may read the variable's name, not the value
    assert echoed["query"]["key"] == "[hidden $CLINIC_TOKEN]"
    assert echoed["headers"]["authorization"] == "Bearer [hidden $CLINIC_TOKEN]"
    failed = call(path.parent / path.name, "echo", {"x": 1}, environ={"CLINIC_TOKEN": TOKEN})
    assert TOKEN not in failed.output + (failed.error or "")


def test_a_secret_echoed_url_encoded_json_escaped_or_in_capitals_is_hidden_too(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    token = 'tok/8d1f "0c55"+very=secret&x'  # changes when URL-encoded and when JSON-escaped
    path = agent_file(f"""
        - name: echo
          http:
            url: "{clinic_api.url}/echo/{{{{ secrets.token }}}}?key={{{{ secrets.token }}}}"
            headers: {{X-Shout: "{{{{ secrets.token | upper }}}}"}}
            secrets: {{token: CLINIC_TOKEN}}
        """)
    result = call(path, "echo", {}, environ={"CLINIC_TOKEN": token})
    assert result.ok, result.output
    seen = clinic_api.requests[-1]
    encoded = "tok%2F8d1f%20%220c55%22%2Bvery%3Dsecret%26x"
    assert seen["path"] == f"/echo/{encoded}" and seen["query"]["key"] == token
    assert seen["headers"]["x-shout"] == token.upper()
    for form in (encoded, json.dumps(token)[1:-1], token.upper(), "0c55", "very=secret"):
        assert form not in result.output, form
    echoed = json.loads(result.output)
    assert echoed["path"] == "/echo/[hidden $CLINIC_TOKEN]"
    assert echoed["query"]["key"] == "[hidden $CLINIC_TOKEN]"
    assert echoed["headers"]["x-shout"] == "[hidden $CLINIC_TOKEN]"


def test_post_sends_the_arguments_as_json_and_a_body_template_keeps_types(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file(f"""
        - name: book
          http:
            method: post
            url: {clinic_api.url}/echo
            arguments:
              patient: string
              party: {{type: integer, default: 1}}
              kind: {{type: string, enum: [cleaning, check-up]}}
        - name: book_custom
          http:
            method: POST
            url: {clinic_api.url}/echo
            body:
              who: "{{{{ patient }}}}"
              size: "{{{{ party }}}}"
              note: "for {{{{ patient }}}}"
              tags: [a, "{{{{ kind }}}}"]
            arguments:
              patient: string
              party: integer
              kind: {{type: string, required: false}}
        """)
    assert call(path, "book", {"patient": "Ann", "kind": "cleaning"}).ok
    assert json.loads(clinic_api.requests[-1]["body"]) == {
        "patient": "Ann", "party": 1, "kind": "cleaning"}
    assert call(path, "book_custom", {"patient": "Ann", "party": 3}).ok
    assert json.loads(clinic_api.requests[-1]["body"]) == {
        "who": "Ann", "size": 3, "note": "for Ann", "tags": ["a", None]}


def test_invalid_arguments_are_refused_before_any_request(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file(f"""
        - name: book
          http:
            method: POST
            url: {clinic_api.url}/echo
            arguments:
              party: integer
              kind: {{type: string, enum: [cleaning, check-up]}}
        """)
    text = error(call(path, "book", {"party": "many", "kind": "whitening"}))
    assert text.startswith("invalid arguments: ") and "party" in text and "kind" in text
    assert clinic_api.requests == []


@pytest.mark.parametrize(("target", "expected"), [
    ("/status/409", "answered HTTP 409 Conflict: {\"error\": \"slot already taken\"}"),
    ("/not-json", "did not answer with JSON"),
    ("/nowhere", "answered HTTP 404 Not Found"),
])
def test_bad_answers_become_errors_the_model_can_act_on(
        clinic_api: Any, agent_file: Callable[..., Path], target: str, expected: str) -> None:
    path = agent_file(f"""
        - name: fetch
          http: {{url: "{clinic_api.url}{target}"}}
        """)
    assert expected in error(call(path, "fetch", {}))


def test_a_slow_server_is_a_timeout_error_not_a_hung_call(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file(f"""
        - name: slow
          timeout: 300ms
          http: {{url: "{clinic_api.url}/slow?seconds=5"}}
        """)
    result = call(path, "slow", {})
    assert "did not answer within 0.3 s" in error(result)
    assert result.seconds < 4  # the call did not wait for the server's 5 s


def test_an_unreachable_host_is_an_error(agent_file: Callable[..., Path]) -> None:
    path = agent_file("""
        - name: down
          http: {url: "http://127.0.0.1:9/x"}
        """)
    assert "could not reach GET 127.0.0.1:9/x" in error(call(path, "down", {}))


def test_redirects_to_another_host_are_not_followed_by_default(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    other = clinic_api.url.replace("127.0.0.1", "localhost")
    path = agent_file(f"""
        - name: same
          http: {{url: "{clinic_api.url}/redirect?to=/echo/here"}}
        - name: elsewhere
          http:
            url: "{clinic_api.url}/redirect?to={other}/echo/there"
            headers: {{X-Key: "{{{{ secrets.token }}}}", X-Plain: "yes"}}
            secrets: {{token: CLINIC_TOKEN}}
        - name: anywhere
          http:
            url: "{clinic_api.url}/redirect?to={other}/echo/there"
            headers: {{X-Key: "{{{{ secrets.token }}}}", X-Plain: "yes"}}
            secrets: {{token: CLINIC_TOKEN}}
            follow_redirects: any
            response: {{field: headers}}
        - name: never
          http:
            url: "{clinic_api.url}/redirect?to=/echo/here"
            follow_redirects: never
        """)
    env = {"CLINIC_TOKEN": TOKEN}
    assert json.loads(call(path, "same", {}).output)["path"] == "/echo/here"
    assert "redirected to another host (localhost); not followed" in error(
        call(path, "elsewhere", {}, environ=env))
    assert clinic_api.requests[-1]["path"] == "/redirect"  # nothing sent to the other host
    headers = json.loads(call(path, "anywhere", {}, environ=env).output)
    assert "x-key" not in headers and headers["x-plain"] == "yes"  # the secret stayed home
    assert "answered HTTP 302 Found (a redirect to /echo/here, not followed)" in error(
        call(path, "never", {}))


def test_response_template_text_format_and_the_size_cut(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file(f"""
        - name: services
          http:
            url: "{clinic_api.url}/clinics/{{{{ clinic }}}}/services"
            arguments: {{clinic: string}}
            response:
              template: >-
                {{{{ clinic }}}}: {{{{ response.services | map(attribute='name')
                | join(', ') }}}}
        - name: page
          http:
            url: "{clinic_api.url}/not-json"
            response: {{format: text}}
        - name: big
          http:
            url: "{clinic_api.url}/big"
            response: {{max_chars: 200}}
        - name: missing
          http:
            url: "{clinic_api.url}/clinics/smile/services"
            response: {{field: services.5.name}}
        """)
    assert call(path, "services", {"clinic": "smile"}).output == "smile: cleaning, check-up"
    assert call(path, "page", {}).output == "<html>maintenance</html>"
    big = call(path, "big", {}).output
    assert big.startswith('{"items":["xxx') and len(big) < 300 and "output cut" in big
    assert "the response has no field services.5 (found: a list of 2)" in error(
        call(path, "missing", {}))


def test_a_missing_secret_is_a_located_problem_when_the_agent_runs(
        agent_file: Callable[..., Path]) -> None:
    path = agent_file("""
        - name: services
          http:
            url: "http://127.0.0.1:9/x"
            headers: {Authorization: "Bearer {{ secrets.token }}"}
            secrets: {token: CLINIC_TOKEN_UNSET_IN_TESTS}
        """)
    registry = ToolRegistry.for_spec(load_spec(path), environ={})
    assert registry.problems == []  # `agentrun check` works anywhere
    assert [str(p) for p in registry.environment_problems()] == [
        f"{path}:9:17: tool 'services': secret 'token' reads environment variable "
        "CLINIC_TOKEN_UNSET_IN_TESTS, which is not set (set CLINIC_TOKEN_UNSET_IN_TESTS)"]
    result = asyncio.run(registry.call("services", "{}", call_id="c1"))
    assert "not configured" in error(result)


@pytest.mark.parametrize(("block", "expected"), [
    ('{url: "http://x/{{ dya }}", arguments: {day: string}}',
     "5:17: url template uses 'dya', which is neither an argument nor a variable (did you "
     "mean 'day'? declare it under arguments: (the model fills it in) or variables:)"),
    ('{url: "http://x/{{ secrets.tok }}", secrets: {token: T}}',
     "5:17: url template: secrets.tok is not declared under secrets: (did you mean 'token'? "
     "declared: token)"),
    ('{url: "http://x/", secrets: {token: "Bearer abc"}}',
     "5:47: 'Bearer abc' is not an environment variable name (name an environment variable "
     "(letters, digits and '_'); values are never written in the file)"),
    ('{url: "http://x/", method: GET, body: {a: 1}}',
     "5:49: a GET request has no body (send the values in query:)"),
    ('{url: "http://x/", response: {field: a, template: "{{ response }}"}}',
     "5:61: give either field or template, not both"),
    ('{url: "http://x/", arguments: {n: {type: integer, default: many}}}',
     "5:70: default must fit type integer, got 'many'"),
    ('{url: "http://x/{{ x.__class__ }}", arguments: {x: string}}',
     "5:17: url template: '__class__' cannot be reached (names starting with '_' are "
     "blocked)"),
])
def test_check_reports_a_bad_http_block_at_its_line(tmp_path: Path, block: str,
                                                    expected: str) -> None:
    from agentrun.cli import main
    from click.testing import CliRunner

    path = tmp_path / "bad.yaml"
    path.write_text(f"name: T\ninstructions: hi\ntools:\n  - name: t\n    http: {block}\n")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert result.output.strip() == f"{path}:{expected}"


def test_the_agent_s_variable_defaults_apply_when_a_call_passes_none(
        clinic_api: Any, agent_file: Callable[..., Path]) -> None:
    path = agent_file("""
        - name: services
          http: {url: "{{ api }}/clinics/{{ clinic }}/services", response: {field: clinic}}
        """, variables=f"variables:\n  api: {clinic_api.url}\n  clinic: smile\n")
    assert call(path, "services", {}).output == "smile"
    port = clinic_api.url.rsplit(":", 1)[1]
    assert error(call(path, "services", {}, variables={"clinic": "nowhere"})) == (
        f"services: GET 127.0.0.1:{port}/clinics/nowhere/services answered HTTP 404 Not Found: "
        '{"error": "no clinic nowhere"}')


def test_check_reports_every_problem_of_an_http_block_in_one_run(tmp_path: Path) -> None:
    # a new user met these one per run: the undeclared secret, then the body, then the name
    import subprocess
    import sys

    path = tmp_path / "clinic.yaml"
    path.write_text(textwrap.dedent("""\
        name: Clinic
        instructions: Book appointments.
        variables:
          base: https://api.example.com
        tools:
          - name: services
            http:
              url: "{{ base }}/clinics/{{ clinic }}/services"
              secrets: {token: BOOK_TOKEN}
              query:
                k: "{{ secrets.tokn }}"
              body: {a: 1}
        """))
    result = subprocess.run([sys.executable, "-m", "agentrun", "check", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"{path}:8:12: url template uses 'clinic', which is neither an argument nor a variable "
        "(declare it under arguments: (the model fills it in) or variables:)",
        f"{path}:11:12: query template: secrets.tokn is not declared under secrets: (did you "
        "mean 'token'? declared: token)",
        f"{path}:12:13: a GET request has no body (send the values in query:)",
    ]


def test_no_problem_of_an_http_block_hides_another(tmp_path: Path) -> None:
    from agentrun.cli import main
    from click.testing import CliRunner

    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent("""\
        name: T
        instructions: hi
        variables: {base: "http://x"}
        tools:
          - name: t
            http:
              url: "{{ base }}/{{ dya }}"
              headers: {"X Key": a, "X Other": b}
              arguments:
                day: string
                base: string
              response: {template: "{{ respnse.slots }}"}
          - name: u
            http:
              url: "{{ base }}/{{ n }}"
              arguments:
                n: {type: integer, default: many, required: true}
        """))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{path}:7:12: url template uses 'dya', which is neither an argument nor a variable "
        "(did you mean 'day'? declare it under arguments: (the model fills it in) or "
        "variables:)",
        f"{path}:8:17: 'X Key' is not a header name",
        f"{path}:8:29: 'X Other' is not a header name",
        f"{path}:11:9: argument 'base' has the name of a variable (rename one of them)",
        f"{path}:12:28: response template uses 'respnse', which is neither an argument nor a "
        "variable (did you mean 'response'? declare it under arguments: (the model fills it in) "
        "or variables:)",
        f"{path}:17:37: default must fit type integer, got 'many'",
        f"{path}:17:53: a required argument cannot have a default (remove 'default:' or "
        "'required: true')",
    ]
