"""The test file (``*.test.yaml``) as pydantic models: the one source of truth for its checks,
its messages and its JSON Schema (``agentrun schema --tests``).

Owns: every key an author can write in a test file, its description, examples and the checks
that need nothing but the file itself (exactly one of ``say``/``audio``, a valid regular
expression, unique scenario names…). Checks against the agent (its tools, its variables) and
the file system (WAV files) are in ``_load``. Problems go through ``spec._fields.fail`` so
``spec._located`` puts them on the right line. Imports only ``agentrun.spec`` private modules.
No ``from __future__ import annotations`` (pydantic evaluates the annotations at import).
"""

import re
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from agentrun.spec._duration import duration
from agentrun.spec._fields import fail, shown

__all__ = [
    "CallFacts",
    "Mock",
    "MockResult",
    "ModelCall",
    "ModelScript",
    "Scenario",
    "ScenarioExpect",
    "TestFile",
    "TextCheck",
    "ToolCheck",
    "Turn",
    "TurnExpect",
]

_PLAIN = ConfigDict(extra="forbid")
DEFAULT_TIMEOUT = 60.0
"""Seconds a scenario may take unless the file says ``timeout:`` (generous: CI machines are slow,
and a scenario that needs more is stuck, not slow)."""

Seconds = duration("s", gt=0, le=3600)
Delay = duration("s", ge=0, le=3600)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, list | dict):
        fail(f"a variable's value is text, a number or true/false, got {shown(value)}")
    return value


Scalar = Annotated[str | int | float | bool, BeforeValidator(_scalar)]


def _texts(value: Any) -> Any:
    """``contains: shipped`` is shorthand for ``contains: [shipped]``."""
    return [value] if isinstance(value, str) else value


Texts = Annotated[list[str], BeforeValidator(_texts, json_schema_input_type=str | list[str])]


def _empty_list() -> list[Any]:
    return []


def _empty_dict() -> dict[str, Any]:
    return {}


def _bare(key: str) -> Any:
    """A before-validator making ``VALUE`` shorthand for ``{key: VALUE}``."""
    def wrap(cls: type, value: Any) -> Any:
        return {key: value} if isinstance(value, str) else value
    return model_validator(mode="before")(classmethod(wrap))  # type: ignore[arg-type]


class TextCheck(BaseModel):
    """What a text (the greeting, a reply, a tool's output) must say. Case is ignored.

    ``reply: shipped`` is shorthand for ``reply: {contains: shipped}``.
    """

    model_config = _PLAIN
    contains: Texts = Field(default_factory=_empty_list, description="Words that must appear "
                            "(each of them, anywhere; case is ignored).",
                            examples=["shipped", ["UPS", "tracking"]])
    matches: str | None = Field(default=None, description="A regular expression (Python "
                                "syntax) that must match somewhere in the text; case is "
                                "ignored.", examples=[r"T-\d{4}"])
    excludes: Texts = Field(default_factory=_empty_list, description="Words that must not "
                            "appear (case is ignored).", examples=[["sorry", "error"]])

    _shorthand = _bare("contains")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"type": "string", "examples": ["shipped"]}, handler(core_schema)]}

    @model_validator(mode="after")
    def _something(self) -> "TextCheck":
        if not (self.contains or self.matches or self.excludes):
            fail("say what the text must contain, match or exclude",
                 "e.g. {contains: shipped} or just the word: shipped")
        if any(not word.strip() for word in self.contains + self.excludes):
            fail("an empty text matches everything", "write the words to look for")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                fail(f"matches is not a valid regular expression: {exc.msg}",
                     "escape special characters such as ( ) [ ] . * + ? with a backslash",
                     at=["matches"])
        return self

    @property
    def pattern(self) -> "re.Pattern[str] | None":
        """The compiled ``matches`` (case-insensitive), or None."""
        return None if self.matches is None else re.compile(self.matches, re.IGNORECASE)


class ToolCheck(BaseModel):
    """A tool call the model made in this turn.

    ``tool: lookup_order`` is shorthand for ``tool: {name: lookup_order}`` (called, with any
    arguments).
    """

    model_config = _PLAIN
    name: str = Field(min_length=1, description="The tool, by the name the model sees.",
                      examples=["lookup_order"])
    arguments: dict[str, Any] | None = Field(
        default=None, description="Arguments the call must have had (at least these; others "
        "may be present too). Text is compared ignoring case and surrounding spaces; 1234 and "
        "'1234' are the same.", examples=[{"order_id": "1234"}])
    output: TextCheck | None = Field(default=None, description="What the tool's output (what "
                                     "the model got back) must contain or match.",
                                     examples=["shipped"])
    fails: bool | None = Field(default=None, description="true: the call must fail (the model "
                               "got an error); false: it must succeed. Left out, a failure "
                               "fails the scenario unless the tool is mocked with `error:`.",
                               examples=[True])

    _shorthand = _bare("name")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"type": "string", "examples": ["lookup_order"]},
                          handler(core_schema)]}


