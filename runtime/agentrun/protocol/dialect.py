"""Everything that differs between realtime dialects, in one place (grok-realtime.md §6).

The engine asks a :class:`Dialect` instead of hard-coding Grok facts: how the URL names the
model, how the session event is shaped, which tool names the server reserves, how assistant
text is typed in restored items, which duplicate server events to skip, and which ``error``
events are benign races or fatal refusals. Renamed server events (OpenAI beta's
``response.audio.delta``) are subclasses of the canonical models; the engine dispatches by MRO.
:data:`GROK` is the only dialect today; an OpenAI Realtime dialect is another instance
(plus its beta event names in the server-event union) with no engine change.
Imports only ``protocol`` models.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from agentrun.protocol._client_events import ClientEvent, SessionUpdate
from agentrun.protocol._server_events import (
    ErrorDetail,
    ResponseOutputTextDelta,
    ResponseOutputTextDone,
)
from agentrun.protocol._session import SessionProperties

__all__ = ["GROK", "Dialect", "ErrorClass"]


class ErrorClass(enum.Enum):
    """What an ``error`` event means for the conversation."""

    NO_ACTIVE_RESPONSE = "no_active_response"  # benign: a cancel raced the end of a response
    ALREADY_ACTIVE = "already_active"  # benign: a response.create raced a server response
    FATAL = "fatal"  # the service refused us for good (auth, quota): end, exit 3
    SESSION_LIMIT = "session_limit"  # the session hit the service's length limit: resume
    OTHER = "other"  # report it, carry on (never stop the receive loop, §3.2)

    @property
    def benign(self) -> bool:
        """True for the known races: logged at debug, nothing else to do about them."""
        return self in (ErrorClass.NO_ACTIVE_RESPONSE, ErrorClass.ALREADY_ACTIVE)


@dataclass(frozen=True)
class Dialect:
    """The facts that make one realtime API differ from another.

    Attributes:
        name: short name for logs.
        reserved_tool_names: built-in tool type -> function names it reserves; a function tool
            with such a name makes the first response fail with ``server_error`` (§7.8).
        assistant_text_part: content-part type for assistant text in items we create.
        supports_truncate: whether ``conversation.item.truncate`` exists (not on Grok, §7.11).
        ignored_events: server event classes this dialect emits as duplicates, with the reason.
        no_active_codes / no_active_messages: codes / lower-case message substrings of a
            cancel that found no response; already_active_codes / already_active_messages: the
            same for a ``response.create`` while a response is active.
        fatal_types / fatal_codes / fatal_messages: the same for refusals that end the session.
        session_limit_codes / session_limit_messages: the same for the error a service sends
            before it closes a session at its length limit (Grok: one hour, §1).
    """

    name: str
    reserved_tool_names: Mapping[str, frozenset[str]]
    assistant_text_part: str
    supports_truncate: bool
    ignored_events: Mapping[type, str]
    no_active_codes: frozenset[str]
    no_active_messages: tuple[str, ...]
    already_active_codes: frozenset[str]
    already_active_messages: tuple[str, ...]
    fatal_types: frozenset[str]
    fatal_codes: frozenset[str]
    fatal_messages: tuple[str, ...]
    session_limit_codes: frozenset[str] = field(default_factory=frozenset)
    session_limit_messages: tuple[str, ...] = ()
    model_query_param: str = field(default="model")

    def connection_url(self, base_url: str, model: str) -> str:
        """``base_url`` with the model as a URL-quoted query parameter (§1, §7.3).

        Args:
            base_url: e.g. ``wss://api.x.ai/v1/realtime``; an existing query is kept. A URL that
                already names a model (``--url …?model=grok-x``) is returned as it is: the
                person who typed it chose that model over the agent file's.
            model: the model id; never sent in ``session.update``.

        Returns:
            The URL to connect to.
        """
        parts = urlsplit(base_url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if any(k == self.model_query_param and v for k, v in query):
            return base_url
        query = [(k, v) for k, v in query if k != self.model_query_param]
        query.append((self.model_query_param, model))
        return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))

    def session_update(self, session: SessionProperties) -> ClientEvent:
        """The event that configures the session (Grok: ``session.update`` as is, §4).

        Another dialect (e.g. OpenAI GA, with ``session.type`` and voice under ``audio.output``)
        overrides this to reshape the same properties; the engine only sends what it returns.
        """
        return SessionUpdate(session=session)

    def reserved_names(self, builtin_types: Iterable[str]) -> dict[str, str]:
        """Function names the enabled built-ins reserve, mapped to the built-in reserving them."""
        return {name: builtin for builtin in builtin_types
                for name in self.reserved_tool_names.get(builtin, ())}

    def is_builtin_call(self, name: str) -> bool:
        """True for a call name the server's own tools use (``x_keyword_search``, §7.9)."""
        return any(name in names for names in self.reserved_tool_names.values())

    def classify_error(self, error: ErrorDetail) -> ErrorClass:
        """Classify an ``error`` event by code and by message substring (§3.2).

        Grok's codes differ from OpenAI's and are undocumented, so messages are matched too
        (pipecat 6281dde89). Fatal is checked first: an auth failure is never a benign race.
        """
        code = str(error.code).lower() if error.code is not None else ""
        kind = (error.type or "").lower()
        message = error.message.lower()
        if kind in self.fatal_types or code in self.fatal_codes \
                or any(m in message for m in self.fatal_messages):
            return ErrorClass.FATAL
        if code in self.session_limit_codes \
                or any(m in message for m in self.session_limit_messages):
            return ErrorClass.SESSION_LIMIT
        if code in self.no_active_codes or any(m in message for m in self.no_active_messages):
            return ErrorClass.NO_ACTIVE_RESPONSE
        if code in self.already_active_codes \
                or any(m in message for m in self.already_active_messages):
            return ErrorClass.ALREADY_ACTIVE
        return ErrorClass.OTHER


