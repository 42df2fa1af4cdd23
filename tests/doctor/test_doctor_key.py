"""`agentrun doctor` and the API key: set or not, well-formed, accepted by a real HTTP server."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import pytest
from agentrun.cli import main
from click.testing import CliRunner, Result

if TYPE_CHECKING:
    from conftest import KeyServer

KEY = "xai-test-key-do-not-print"
ACCEPTED = {"name": "dev laptop", "acls": ["api-key:model:*", "api-key:endpoint:*"],
            "team_blocked": False, "api_key_blocked": False, "api_key_disabled": False}


def doctor(*args: str, key: str | None = KEY, base: str = "") -> Result:
    env = {"XAI_API_KEY": key, "AGENTRUN_API_BASE": base or None}
    return CliRunner().invoke(main, ["doctor", *args], env=env)


def key_line(result: Result) -> list[str]:
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "API key" in line)
    return [line.split("API key", 1)[-1].strip() if i == at else line.strip()
            for i, line in enumerate(lines[at:at + 2], start=at)
            if i == at or line.strip().startswith("what to do:")]


def test_a_key_the_service_accepts(key_server: KeyServer) -> None:
    key_server.body = ACCEPTED
    result = doctor(base=key_server.base)
    assert result.exit_code == 0, result.stdout
    assert key_server.requests == [("/v1/api-key", f"Bearer {KEY}")]
    assert key_line(result) == ["the service accepts XAI_API_KEY (key 'dev laptop')"]
    assert KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(("status", "body", "line", "code"), [
    (401, {"error": "Incorrect API key"},
     "the service rejected XAI_API_KEY (HTTP 401): it is not a valid key", 3),
    (400, {}, "the service rejected XAI_API_KEY (HTTP 400): it is not a valid key", 3),
    (403, {}, "the service refused XAI_API_KEY (HTTP 403): the key or its team lacks "
              "permission, or is blocked", 3),
    (200, {**ACCEPTED, "team_blocked": True},
     "XAI_API_KEY: the key's team is blocked (often: no credits left)", 3),
    (200, {**ACCEPTED, "api_key_disabled": True}, "XAI_API_KEY: this key is disabled", 3),
    (503, {}, "the service had a problem (HTTP 503), so the key could not be checked", 0),
    (200, {**ACCEPTED, "acls": ["api-key:endpoint:chat", "api-key:model:*"]},
     "the service accepts XAI_API_KEY (key 'dev laptop'), but the key is limited to endpoints "
     "chat: the voice API may refuse it", 0),
])
def test_what_the_service_answers_is_explained(key_server: KeyServer, status: int,
                                               body: dict[str, Any], line: str,
                                               code: int) -> None:
    key_server.status, key_server.body = status, body
    result = doctor(base=key_server.base)
    assert result.exit_code == code, result.stdout
    summary, *fix = key_line(result)
    assert summary == line
    assert fix and fix[0].startswith("what to do: ")
    assert KEY not in result.stdout


def test_an_unreachable_service_is_a_problem_that_says_how_to_skip_the_check() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = doctor(base=f"http://127.0.0.1:{port}/v1")
    assert result.exit_code == 1
    summary, fix = key_line(result)
    assert summary == (f"cannot reach http://127.0.0.1:{port}/v1/api-key to check the key "
                       "(the connection was refused)")
    assert fix.endswith("agentrun doctor --no-network skips this check")


def test_no_key_is_a_warning_with_the_command_to_set_it(key_server: KeyServer) -> None:
    result = doctor(key=None, base=key_server.base)
    assert result.exit_code == 0
    assert key_server.requests == []
    assert key_line(result) == [
        "XAI_API_KEY is not set, so agentrun talks to its offline simulator (replies are "
        "simulated)",
        "what to do: to talk to Grok: export XAI_API_KEY=<your key>; create a key in the xAI "
        "console (https://console.x.ai)"]


@pytest.mark.parametrize(("key", "line"), [
    (f" {KEY}\n", "XAI_API_KEY has spaces or a line break around the key"),
    (f'"{KEY}"', "XAI_API_KEY contains quote marks as part of the key"),
    (f"{KEY} {KEY}", "XAI_API_KEY contains a space: it is not one key"),
])
def test_copy_paste_mistakes_are_named_without_asking_the_service(
        key_server: KeyServer, key: str, line: str) -> None:
    result = doctor(key=key, base=key_server.base)
    assert result.exit_code == 1
    assert key_line(result)[0] == line
    assert key_server.requests == []


def test_no_network_skips_the_request(key_server: KeyServer) -> None:
    result = doctor("--no-network", base=key_server.base)
    assert result.exit_code == 0
    assert key_server.requests == []
    assert key_line(result) == ["XAI_API_KEY is set (not checked with the service: --no-network)"]


def test_another_variable_name(key_server: KeyServer) -> None:
    key_server.body = ACCEPTED
    result = CliRunner().invoke(main, ["doctor", "--api-key-env", "ACME_XAI_KEY",
                                       "--api-base", key_server.base],
                                env={"ACME_XAI_KEY": KEY, "XAI_API_KEY": None})
    assert result.exit_code == 0
    assert key_line(result) == ["the service accepts ACME_XAI_KEY (key 'dev laptop')"]
