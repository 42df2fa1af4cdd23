"""From an AgentSpec to what goes on the wire at connect time.

Owns: the ``session.update`` payload (:func:`session_properties`), the connection URL
(:func:`connection_url`) and :class:`ConversationConfig`, the one value a ``Conversation`` is
built from. Pure functions: reads the spec's attributes (Contract 1) and imports only
``agentrun.protocol`` and ``agentrun.errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from agentrun.errors import SpecError, SpecErrors
from agentrun.protocol import (
    GROK,
    AudioConfig,
    AudioInput,
    AudioOutput,
    Dialect,
    FileSearchTool,
    FunctionTool,
    InputTranscription,
    McpTool,
    PcmaFormat,
    PcmFormat,
    PcmuFormat,
    SessionProperties,
    Tool,
    TurnDetection,
    WebSearchTool,
    XSearchTool,
)

if TYPE_CHECKING:
    from agentrun.spec import AgentSpec

__all__ = [
    "DEFAULT_APOLOGY",
    "DEFAULT_BASE_URL",
    "DEFAULT_HOLD_SECONDS",
    "ConversationConfig",
    "Interruptions",
    "Watchdogs",
    "connection_url",
    "session_properties",
]

DEFAULT_BASE_URL = "wss://api.x.ai/v1/realtime"
DEFAULT_HOLD_SECONDS = 10.0
"""Caller audio held before ``session.updated``; older audio beyond this is dropped."""

DEFAULT_APOLOGY = "Sorry, something went wrong on my side. Could you say that again?"
"""What the agent says (verbatim, like the greeting) when a reply failed twice."""

_G711_BYTES_PER_SECOND = 8000  # one byte per sample at the fixed 8 kHz


def connection_url(spec: AgentSpec, base_url: str = DEFAULT_BASE_URL, *,
                   dialect: Dialect = GROK) -> str:
    """The WebSocket URL for ``spec``: the model goes only in ``?model=`` (§1, §7.3).

    Args:
        spec: the agent; ``spec.model`` is used.
        base_url: the realtime endpoint (``--url`` overrides it: proxy, simulator, test server).
        dialect: the API dialect.

    Returns:
        e.g. ``wss://api.x.ai/v1/realtime?model=grok-voice-latest``.
    """
    return dialect.connection_url(base_url, spec.model)


def session_properties(spec: AgentSpec, instructions: str,
                       function_tools: Sequence[Mapping[str, Any]], *,
                       server_tools: Sequence[Mapping[str, Any]] = (),
                       dialect: Dialect = GROK) -> SessionProperties:
    """Build the ``session`` of ``session.update`` from an agent.

    Args:
        spec: the agent (voice, turn detection, audio, built-in tools).
        instructions: the rendered instructions.
        function_tools: flat function schemas (``ToolRegistry.function_schemas()``).
        server_tools: MCP servers Grok calls itself (``ToolRegistry.server_tools()``).
        dialect: the API dialect (reserved tool names).

    Returns:
        The session properties. The audio config is always complete, so a later update can
        never lose it (§7.16).

    Raises:
        SpecErrors: a function tool's name is reserved by an enabled built-in tool; the server
            would fail the first response with ``server_error`` (§7.8).
    """
    builtins = [ref for ref in spec.tools if ref.is_builtin]
    tools: list[Tool] = [
        FunctionTool(name=str(schema["name"]), description=str(schema.get("description") or ""),
                     parameters=dict(schema.get("parameters")
                                     or {"type": "object", "properties": {}}))
        for schema in function_tools
    ]
    _check_reserved(spec, [t.name for t in tools if isinstance(t, FunctionTool)],
                    [ref.tool for ref in builtins], dialect)
    tools.extend(_builtin_tool(ref) for ref in builtins)
    tools.extend(McpTool(**dict(entry)) for entry in server_tools)
    return SessionProperties(
        instructions=instructions,
        voice=spec.voice_id,
        turn_detection=_turn_detection(spec.turn_detection),
        audio=AudioConfig(input=AudioInput(format=_format(spec.audio.input),
                                           transcription=_transcription(spec.audio.input)),
                          output=AudioOutput(format=_format(spec.audio.output),
                                             speed=_speed(spec.audio.output))),
        tools=tools,
    )


@dataclass(frozen=True)
class Watchdogs:
    """Bounds of the conversation's watchdogs, in seconds (``Conversation.tick``).

    Attributes:
        configure: ``session.update`` sent -> ``session.updated``; then the call ends (exit 1).
        create: ``response.create`` (or a spoken message) sent -> ``response.created`` or an
            error; then it is asked again once, then the caller hears the apology.
        stall: the longest silence inside an active response (pings do not count); then the
            response is cancelled and asked again once, then the apology.
        turn: end of the caller's speech (server VAD) -> ``response.created``; then agentrun
            asks for the response itself.
    """

    configure: float = 15.0
    create: float = 10.0
    stall: float = 20.0
    turn: float = 8.0


@dataclass(frozen=True)
class Interruptions:
    """When the caller may cut the agent off (the engine side of the YAML ``interruptions:``).

    Attributes:
        enabled: False: the agent always finishes; caller audio is replaced by silence while it
            speaks, because the server's own voice detection would otherwise cut it off.
        min_speech_ms: caller speech must last this long, while the agent is busy, before it
            counts as a barge-in (a cough or an "uh-huh" does not); 0 = at once.
        half_duplex: replace caller audio by silence of the same length while the agent speaks
            (speakerphones and laptops without echo cancellation).
    """

    enabled: bool = True
    min_speech_ms: int = 0
    half_duplex: bool = False

    @property
    def mutes_microphone(self) -> bool:
        """True when caller audio is replaced by silence while the agent speaks."""
        return self.half_duplex or not self.enabled


@dataclass(frozen=True)
class ConversationConfig:
    """Everything a ``Conversation`` needs, decided once before connecting.

    Attributes:
        session: what ``session.update`` sends (on connect and on every resume).
        greeting: what the agent says first, verbatim, or None to wait for the caller.
        greeting_interruptible: whether the caller can barge into the greeting.
        function_names: the declared function tools: the only calls agentrun runs.
        dialect: the API dialect.
        hold_seconds: caller audio held before the session is configured (older is dropped).
        watchdogs: the bounds of the watchdogs (``Conversation.tick``).
        interruptions: when the caller may cut the agent off.
        apology: what the agent says, verbatim, when a reply failed twice.
    """

    session: SessionProperties
    greeting: str | None = None
    greeting_interruptible: bool = True
    function_names: frozenset[str] = field(default_factory=frozenset)
    dialect: Dialect = GROK
    hold_seconds: float = DEFAULT_HOLD_SECONDS
    watchdogs: Watchdogs = field(default_factory=Watchdogs)
    interruptions: Interruptions = field(default_factory=Interruptions)
    apology: str = DEFAULT_APOLOGY

    @classmethod
    def from_spec(cls, spec: AgentSpec, *, instructions: str,
                  function_tools: Sequence[Mapping[str, Any]],
                  server_tools: Sequence[Mapping[str, Any]] = (),
                  greeting: str | None = None,
                  dialect: Dialect = GROK) -> ConversationConfig:
        """Build the config for ``spec``.

        Args:
            spec: the agent.
            instructions: the rendered instructions.
            function_tools: flat function schemas (``ToolRegistry.function_schemas()``).
            server_tools: MCP servers Grok calls itself (``ToolRegistry.server_tools()``).
            greeting: the rendered greeting (``spec.render_greeting``); default: the spec's
                greeting as written (a plain greeting needs no rendering).
            dialect: the API dialect.

        Returns:
            The config.

        Raises:
            SpecErrors: see :func:`session_properties`.
        """
        return cls(
            session=session_properties(spec, instructions, function_tools,
                                       server_tools=server_tools, dialect=dialect),
            greeting=(greeting if greeting is not None else spec.greeting) or None,
            greeting_interruptible=spec.greeting_interruptible,
            function_names=frozenset(str(schema["name"]) for schema in function_tools),
            dialect=dialect,
            interruptions=_interruptions(getattr(spec, "interruptions", None)),
        )

    @property
    def manual_turns(self) -> bool:
        """True when the caller's turn ends only by ``Conversation.end_user_turn``."""
        return self.session.manual_turns

    @property
    def input_bytes_per_second(self) -> int:
        """Bytes of caller audio per second in the configured input format."""
        return _bytes_per_second(self.session, "input")

    @property
    def output_bytes_per_second(self) -> int:
        """Bytes of agent audio per second in the configured output format."""
        return _bytes_per_second(self.session, "output")


