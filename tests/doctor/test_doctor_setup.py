"""`agentrun doctor` on the installation, the plugins and the audio extra (real distributions,
a real child Python, the real sounddevice)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from agentrun.cli import main
from agentrun.doctor import Finding, Level
from agentrun.doctor._audio import audio_findings, probe_audio
from agentrun.doctor._install import check_python
from click.testing import CliRunner, Result

if TYPE_CHECKING:
    from conftest import Site

GOOD = '''
def forecast(city: str) -> str:
    """Weather for a city."""
    return "sunny"
'''


def doctor(path: str | None = None) -> Result:
    env = {"XAI_API_KEY": None}
    if path is not None:
        env["PATH"] = path
    return CliRunner().invoke(main, ["doctor", "--no-network"], env=env)


def rows(result: Result, topic: str) -> list[str]:
    """The report's lines about ``topic``: ``LEVEL summary`` and its ``what to do:`` line."""
    found: list[str] = []
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        parts = line.split(maxsplit=1)
        if len(parts) == 2 and parts[0] in ("ok", "warning", "PROBLEM") \
                and parts[1].startswith(topic + "  "):
            found.append(f"{parts[0]} {parts[1][len(topic):].strip()}")
            if i + 1 < len(lines) and lines[i + 1].strip().startswith("what to do:"):
                found.append(lines[i + 1].strip())
    return found


def test_a_healthy_setup_says_so_and_exits_0() -> None:
    result = doctor()
    assert result.exit_code == 0, result.stdout
    assert result.stdout.startswith("agentrun doctor: checking this machine\n")
    assert result.stdout.splitlines()[-1].startswith("no problems, ")
    assert rows(result, "Python")[0].startswith(f"ok {sys.version_info.major}."
                                                f"{sys.version_info.minor}.")
    plugins = rows(result, "tool plugins")
    assert plugins[0].startswith("ok ") and "agentrun-orders 0.1.0 (create_ticket, " \
        "lookup_order)" in plugins[0]


def test_an_old_python_is_a_problem_with_the_way_out() -> None:
    finding = check_python((3, 10, 4), "/usr/bin/python3")
    assert finding == Finding.problem(
        "Python", "3.10.4 at /usr/bin/python3 is too old: agentrun needs Python 3.11 or later",
        "install Python 3.11+ and make the virtual environment with it: "
        "python3.11 -m venv .venv")


def test_a_broken_plugin_is_a_problem_and_the_exit_code_says_so(site: Site) -> None:
    site.add("acme-broken", "0.3.0", {"broken_tool": "acme_broken:tool"},
             {"acme_broken": "raise ImportError('needs libfoo')\n"})
    result = doctor()
    assert result.exit_code == 1
    assert rows(result, "tool plugins")[1:] == [
        "PROBLEM cannot load tool 'broken_tool' from acme-broken 0.3.0 (entry point "
        "broken_tool = acme_broken:tool): import failed: ImportError: needs libfoo",
        "what to do: reinstall it (pip install --force-reinstall acme-broken) or ask its author; "
        "an agent that uses broken_tool cannot run until then"]
    assert result.stdout.splitlines()[-1].startswith("1 problem, ")


def test_two_plugins_with_one_name_and_a_built_in_name_are_warnings(site: Site) -> None:
    site.add("acme-a", "1.0", {"forecast": "acme_a:forecast", "web_search": "acme_a:forecast"},
             {"acme_a": GOOD})
    site.add("acme-b", "2.0", {"forecast": "acme_b:forecast"}, {"acme_b": GOOD})
    result = doctor()
    assert result.exit_code == 0
    found = rows(result, "tool plugins")
    assert ("warning tool 'forecast' is provided by 2 installed plugins (acme-a 1.0, acme-b "
            "2.0): write 'acme-a/forecast' or 'acme-b/forecast' under tools: to choose one"
            ) in found
    assert any(line.startswith("warning acme-a 1.0 provides a tool named 'web_search'")
               for line in found)


def test_a_plugin_changed_since_its_editable_install_is_found(site: Site, tmp_path: Path
                                                              ) -> None:
    source = tmp_path / "acme-weather"
    source.mkdir()
    (source / "pyproject.toml").write_text(
        '[project]\nname = "acme-weather"\nversion = "1.0"\n\n'
        '[project.entry-points."agentrun.tools"]\n'
        'forecast = "acme_weather:forecast"\nalerts = "acme_weather:forecast"\n')
    site.add("acme-weather", "1.0", {"forecast": "acme_weather:forecast"},
             {"acme_weather": GOOD}, editable_from=source)
    result = doctor()
    assert result.exit_code == 1
    assert rows(result, "tool plugins")[-2:] == [
        "PROBLEM acme-weather's pyproject.toml declares tools the installed copy lacks: alerts",
        f"what to do: install it again so pip records its entry points: pip install -e {source}"]


