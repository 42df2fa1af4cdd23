"""The README as a plugin author reads it: its plugin is pip-installed for real and behaves as
written, its ToolContext unit test passes, its failure table is what the model gets, and it links
nowhere outside the repository."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def block(first_line: str) -> str:
    """The fenced code block of the README whose first line is ``first_line``."""
    for match in re.finditer(r"```[a-z]*\n(.*?)```", README, re.DOTALL):
        if match.group(1).startswith(first_line + "\n"):
            return match.group(1)
    raise AssertionError(f"no README block starts with {first_line!r}")


def test_the_readme_links_nowhere_outside_the_repository() -> None:
    targets = re.findall(r"\]\(([^)]+)\)", README) + re.findall(r"<(https?://[^>]+)>", README)
    assert targets, "the README links its own docs"
    for target in targets:
        assert "://" not in target and not target.startswith(("/", "..")), target
        assert (REPO / target.split("#")[0]).exists(), target
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
    assert re.findall(r"`\.\./[^`]*`", prose) == []  # e.g. a design note beside the clone


@pytest.fixture(scope="module")
def plugin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's plugin, with its ToolContext example, pip-installed into a folder."""
    source = tmp_path_factory.mktemp("acme-weather")
    package = source / "src" / "acme_weather"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(block("# src/acme_weather/__init__.py"))
    alerts = block("# src/acme_weather/alerts.py    (entry point: alerts = "
                   '"acme_weather.alerts:alerts")')
    (package / "alerts.py").write_text(alerts)
    pyproject = block("# pyproject.toml")
    assert pyproject.startswith("# pyproject.toml\n[build-system]")  # the whole file
    (source / "pyproject.toml").write_text(pyproject.replace(
        'forecast = "acme_weather:forecast"',
        'forecast = "acme_weather:forecast"\nalerts = "acme_weather.alerts:alerts"'))
    site = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--target", str(site), str(source)],
                   check=True, capture_output=True, timeout=300)
    return site


def agentrun(site: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "XAI_API_KEY"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "agentrun", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=60, check=False)


def test_the_readme_plugin_installs_and_is_listed_with_its_descriptions(plugin: Path) -> None:
    shown = agentrun(plugin, "tools", "show", "forecast", "--json")
    assert shown.returncode == 0, shown.stderr
    entry = json.loads(shown.stdout)
    assert (entry["distribution"], entry["description"]) == ("acme-weather",
                                                             "Weather forecast for a city.")
    properties = entry["parameters"]["properties"]
    assert properties["city"]["description"] == 'City name, e.g. "Paris".'
    assert properties["units"]["enum"] == ["metric", "imperial"]
    alerts = json.loads(agentrun(plugin, "tools", "show", "alerts", "--json").stdout)
    assert alerts["parameters"]["properties"]["city"]["description"] == (  # :param style
        'City name, e.g. "Paris".')
    assert agentrun(plugin, "tools").stderr == ""  # nothing to warn about


def test_the_readme_tool_context_example_checks_and_its_unit_test_passes(
        plugin: Path, tmp_path: Path) -> None:
    yaml_block = block("tools:\n  - name: alerts")
    agent = tmp_path / "weather.yaml"
    agent.write_text("name: Weather\ninstructions: Help.\n" + yaml_block)
    checked = agentrun(plugin, "check", str(agent))
    assert (checked.returncode, checked.stdout) == (0, f"{agent}: ok\n"), checked.stderr
    test_code = block("# tests/test_alerts.py")
    sys.path.insert(0, str(plugin))
    try:
        namespace: dict[str, object] = {}
        exec(compile(test_code, "test_alerts.py", "exec"), namespace)
        namespace["test_alerts_names_the_region"]()  # type: ignore[operator]
    finally:
        sys.path.remove(str(plugin))
        for name in [m for m in sys.modules if m.startswith("acme_weather")]:
            del sys.modules[name]



def test_a_typo_in_the_readme_plugins_config_block_is_an_error_at_its_line(
        plugin: Path, tmp_path: Path) -> None:
    # the README's AlertsConfig is a plain pydantic model, which ignores unknown keys: a
    # misspelt `regoin: US` silently ran the tool with region EU
    agent = tmp_path / "weather.yaml"
    agent.write_text("name: Weather\ninstructions: Help.\ntools:\n  - name: alerts\n"
                     "    config: {regoin: US, cache: data/alerts.json}\n")
    checked = agentrun(plugin, "check", str(agent))
    assert checked.returncode == 2
    assert checked.stderr == (f"{agent}:5:14: tool 'alerts': unknown config key 'regoin' "
                              "(did you mean 'region'? allowed: cache, region)\n")

def test_the_failure_table_is_what_the_model_gets(plugin: Path) -> None:
    from agentrun.tools import Tool

    sys.path.insert(0, str(plugin))
    try:
        from acme_weather import forecast  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(plugin))
        sys.modules.pop("acme_weather", None)

    def crashing(city: str) -> dict[str, str]:
        """Weather forecast for a city."""
        raise OSError("/var/lib/weather.db: permission denied")

    async def slow(city: str) -> str:
        """Weather forecast for a city."""
        await asyncio.sleep(30)
        return city

    outputs = [asyncio.run(Tool.from_function(forecast).run("{}")).output,
               asyncio.run(Tool.from_function(forecast).run('{"city": "Oslo", "days": 8}')).output,
               asyncio.run(Tool.from_function(crashing, name="forecast")
                           .run('{"city": "Oslo"}')).output,
               asyncio.run(Tool.from_function(slow, name="forecast", timeout=0.1)
                           .run('{"city": "Oslo"}')).output.replace("0.1 s", "10 s")]
    table = README.split("| what happened | the model gets |", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"`(\{\"error\": .*?\})`", table) == outputs
