"""Server events: everything the Grok server is known to send (grok-realtime.md §3).

One class per wire type, named after it (``response.output_audio.delta`` ->
:class:`ResponseOutputAudioDelta`), joined in the discriminated union :data:`ServerEvent`.
Models are tolerant: unknown fields are ignored, ``event_id`` is optional, ids the server may
leave out default to ``""``. Audio deltas keep their base64 text; the engine decodes it once.
Imports only ``protocol._base``/``_session``.
"""


from typing import Annotated, Any, Literal

from pydantic import Field

from agentrun.protocol._base import ServerModel
from agentrun.protocol._session import SessionSnapshot

__all__ = [
    "ConversationCreated",
    "ConversationItemAdded",
    "ConversationItemDeleted",
    "ConversationItemInputAudioTranscriptionCompleted",
    "ConversationItemInputAudioTranscriptionUpdated",
    "ConversationItemTruncated",
    "ConversationObject",
    "ErrorDetail",
    "ErrorEvent",
    "InputAudioBufferCleared",
    "InputAudioBufferCommitted",
    "InputAudioBufferDtmfEventReceived",
    "InputAudioBufferSpeechStarted",
    "InputAudioBufferSpeechStopped",
    "InputAudioBufferTimeoutTriggered",
    "Item",
    "ItemContent",
    "McpEvent",
    "Ping",
    "Response",
    "ResponseContentPartAdded",
    "ResponseContentPartDone",
    "ResponseCreated",
    "ResponseDone",
    "ResponseFunctionCallArgumentsDelta",
    "ResponseFunctionCallArgumentsDone",
    "ResponseOutputAudioDelta",
    "ResponseOutputAudioDone",
    "ResponseOutputAudioTranscriptDelta",
    "ResponseOutputAudioTranscriptDone",
    "ResponseOutputItemAdded",
    "ResponseOutputItemDone",
    "ResponseOutputTextDelta",
    "ResponseOutputTextDone",
    "ResponseTextDelta",
    "ResponseTextDone",
    "ServerEvent",
    "SessionCreated",
    "SessionUpdated",
    "Usage",
]


class _Event(ServerModel):
    event_id: str | None = None


# ---- shared shapes -----------------------------------------------------------------------


class ItemContent(ServerModel):
    """One content part of an item (``input_text``, ``input_audio``, ``output_audio``, ...)."""

    type: str | None = None
    text: str | None = None
    transcript: str | None = None


class Item(ServerModel):
    """A conversation item as the server reports it (message, function_call, ...)."""

    id: str | None = None
    type: str | None = None
    role: str | None = None
    status: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: str | None = None
    output: str | None = None
    content: list[ItemContent] | None = None


class Usage(ServerModel):
    """Token usage; Grok sometimes sends it empty (§6), so every count is optional."""

    total_tokens: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None


class Response(ServerModel):
    """A response snapshot (``response.created``/``response.done``)."""

    id: str = ""
    status: str | None = None
    status_details: Any = None
    output: list[Item] = Field(default_factory=list)
    usage: Usage | None = None


class ConversationObject(ServerModel):
    """The conversation object of ``conversation.created``."""

    id: str | None = None


class ErrorDetail(ServerModel):
    """The ``error`` object; ``code`` may be a string or an int (§3.2)."""

    type: str | None = None
    code: str | int | None = None
    message: str = ""
    param: str | None = None
    event_id: str | None = None


# ---- events ------------------------------------------------------------------------------


class ErrorEvent(_Event):
    """``error``: never stops reception; the engine classifies it (§3.2)."""

    type: Literal["error"]
    error: ErrorDetail = Field(default_factory=ErrorDetail)


class Ping(_Event):
    """Server keep-alive; there is no client pong (§1)."""

    type: Literal["ping"]
    timestamp: int | None = None


class SessionCreated(_Event):
    """First event of newer servers, before ``conversation.created`` (§1.1, §7.5)."""

    type: Literal["session.created"]
    session: SessionSnapshot = Field(default_factory=SessionSnapshot)


class SessionUpdated(_Event):
    """The server applied our ``session.update``; audio may flow from now on (§7.1)."""

    type: Literal["session.updated"]
    session: SessionSnapshot = Field(default_factory=SessionSnapshot)