class TurnExpect(BaseModel):
    """What must have happened by the end of a turn (each key is one check)."""

    model_config = _PLAIN
    reply: TextCheck | None = Field(default=None, description="The agent's reply to this turn "
                                    "(everything it said) contains / matches / excludes.",
                                    examples=["shipped", {"matches": r"T-\d+"}])
    tool: ToolCheck | None = Field(default=None, description="A tool the model called in this "
                                   "turn, with these arguments.",
                                   examples=[{"name": "lookup_order",
                                              "arguments": {"order_id": "1234"}}])
    tools: list[ToolCheck] = Field(default_factory=_empty_list, description="Several tools the "
                                   "model called in this turn (in any order).",
                                   examples=[["lookup_order", "create_ticket"]])
    no_tool: bool = Field(default=False, description="true: the model called no tool in this "
                          "turn.", examples=[True])
    ended: bool | None = Field(default=None, description="true: the call ended during this "
                               "turn (the agent's side ended it, not the caller); false: it is "
                               "still going.", examples=[True])
    latency_under: Seconds | None = Field(  # type: ignore[valid-type]
        default=None, description="The reply began within this time after the caller finished "
        "the turn (seconds, or '800ms'). Measured on the simulator offline, on Grok with "
        "--live; a tool call's time counts.", examples=["1.5s"])

    @model_validator(mode="after")
    def _consistent(self) -> "TurnExpect":
        if self.no_tool and (self.tool is not None or self.tools):
            fail("no_tool: true contradicts the tool expected in this turn",
                 "keep either no_tool or tool/tools", at=["no_tool", "#key"])
        return self

    @property
    def tool_checks(self) -> list[ToolCheck]:
        """``tool`` and ``tools`` together."""
        return ([self.tool] if self.tool is not None else []) + list(self.tools)


class ModelCall(BaseModel):
    """One tool call the simulated model makes."""

    model_config = _PLAIN
    name: str = Field(min_length=1, description="The tool to call.", examples=["lookup_order"])
    arguments: dict[str, Any] = Field(default_factory=_empty_dict, description="Its arguments, "
                                      "as the model would send them.",
                                      examples=[{"order_id": "1234"}])


class ModelScript(BaseModel):
    """What the simulated model does in this turn (offline only: with --live the real model
    decides, and only the expectations count).

    ``model: TEXT`` is shorthand for ``model: {say: TEXT}``. Left out, the simulator answers
    with a templated reply (``(simulated) You said: …``; after a tool call, its output).
    """

    model_config = _PLAIN
    say: str | None = Field(default=None, description="The model's reply, spoken verbatim.",
                            examples=["Your order ships tomorrow."])
    call: str | None = Field(default=None, description="A tool the model calls.",
                             examples=["lookup_order"])
    arguments: dict[str, Any] | None = Field(default=None, description="The arguments of "
                                             "`call`.", examples=[{"order_id": "1234"}])
    calls: list[ModelCall] = Field(default_factory=_empty_list, description="Several tool "
                                   "calls in one response.",
                                   examples=[[{"name": "lookup_order",
                                               "arguments": {"order_id": "1234"}}]])
    then: str | None = Field(default=None, description="What the model says once the tools "
                             "answered (default: a templated summary of their outputs).",
                             examples=["It shipped with UPS."])

    _shorthand = _bare("say")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"type": "string"}, handler(core_schema)]}

    @model_validator(mode="after")
    def _consistent(self) -> "ModelScript":
        if self.arguments is not None and self.call is None:
            fail("arguments belong to a call", "add call: TOOL_NAME next to them",
                 at=["arguments", "#key"])
        if self.say is not None and self.all_calls:
            fail("give say: for a reply, or call: for a tool call, not both",
                 "what the model says after the tool answered goes under then:",
                 at=["say", "#key"])
        if self.then is not None and not self.all_calls:
            fail("then: is what the model says after a tool call", "add call: TOOL_NAME, or "
                 "use say: for a plain reply", at=["then", "#key"])
        return self

    @property
    def all_calls(self) -> list[ModelCall]:
        """``call``/``arguments`` and ``calls`` together."""
        first = ([ModelCall(name=self.call, arguments=self.arguments or {})]
                 if self.call is not None else [])
        return first + list(self.calls)


