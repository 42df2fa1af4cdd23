"""The README's "Test your agent" section as a reader uses it: its test file passes against the
support agent, and a wrong argument reads as the README shows."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Invoke = Callable[..., Result]
REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text(encoding="utf-8")


def block(first_line: str) -> str:
    for match in re.finditer(r"```[a-z]*\n(.*?)```", README, re.DOTALL):
        if match.group(1).startswith(first_line + "\n"):
            return match.group(1)
    raise AssertionError(f"no README block starts with {first_line!r}")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))  # the orders plugin's demo database
    monkeypatch.delenv("XAI_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "agents").mkdir()
    shutil.copy(REPO / "agents" / "support.yaml", tmp_path / "agents" / "support.yaml")
    return tmp_path / "agents"


def test_the_readme_test_file_passes(folder: Path, invoke: Invoke) -> None:
    (folder / "support.test.yaml").write_text(block("# agents/support.test.yaml"))
    result = invoke("test", "-v")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("3 passed in ")


def test_a_wrong_argument_reads_as_the_readme_shows(folder: Path, invoke: Invoke) -> None:
    text = block("# agents/support.test.yaml").replace(
        'model: {call: lookup_order, arguments: {order_id: "1234"}}',
        'model: {call: lookup_order, arguments: {order_id: "5678"}}')
    (folder / "support.test.yaml").write_text(text)
    result = invoke("test", "-k", "looks up")
    assert result.exit_code == 1
    shown = re.search(r"    (FAIL  .*?)\n", README)
    assert shown is not None
    expected = re.sub(r"\(\d+ ms\)", "(TIME)", shown.group(1))
    assert re.sub(r"\((\d+ ms|\d+\.\d s)\)", "(TIME)", result.stdout.splitlines()[0]) == expected
    assert result.stdout.splitlines()[1:4] == [
        "      conversation so far:",
        "        agent: Hi, this is Acme support. How can I help you today?",
        "        caller: Where is my order 1234?"]
