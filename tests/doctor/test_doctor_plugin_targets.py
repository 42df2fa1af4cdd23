"""`agentrun doctor` on a plugin whose entry point names nothing: a real editable install.

The plugin is built and ``pip install -e``'d into a folder that becomes a site directory of this
process (its ``.pth`` points at the source, as in a virtual environment), so the doctor sees
exactly what a plugin author sees after a typo in ``[project.entry-points."agentrun.tools"]``.
"""

from __future__ import annotations

import importlib
import site
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from agentrun.cli import main
from click.testing import CliRunner

PLUGIN = '''
def forecast(city: str) -> str:
    """Weather for a city.

    Args:
        city: City name.
    """
    return "sunny"
'''

PYPROJECT = '''[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "acme-weather"
version = "1.0"

[project.entry-points."agentrun.tools"]
forecast = "acme_weather:forecast"
broken = "{target}"
'''

Install = Callable[[str], Path]


@pytest.fixture
def editable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    """``editable(target)``: acme-weather with ``broken = target``, pip-installed with -e."""

    def install(target: str) -> Path:
        source = tmp_path / "acme-weather"
        (source / "src" / "acme_weather").mkdir(parents=True)
        (source / "src" / "acme_weather" / "__init__.py").write_text(PLUGIN)
        (source / "pyproject.toml").write_text(PYPROJECT.format(target=target))
        target_dir = tmp_path / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                        "--target", str(target_dir), "-e", str(source)],
                       check=True, capture_output=True, timeout=300)
        monkeypatch.setattr(sys, "path", list(sys.path))
        site.addsitedir(str(target_dir))  # reads the editable .pth, as a venv's site does
        importlib.invalidate_caches()
        return source

    yield install
    sys.modules.pop("acme_weather", None)


def plugin_rows() -> list[str]:
    result = CliRunner().invoke(main, ["doctor", "--no-network"], env={"XAI_API_KEY": None})
    assert result.exit_code == 1, result.stdout
    lines = [line.strip() for line in result.stdout.splitlines()]
    at = next(i for i, line in enumerate(lines)
              if line.startswith("PROBLEM") and "tool 'broken'" in line)
    return lines[at:at + 2]


def test_a_missing_attribute_names_the_pyproject_line_to_fix(editable: Install) -> None:
    source = editable("acme_weather:does_not_exist")
    problem, fix = plugin_rows()
    assert "entry point broken = acme_weather:does_not_exist" in problem
    assert fix == (
        'what to do: acme_weather has no does_not_exist: fix the line broken = '
        '"acme_weather:does_not_exist" under [project.entry-points."agentrun.tools"] in '
        f'{source / "pyproject.toml"} (module:attribute of the tool function), then install it '
        f"again: pip install -e {source}; an agent that uses broken cannot run until then")
    assert "--force-reinstall" not in fix  # the index has no fix for a wrong line


def test_a_missing_module_names_the_pyproject_line_to_fix(editable: Install) -> None:
    source = editable("acme_wether:forecast")
    _problem, fix = plugin_rows()
    assert fix.startswith('what to do: there is no module acme_wether: fix the line broken = '
                          '"acme_wether:forecast" under [project.entry-points."agentrun.tools"] '
                          f'in {source / "pyproject.toml"}')
    assert f"then install it again: pip install -e {source}" in fix


def test_a_line_fixed_since_the_install_says_install_again(editable: Install) -> None:
    source = editable("acme_weather:does_not_exist")
    pyproject = source / "pyproject.toml"
    pyproject.write_text(PYPROJECT.format(target="acme_weather:forecast"))
    _problem, fix = plugin_rows()
    assert fix == (
        f'what to do: {pyproject} now says broken = "acme_weather:forecast" but pip recorded '
        f'broken = "acme_weather:does_not_exist": install it again: pip install -e {source}; '
        "an agent that uses broken cannot run until then")
