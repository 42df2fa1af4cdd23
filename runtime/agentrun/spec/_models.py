"""The agent file as pydantic models: the one source of truth for validation, docs and schema.

Owns: every field an author can write, its description, default, examples and checks.
Must not import YAML, Jinja or anything of ours beyond ``spec._fields`` and ``spec._yaml``
(for the ``Locations`` type). Every check that can fail here goes through ``_fields.fail`` so
``spec._located`` can place it on the right line. No ``from __future__ import annotations``
here: pydantic would compile and evaluate every annotation string when the models are built at
import (start-up time); the few forward references are quoted.
"""

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from agentrun.spec._duration import duration
from agentrun.spec._fields import (
    BUILTIN_TOOLS,
    BUILTIN_VARIABLES,
    RESERVED_FUNCTION_NAMES,
    VOICES,
    coerce_variable,
    did_you_mean,
    fail,
    shown,
)
from agentrun.spec._language import check_language, language_code
from agentrun.spec._tool_models import HttpCall, HttpResponse, McpServer, ToolArgument
from agentrun.spec._yaml import Locations

if TYPE_CHECKING:
    from pydantic import GetJsonSchemaHandler
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "AgentSpec",
    "Audio",
    "AudioInput",
    "AudioOutput",
    "CustomVoice",
    "HttpCall",
    "HttpResponse",
    "Interruptions",
    "ManualTurns",
    "McpServer",
    "Record",
    "ServerVad",
    "ToolArgument",
    "ToolRef",
    "Transcription",
    "Variable",
]

_FUNCTION_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_PLAIN = ConfigDict(extra="forbid")


# Plain functions, not `list`/`dict`: pydantic inspects a default_factory's signature, and for a
# builtin that costs a tokenizer start-up (~15 ms of every `agentrun check`).
def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" for c in word)


def _voice_name(value: Any) -> str:
    if not isinstance(value, str):
        fail(f"voice must be a name such as Ara, got {shown(value)}",
             "a custom voice id is written voice: {custom: ID}")
    for voice in VOICES:
        if voice.lower() == value.strip().lower():
            return voice
    hint = did_you_mean(value.strip(), VOICES)
    if hint and "did you mean" not in hint:
        hint += "; a custom voice id is written voice: {custom: ID}"
    fail(f"unknown voice '{value}'", hint)


class CustomVoice(BaseModel):
    """A voice made with xAI's Custom Voices API, named by its id."""

    model_config = _PLAIN
    custom: Annotated[str, StringConstraints(min_length=1, pattern=r"^[A-Za-z0-9_.:-]+$")] = (
        Field(description="The custom voice id.", examples=["vc_123"]))


_VoiceName = Annotated[
    str,
    BeforeValidator(_voice_name),
    WithJsonSchema({
        "anyOf": [
            {"enum": list(VOICES)},
            {"type": "string", "pattern": "^(" + "|".join(_any_case(v) for v in VOICES) + ")$"},
        ],
    }),
]
Voice = Annotated[
    Annotated[_VoiceName, Tag("builtin")] | Annotated[CustomVoice, Tag("custom")],
    Discriminator(lambda v: "custom" if isinstance(v, dict | CustomVoice) else "builtin"),
]


def _scalar(value: Any) -> Any:
    if isinstance(value, list | dict):
        fail(f"default must be a single value (text, a number or true/false), got {shown(value)}")
    return value


