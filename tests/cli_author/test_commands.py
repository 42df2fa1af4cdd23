"""`agentrun render`, `schema`, `new` and every command's --help."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from agentrun.cli import main
from agentrun.spec import json_schema, load_spec, markdown_reference
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[2]

Invoke = Callable[..., Result]
BOOKING = str(REPO / "agents" / "booking.yaml")


def test_render_prints_the_final_instructions(invoke: Invoke) -> None:
    result = invoke("render", BOOKING, "--var", "clinic=Smile Dental", "--var", "max_party=3",
                    "--now", "2026-03-02T09:30", "--call", "caller=+1555",
                    env={"CLINIC_EMERGENCY_LINE": None})
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "You take appointment requests for Smile Dental by phone.\n"
        "The current time is Monday 09:30 (America/New_York).\n"
        "You may book at most 3 people in one call.\n"
        "New patients are welcome.\n"
        'Use current_time when the caller says "tomorrow" or "next week" to get the date '
        "right.\n"
        "The caller's number is +1555.\n")


def test_render_reports_bad_values_at_the_variable(invoke: Invoke) -> None:
    result = invoke("render", BOOKING, "--var", "max_party=few",
                    env={"CLINIC_EMERGENCY_LINE": None})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        f"{BOOKING}:24:3: --var max_party=few: expected a whole number ('max_party' is declared "
        "as integer)\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--var", "clinic"], "invalid value for --var: 'clinic' is not NAME=VALUE (e.g. --var "
                          "company=Acme)"),
    (["--now", "monday"], "invalid value for --now: 'monday' is not a time like "
                          "2026-03-02T09:30"),
])
def test_render_option_mistakes(invoke: Invoke, args: list[str], message: str) -> None:
    result = invoke("render", BOOKING, *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"agentrun: {message}\n"  # one line, no usage block


def test_schema_prints_the_json_schema_and_the_reference(invoke: Invoke) -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    assert result.stdout == (REPO / "agentrun.schema.json").read_text(encoding="utf-8")
    markdown = invoke("schema", "--markdown")
    assert markdown.stdout == markdown_reference()


def test_new_writes_a_starter_that_passes_check(invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("new", "pizza-orders")
    assert result.exit_code == 0
    assert result.stdout == ("wrote pizza-orders.yaml\nwrote pizza-orders.test.yaml\nnext: "
                             "agentrun check pizza-orders.yaml    then    agentrun test "
                             "pizza-orders.test.yaml\n")
    spec = load_spec(tmp_path / "pizza-orders.yaml")
    assert spec.name == "Pizza Orders"
    checked = invoke("check", "pizza-orders.yaml")
    assert (checked.exit_code, checked.stdout) == (0, "pizza-orders.yaml: ok\n")
    rendered = invoke("render", "pizza-orders.yaml", "--now", "2026-03-02T09:30")
    assert rendered.stdout == ("You are Pizza Orders, a friendly voice assistant for Example "
                               "Inc.\nKeep answers short: this is a phone call. Today is Monday, "
                               "2 March.\n")



def test_new_with_spaces_and_a_hash_in_the_name_prints_commands_that_work(
        invoke: Invoke, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # `next: agentrun check My Desk #2.yaml` was not a command a shell runs, and `#` started a
    # YAML comment in the test file's `agent:` line (its tests could not find the agent)
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    result = invoke("new", "My Desk #2")
    assert result.exit_code == 0
    next_line = result.stdout.splitlines()[-1]
    commands = next_line.removeprefix("next: ").split("    then    ")
    assert len(commands) == 2
    words = [shlex.split(command) for command in commands]
    assert words == [["agentrun", "check", "My Desk #2.yaml"],
                     ["agentrun", "test", "My Desk #2.test.yaml"]]
    for command in words:
        ran = invoke(*command[1:])
        assert ran.exit_code == 0, ran.output
    header = (tmp_path / "My Desk #2.yaml").read_text().splitlines()[3]
    assert shlex.split(header.split("Try it:")[1].split("then")[0]) == [
        "agentrun", "check", "My Desk #2.yaml"]

def test_new_points_at_a_schema_it_finds(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "agentrun.schema.json").write_text("{}")
    (tmp_path / "agents").mkdir()
    assert invoke("new", "agents/front-desk.yaml").exit_code == 0
    first = (tmp_path / "agents" / "front-desk.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../agentrun.schema.json"


def test_new_never_overwrites(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("precious\n")
    result = invoke("new", "mine")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("mine.yaml: already exists; nothing was written (choose another "
                             "name or remove the file first)\n")
    assert (tmp_path / "mine.yaml").read_text() == "precious\n"


@pytest.mark.parametrize("command", ["check", "render", "schema", "new"])
def test_help_is_written_for_authors_with_an_example(invoke: Invoke, command: str) -> None:
    result = invoke(command, "--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert f"agentrun {command}" in result.stdout.split("Examples:")[1]


def test_the_command_line_imports_the_spec_only_when_a_command_needs_it() -> None:
    # `agentrun --help` and every command's start-up stay fast: pydantic, PyYAML and Jinja2 load
    # inside the commands that use them.
    import subprocess
    import sys

    code = ("import sys, agentrun.cli; print(sorted(m for m in ('agentrun.spec', 'pydantic', "
            "'yaml', 'jinja2') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert loaded == "[]\n"


def test_a_misspelt_command_is_named_with_a_suggestion() -> None:
    result = CliRunner().invoke(main, ["chek", "agents/support.yaml"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == "agentrun: no command 'chek' (did you mean 'check'?)\n"
    assert "Traceback" not in result.stderr