class ConversationCreated(_Event):
    """The conversation exists; the client answers with ``session.update`` (§1.1)."""

    type: Literal["conversation.created"]
    conversation: ConversationObject = Field(default_factory=ConversationObject)


class ConversationItemAdded(_Event):
    """An item joined the conversation; may repeat for one function call (§7.10)."""

    type: Literal["conversation.item.added"]
    item: Item = Field(default_factory=Item)
    previous_item_id: str | None = None


class ConversationItemDeleted(_Event):
    """An item was deleted (``item_id`` may be empty, §3.1)."""

    type: Literal["conversation.item.deleted"]
    item_id: str = ""


class ConversationItemTruncated(_Event):
    """An item was truncated (OpenAI-style; Grok is not known to send it)."""

    type: Literal["conversation.item.truncated"]
    item_id: str = ""
    content_index: int | None = None
    audio_end_ms: int | None = None


class ConversationItemInputAudioTranscriptionCompleted(_Event):
    """Caller transcript; ``status == "in_progress"`` marks a partial (§7.10)."""

    type: Literal["conversation.item.input_audio_transcription.completed"]
    item_id: str = ""
    content_index: int | None = None
    transcript: str = ""
    status: str | None = None


class ConversationItemInputAudioTranscriptionUpdated(_Event):
    """Cumulative partial caller transcript (``grok-transcribe``, XE)."""

    type: Literal["conversation.item.input_audio_transcription.updated"]
    item_id: str = ""
    transcript: str = ""


class InputAudioBufferSpeechStarted(_Event):
    """Server VAD heard the caller start: barge-in point."""

    type: Literal["input_audio_buffer.speech_started"]
    item_id: str = ""
    audio_start_ms: int | None = None


class InputAudioBufferSpeechStopped(_Event):
    """Server VAD heard the caller stop; the server answers by itself (§3.3)."""

    type: Literal["input_audio_buffer.speech_stopped"]
    item_id: str = ""
    audio_end_ms: int | None = None


class InputAudioBufferCommitted(_Event):
    """The input buffer became a user item."""

    type: Literal["input_audio_buffer.committed"]
    item_id: str = ""
    previous_item_id: str | None = None


class InputAudioBufferCleared(_Event):
    """Answer to ``input_audio_buffer.clear``."""

    type: Literal["input_audio_buffer.cleared"]


class InputAudioBufferTimeoutTriggered(_Event):
    """The caller stayed silent for ``idle_timeout_ms`` (XE)."""

    type: Literal["input_audio_buffer.timeout_triggered"]
    item_id: str | None = None


class InputAudioBufferDtmfEventReceived(_Event):
    """A keypress on a SIP call; docs name the digit ``event``, pipecat ``digit`` (§7.15)."""

    type: Literal["input_audio_buffer.dtmf_event_received"]
    event: str | None = None
    digit: str | None = None
    received_at: int | None = None


class ResponseCreated(_Event):
    """A response started (ours, or one the server created by itself)."""

    type: Literal["response.created"]
    response: Response = Field(default_factory=Response)


class ResponseOutputItemAdded(_Event):
    """An output item started; function_call items carry the ``call_id`` (§3.3)."""

    type: Literal["response.output_item.added"]
    response_id: str = ""
    output_index: int | None = None
    item: Item = Field(default_factory=Item)


class ResponseOutputItemDone(_Event):
    """An output item finished."""

    type: Literal["response.output_item.done"]
    response_id: str = ""
    output_index: int | None = None
    item: Item = Field(default_factory=Item)


class ResponseContentPartAdded(_Event):
    """A content part started."""

    type: Literal["response.content_part.added"]
    response_id: str = ""
    item_id: str = ""
    output_index: int | None = None
    content_index: int | None = None
    part: ItemContent | None = None


class ResponseContentPartDone(_Event):
    """A content part finished."""

    type: Literal["response.content_part.done"]
    response_id: str = ""
    item_id: str = ""
    output_index: int | None = None
    content_index: int | None = None
    part: ItemContent | None = None


