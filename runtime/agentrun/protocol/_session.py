"""``SessionProperties``: the ``session`` object of ``session.update`` (grok-realtime.md §4).

Two families live here. The strict one (:class:`SessionProperties` and its parts) is what
agentrun sends; it refuses unknown fields. :class:`SessionSnapshot` is what the server echoes in
``session.created``/``session.updated``; it accepts anything the live server is known to echo
(voices like ``xai_ara`` or ``human_Ara`` (§7.4), any PCM rate such as 22050 (§7.6), a
``turn_detection`` of ``{"type": null}``, extra keys). Imports only ``protocol._base``.
"""


from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from agentrun.protocol._base import ClientModel, ServerModel

__all__ = [
    "AudioConfig",
    "AudioFormat",
    "AudioInput",
    "AudioOutput",
    "FileSearchTool",
    "FunctionTool",
    "InputTranscription",
    "McpTool",
    "PcmFormat",
    "PcmaFormat",
    "PcmuFormat",
    "Reasoning",
    "Resumption",
    "SessionProperties",
    "SessionSnapshot",
    "Tool",
    "TurnDetection",
    "WebSearchTool",
    "XSearchTool",
]


class PcmFormat(ClientModel):
    """16-bit little-endian mono PCM; Grok accepts 8 kHz to 48 kHz (§4: the rate is an int)."""

    type: Literal["audio/pcm"] = "audio/pcm"
    rate: int = 24000


class PcmuFormat(ClientModel):
    """G.711 mu-law, fixed at 8000 Hz."""

    type: Literal["audio/pcmu"] = "audio/pcmu"


class PcmaFormat(ClientModel):
    """G.711 A-law, fixed at 8000 Hz."""

    type: Literal["audio/pcma"] = "audio/pcma"


AudioFormat = Annotated[PcmFormat | PcmuFormat | PcmaFormat, Field(discriminator="type")]


class InputTranscription(ClientModel):
    """Input transcription hints (XE); transcription itself is always on for Grok (§6)."""

    model: str | None = None
    language_hint: str | None = None
    keyterms: list[str] | None = None


class AudioInput(ClientModel):
    """``audio.input``: the format of the audio we append, plus transcription hints."""

    format: AudioFormat = Field(default_factory=PcmFormat)
    transcription: InputTranscription | None = None


class AudioOutput(ClientModel):
    """``audio.output``: the format the server streams back, and the speaking speed (0.7-1.5)."""

    format: AudioFormat = Field(default_factory=PcmFormat)
    speed: float | None = None


class AudioConfig(ClientModel):
    """``audio``: Grok nests formats here but keeps voice and turn detection top-level (§6)."""

    input: AudioInput = Field(default_factory=AudioInput)
    output: AudioOutput = Field(default_factory=AudioOutput)


class TurnDetection(ClientModel):
    """``turn_detection``: ``server_vad`` or ``type=None`` for manual turns.

    Manual turns serialise as ``{"type": null}`` (xAI documents null for manual, §2 notes);
    :class:`SessionProperties` writes that explicitly because ``exclude_none`` would otherwise
    send ``{}`` and leave the server's default in place.
    """

    type: Literal["server_vad"] | None = "server_vad"
    threshold: float | None = None
    silence_duration_ms: int | None = None
    prefix_padding_ms: int | None = None
    idle_timeout_ms: int | None = None


class FunctionTool(ClientModel):
    """A function the client runs (flat shape, no nested ``"function"`` object; §4.1)."""

    type: Literal["function"] = "function"
    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(
        default_factory=lambda: {"type": "object", "properties": {}}
    )


class WebSearchTool(ClientModel):
    """Server-side web search; the server runs it and never asks us (§7.9)."""

    type: Literal["web_search"] = "web_search"


class XSearchTool(ClientModel):
    """Server-side X search, optionally restricted to some handles."""

    type: Literal["x_search"] = "x_search"
    allowed_x_handles: list[str] | None = None


class FileSearchTool(ClientModel):
    """Server-side search over xAI Collections (``vector_store_ids`` are collection ids)."""

    type: Literal["file_search"] = "file_search"
    vector_store_ids: list[str]
    max_num_results: int | None = None


class McpTool(ClientModel):
    """A remote MCP server the xAI side calls; its keys are server-defined (XE)."""

    model_config = ConfigDict(extra="allow")
    type: Literal["mcp"] = "mcp"


Tool = Annotated[
    FunctionTool | WebSearchTool | XSearchTool | FileSearchTool | McpTool,
    Field(discriminator="type"),
]


class Reasoning(ClientModel):
    """``reasoning.effort`` (XE; server default ``high``)."""

    effort: Literal["high", "none"]


class Resumption(ClientModel):
    """Server-side turn cache for replay (XE); both sessions must opt in."""

    enabled: bool


class SessionProperties(ClientModel):
    """The ``session`` we send. ``None`` fields are omitted on the wire, never sent as null.

    There is deliberately no ``model`` field: Grok picks the model only from ``?model=`` in the
    URL (§1, §7.3).
    """

    instructions: str | None = None
    voice: str | None = None
    turn_detection: TurnDetection | None = None
    audio: AudioConfig | None = None
    tools: list[Tool] | None = None
    reasoning: Reasoning | None = None
    resumption: Resumption | None = None
    replace: dict[str, str] | None = None

    @model_serializer(mode="wrap")
    def _manual_turns_as_null(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # exclude_none would turn TurnDetection(type=None) into {} (pipecat's bug, §2 notes);
        # xAI documents {"type": null} for manual turns, so write it out explicitly.
        data: dict[str, Any] = handler(self)
        if self.turn_detection is not None and self.turn_detection.type is None:
            data["turn_detection"] = {"type": None}
        return data

    @property
    def manual_turns(self) -> bool:
        """True when turns end only on ``input_audio_buffer.commit`` (no server VAD)."""
        return self.turn_detection is not None and self.turn_detection.type is None


# ---- what the server echoes -------------------------------------------------------------


class FormatSnapshot(ServerModel):
    """An echoed audio format: any type string, any int rate (22050 included, §7.6)."""

    type: str | None = None
    rate: int | None = None


class _AudioSideSnapshot(ServerModel):
    format: FormatSnapshot | None = None


class _AudioSnapshot(ServerModel):
    input: _AudioSideSnapshot | None = None
    output: _AudioSideSnapshot | None = None


class _TurnDetectionSnapshot(ServerModel):
    type: str | None = None


class SessionSnapshot(ServerModel):
    """The session as the server reports it; every field optional, voice any string (§7.4).

    ``session.updated`` is the gate for caller audio (§7.1), so a snapshot that does not fit
    this model is read as empty rather than failing the event (pipecat stalled on exactly that,
    §7.4, §7.6).
    """

    id: str | None = None
    model: str | None = None
    instructions: str | None = None
    voice: str | None = None
    turn_detection: _TurnDetectionSnapshot | None = None
    audio: _AudioSnapshot | None = None
    tools: list[Any] | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _never_fail(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> "SessionSnapshot":
        try:
            snapshot: SessionSnapshot = handler(data)
        except ValidationError:
            return cls()
        return snapshot

    def output_format(self) -> tuple[str | None, int | None]:
        """The echoed output ``(type, rate)``, either part None when not echoed."""
        fmt = self.audio.output.format if self.audio and self.audio.output else None
        return (fmt.type, fmt.rate) if fmt else (None, None)
