"""A from_env value never appears in what agentrun prints: render, --dry-run, errors, logs."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from agentrun._secrets import RedactingFilter, Redactor, redact, redact_data, remember
from agentrun.cli import main
from agentrun.spec import secret_values
from click.testing import CliRunner

TOKEN = "tok-9f8e7d6c5b4a"  # what the environment holds; must never be printed
AGENT = ("name: T\ninstructions: |\n  Use token {{ token }} for {{ region }}; pin {{ pin }}.\n"
         "  Shouting: {{ token | upper }}.\n"
         "greeting: 'Region {{ region }} here'\n"
         "variables:\n  token: {from_env: CRM_TOKEN}\n  region: {from_env: REGION}\n"
         "  pin: {from_env: PIN}\n")
ENV = {"CRM_TOKEN": TOKEN, "REGION": "EU", "PIN": "4321"}


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(AGENT)
    return tmp_path / "a.yaml"


def test_render_shows_markers_naming_the_variables(agent: Path) -> None:
    result = CliRunner().invoke(main, ["render", "a.yaml"], env=ENV)
    assert result.exit_code == 0, result.output
    assert result.stdout == ("Use token [hidden $CRM_TOKEN] for [hidden $REGION]; pin "
                             "[hidden $PIN].\nShouting: [hidden $CRM_TOKEN].\n")
    assert "values from the environment are shown as [hidden $NAME]" in result.stderr
    greeting = CliRunner().invoke(main, ["render", "a.yaml", "--greeting"], env=ENV)
    assert greeting.stdout == "Region [hidden $REGION] here\n"


def test_dry_run_shows_markers_and_the_call_gets_the_values(agent: Path) -> None:
    env = {**ENV, "XAI_API_KEY": "xai-key-0123456789"}
    result = subprocess.run([sys.executable, "-m", "agentrun", "a.yaml", "--dry-run"],
                            capture_output=True, text=True, check=False, timeout=30,
                            env={**dict(__import__("os").environ), **env})
    assert result.returncode == 0, result.stderr
    for value in (TOKEN, TOKEN.upper(), "EU", "4321", "xai-key-0123456789"):
        assert value not in result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["greeting"] == "Region [hidden $REGION] here"
    assert document["session.update"]["session"]["instructions"].startswith(
        "Use token [hidden $CRM_TOKEN] for [hidden $REGION]; pin [hidden $PIN].")

    from agentrun.agent import Agent

    real = Agent.load(agent, environ=ENV).config()
    assert real.greeting == "Region EU here"
    assert TOKEN in real.session.instructions


def test_errors_never_show_an_environment_value(agent: Path) -> None:
    agent.write_text("name: T\ninstructions: '{{ token | format_date }} {{ seats }}'\n"
                     "variables:\n  token: {from_env: CRM_TOKEN}\n"
                     "  seats: {type: integer, from_env: SEATS}\n")
    result = CliRunner().invoke(main, ["check", "a.yaml"], env={**ENV, "SEATS": "seats-s3cret"})
    assert result.exit_code == 2
    assert TOKEN not in result.output and "seats-s3cret" not in result.output
    assert result.stderr.splitlines() == [
        "a.yaml:2:16: instructions line 1 (\"{{ token | format_date }} {{ seats }}\"): cannot "
        "be rendered: format_date needs a date or time such as now or '2026-01-04', got "
        "'[hidden $CRM_TOKEN]'",
        "a.yaml:5:3: environment variable SEATS (for 'seats') is not valid: expected a whole "
        "number ('seats' is declared as integer)"]


def test_redact_helpers() -> None:
    remember("s3cr3t-value-xyz", "API_TOKEN")
    remember("Acme", "COMPANY")
    assert secret_values()["s3cr3t-value-xyz"] == "API_TOKEN"
    assert redact("auth=s3cr3t-value-xyz&x=s3cr3t%2Dvalue-xyz") == (
        "auth=[hidden $API_TOKEN]&x=s3cr3t%2Dvalue-xyz")
    assert redact("Bearer s3cr3t-value-xyz.") == "Bearer [hidden $API_TOKEN]."
    # a short value is only replaced where it stands alone: words around it stay readable
    assert redact("Acme Acmeland, 2026") == "[hidden $COMPANY] Acmeland, 2026"
    assert redact_data({"a": ["x s3cr3t-value-xyz", 3]}) == {"a": ["x [hidden $API_TOKEN]", 3]}


def test_a_redactor_hides_every_form_of_a_value_and_names_its_variable_when_known() -> None:
    token = 'Tok/3f9a "c2e1"+b8=d4&\u00e9'
    redact_named = Redactor({token: "CRM_TOKEN", "Acme": "COMPANY", "abc": "TINY", " ": "X"})
    hidden = "[hidden $CRM_TOKEN]"
    for form in (token, token.upper(), token.lower(), quote(token, safe=""), quote(token),
                 quote_plus(token, safe=""), json.dumps(token)[1:-1],
                 json.dumps(token, ensure_ascii=False)[1:-1]):
        assert redact_named(f"<{form}>") == f"<{hidden}>", form
    # 4 to 7 characters: only standing alone; under 4: never (ordinary words stay readable)
    assert redact_named("Acme, Acmeland, x.Acme, abc") == "[hidden $COMPANY], Acmeland, x.Acme, abc"
    plain = Redactor(["p4ss-w0rd-long", "Zyx9"])
    assert plain("login p4ss-w0rd-long / Zyx9") == "login [hidden] / [hidden]"
    assert not Redactor(["ab", "", "   "]) and Redactor(["abcd"])


def test_the_process_redactor_sees_secrets_remembered_after_its_first_use() -> None:
    assert redact("tok-1a2b3c4d5e then tok-9z8y7x6w5v") == "tok-1a2b3c4d5e then tok-9z8y7x6w5v"
    remember("tok-1a2b3c4d5e", "FIRST_TOKEN")
    assert redact("tok-1a2b3c4d5e then tok-9z8y7x6w5v") == (
        "[hidden $FIRST_TOKEN] then tok-9z8y7x6w5v")
    remember("tok-9z8y7x6w5v", "SECOND_TOKEN")
    assert redact("tok-1a2b3c4d5e then tok-9z8y7x6w5v") == (
        "[hidden $FIRST_TOKEN] then [hidden $SECOND_TOKEN]")


def test_log_records_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    remember("p4ssw0rd-for-logs", "DB_PASSWORD")
    logger = logging.getLogger("agentrun.test_secrets")
    handler_records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            handler_records.append(self.format(record))

    keep = Keep()
    keep.addFilter(RedactingFilter())
    logger.addHandler(keep)
    try:
        logger.warning("connecting with %s", "p4ssw0rd-for-logs")
    finally:
        logger.removeHandler(keep)
    assert handler_records == ["connecting with [hidden $DB_PASSWORD]"]


def test_render_never_shows_an_environment_value_changed_by_the_template(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `~`, replace and slices make text the marker cannot be found in afterwards; a short value
    # (a 3-digit door code) is not searched for in free text at all
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.yaml").write_text(
        "name: T\ninstructions: |\n"
        "  Door: {{ 'code ' ~ pin }}. Key: {{ token | replace('-', ' ') }}.\n"
        "  Hint: {{ token[:6] }}.\n"
        "  {% if stage == 'prod' %}Live.{% else %}Testing.{% endif %}\n"
        "variables:\n  pin: {from_env: DOOR_PIN}\n  token: {from_env: CRM_TOKEN}\n"
        "  stage: {from_env: STAGE}\n")
    env = {"DOOR_PIN": "739", "CRM_TOKEN": "tok-9f8e7d6c5b4a", "STAGE": "prod"}
    result = CliRunner().invoke(main, ["render", "a.yaml"], env=env)
    assert result.exit_code == 0, result.output
    for leaked in ("739", "9f8e7d6c5b4a", "9f8e", "tok-9f"):
        assert leaked not in result.stdout
    assert "[hidden $DOOR_PIN]" in result.stdout
    assert "[hidden $CRM_TOKEN]" in result.stdout
    assert "Live." in result.stdout  # a comparison still sees the real value
    # the agent itself still gets the real values
    from agentrun.agent import Agent

    real = Agent.load(tmp_path / "a.yaml", environ=env).config().session.instructions
    assert "code 739" in real and "tok 9f8e7d6c5b4a" in real and "Live." in real


def test_a_number_from_the_environment_is_hidden_too(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # a PIN declared as integer: too short to find in free text, so the template must mark it
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pin.yaml").write_text(
        "name: T\ninstructions: 'Pin {{ pin }}, rate {{ rate }}, next {{ pin + 1 }}.'\n"
        "greeting: \"{{ 'code ' ~ pin }}{% if pin == 12 %}, twelve{% endif %}\"\n"
        "variables:\n  pin: {type: integer, from_env: PIN}\n"
        "  rate: {type: number, from_env: RATE}\n")
    env = {"PIN": "12", "RATE": "0.5"}
    shown = CliRunner().invoke(main, ["render", "pin.yaml"], env=env)
    assert shown.exit_code == 0, shown.output
    assert shown.stdout == "Pin [hidden $PIN], rate [hidden $RATE], next 13.\n"
    dry = CliRunner().invoke(main, ["run", "--dry-run", "pin.yaml"], env=env)
    instructions = json.loads(dry.stdout)["session.update"]["session"]["instructions"]
    assert instructions == "Pin [hidden $PIN], rate [hidden $RATE], next 13."
    greeting = CliRunner().invoke(main, ["render", "pin.yaml", "--greeting"], env=env)
    assert greeting.stdout == "code [hidden $PIN], twelve\n"  # the branch the call takes
