"""``--dry-run`` prints exactly what would be sent; compared with agents/expected/*.json.

Regenerate after an intended change with ``AGENTRUN_UPDATE_EXPECTED=1 pytest tests/cli_run``.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPECTED = ROOT / "agents" / "expected"
NOW = "2026-01-05T09:30:00"
EXTRA_ARGS = {"booking": ["--var", "clinic=Smile Dental"]}  # required variables
AGENTS = sorted(p.stem for p in (ROOT / "agents").glob("*.yaml")
                if not p.name.endswith(".test.yaml"))  # conversation tests, not agents


def dry_run(agent: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentrun", str(ROOT / "agents" / f"{agent}.yaml"), "--dry-run",
         "--now", NOW, *EXTRA_ARGS.get(agent, []), *extra],
        capture_output=True, text=True, env=env, timeout=30, check=False)


@pytest.mark.parametrize("agent", AGENTS)
def test_dry_run_matches_the_committed_expected_file(agent: str, cli_env: dict[str, str]) -> None:
    result = dry_run(agent, cli_env)
    assert result.returncode == 0, result.stderr
    expected = EXPECTED / f"{agent}.json"
    if os.environ.get("AGENTRUN_UPDATE_EXPECTED") == "1":
        expected.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == expected.read_text(encoding="utf-8")
    document = json.loads(result.stdout)
    assert document["session.update"]["event_id"] == "dry-run"
    assert "model" not in document["session.update"]["session"]  # only in the URL (§1)


def test_dry_run_never_shows_the_key_and_sends_nothing(cli_env: dict[str, str],
                                                       simulator: Any) -> None:
    secret = "xai-SECRET-do-not-print"
    with simulator() as sim:
        url = sim.url
        result = dry_run("support", {**cli_env, "XAI_API_KEY": secret}, "--url", url)
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    document = json.loads(result.stdout)
    assert document["authorization"] == "Bearer $XAI_API_KEY (redacted)"
    assert document["url"] == url + "?model=grok-voice-latest"
    assert sim.connections == 0


def test_the_greeting_is_a_template_rendered_for_the_call(tmp_path: pathlib.Path,
                                                         cli_env: dict[str, str]) -> None:
    agent = tmp_path / "a.yaml"
    agent.write_text("name: T\ninstructions: Help callers.\nvariables: {company: Acme}\n"
                     "greeting: 'Hi, this is {{ company }}. It is {{ now.strftime(\"%A\") }}.'\n")
    result = subprocess.run(
        [sys.executable, "-m", "agentrun", str(agent), "--dry-run", "--now", NOW,
         "--var", "company=Globex"], capture_output=True, text=True, env=cli_env, timeout=30,
        check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["greeting"] == "Hi, this is Globex. It is Monday."