class Variable(BaseModel):
    """One template variable. ``company: Acme`` is shorthand for ``company: {default: Acme}``."""

    model_config = _PLAIN
    type: Literal["string", "integer", "number", "boolean"] = Field(
        default="string", description="What kind of value it holds; values from --var or the "
        "environment are converted to it. Inferred from `default` when left out.",
        examples=["integer"])
    default: Annotated[str | int | float | bool | None, BeforeValidator(_scalar)] = Field(
        default=None, description="The value used when nothing else sets it.", examples=["Acme"])
    required: bool = Field(
        default=False, description="Refuse to start when no value comes from --var, the call or "
        "`from_env` (a required variable has no default).", examples=[True])
    description: str = Field(default="", description="What the variable means, for whoever runs "
                             "the agent.", examples=["The caller's customer number"])
    from_env: str | None = Field(
        default=None, description="Take the value from this environment variable (the only way "
        "secrets and environment values reach a template). The value is never printed.",
        examples=["CRM_TOKEN"])

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: "CoreSchema",
                                     handler: "GetJsonSchemaHandler") -> "JsonSchemaValue":
        # The shorthand (`company: Acme`) is valid YAML for a variable too.
        ref = handler(core_schema)
        return {"anyOf": [ref, {"type": ["string", "number", "boolean", "null"]}]}

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            value = {"default": value}
        if "type" not in value and value.get("default") is not None:
            default = value["default"]
            kind = ("boolean" if isinstance(default, bool) else "integer"
                    if isinstance(default, int) else "number" if isinstance(default, float)
                    else "string")
            value = {**value, "type": kind}
        return value

    @field_validator("from_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not _ENV_NAME.match(value):
            fail(f"'{value}' is not an environment variable name",
                 "use letters, digits and '_', e.g. CRM_TOKEN")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "Variable":
        if self.default is not None:
            try:
                self.default = coerce_variable(self.type, self.default)
            except ValueError as exc:
                fail(f"default must fit type {self.type}: {exc}, got {shown(self.default)}",
                     at=["default"])
            if self.required:
                fail("a required variable cannot have a default",
                     "remove 'default:' or 'required: true'", at=["required"])
        return self


class ServerVad(BaseModel):
    """The server detects when the caller stops speaking (voice activity detection)."""

    model_config = _PLAIN
    type: Literal["server_vad"] = Field(default="server_vad", examples=["server_vad"],
                                        description="Server-side turn detection.")
    threshold: float = Field(default=0.85, ge=0.1, le=0.9, description="How loud speech must be to "
                             "count (0.1 sensitive … 0.9 only clear speech).", examples=[0.85])
    silence_duration_ms: duration("ms", ge=0, le=10000, suspicious_below=20) | None = Field(
        default=None, examples=[500], description="Silence that ends the caller's turn, in "
        "milliseconds (500, '500ms' or '0.5s'). Leave out to use the server's default.")
    prefix_padding_ms: duration("ms", ge=0, le=10000, suspicious_below=10) = Field(
        default=333, description="Audio kept from before speech started, in milliseconds (333, "
        "'333ms' or '0.333s').", examples=[333])
    idle_timeout_ms: duration("ms", ge=0, suspicious_below=1000) | None = Field(
        default=None, description="Caller silence after which the server prompts or ends the "
        "turn, in milliseconds (15000, '15000ms' or '15s'). Leave out to use the server's "
        "default.", examples=[15000])


class Interruptions(BaseModel):
    """When the caller may cut the agent off (barge-in).

    Defaults suit a headset or a phone with echo cancellation: the caller can interrupt at once.
    In a noisy room, require a little speech first (``min_speech_ms: 300``) so a cough or an
    "uh-huh" does not cut the agent off. On a speakerphone or laptop speakers without echo
    cancellation, use ``half_duplex: true``: the agent would otherwise hear itself and stop.
    For announcements that must be heard in full, ``enabled: false``.
    """

    model_config = _PLAIN
    enabled: bool = Field(default=True, examples=[False], description="Whether the caller may "
                          "interrupt the agent at all. false: the agent always finishes, and "
                          "the microphone is muted while it speaks (as with half_duplex).")
    min_speech_ms: duration("ms", ge=0, le=5000, suspicious_below=20) = Field(
        default=0, examples=[300], description="How long the caller must speak while the agent "
        "is talking before it counts as an interruption, in milliseconds (300, '300ms' or "
        "'0.3s'); shorter sounds such as a cough or an 'uh-huh' do not cut the agent off. 0: "
        "at once. The server's own voice detection may still end a reply; use half_duplex for "
        "a hard guarantee.")
    half_duplex: bool = Field(default=False, examples=[True], description="Mute the microphone "
                              "while the agent speaks (its audio is replaced by silence of the "
                              "same length): for speakerphones and laptop speakers that would "
                              "let the agent hear itself. The caller cannot interrupt then.")


class ManualTurns(BaseModel):
    """Push-to-talk: the client says when the caller's turn ends."""

    model_config = _PLAIN
    type: Literal["manual"] = Field(description="Manual turns (push-to-talk).",
                                    examples=["manual"])


TurnDetection = Annotated[
    Annotated[ServerVad, Tag("server_vad")] | Annotated[ManualTurns, Tag("manual")],
    Discriminator(lambda v: v.get("type", "server_vad") if isinstance(v, dict)
                  else getattr(v, "type", "server_vad")),
]


def _language_hint(value: str | None) -> str | None:
    if value is not None and not _LANGUAGE.match(value):
        code = language_code(value)
        fail(f"language_hint must be a language tag such as 'en' or 'en-US', got {shown(value)}",
             f"did you mean '{code}'?" if code else None)
    return value


class Transcription(BaseModel):
    """How the caller's speech is transcribed."""

    model_config = _PLAIN
    language_hint: Annotated[str | None, AfterValidator(_language_hint)] = Field(
        default=None, description="The caller's language as a BCP-47 tag.", examples=["en-US"])
    keyterms: list[Annotated[str, StringConstraints(min_length=1, max_length=50)]] = Field(
        default_factory=_empty_list, max_length=100, description="Words the transcriber should "
        "expect, such as product names (at most 100, each at most 50 characters).",
        examples=[["Acme", "order number"]])


class _AudioFormat(BaseModel):
    model_config = _PLAIN
    format: Literal["pcm", "pcmu", "pcma"] = Field(
        default="pcm", description="pcm: 16-bit linear PCM; pcmu / pcma: G.711 µ-law / A-law "
        "(telephone audio, always 8000 Hz).", examples=["pcm"])
    rate: Literal[8000, 16000, 22050, 24000, 32000, 44100, 48000] | None = Field(
        default=None, description="Sample rate in Hz. Default 24000 for pcm, 8000 for pcmu/pcma.",
        examples=[24000])

    @model_validator(mode="after")
    def _rate_fits_format(self) -> "_AudioFormat":
        if self.format == "pcm":
            self.rate = self.rate or 24000
        elif self.rate not in (None, 8000):
            fail(f"{self.format} audio is always 8000 Hz, got rate {self.rate}",
                 "remove 'rate:' or set it to 8000", at=["rate"])
        else:
            self.rate = 8000
        return self


class AudioInput(_AudioFormat):
    """The caller's audio, as agentrun sends it to Grok."""

    transcription: Transcription = Field(default_factory=Transcription,
                                         description="Transcription of the caller's speech.",
                                         examples=[{"language_hint": "en", "keyterms": ["Acme"]}])


class AudioOutput(_AudioFormat):
    """The agent's audio, as Grok sends it back."""

    speed: float = Field(default=1.0, ge=0.7, le=1.5, description="Speaking speed (0.7 … 1.5).",
                         examples=[1.1])


class Audio(BaseModel):
    """Audio formats in both directions."""

    model_config = _PLAIN
    input: AudioInput = Field(default_factory=AudioInput, description="Audio from the caller.",
                              examples=[{"format": "pcmu"}])
    output: AudioOutput = Field(default_factory=AudioOutput, description="Audio to the caller.",
                                examples=[{"format": "pcm", "rate": 24000, "speed": 1.1}])


class Record(BaseModel):
    """Keep a record of every call: transcript, stereo audio, wire events and a report."""

    model_config = _PLAIN
    dir: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="The folder that gets one folder per call, relative to this file. "
        "`agentrun run --record DIR` takes precedence (relative to where you run it).",
        examples=["records"])


