"""`agentrun check`: ok lines on stdout, or every problem on stderr with exit code 2."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

REPO = Path(__file__).resolve().parents[2]

Invoke = Callable[..., Result]


def test_examples_pass(invoke: Invoke) -> None:
    result = invoke("check", str(REPO / "agents" / "support.yaml"),
                    str(REPO / "agents" / "booking.yaml"))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (f"{REPO}/agents/support.yaml: ok\n"
                             f"{REPO}/agents/booking.yaml: ok\n")
    # only notes (phone calls are μ-law whatever `audio:` says), never a warning or an error
    assert all(": note: " in line for line in result.stderr.splitlines())


def test_a_misspelt_voice(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("# my agent\nname: T\ninstructions: hi\nvoice:  Aria\n")
    result = invoke("check", "bad.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("bad.yaml:4:9: unknown voice 'Aria' (did you mean 'Ara'? allowed: "
                             "Ara, Rex, Sal, Eve, Leo)\n")


def test_every_file_every_problem_and_nothing_on_stdout(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text("name: T\ninstructions: hi\n")
    (tmp_path / "a.yaml").write_text("name: T\ninstructions: hi\nvoice: Aria\n"
                                     "turn_detection: {threshold: 1.5}\n")
    (tmp_path / "b.yaml").write_text("- a list\n")
    result = invoke("check", "good.yaml", "a.yaml", "b.yaml", "missing.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "a.yaml:3:8: unknown voice 'Aria' (did you mean 'Ara'? allowed: Ara, Rex, Sal, Eve, "
        "Leo)\n"
        "a.yaml:4:29: threshold must be between 0.1 and 0.9, got 1.5\n"
        "b.yaml:1:1: the agent file must be a mapping of keys, not a list (start with lines like "
        "'name: My agent')\n"
        "missing.yaml: file not found (check the path and the spelling)\n")


def test_unknown_plugin_tool_gets_did_you_mean(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: T\ninstructions: hi\ntools:\n  - web_search\n"
                                       "  - lookup_ordr\n  - {name: current_tim, timeout: 2}\n")
    result = invoke("check", "bad.yaml")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "bad.yaml:5:5: no installed plugin provides 'lookup_ordr' (did you mean "
        "'lookup_order'?)\n"
        "bad.yaml:6:5: no installed plugin provides 'current_tim' (did you mean "
        "'current_time'?)\n")


@pytest.mark.parametrize(("target", "content", "expected"), [
    ("/", None, "/: is a directory, not an agent file (name a .yaml file, e.g. "
                "agents/support.yaml)\n"),
    ("x.bin", b"\x7fELF\x00\x01binary", "x.bin:1: this is not a text file (it contains NUL "
     "bytes) (an agent file is YAML text)\n"),
    ("x.yaml", b"name: \xff\xfe\n", "x.yaml:1:7: the file is not valid UTF-8 text (byte 0xff) "
     "(save the file as UTF-8 in your editor)\n"),
    ("x.yaml", b"", "x.yaml: the file is empty (an agent file needs at least 'name:' and "
     "'instructions:'; run 'agentrun new NAME' for a starter)\n"),
    ("x.yaml", b"name: !!python/object/apply:os.system [ls]\n", "x.yaml:1:7: YAML tag "
     "'!!python/object/apply:os.system' is not allowed (agent files hold plain text, numbers, "
     "lists and mappings)\n"),
])
def test_unusable_input_never_shows_a_traceback(invoke: Invoke, tmp_path: Path, target: str,
                                                content: bytes | None, expected: str) -> None:
    if content is not None:
        (tmp_path / target).write_bytes(content)
    result = invoke("check", target)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == expected


def test_check_renders_once_to_find_runtime_mistakes(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: T\ninstructions: |\n  Hi {{ who.upper() }}, you have {{ seats + 1 }} seats.\n"
        "  Today is {{ now.strftme('%A') }}.\nvariables:\n  who: {required: true}\n"
        "  seats: {type: integer, from_env: SEATS}\n")
    result = invoke("check", "bad.yaml", "--var", "who=Ann", env={"SEATS": "3"})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == ("bad.yaml:4:3: instructions line 2 (\"Today is {{ now.strftme('%A') "
                             "}}.\"): cannot be rendered: now has no 'strftme' (did you mean "
                             "'strftime'?)\n")


def test_every_kind_of_problem_is_reported_in_one_check(invoke: Invoke, tmp_path: Path) -> None:
    # tool and variable problems used to appear only once everything else was fixed
    (tmp_path / "bad.yaml").write_text(
        "name: T\n"
        "voice: Aria\n"
        "instructions: Hello {{ who }}, your token is {{ token }}.\n"
        "greeting: Hi {{ compnay }}!\n"
        "variables:\n"
        "  who: {required: true}\n"
        "  token: {from_env: CRM_TOKEN}\n"
        "tools:\n"
        "  - lookup_ordr\n"
        "  - {name: create_ticket, config: {databse: x.db}}\n"
        "  - {name: web_search, timeout: 5}\n")
    result = invoke("check", "bad.yaml", env={"CRM_TOKEN": None})
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "bad.yaml:2:8: unknown voice 'Aria' (did you mean 'Ara'? allowed: Ara, Rex, Sal, Eve, "
        "Leo)",
        "bad.yaml:4:11: greeting uses 'compnay', which is not a declared variable (declare it "
        "under variables:)",
        "bad.yaml:6:3: variable 'who' is required but has no value (pass --var who=VALUE when "
        "you check or run the agent)",
        "bad.yaml:7:3: variable 'token' reads environment variable CRM_TOKEN, which is not set "
        "(set it before you check or run the agent, e.g. export CRM_TOKEN=VALUE; or pass --var "
        "token=VALUE)",
        "bad.yaml:9:5: no installed plugin provides 'lookup_ordr' (did you mean "
        "'lookup_order'?)",
        "bad.yaml:10:36: tool 'create_ticket': unknown config key 'databse' (did you mean "
        "'database'? allowed: database)",
        "bad.yaml:11:33: built-in tool web_search takes no 'timeout' (it runs on Grok's "
        "servers)",
    ]



def test_one_wrong_field_of_a_tool_entry_hides_none_of_its_other_problems(
        invoke: Invoke, tmp_path: Path) -> None:
    # a timeout in milliseconds used to drop the whole entry from the tools check: its config
    # typo and its misspelt name appeared only after the timeout was fixed
    (tmp_path / "bad.yaml").write_text(
        "name: T\n"
        "instructions: hi\n"
        "tools:\n"
        "  - name: create_ticket\n"
        "    timeout: 5000\n"
        "    config: {databse: x.db}\n"
        "  - {name: lookup_ordr, timeout: 0}\n")
    result = invoke("check", "bad.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "bad.yaml:5:14: timeout is in seconds: 5000 looks like milliseconds (write 5 or "
        "'5000ms')",
        "bad.yaml:6:14: tool 'create_ticket': unknown config key 'databse' (did you mean "
        "'database'? allowed: database)",
        "bad.yaml:7:5: no installed plugin provides 'lookup_ordr' (did you mean "
        "'lookup_order'?)",
        "bad.yaml:7:34: timeout must be more than 0 and at most 3600, got 0",
    ]

def test_check_reads_values_as_run_does(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "name: T\ninstructions: 'For {{ clinic }} ({{ seats * 2 }} seats)'\n"
        "variables:\n  clinic: {required: true}\n  seats: {type: integer, from_env: SEATS}\n")
    missing = invoke("check", "a.yaml", env={"SEATS": None})
    assert missing.exit_code == 2
    assert "pass --var clinic=VALUE" in missing.stderr
    assert "export SEATS=VALUE" in missing.stderr
    wrong = invoke("check", "a.yaml", "--var", "clinic=Smile", env={"SEATS": "many"})
    assert wrong.exit_code == 2
    assert wrong.stderr == ("a.yaml:5:3: environment variable SEATS (for 'seats') is not valid: "
                            "expected a whole number ('seats' is declared as integer)\n")
    ok = invoke("check", "a.yaml", "--var", "clinic=Smile", env={"SEATS": "4"})
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "a.yaml: ok\n", "")
    typo = invoke("check", "a.yaml", "--var", "clinc=Smile", env={"SEATS": "4"})
    assert typo.exit_code == 2
    assert "a.yaml: --var clinc: the agent has no variable 'clinc' (did you mean 'clinic'?" \
        in typo.stderr


def test_one_var_serves_several_files(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: A\ninstructions: '{{ clinic }}'\n"
                                     "variables: {clinic: {required: true}}\n")
    (tmp_path / "b.yaml").write_text("name: B\ninstructions: hi\n")
    result = invoke("check", "a.yaml", "b.yaml", "--var", "clinic=Smile")
    assert (result.exit_code, result.stdout) == (0, "a.yaml: ok\nb.yaml: ok\n")
    nobody = invoke("check", "a.yaml", "b.yaml", "--var", "clinic=Smile", "--var", "clnic=x")
    assert nobody.exit_code == 2
    assert "invalid value for --var: none of these agent files declares a variable 'clnic'" \
        in nobody.stderr


def test_blank_instructions_and_greeting_are_errors(invoke: Invoke, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("name: T\ninstructions: |\n   \n\ngreeting: '  '\n")
    result = invoke("check", "bad.yaml")
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "bad.yaml:2:15: instructions is empty (only blank space) (write what the agent should do "
        "after 'instructions: |')",
        "bad.yaml:5:11: greeting is empty (only blank space) (write what the agent says first, "
        "or remove 'greeting:' to let the caller speak first)"]


def test_check_needs_a_file(invoke: Invoke) -> None:
    result = invoke("check")
    assert result.exit_code == 2
    assert result.stderr == ("agentrun: missing argument 'FILE...' "
                             "(see 'agentrun check --help')\n")