GROK = Dialect(
    name="grok",
    # Measured by LiveKit against grok-voice-latest (§4.1).
    reserved_tool_names={
        "web_search": frozenset({"web_search", "browse_page"}),
        "x_search": frozenset({"x_keyword_search", "x_semantic_search", "x_user_search",
                               "x_thread_fetch"}),
        "file_search": frozenset({"collections_search", "file_search"}),
    },
    assistant_text_part="text",
    supports_truncate=False,
    ignored_events={
        ResponseOutputTextDelta: "Grok emits it alongside response.text.delta (same text)",
        ResponseOutputTextDone: "Grok emits it alongside response.text.done (same text)",
    },
    no_active_codes=frozenset({"response_cancel_not_active"}),
    no_active_messages=("no active response",),
    already_active_codes=frozenset({"conversation_already_has_active_response"}),
    already_active_messages=("already has an active response",),
    fatal_types=frozenset({"authentication_error", "permission_error", "invalid_api_key",
                           "insufficient_quota", "billing_error"}),
    fatal_codes=frozenset({"401", "403", "invalid_api_key", "insufficient_quota",
                           "authentication_error", "permission_denied",
                           "rate-limit-exceeded-for-billing", "rate_limit_exceeded_for_billing"}),
    fatal_messages=("api key", "api-key", "unauthorized", "unauthenticated", "permission denied",
                    "quota", "billing", "credits"),
    # xAI does not document the code; OpenAI Realtime sends session_expired with "…maximum
    # duration of 60 minutes", so both codes and message substrings are matched.
    session_limit_codes=frozenset({"session_expired", "session_timeout", "session_limit_reached",
                                   "max_session_duration_exceeded"}),
    session_limit_messages=("maximum duration", "session expired", "session has expired",
                            "session limit", "maximum session", "session length"),
)
