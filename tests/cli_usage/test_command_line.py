"""The command line as a whole: options before the file, `agentrun help`, one-line usage
mistakes with exit code 2, and the exit-code table in every place it is documented."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from agentrun.cli import main
from click.testing import CliRunner, Result

REPO = Path(__file__).resolve().parents[2]
SUPPORT = str(REPO / "agents" / "support.yaml")
NOW = ["--now", "2026-01-05T09:30:00"]
EXIT_TABLE = ["0    ok", "1    the call failed", "2    bad input or usage",
              "3    the service rejected the API key", "130  "]


def invoke(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env={"XAI_API_KEY": None, **(env or {})})


@pytest.mark.parametrize("before", [
    ["--dry-run", *NOW, SUPPORT],
    ["--dry-run", SUPPORT, *NOW],
    ["-v", "--dry-run", SUPPORT, *NOW],
    ["--now=2026-01-05T09:30:00", "--dry-run", SUPPORT],
])
def test_run_options_work_before_the_file_as_after_it(before: list[str]) -> None:
    after = invoke(SUPPORT, "--dry-run", *NOW)
    result = invoke(*before)
    assert (result.exit_code, result.stderr) == (0, ""), result.stderr
    assert result.stdout == after.stdout
    assert '"session.update"' in result.stdout


def test_an_option_no_command_has_is_one_line_naming_it() -> None:
    result = invoke("--dry-rum", SUPPORT)
    assert result.exit_code == 2
    assert result.stderr == "agentrun: no such option '--dry-rum' (see 'agentrun --help')\n"


def test_help_is_the_same_text_as_dash_dash_help() -> None:
    assert invoke("help").stdout == invoke("--help").stdout
    assert invoke("help", "run").stdout == invoke("run", "--help").stdout
    nested = invoke("help", "tools", "show")
    assert nested.exit_code == 0
    assert nested.stdout == invoke("tools", "show", "--help").stdout
    assert nested.stdout.startswith("Usage: agentrun tools show [OPTIONS] NAME")


@pytest.mark.parametrize(("args", "line"), [
    (["help", "chek"], "agentrun: no command 'chek' (did you mean 'check'?)"),
    (["help", "run", "show"], "agentrun: 'agentrun run' has no subcommands (no 'show')"),
])
def test_help_for_an_unknown_command_is_one_line(args: list[str], line: str) -> None:
    result = invoke(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")


@pytest.mark.parametrize("command", [[], ["run"], ["sim"]])
def test_exit_codes_are_in_the_help(command: list[str]) -> None:
    text = invoke(*command, "--help").stdout
    for row in EXIT_TABLE:
        assert row in text


def test_exit_codes_are_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Exit codes", 1)[1]
    for code, meaning in [("0", "ok"), ("1", "call failed"), ("2", "bad input or usage"),
                          ("3", "rejected"), ("130", "interrupted")]:
        assert f"| {code} " in table and meaning in table


@pytest.mark.parametrize(("args", "line"), [
    (["sim", "--port", "70000"], "agentrun: invalid value for '--port': '70000' is not a port "
                                 "number (use 1-65535, or 0 for any free port)"),
    (["sim", "--port", "many"], "agentrun: invalid value for '--port': 'many' is not a port "
                                "number (use 1-65535, or 0 for any free port)"),
    (["sim", "--trace", "no-such-folder/t.jsonl"],
     "agentrun: invalid value for --trace: cannot write no-such-folder/t.jsonl: the folder "
     "{cwd}/no-such-folder does not exist (create it first)"),
    (["new", ""], "agentrun: invalid value for NAME: the agent needs a name (e.g. agentrun new "
                  "pizza-orders)"),
    (["new", "/"], "agentrun: invalid value for NAME: '/' is a folder; give a file name in it "
                   "(e.g. agentrun new /my-agent)"),
    (["new", ".yaml"], "agentrun: invalid value for NAME: '.yaml' has no name before .yaml "
                       "(e.g. agentrun new pizza-orders)"),
    (["new", "missing/agent"], "agentrun: invalid value for NAME: the folder missing does not "
                               "exist (create it first)"),
    (["render", SUPPORT, "--call", "caler=+1555"],
     "agentrun: invalid value for --call: templates have no call.caler (did you mean 'caller'? "
     "known: caller, call_id)"),
    (["render", SUPPORT, "--call", "colour=red"],
     "agentrun: invalid value for --call: templates have no call.colour (known: caller, "
     "call_id)"),
    ([SUPPORT, "--url", "api.x.ai"], "agentrun: invalid value for '--url': 'api.x.ai' is not a "
                                     "WebSocket URL (e.g. ws://127.0.0.1:8765/v1/realtime)"),
    ([SUPPORT, "--url", "https://api.x.ai/v1/realtime"],
     "agentrun: invalid value for '--url': 'https://api.x.ai/v1/realtime' is an HTTP URL; a "
     "realtime endpoint is WebSocket: wss://api.x.ai/v1/realtime"),
    ([SUPPORT, "--url", "ws://[::1"], "agentrun: invalid value for '--url': 'ws://[::1' is not "
                                      "a URL (Invalid IPv6 URL)"),
    ([SUPPORT, "--api-key-env", ""], "agentrun: invalid value for '--api-key-env': '' is not "
                                     "an environment variable name (e.g. XAI_API_KEY)"),
    (["run"], "agentrun: missing argument 'FILE' (see 'agentrun run --help')"),
    (["tools", "show", "lookup_ordr"], "agentrun: no installed plugin provides 'lookup_ordr' "
                                       "(did you mean 'lookup_order'?)"),
    (["sim", "--scenario", "absent.yaml"], "absent.yaml: cannot read scenario: No such file or "
                                           "directory"),
])
def test_bad_arguments_are_one_line_and_exit_2(args: list[str], line: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*args)
    assert result.exit_code == 2
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), result.exception
    assert result.stdout == ""
    assert result.stderr == line.format(cwd=os.getcwd()) + "\n"
    assert list(tmp_path.iterdir()) == []  # nothing was written


def test_a_scenario_that_is_not_yaml_is_one_located_line(tmp_path: Path) -> None:
    scenario = tmp_path / "faults.yaml"
    scenario.write_text("responses:\n  - say: [hello\n")
    result = invoke("sim", "--scenario", str(scenario))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr == (f"{scenario}:2:10: scenario is not valid YAML: this '[' is never "
                             "closed (close it with ']', or put the value in quotes if it is "
                             "text)\n")


@pytest.mark.parametrize(("args", "line"), [
    (["schema", "extra"], "agentrun: unexpected extra argument: extra (see 'agentrun schema "
                          "--help')"),
    (["test", "--repeat", "0", "x.test.yaml"],
     "agentrun: invalid value for '--repeat': 0 is not between 1 and 1000"),
    (["doctor", "--api-base", "wss://api.x.ai/v1"],
     "agentrun: invalid value for '--api-base': 'wss://api.x.ai/v1' is not an http(s) URL "
     "(e.g. https://api.x.ai/v1)"),
    (["doctor", "--api-key-env", "my key"],
     "agentrun: invalid value for '--api-key-env': 'my key' is not an environment variable "
     "name (e.g. XAI_API_KEY)"),
])
def test_clicks_jargon_is_said_in_plain_words(args: list[str], line: str) -> None:
    result = invoke(*args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", line + "\n")
