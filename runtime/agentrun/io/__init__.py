"""Where a call meets its caller: one streamed-audio :class:`Endpoint` interface and its channels.

Every channel (console, microphone and speaker, WAV caller, phone, browser) is one small module
behind :class:`Endpoint`; none of them knows the realtime protocol. The audio channels and the
device functions load on first use: they need numpy, soxr, soundfile and (for devices) the
``audio`` extra, which text calls, ``check`` and ``--dry-run`` never pay for.
"""

from typing import TYPE_CHECKING

from agentrun._lazy import lazy_exports
from agentrun.io._console import TextConsole
from agentrun.io._endpoint import (
    AudioFormat,
    CallControl,
    CallerAudio,
    CallerDtmf,
    CallerInput,
    CallerText,
    CallerTurnEnd,
    Endpoint,
    NullEndpoint,
    ToolCallView,
)

if TYPE_CHECKING:
    from agentrun.io._device import DeviceEndpoint
    from agentrun.io._devices import DeviceInfo, audio_unavailable, find_device, list_devices
    from agentrun.io._wav import WavCaller, WavTurn

__all__ = [
    "AudioFormat",
    "CallControl",
    "CallerAudio",
    "CallerDtmf",
    "CallerInput",
    "CallerText",
    "CallerTurnEnd",
    "DeviceEndpoint",
    "DeviceInfo",
    "Endpoint",
    "NullEndpoint",
    "TextConsole",
    "ToolCallView",
    "WavCaller",
    "WavTurn",
    "audio_unavailable",
    "find_device",
    "list_devices",
]

__getattr__, __dir__ = lazy_exports(__name__, globals(), {
    "DeviceEndpoint": "agentrun.io._device",
    "DeviceInfo": "agentrun.io._devices",
    "audio_unavailable": "agentrun.io._devices",
    "find_device": "agentrun.io._devices",
    "list_devices": "agentrun.io._devices",
    "WavCaller": "agentrun.io._wav",
    "WavTurn": "agentrun.io._wav",
})
