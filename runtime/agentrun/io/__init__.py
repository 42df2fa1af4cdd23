"""Where a call meets its caller: one streamed-audio :class:`Endpoint` interface, the text console.

Every channel (console, microphone and speaker, WAV caller, phone, browser) is one small module
behind :class:`Endpoint`; none of them knows the realtime protocol.
"""

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

__all__ = [
    "AudioFormat",
    "CallControl",
    "CallerAudio",
    "CallerDtmf",
    "CallerInput",
    "CallerText",
    "CallerTurnEnd",
    "Endpoint",
    "NullEndpoint",
    "TextConsole",
    "ToolCallView",
]