class Turn(BaseModel):
    """One caller turn: what the caller says, what the simulated model does, what to expect.

    ``- Where is my order?`` is shorthand for ``- say: Where is my order?``.
    """

    model_config = _PLAIN
    say: str | None = Field(default=None, min_length=1, description="What the caller says "
                            "(a typed turn).", examples=["Where is my order 1234?"])
    audio: str | None = Field(default=None, min_length=1, description="A sound file (WAV) the "
                              "caller speaks, relative to this test file.",
                              examples=["audio/where-is-my-order.wav"])
    model: ModelScript | None = Field(default=None, description="What the simulated model does "
                                      "(offline only).",
                                      examples=[{"call": "lookup_order",
                                                 "arguments": {"order_id": "1234"}}])
    expect: TurnExpect = Field(default_factory=TurnExpect, description="What must have "
                               "happened by the end of this turn.",
                               examples=[{"tool": "lookup_order", "reply": "shipped"}])

    _shorthand = _bare("say")

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> Any:
        return {"anyOf": [{"type": "string", "examples": ["Where is my order?"]},
                          handler(core_schema)]}

    @model_validator(mode="after")
    def _one_input(self) -> "Turn":
        if self.say is not None and self.audio is not None:
            fail("a turn is either typed (say:) or spoken (audio:), not both",
                 "make two turns", at=["audio", "#key"])
        if self.say is None and self.audio is None:
            fail("a turn needs what the caller says", "add say: TEXT or audio: FILE.wav")
        return self

    @property
    def shown(self) -> str:
        """The turn as messages quote it: ``"Where is…"`` or ``audio q1.wav``."""
        if self.say is not None:
            text = self.say if len(self.say) <= 50 else self.say[:47] + "..."
            return f'"{text}"'
        return f"audio {self.audio}"


class MockResult(BaseModel):
    """One answer of a mocked tool: a result or an error, optionally after a delay."""

    model_config = _PLAIN
    result: Any = Field(default=None, description="What the tool returns (text, a number, a "
                        "list or a mapping; sent to the model as the tool's output).",
                        examples=[{"found": True, "status": "shipped"}])
    error: str | None = Field(default=None, min_length=1, description="Make the call fail "
                              "with this message, as if the tool raised it.",
                              examples=["the order database is down"])
    delay: Delay | None = Field(  # type: ignore[valid-type]
        default=None, description="Answer after this long (seconds, or '800ms'); the tool's "
        "timeout still applies.", examples=["2s"])

    def _check_outcome(self, allow_none: bool) -> None:
        given = "result" in self.model_fields_set
        if given and self.error is not None:
            fail("give result: or error:, not both", "a call either returns or fails",
                 at=["error", "#key"])
        if not allow_none and not given and self.error is None:
            fail("say what the mocked call returns", "add result: VALUE or error: MESSAGE")

    @property
    def is_error(self) -> bool:
        """True when this answer is a failure."""
        return self.error is not None

    @model_validator(mode="after")
    def _outcome(self) -> "MockResult":
        self._check_outcome(allow_none=type(self) is not MockResult)
        return self


class Mock(MockResult):
    """A tool's stand-in for every scenario (or one scenario): a fixed result, an error, a
    delay, or a list of results returned in turn. The model's arguments are still checked
    against the tool's declared parameters, so a mock never hides a wrong argument.

    Only ``delay:`` runs the real tool after the delay.
    """

    results: list[MockResult] | None = Field(
        default=None, min_length=1, description="One answer per call, in turn; a call after "
        "the last one fails the scenario.",
        examples=[[{"result": {"found": False}}, {"error": "timeout"}]])

    @model_validator(mode="after")
    def _whole(self) -> "Mock":
        given = "result" in self.model_fields_set or self.error is not None
        if self.results is not None and given:
            fail("give results: (one answer per call) or a single result:/error:, not both",
                 at=["results", "#key"])
        if self.results is None and not given and self.delay is None:
            fail("a mock needs result:, error:, results: or delay:",
                 "e.g. {result: {found: true}} or {error: the database is down}")
        return self

    @property
    def runs_real_tool(self) -> bool:
        """True for a delay-only mock: the real tool runs after the delay."""
        return (self.results is None and "result" not in self.model_fields_set
                and self.error is None)