def test_an_unrelated_package_named_agentrun_is_a_problem(site: Site) -> None:
    site.add("agentrun", "0.2.1")
    result = doctor()
    assert result.exit_code == 1
    assert rows(result, "agentrun")[1:] == [
        "PROBLEM an unrelated package named 'agentrun' 0.2.1 is installed too; it can take "
        "over the agentrun command",
        "what to do: pip uninstall agentrun   (this project's package is agentrun-voice)"]


def test_the_command_on_the_path_is_checked(tmp_path: Path) -> None:
    ours = sysconfig.get_path("scripts")
    assert rows(doctor(path=f"{ours}{os.pathsep}/usr/bin"), "command")[0].startswith("ok ")
    missing = rows(doctor(path=str(tmp_path)), "command")
    assert missing[0] == "warning the agentrun command is not on your PATH"
    assert missing[1] == (f"what to do: activate the environment first: . {ours}/activate   "
                          "(or run: python -m agentrun)")
    other = tmp_path / "bin"
    other.mkdir()
    (other / "agentrun").write_text("#!/bin/sh\n")
    (other / "agentrun").chmod(0o755)
    assert rows(doctor(path=str(other)), "command")[0] == (
        f"warning the agentrun command your shell runs is {other}/agentrun, not this "
        f"installation's {ours}/agentrun")


def test_the_audio_probe_reports_what_sounddevice_sees() -> None:
    import sounddevice

    probe = probe_audio()
    assert probe["status"] == "ok", probe
    assert probe["version"] == sounddevice.__version__
    devices = sounddevice.query_devices()
    assert len(probe["devices"]) == len(devices)
    row = rows(doctor(), "audio devices")[0]
    has_in = any(d["max_input_channels"] > 0 for d in devices)
    has_out = any(d["max_output_channels"] > 0 for d in devices)
    assert row.startswith("ok " if has_in and has_out else "warning no ")


def test_without_the_audio_extra_the_probe_says_how_to_add_it(tmp_path: Path) -> None:
    # a real environment without sounddevice (and without pip: quick to make)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")],
                   check=True, timeout=120)
    probe = probe_audio([str(tmp_path / "bare" / "bin" / "python")])
    assert probe["status"] == "missing"
    assert audio_findings(probe) == [Finding.warning(
        "audio", "the microphone and speaker extra is not installed",
        "pip install 'agentrun-voice[audio]'   (text calls, WAV files, phone and browser calls "
        "work without it)")]


@pytest.mark.parametrize(("probe", "level", "summary"), [
    ({"status": "no_portaudio", "detail": "PortAudio library not found"}, Level.PROBLEM,
     "the audio extra is installed but the PortAudio library is missing (PortAudio library not "
     "found)"),
    ({"status": "error", "detail": "the audio system did not answer in 10 s"}, Level.PROBLEM,
     "the audio system cannot be used: the audio system did not answer in 10 s"),
])
def test_a_broken_audio_system_is_a_problem(probe: dict[str, str], level: Level,
                                            summary: str) -> None:
    (finding,) = audio_findings(probe)
    assert (finding.level, finding.summary) == (level, summary)
    assert finding.fix


def test_devices_are_named_or_missing_ones_said() -> None:
    mic = {"name": "USB mic", "inputs": 1, "outputs": 0}
    speaker = {"name": "Speakers", "inputs": 0, "outputs": 2}
    found = audio_findings({"status": "ok", "version": "0.5", "portaudio": "PortAudio V19",
                            "devices": [mic, speaker], "default_input": 0,
                            "default_output": 1})
    assert found[1] == Finding.ok("audio devices", "1 microphone(s), 1 speaker(s); default: "
                                  "USB mic / Speakers")
    only_mic = audio_findings({"status": "ok", "devices": [mic]}, devices_command=True)[1]
    assert (only_mic.level, only_mic.summary) == (Level.WARNING, "no speaker found (1 audio "
                                                                 "device(s) in all)")
    assert only_mic.fix.endswith("; agentrun devices lists what is found")
