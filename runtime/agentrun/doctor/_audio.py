"""The audio extra (``agentrun-voice[audio]``: sounddevice over PortAudio) and the devices.

The probe runs in a child Python: importing sounddevice loads PortAudio, which can print ALSA
noise straight to the terminal, crash on a broken driver, or hang on a busy sound server; none of
that may reach the doctor's report. The child prints one JSON line (:data:`PROBE`), and
:func:`audio_findings` turns it into findings without any I/O, so each outcome is testable with
plain data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from agentrun.doctor._findings import Finding

__all__ = ["PROBE", "audio_findings", "check_audio", "probe_audio"]

_TOPIC = "audio"
_EXTRA = "pip install 'agentrun-voice[audio]'"
_WITHOUT = "text calls, WAV files, phone and browser calls work without it"

PROBE = r"""
import json
try:
    import sounddevice as sd
except ImportError as exc:
    print(json.dumps({"status": "missing", "detail": str(exc)}))
except OSError as exc:
    print(json.dumps({"status": "no_portaudio", "detail": str(exc)}))
else:
    try:
        found = [{"name": d["name"], "inputs": d["max_input_channels"],
                  "outputs": d["max_output_channels"]} for d in sd.query_devices()]
        default_in, default_out = sd.default.device
        print(json.dumps({"status": "ok", "version": sd.__version__,
                          "portaudio": sd.get_portaudio_version()[1].split(",")[0],
                          "devices": found,
                          "default_input": default_in, "default_output": default_out}))
    except Exception as exc:
        print(json.dumps({"status": "error", "detail": f"{type(exc).__name__}: {exc}"}))
"""
"""The child's program: one JSON object with ``status`` and what it found."""


def probe_audio(python: Sequence[str] | None = None, timeout: float = 10.0) -> dict[str, Any]:
    """Ask a child Python what sounddevice and PortAudio see.

    Args:
        python: the interpreter command (default: this one).
        timeout: seconds before the probe counts as hung.

    Returns:
        The child's JSON object; ``{"status": "error", "detail": …}`` when it crashed, hung or
        printed something else.
    """
    command = [*(python or [sys.executable]), "-c", PROBE]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        return {"status": "error", "detail": f"the audio system did not answer in {timeout:g} s"}
    except OSError as exc:
        return {"status": "error", "detail": f"cannot start {command[0]}: {exc.strerror or exc}"}
    for line in reversed(done.stdout.splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if isinstance(result, dict) and "status" in result:
            return result
    return {"status": "error", "detail": f"the audio probe ended with code {done.returncode}"}


def audio_findings(probe: dict[str, Any], *, devices_command: bool = False) -> list[Finding]:
    """Turn a probe result into findings with what to do.

    Args:
        probe: what :func:`probe_audio` returned.
        devices_command: ``agentrun devices`` exists (then the fixes point to it).

    Returns:
        One or two findings: the extra and PortAudio, then the microphone and speaker.
    """
    status = probe.get("status")
    if status == "missing":
        return [Finding.warning(_TOPIC, "the microphone and speaker extra is not installed",
                                f"{_EXTRA}   ({_WITHOUT})")]
    if status == "no_portaudio":
        return [Finding.problem(_TOPIC, "the audio extra is installed but the PortAudio "
                                f"library is missing ({probe.get('detail', '')})",
                                "install PortAudio: sudo apt-get install libportaudio2 "
                                "(Debian, Ubuntu), sudo dnf install portaudio (Fedora), "
                                "brew install portaudio (macOS)")]
    if status != "ok":
        return [Finding.problem(_TOPIC, f"the audio system cannot be used: "
                                f"{probe.get('detail', 'unknown error')}",
                                "check that a sound server or card is available, then run "
                                "agentrun doctor again")]
    devices = list(probe.get("devices") or [])
    inputs = [d for d in devices if d.get("inputs", 0) > 0]
    outputs = [d for d in devices if d.get("outputs", 0) > 0]
    findings = [Finding.ok(_TOPIC, f"sounddevice {probe.get('version', '?')} with "
                           f"{probe.get('portaudio', 'PortAudio')}")]
    listing = "; agentrun devices lists what is found" if devices_command else ""
    missing = [what for what, found in (("microphone", inputs), ("speaker", outputs)) if not found]
    if missing:
        findings.append(Finding.warning(
            "audio devices", f"no {' and no '.join(missing)} found ({len(devices)} audio "
            "device(s) in all)", "to talk by voice, connect one or enable it in the system's "
            f"sound settings (text calls, WAV files, phone and browser calls need none){listing}"))
    else:
        findings.append(Finding.ok("audio devices", f"{len(inputs)} microphone(s), "
                                   f"{len(outputs)} speaker(s); default: "
                                   f"{_name(devices, probe.get('default_input'))} / "
                                   f"{_name(devices, probe.get('default_output'))}"))
    return findings


def _name(devices: list[dict[str, Any]], index: Any) -> str:
    if isinstance(index, int) and 0 <= index < len(devices):
        return str(devices[index].get("name", index))
    return "none"


def check_audio(timeout: float = 10.0, *, devices_command: bool = False) -> list[Finding]:
    """Probe the audio extra and devices in a child process.

    Args:
        timeout: seconds for the probe.
        devices_command: ``agentrun devices`` exists.

    Returns:
        See :func:`audio_findings`.
    """
    return audio_findings(probe_audio(timeout=timeout), devices_command=devices_command)