class ResponseOutputAudioDelta(_Event):
    """A chunk of agent audio: base64 in ``audio.output.format`` (about 50 per second)."""

    type: Literal["response.output_audio.delta"]
    response_id: str = ""
    item_id: str = ""
    output_index: int | None = None
    content_index: int | None = None
    delta: str = Field(repr=False)


class ResponseOutputAudioDone(_Event):
    """The agent audio of one item is complete."""

    type: Literal["response.output_audio.done"]
    response_id: str = ""
    item_id: str = ""


class ResponseOutputAudioTranscriptDelta(_Event):
    """A piece of what the agent is saying."""

    type: Literal["response.output_audio_transcript.delta"]
    response_id: str = ""
    item_id: str = ""
    delta: str = ""


class ResponseOutputAudioTranscriptDone(_Event):
    """The agent transcript of one item is complete (``transcript`` when the server sends it)."""

    type: Literal["response.output_audio_transcript.done"]
    response_id: str = ""
    item_id: str = ""
    transcript: str | None = None


class ResponseTextDelta(_Event):
    """Agent text (text modality); Grok's name for OpenAI's ``output_text.delta`` (§6)."""

    type: Literal["response.text.delta"]
    response_id: str = ""
    item_id: str = ""
    delta: str = ""


class ResponseTextDone(_Event):
    """Agent text complete (listed in the docs snapshot, §3)."""

    type: Literal["response.text.done"]
    response_id: str = ""
    item_id: str = ""
    text: str | None = None


class ResponseOutputTextDelta(_Event):
    """OpenAI GA name for agent text; XE says xAI emits it as well as ``response.text.delta``."""

    type: Literal["response.output_text.delta"]
    response_id: str = ""
    item_id: str = ""
    delta: str = ""


class ResponseOutputTextDone(_Event):
    """OpenAI GA name for the end of agent text."""

    type: Literal["response.output_text.done"]
    response_id: str = ""
    item_id: str = ""
    text: str | None = None


class ResponseFunctionCallArgumentsDelta(_Event):
    """A piece of a function call's arguments."""

    type: Literal["response.function_call_arguments.delta"]
    call_id: str = ""
    delta: str = ""
    response_id: str | None = None
    item_id: str | None = None


class ResponseFunctionCallArgumentsDone(_Event):
    """A function call is complete. Server-side built-ins surface here too (§7.9)."""

    type: Literal["response.function_call_arguments.done"]
    call_id: str = ""  # empty: the engine finds the call by ``item_id``
    name: str = ""
    arguments: str = ""
    response_id: str | None = None
    item_id: str | None = None


class ResponseDone(_Event):
    """A response ended (``completed``/``cancelled``/``failed``/``incomplete``)."""

    type: Literal["response.done"]
    response: Response = Field(default_factory=Response)
    usage: Usage | None = None


class McpEvent(_Event):
    """Server-side MCP progress (XE); the xAI side runs MCP tools, the client only watches."""

    type: Literal[
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    ]


ServerEvent = Annotated[
    ErrorEvent
    | Ping
    | SessionCreated
    | SessionUpdated
    | ConversationCreated
    | ConversationItemAdded
    | ConversationItemDeleted
    | ConversationItemTruncated
    | ConversationItemInputAudioTranscriptionCompleted
    | ConversationItemInputAudioTranscriptionUpdated
    | InputAudioBufferSpeechStarted
    | InputAudioBufferSpeechStopped
    | InputAudioBufferCommitted
    | InputAudioBufferCleared
    | InputAudioBufferTimeoutTriggered
    | InputAudioBufferDtmfEventReceived
    | ResponseCreated
    | ResponseOutputItemAdded
    | ResponseOutputItemDone
    | ResponseContentPartAdded
    | ResponseContentPartDone
    | ResponseOutputAudioDelta
    | ResponseOutputAudioDone
    | ResponseOutputAudioTranscriptDelta
    | ResponseOutputAudioTranscriptDone
    | ResponseTextDelta
    | ResponseTextDone
    | ResponseOutputTextDelta
    | ResponseOutputTextDone
    | ResponseFunctionCallArgumentsDelta
    | ResponseFunctionCallArgumentsDone
    | ResponseDone
    | McpEvent,
    Field(discriminator="type"),
]