class CallFacts(BaseModel):
    """Facts about the call, for ``call.*`` in the agent's templates."""

    model_config = _PLAIN
    caller: str | None = Field(default=None, description="The caller's number or address.",
                               examples=["+15550100"])
    id: str | None = Field(default=None, description="The call's id.", examples=["CA123"])

    def facts(self) -> dict[str, str]:
        """As ``Agent.run(call=...)`` takes them."""
        return {key: value for key, value in (("caller", self.caller), ("id", self.id))
                if value is not None}


def _time(value: Any) -> Any:
    if not isinstance(value, str):
        fail(f"now must be a time like 2026-03-02T09:30, got {shown(value)}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        fail(f"now must be a time like 2026-03-02T09:30, got {shown(value)}")
    return value


Time = Annotated[str, BeforeValidator(_time)]


class ScenarioExpect(BaseModel):
    """What must hold for the whole call."""

    model_config = _PLAIN
    greeting: TextCheck | None = Field(default=None, description="The agent's greeting "
                                       "contains / matches / excludes.",
                                       examples=["Acme support"])


class _Settings(BaseModel):
    """Keys a scenario may override from the file."""

    model_config = _PLAIN
    variables: dict[str, Scalar] = Field(default_factory=_empty_dict, description="Values of "
                                         "the agent's template variables.",
                                         examples=[{"company": "Acme"}])
    call: CallFacts | None = Field(default=None, description="Facts about the call for "
                                   "`call.*` in templates.",
                                   examples=[{"caller": "+15550100", "id": "CA123"}])
    now: Time | None = Field(default=None, description="The time templates see as `now` "
                             "(in the agent's timezone), for repeatable tests.",
                             examples=["2026-03-02T09:30"])
    mocks: dict[str, Mock] = Field(default_factory=_empty_dict, description="Tool name → its "
                                   "stand-in. Tools without a mock run for real.",
                                   examples=[{"create_ticket": {"result": {"ticket_id": "T-1"}}}])
    timeout: Seconds | None = Field(  # type: ignore[valid-type]
        default=None, description="Longest a scenario may take (seconds, or '2m'); it then "
        "fails, saying where it stopped. Default 60 s.", examples=["30s"])


class Scenario(_Settings):
    """One call: the turns in order, each with what to expect. Keys given here override the
    file's (mocks per tool)."""

    name: str = Field(min_length=1, description="What the scenario shows, as reports name it.",
                      examples=["looks up an order"])
    expect: ScenarioExpect = Field(default_factory=ScenarioExpect, description="What must "
                                   "hold for the whole call (the greeting).",
                                   examples=[{"greeting": "How can I help"}])
    turns: list[Turn] = Field(default_factory=_empty_list, description="The caller's turns, "
                              "in order.", examples=[["Where is my order 1234?"]])

    @model_validator(mode="after")
    def _something_to_check(self) -> "Scenario":
        if not self.turns and self.expect.greeting is None:
            fail("a scenario needs turns: or a greeting to check",
                 "add turns: with what the caller says, or expect: {greeting: …}")
        for index, turn in enumerate(self.turns[:-1]):
            if turn.expect.ended is True:
                fail("the call is expected to end in this turn, so the turns after it can "
                     "never happen", "make it the last turn, or start another scenario",
                     at=["turns", index, "expect", "ended"])
        return self


class TestFile(_Settings):
    """A conversation test file: the agent under test and its scenarios."""

    __test__: ClassVar[bool] = False  # not a pytest test class
    agent: str = Field(min_length=1, description="The agent file, relative to this test file.",
                       examples=["support.yaml"])
    scenarios: list[Scenario] = Field(json_schema_extra={"minItems": 1},
                                      description="The scenarios; each is its "
                                      "own call with fresh state.",
                                      examples=[[{"name": "greets",
                                                  "expect": {"greeting": "Hello"}}]])

    @field_validator("scenarios")
    @classmethod
    def _some(cls, value: list[Scenario]) -> list[Scenario]:
        if not value:
            fail("a test file needs at least one scenario",
                 "add one: - name: …, with turns: or expect: {greeting: …}")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> "TestFile":
        seen: dict[str, int] = {}
        for index, scenario in enumerate(self.scenarios):
            if scenario.name in seen:
                fail(f"two scenarios are named '{scenario.name}'",
                     f"also scenario {seen[scenario.name] + 1}; names pick scenarios with -k "
                     "and label reports", at=["scenarios", index, "name"])
            seen[scenario.name] = index
        return self