class ToolRef(BaseModel):
    """A tool the agent may use: an installed plugin tool, a Grok built-in, an HTTP call
    (``http:``) or the tools of an MCP server (``mcp:``).

    ``- lookup_order`` is shorthand for ``- {name: lookup_order}``.
    """

    model_config = _PLAIN
    tool: str = Field(alias="name", min_length=1, description="The tool: an installed "
                      "plugin's tool name (DISTRIBUTION/NAME when two plugins provide it, "
                      "e.g. agentrun-orders/lookup_order) or a Grok built-in (web_search, "
                      "x_search, file_search); for an http tool the name the model sees; for "
                      "an mcp server its name in messages.", examples=["lookup_order"])
    as_name: str | None = Field(default=None, alias="as", description="The name the model sees, "
                                "when it should differ from `name`.", examples=["file_ticket"])
    description: str | None = Field(default=None, description="Replaces the tool's own description "
                                    "(what the model reads to decide when to use it).",
                                    examples=["Open a support ticket for the caller."])
    timeout: duration("s", gt=0, le=3600) | None = Field(
        default=None, description="Longest a call may run, in seconds (5, '5s' or '500ms'). "
        "Leave out for the tool's default (10 seconds).", examples=["5s"])
    config: dict[str, Any] = Field(default_factory=_empty_dict,
                                   description="Settings passed to the tool (see `agentrun "
                                   "tools show NAME`).", examples=[{"database": "orders.db"}])
    allowed_x_handles: list[str] | None = Field(default=None, description="x_search only: search "
                                                "posts from these X handles.",
                                                examples=[["xai"]])
    vector_store_ids: list[str] | None = Field(default=None, description="file_search only "
                                               "(required there): the xAI collection ids.",
                                               examples=[["collection_123"]])
    max_num_results: int | None = Field(default=None, ge=1, description="file_search only: how "
                                        "many results to return.", examples=[5])
    http: HttpCall | None = Field(default=None, description="Make this tool an HTTP request "
                                  "(no plugin needed).", examples=[{
                                      "url": "https://api.example.com/slots/{{ day }}",
                                      "arguments": {"day": "string"}}])
    mcp: McpServer | None = Field(default=None, description="Give the model the tools of this "
                                  "MCP server.", examples=[{"command": "python",
                                                            "args": ["calendar_server.py"]}])

    _BUILTIN_OPTIONS: ClassVar[dict[str, str]] = {
        "allowed_x_handles": "x_search", "vector_store_ids": "file_search",
        "max_num_results": "file_search"}

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: "CoreSchema",
                                     handler: "GetJsonSchemaHandler") -> "JsonSchemaValue":
        # A bare string (`- lookup_order`) is a tool entry too.
        return {"anyOf": [{"type": "string", "examples": ["lookup_order", "web_search"]},
                          handler(core_schema)]}

    @property
    def name(self) -> str:
        """The name the model sees (``as:`` when given, else the tool's name; for a plugin
        tool named with its distribution, ``acme-weather/forecast``, the part after ``/``)."""
        return self.as_name or self.tool.rpartition("/")[2]

    @property
    def is_builtin(self) -> bool:
        """True for Grok's server-side tools (web_search, x_search, file_search)."""
        return self.tool in BUILTIN_TOOLS and self.http is None and self.mcp is None

    @property
    def kind(self) -> Literal["builtin", "plugin", "http", "mcp"]:
        """Which kind of tool the entry names."""
        if self.http is not None:
            return "http"
        if self.mcp is not None:
            return "mcp"
        return "builtin" if self.is_builtin else "plugin"

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, value: Any) -> Any:
        return {"name": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> "ToolRef":
        for option, owner in self._BUILTIN_OPTIONS.items():
            if getattr(self, option) is not None and self.tool != owner:
                fail(f"'{option}' only applies to the built-in tool {owner}", at=[option])
        if self.http is not None or self.mcp is not None:
            self._check_yaml_tool()
        if self.is_builtin:
            for option, key in (("as_name", "as"), ("description", "description"),
                                ("timeout", "timeout")):
                if getattr(self, option) is not None:
                    fail(f"built-in tool {self.tool} takes no '{key}'",
                         "it runs on Grok's servers", at=[key])
            if self.config:
                fail(f"built-in tool {self.tool} takes no 'config'", "it runs on Grok's "
                     "servers", at=["config"])
            if self.tool == "file_search" and not self.vector_store_ids:
                fail("file_search needs vector_store_ids",
                     "e.g. {name: file_search, vector_store_ids: [collection_123]}",
                     at=["name"])
            return self
        key = "as" if self.as_name else "name"
        if self.name in RESERVED_FUNCTION_NAMES:
            fail(f"'{self.name}' is reserved by Grok for its built-in tools",
                 f"rename it, e.g. as: my_{self.name}", at=[key])
        if not _FUNCTION_NAME.match(self.name):
            fail(f"'{self.name}' cannot be a tool name the model sees",
                 "use up to 64 letters, digits, '_' or '-'"
                 + ("" if self.as_name else "; rename it with as:"), at=[key])
        return self

    def _check_yaml_tool(self) -> None:
        """An http or mcp entry: its own name, no plugin options."""
        if self.http is not None and self.mcp is not None:
            fail("a tool entry is either an http tool or an mcp server, not both", at=["mcp"])
        what = "an http tool" if self.http is not None else "an mcp server"
        if self.as_name is not None:
            fail(f"{what} takes no 'as'", "name: is the name the model sees" if self.http
                 is not None else "rename its tools with mcp: {prefix: ..., rename: {...}}",
                 at=["as"])
        if self.config:
            fail(f"{what} takes no 'config'", at=["config"])
        if self.mcp is not None and self.mcp.called_by == "agentrun" and \
                self.description is not None:
            fail("an mcp server's tools keep their own descriptions", "description: only "
                 "applies with called_by: grok (it describes the server to Grok)",
                 at=["description"])
        if self.mcp is not None and self.mcp.called_by == "grok" and self.timeout is not None:
            fail("timeout does not apply when Grok calls the server", at=["timeout"])


class AgentSpec(BaseModel):
    """An agent file: who the agent is, how it sounds, what it says and which tools it uses."""

    model_config = ConfigDict(extra="forbid", title="agentrun agent file")
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)] = Field(
        description="The agent's name (shown in logs; `agent.name` in templates).",
        examples=["Acme Support"])
    description: str = Field(default="", description="What the agent is for (for people; "
                             "`agent.description` in templates).",
                             examples=["Answers questions about Acme orders."])
    model: Annotated[str, StringConstraints(pattern=r"^\S+$")] = Field(
        default="grok-voice-latest", description="The Grok voice model id.",
        examples=["grok-voice-latest"])
    voice: Voice = Field(default="Ara", examples=["Ara", {"custom": "vc_123"}],
                         description="Ara, Rex, Sal, Eve or Leo (any capitalisation), or a "
                         "custom voice as {custom: ID}.")
    instructions: str | None = Field(
        default=None, description="What the agent should do: a Jinja2 template using `variables`, "
        "`now`, `agent` and `call`. Give this or `instructions_file`, not both.",
        examples=["You are the support agent of {{ company }}."])
    instructions_file: str | None = Field(
        default=None, examples=["support-instructions.md.j2"],
        description="A file holding the instructions template, relative to this file.")
    variables: dict[str, Variable] = Field(
        default_factory=_empty_dict, description="Values the instructions can use, by name.",
        examples=[{"company": "Acme", "region": {"type": "string", "from_env": "REGION"}}])
    timezone: str = Field(default="UTC", description="IANA time zone of `now` in templates.",
                          examples=["Europe/Berlin"])
    language: Annotated[str, AfterValidator(check_language)] = Field(
        default="en", description="The language the agent speaks, as a tag such as es, es-MX or "
        "de-CH. Templates write dates in it: `{{ now | format_date('full') }}` gives \"domingo, 4 "
        "de enero de 2026\" for es (see Templates).", examples=["es"])
    greeting: str | None = Field(
        default=None, description="What the agent says first: a template like the instructions "
        "(same variables). Leave out to let the caller speak first.",
        examples=["Hi, this is {{ company }} support. How can I help?"])
    greeting_interruptible: bool = Field(default=True, examples=[False], description="Whether "
                                         "the caller can talk over the greeting.")
    interruptions: Interruptions = Field(
        default_factory=Interruptions, description="When the caller may cut the agent off: "
        "at all (enabled), after how much speech (min_speech_ms), or never while it speaks "
        "(half_duplex).", examples=[{"min_speech_ms": 300}, {"half_duplex": True}])
    turn_detection: TurnDetection = Field(
        default_factory=ServerVad, description="How the end of the caller's turn is found: "
        "server_vad (automatic) or manual (push-to-talk).",
        examples=[{"type": "server_vad", "silence_duration_ms": 500}, {"type": "manual"}])
    audio: Audio = Field(default_factory=Audio, description="Audio formats.",
                         examples=[{"input": {"format": "pcmu"}, "output": {"format": "pcmu"}}])
    tools: list[ToolRef] = Field(default_factory=_empty_list, examples=[["lookup_order",
                                 "web_search"]], description="Tools the agent may use.")
    record: Record | None = Field(default=None, examples=[{"dir": "records"}],
                                  description="Record every call (transcript, audio, events, "
                                  "report) in a folder per call.")

    _path: Path | None = PrivateAttr(None)
    _locations: Locations | None = PrivateAttr(None)
    _template: str | None = PrivateAttr(None)
    _template_origin: Any = PrivateAttr(None)  # a spec._template.TemplateOrigin
    _greeting_origin: Any = PrivateAttr(None)  # where the greeting template sits

    @property
    def voice_id(self) -> str:
        """The voice as the wire wants it: a canonical built-in name or the custom id."""
        return self.voice.custom if isinstance(self.voice, CustomVoice) else self.voice

    @property
    def path(self) -> Path | None:
        """The YAML file this spec came from (None when built in code)."""
        return self._path

    @property
    def template(self) -> str:
        """The instructions template text, inline or read from ``instructions_file``."""
        if self._template is not None:
            return self._template
        return self.instructions or ""

    def location(self, path: tuple[str | int, ...], *, key: bool = False,
                 ) -> tuple[int, int] | None:
        """1-based (line, column) of a YAML node, e.g. ``spec.location(("tools", 0))``.

        Args:
            path: keys and list indexes from the top of the file.
            key: locate the key naming the node (``company:``) instead of its value.

        Returns:
            Where that node (or, when it is not written in the file, its nearest written
            parent) starts; None for a spec that did not come from a file.
        """
        if self._locations is None:
            return None
        if key and self._locations.key(tuple(path)):
            return self._locations.key(tuple(path))
        return self._locations.value(tuple(path)) or self._locations.nearest(tuple(path))

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            fail(f"unknown time zone '{value}'",
                 did_you_mean(value, sorted(zoneinfo.available_timezones()), listing=False)
                 or "use an IANA name such as Europe/Berlin or America/New_York")
        return value

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, Variable]) -> dict[str, Variable]:
        for name in value:
            if name in BUILTIN_VARIABLES:
                fail(f"variable '{name}' clashes with the built-in '{name}'",
                     "choose another name", at=[name, "#key"])
            if not _IDENTIFIER.match(name):
                fail(f"'{name}' cannot be a variable name",
                     "use letters, digits and '_', starting with a letter", at=[name, "#key"])
        return value
