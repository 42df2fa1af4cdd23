"""If `agentrun check` says ok, `agentrun run` does not fail on the file (and the other way
round): both read the file, the variables, the environment and the tools the same way."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

CASES = {
    "from_env missing": ("instructions: 'Token {{ token }}'\nvariables: {token: {from_env: TOK}}\n",
                       [], {}),
    "from_env given": ("instructions: 'Token {{ token }}'\nvariables: {token: {from_env: TOK}}\n",
                     [], {"TOK": "abc"}),
    "required, no value": ("instructions: 'For {{ clinic }}'\n"
                           "variables: {clinic: {required: true}}\n", [], {}),
    "required, --var": ("instructions: 'For {{ clinic }}'\n"
                        "variables: {clinic: {required: true}}\n", ["--var", "clinic=X"], {}),
    "greeting undeclared": ("instructions: hi\ngreeting: 'Hi {{ compnay }}'\n", [], {}),
    "greeting fails to render": ("instructions: hi\ngreeting: '{{ now.strftme(\"%A\") }}'\n",
                                 [], {}),
    "unknown tool": ("instructions: hi\ntools: [lookup_ordr]\n", [], {}),
    "bad tool config": ("instructions: hi\ntools: [{name: lookup_order, config: {db: x}}]\n",
                        [], {}),
    "renders to nothing": ("instructions: '{% if x %}hi{% endif %}'\nvariables: {x: false}\n",
                           [], {}),
    "ok": ("instructions: hi\ntools: [lookup_order, web_search]\n", [], {}),
}

OK = {"from_env given", "required, --var", "ok"}


@pytest.mark.parametrize("case", list(CASES))
def test_check_and_run_agree(case: str, tmp_path: pathlib.Path,
                             cli_env: dict[str, str]) -> None:
    body, extra, env_extra = CASES[case]
    agent = tmp_path / "a.yaml"
    agent.write_text("name: T\n" + body)
    env = {k: v for k, v in {**cli_env, **env_extra}.items() if k != "TOK" or "TOK" in env_extra}

    def agentrun(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "agentrun", *args], capture_output=True,
                              text=True, env=env, timeout=60, check=False, cwd=tmp_path)

    checked = agentrun("check", str(agent), *extra)
    ran = agentrun(str(agent), "--dry-run", *extra)
    assert checked.returncode in (0, 2), checked.stderr
    assert (checked.returncode == 0) == (ran.returncode == 0), (checked.stderr, ran.stderr)
    assert (checked.returncode == 0) == (case in OK), checked.stderr
    if ran.returncode != 0:
        # the same problems, the same words
        assert ran.stderr.splitlines()[0] in checked.stderr.splitlines()
