"""The console on a real terminal (a pseudo-terminal): line editing, history, commands."""

from __future__ import annotations

import pathlib
import re
import sys

import pexpect
import pytest

AGENT = """\
name: Shop
instructions: You help shop customers.
greeting: Hi, this is the shop.
tools: [web_search]
"""
LEFT, UP = "\x1b[D", "\x1b[A"


@pytest.fixture
def terminal(tmp_path: pathlib.Path, cli_env: dict[str, str]) -> pexpect.spawn:
    agent = tmp_path / "shop.yaml"
    agent.write_text(AGENT, encoding="utf-8")
    child = pexpect.spawn(sys.executable, ["-m", "agentrun", str(agent), "--text"],
                          env={**cli_env, "TERM": "xterm", "PROMPT_TOOLKIT_NO_CPR": "1"},
                          encoding="utf-8", timeout=20, dimensions=(40, 200))
    child.expect("agent: Hi, this is the shop.")
    child.expect("you:")
    yield child
    child.close(force=True)


def said(child: pexpect.spawn) -> str:
    child.expect(r"You said: ([^\r\n]*)")
    return child.match.group(1)


def test_arrow_keys_edit_the_line_instead_of_sending_escape_codes(
        terminal: pexpect.spawn) -> None:
    terminal.send("helo" + LEFT + "l\r")
    assert said(terminal) == "hello"


def test_up_arrow_recalls_the_previous_line(terminal: pexpect.spawn) -> None:
    terminal.send("first line\r")
    assert said(terminal) == "first line"
    terminal.expect("you:")
    terminal.send(UP + "\r")
    assert said(terminal) == "first line"


def test_help_lists_the_commands_and_quit_hangs_up(terminal: pexpect.spawn) -> None:
    terminal.send("/help\r")
    terminal.expect("/quit")
    terminal.expect("/call")  # offline: the simulator's command is offered
    terminal.send("/quit\r")
    terminal.expect("call ended")
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0


def test_an_unknown_command_is_refused_with_a_suggestion_and_not_sent(
        terminal: pexpect.spawn) -> None:
    terminal.send("/qiut\r")
    terminal.expect(re.escape("unknown command /qiut (did you mean /quit?"))
    terminal.send("still here\r")
    assert said(terminal) == "still here"


def test_ctrl_d_hangs_up(terminal: pexpect.spawn) -> None:
    terminal.sendeof()
    terminal.expect("call ended")
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 0


def test_ctrl_c_at_the_prompt_is_an_interruption_not_a_hang_up(
        terminal: pexpect.spawn) -> None:
    # the prompt holds the terminal in raw mode, so Ctrl-C arrives as a key, not a signal:
    # it must still mean what it means everywhere else (exit 130), not Ctrl-D (exit 0)
    terminal.sendintr()
    terminal.expect(pexpect.EOF)
    terminal.close()
    assert terminal.exitstatus == 130
