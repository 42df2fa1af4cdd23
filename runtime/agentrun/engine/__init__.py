"""agentrun.engine: the conversation core and how an AgentSpec configures it.

``Conversation`` is sans-I/O (server events and local inputs in, ``Action`` values out);
``session_properties``/``connection_url``/``ConversationConfig`` turn an AgentSpec into what goes
on the wire. The asyncio ``Session`` that performs the actions lives in ``engine.session``.
"""

from agentrun.engine._media import ReplyRecord
from agentrun.engine.actions import (
    Action,
    EmitTranscript,
    EndConversation,
    PlayAudio,
    RecordMetric,
    Report,
    RunTool,
    SendEvent,
    StopPlayback,
)
from agentrun.engine.conversation import IGNORED, Conversation, State
from agentrun.engine.setup import (
    DEFAULT_BASE_URL,
    ConversationConfig,
    connection_url,
    session_properties,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "IGNORED",
    "Action",
    "Conversation",
    "ConversationConfig",
    "EmitTranscript",
    "EndConversation",
    "PlayAudio",
    "RecordMetric",
    "ReplyRecord",
    "Report",
    "RunTool",
    "SendEvent",
    "State",
    "StopPlayback",
    "connection_url",
    "session_properties",
]