def _interruptions(block: Any) -> Interruptions:
    if block is None:
        return Interruptions()
    return Interruptions(enabled=bool(block.enabled), min_speech_ms=int(block.min_speech_ms),
                         half_duplex=bool(block.half_duplex))


def _bytes_per_second(session: SessionProperties, side: str) -> int:
    audio = session.audio or AudioConfig()
    fmt = audio.input.format if side == "input" else audio.output.format
    return fmt.rate * 2 if isinstance(fmt, PcmFormat) else _G711_BYTES_PER_SECOND


def _format(side: Any) -> PcmFormat | PcmuFormat | PcmaFormat:
    if side.format == "pcmu":
        return PcmuFormat()
    if side.format == "pcma":
        return PcmaFormat()
    return PcmFormat(rate=int(side.rate))


def _transcription(side: Any) -> InputTranscription | None:
    hints = getattr(side, "transcription", None)
    if hints is None or (not hints.language_hint and not hints.keyterms):
        return None
    return InputTranscription(language_hint=hints.language_hint or None,
                              keyterms=list(hints.keyterms) or None)


def _speed(side: Any) -> float | None:
    speed = getattr(side, "speed", 1.0)
    return None if speed == 1.0 else float(speed)  # the server default needs no field


def _turn_detection(turns: Any) -> TurnDetection:
    if turns.type == "manual":
        return TurnDetection(type=None)
    return TurnDetection(type="server_vad", threshold=turns.threshold,
                         silence_duration_ms=turns.silence_duration_ms,
                         prefix_padding_ms=turns.prefix_padding_ms,
                         idle_timeout_ms=turns.idle_timeout_ms)


