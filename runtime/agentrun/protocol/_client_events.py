"""Client events: everything agentrun may send (grok-realtime.md §2).

Every class is strict (unknown fields refused) and is serialised with
``model_dump_json(exclude_none=True)``, so a ``None`` is omitted and never sent as null. Items
carry a client-generated id (``uuid4().hex``). Imports only ``protocol._base``/``_session``.
"""


from typing import Annotated, Literal

from pydantic import Field

from agentrun.protocol._base import ClientEventBase, ClientModel, new_item_id
from agentrun.protocol._session import SessionProperties

__all__ = [
    "ClientEvent",
    "ClientItem",
    "ConversationItemCreate",
    "ConversationItemDelete",
    "ConversationItemTruncate",
    "ForceMessageItem",
    "FunctionCallItem",
    "FunctionCallOutputItem",
    "InputAudioBufferAppend",
    "InputAudioBufferClear",
    "InputAudioBufferCommit",
    "InputTextPart",
    "MessageItem",
    "OutputTextPart",
    "ResponseCancel",
    "ResponseCreate",
    "ResponseParams",
    "SessionUpdate",
    "TextPart",
]


class InputTextPart(ClientModel):
    """User text content."""

    type: Literal["input_text"] = "input_text"
    text: str


class TextPart(ClientModel):
    """Assistant text content as Grok takes it (force_message, restored replies)."""

    type: Literal["text"] = "text"
    text: str


class OutputTextPart(ClientModel):
    """Assistant text content as OpenAI GA names it (kept for the OpenAI dialect)."""

    type: Literal["output_text"] = "output_text"
    text: str


ContentPart = Annotated[InputTextPart | TextPart | OutputTextPart, Field(discriminator="type")]


class MessageItem(ClientModel):
    """A user, assistant or system message added to the conversation."""

    id: str = Field(default_factory=new_item_id)
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system"]
    content: list[ContentPart]


class FunctionCallItem(ClientModel):
    """A function call the model made, re-created when a conversation is restored."""

    id: str = Field(default_factory=new_item_id)
    type: Literal["function_call"] = "function_call"
    call_id: str
    name: str
    arguments: str


class FunctionCallOutputItem(ClientModel):
    """A tool result. ``output`` is sent as the tool's string, encoded once (§7.7)."""

    id: str = Field(default_factory=new_item_id)
    type: Literal["function_call_output"] = "function_call_output"
    call_id: str
    output: str


class ForceMessageItem(ClientModel):
    """Text the server speaks verbatim; it creates the response itself (§2, XE).

    Never follow it with ``response.create``. ``interruptible=False`` makes the server drop
    caller audio until playback ends.
    """

    type: Literal["force_message"] = "force_message"
    role: Literal["assistant"] = "assistant"
    content: list[TextPart]
    interruptible: bool | None = None
    voice: str | None = None


ClientItem = Annotated[
    MessageItem | FunctionCallItem | FunctionCallOutputItem | ForceMessageItem,
    Field(discriminator="type"),
]


class SessionUpdate(ClientEventBase):
    """Configure the session; sent after ``conversation.created``, never before (§1.1)."""

    type: Literal["session.update"] = "session.update"
    session: SessionProperties


class InputAudioBufferAppend(ClientEventBase):
    """Caller audio, base64 of raw bytes in ``audio.input.format``."""

    type: Literal["input_audio_buffer.append"] = "input_audio_buffer.append"
    audio: str = Field(repr=False)


class InputAudioBufferCommit(ClientEventBase):
    """Manual turns: the caller finished speaking."""

    type: Literal["input_audio_buffer.commit"] = "input_audio_buffer.commit"


class InputAudioBufferClear(ClientEventBase):
    """Manual turns: drop uncommitted caller audio (push-to-talk barge-in)."""

    type: Literal["input_audio_buffer.clear"] = "input_audio_buffer.clear"


class ConversationItemCreate(ClientEventBase):
    """Add an item: user text, a tool output, a restored item or a force_message."""

    type: Literal["conversation.item.create"] = "conversation.item.create"
    previous_item_id: str | None = None
    item: ClientItem


class ResponseParams(ClientModel):
    """Optional ``response`` body of ``response.create``."""

    modalities: list[Literal["text", "audio"]] | None = None
    instructions: str | None = None


class ResponseCreate(ClientEventBase):
    """Ask the model to answer; never sent while a response is active (§7.2)."""

    type: Literal["response.create"] = "response.create"
    response: ResponseParams | None = None


class ResponseCancel(ClientEventBase):
    """Cancel the active response (barge-in); only sent while one is active (§7.2)."""

    type: Literal["response.cancel"] = "response.cancel"


class ConversationItemTruncate(ClientEventBase):
    """OpenAI's truncate (XE). Grok does not support it (§6, §7.11); the engine never sends it."""

    type: Literal["conversation.item.truncate"] = "conversation.item.truncate"
    item_id: str
    content_index: int = 0
    audio_end_ms: int


class ConversationItemDelete(ClientEventBase):
    """Remove an item from the conversation (XE)."""

    type: Literal["conversation.item.delete"] = "conversation.item.delete"
    item_id: str


ClientEvent = Annotated[
    SessionUpdate
    | InputAudioBufferAppend
    | InputAudioBufferCommit
    | InputAudioBufferClear
    | ConversationItemCreate
    | ResponseCreate
    | ResponseCancel
    | ConversationItemTruncate
    | ConversationItemDelete,
    Field(discriminator="type"),
]
