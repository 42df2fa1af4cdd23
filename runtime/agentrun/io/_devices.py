"""Finding the microphone and speaker: is audio possible, which devices exist, which one is meant.

Everything here asks PortAudio through ``sounddevice`` (the ``audio`` extra) and turns every
way it can be missing into one sentence a person can act on: the extra not installed, the
PortAudio library missing, no device, a name that matches nothing (with did-you-mean) or several.
``sounddevice`` is imported only by these functions, never at module import. Imports errors only.
"""

from __future__ import annotations

import difflib
import sys
from dataclasses import dataclass
from typing import Any, Literal

from agentrun.errors import DeviceError

__all__ = [
    "DeviceInfo",
    "audio_unavailable",
    "find_device",
    "list_devices",
    "load_sounddevice",
]

Kind = Literal["input", "output"]

EXTRA_HINT = "pip install 'agentrun-voice[audio]'"


def portaudio_hint() -> str:
    """How to install the PortAudio library on this platform."""
    if sys.platform == "darwin":
        return ("reinstall sounddevice (its macOS wheel bundles PortAudio) or "
                "`brew install portaudio`")
    if sys.platform == "win32":
        return "reinstall sounddevice (its Windows wheel bundles PortAudio)"
    return "install it: `sudo apt-get install libportaudio2` (Debian/Ubuntu), " \
           "`sudo dnf install portaudio` (Fedora)"


def load_sounddevice() -> Any:
    """Import ``sounddevice``, or say in one line why audio is impossible.

    Returns:
        The ``sounddevice`` module.

    Raises:
        DeviceError: the ``audio`` extra is not installed, or the PortAudio library is missing.
    """
    try:
        import sounddevice
    except ImportError as exc:
        raise DeviceError("the audio extra is not installed",
                          hint=EXTRA_HINT) from exc
    except OSError as exc:  # sounddevice is there, libportaudio is not
        raise DeviceError("the PortAudio library is missing", hint=portaudio_hint()) from exc
    return sounddevice


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One audio device as PortAudio sees it.

    Attributes:
        index: PortAudio's device index (what ``--input-device 3`` means).
        name: the device's name.
        host_api: the audio system it belongs to (ALSA, Core Audio, WASAPI...).
        input_channels: most capture channels (0: not a microphone).
        output_channels: most playback channels (0: not a speaker).
        default_rate: the rate the device prefers, Hz.
        default_input: the system's default microphone.
        default_output: the system's default speaker.
    """

    index: int
    name: str
    host_api: str
    input_channels: int
    output_channels: int
    default_rate: int
    default_input: bool = False
    default_output: bool = False

    def channels(self, kind: Kind) -> int:
        """Channels in the ``input`` or ``output`` direction."""
        return self.input_channels if kind == "input" else self.output_channels

    def is_default(self, kind: Kind) -> bool:
        """Whether this is the system default for ``kind``."""
        return self.default_input if kind == "input" else self.default_output


def list_devices() -> list[DeviceInfo]:
    """Every audio device PortAudio knows, inputs and outputs alike, in index order.

    Returns:
        The devices (empty on a machine without any).

    Raises:
        DeviceError: audio is impossible here (no extra, no PortAudio).
    """
    sd = load_sounddevice()
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
        default_in, default_out = _defaults(sd)
    except sd.PortAudioError as exc:
        raise DeviceError(f"PortAudio cannot list audio devices: {exc}") from exc
    return [
        DeviceInfo(index=int(d["index"]) if "index" in d else i, name=str(d["name"]),
                   host_api=str(apis[d["hostapi"]]["name"]),
                   input_channels=int(d["max_input_channels"]),
                   output_channels=int(d["max_output_channels"]),
                   default_rate=int(d["default_samplerate"]),
                   default_input=i == default_in, default_output=i == default_out)
        for i, d in enumerate(devices)
    ]


def _defaults(sd: Any) -> tuple[int, int]:
    default = sd.default.device
    try:
        return int(default[0]), int(default[1])
    except (TypeError, ValueError, IndexError):
        return -1, -1


def find_device(wanted: str | None, kind: Kind,
                devices: list[DeviceInfo] | None = None) -> DeviceInfo:
    """The device meant by ``--input-device``/``--output-device``, or the default one.

    Args:
        wanted: an index (``3``), part of a name (``usb``; case-insensitive), or None for the
            system default.
        kind: ``input`` (a microphone) or ``output`` (a speaker).
        devices: the device list (default: :func:`list_devices`).

    Returns:
        The device.

    Raises:
        DeviceError: audio is impossible, there is no such device (with did-you-mean), the
            name matches several devices, or the device cannot do ``kind``.
    """
    devices = list_devices() if devices is None else devices
    able = [d for d in devices if d.channels(kind) > 0]
    role = "microphone" if kind == "input" else "speaker"
    if wanted is None:
        default = next((d for d in able if d.is_default(kind)), None)
        if default is None:
            default = able[0] if able else None
        if default is None:
            raise DeviceError(f"no {role} found",
                              hint="`agentrun devices` lists what PortAudio sees")
        return default
    text = wanted.strip()
    option = f"--{kind}-device"
    if text.isdigit():
        match = next((d for d in devices if d.index == int(text)), None)
        if match is None:
            raise DeviceError(f"{option} {text}: no device has that index",
                              hint=_listing(able, kind))
        if match.channels(kind) == 0:
            raise DeviceError(f"{option} {text}: {match.name!r} is not an {kind} device",
                              hint=_listing(able, kind))
        return match
    exact = [d for d in able if d.name.lower() == text.lower()]
    if len(exact) == 1:
        return exact[0]
    partial = [d for d in able if text.lower() in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if partial:
        names = ", ".join(f"{d.index}: {d.name}" for d in partial)
        raise DeviceError(f"{option} {text!r} matches {len(partial)} {kind} devices ({names})",
                          hint="give the index or more of the name")
    close = difflib.get_close_matches(text, [d.name for d in able], n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else _listing(able, kind)
    raise DeviceError(f"{option} {text!r}: no {kind} device has that name", hint=hint)


def _listing(able: list[DeviceInfo], kind: Kind) -> str:
    if not able:
        return f"there are no {kind} devices; `agentrun devices` lists what PortAudio sees"
    return f"{kind} devices: " + ", ".join(f"{d.index}: {d.name}" for d in able[:8])


def audio_unavailable() -> str | None:
    """Why the microphone and speaker cannot be used here, or None when both exist.

    For ``agentrun doctor`` and the default mode of ``agentrun FILE``: one phrase, e.g.
    ``the audio extra is not installed (pip install 'agentrun-voice[audio]')``.

    Returns:
        None when a default microphone and speaker exist; else the reason.
    """
    try:
        devices = list_devices()
        find_device(None, "input", devices)
        find_device(None, "output", devices)
    except DeviceError as exc:
        return str(exc)
    return None