def _builtin_tool(ref: Any) -> Tool:
    if ref.tool == "web_search":
        return WebSearchTool()
    if ref.tool == "x_search":
        handles = getattr(ref, "allowed_x_handles", None)
        return XSearchTool(allowed_x_handles=list(handles) if handles else None)
    if ref.tool == "file_search":
        return FileSearchTool(vector_store_ids=list(getattr(ref, "vector_store_ids", None) or []),
                              max_num_results=getattr(ref, "max_num_results", None))
    raise SpecErrors([SpecError(f"unknown built-in tool {ref.tool!r}",
                                hint="built-ins: web_search, x_search, file_search")])


def _check_reserved(spec: AgentSpec, names: Sequence[str], builtin_types: Sequence[str],
                    dialect: Dialect) -> None:
    reserved = dialect.reserved_names(builtin_types)
    problems = []
    for name in names:
        if name in reserved:
            line, column = _location_of(spec, name)
            problems.append(SpecError(
                f"function tool name {name!r} is reserved by the built-in {reserved[name]} tool; "
                "the server would fail the first response",
                path=str(spec.path) if spec.path else None, line=line, column=column,
                hint="rename it with `as:`"))
    if problems:
        raise SpecErrors(problems)


def _location_of(spec: AgentSpec, name: str) -> tuple[int | None, int | None]:
    for index, ref in enumerate(spec.tools):
        if ref.name == name and not ref.is_builtin:
            where = spec.location(("tools", index))
            if where is not None:
                return where
    return None, None
