"""Rendering an agent's templates: the instructions and the greeting, for one call.

Owns: what a template sees (declared variables, ``now`` in the agent's time zone, ``agent``,
``call``), :func:`render_instructions`, :func:`render_greeting` and :func:`trial_render`, the
render ``agentrun check`` and ``Agent.load`` do before any call so a template that fails is an
error at load time, not halfway through a call.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentrun._secrets import Secret, SecretFloat, SecretInt, marker
from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._template import TemplateOrigin, is_plain, render_template
from agentrun.spec._values import variable_values

if TYPE_CHECKING:
    from agentrun.spec._models import AgentSpec

__all__ = ["render_greeting", "render_instructions", "trial_render"]

_STAND_INS: dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True}


def _context(spec: AgentSpec, values: Mapping[str, Any], call: Mapping[str, Any] | None,
             now: datetime | None) -> dict[str, Any]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(spec.timezone)
    now = datetime.now(tz) if now is None else (
        now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz))
    facts = {"caller": "", "id": "", "call_id": "", **(call or {})}
    return {**values, "now": now, "call": facts,
            "agent": {"name": spec.name, "description": spec.description,
                      "voice": spec.voice_id, "language": spec.language}}


def _origin(spec: AgentSpec, attribute: str) -> TemplateOrigin:
    found = getattr(spec, attribute, None)
    return found or TemplateOrigin(str(spec.path) if spec.path else "<agent>")


class _Hidden:
    """A value read from the environment, as a template rendered for people to read sees it.

    Whatever text the template makes of it (``'PIN ' ~ pin``, ``token | replace(...)``,
    ``token[:4]``) is made of its marker, ``[hidden $NAME]``, never of the value: searching the
    output for the value afterwards cannot find a changed or a short one. Comparisons and truth
    use the real value, so ``{% if stage == 'prod' %}`` takes the branch the call takes.
    """

    __slots__ = ("_shown", "_value")

    def __init__(self, value: Secret | SecretInt | SecretFloat) -> None:
        self._value: Any = value  # its own type: `pin == 12` compares numbers
        self._shown = marker(value.env_name)

    def __str__(self) -> str:
        return self._shown

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        return format(self._shown, spec)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._shown, name)  # str methods work on the marker

    def __getitem__(self, key: Any) -> str:
        return self._shown[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._shown)

    def __add__(self, other: Any) -> Any:
        return self._shown + other

    def __radd__(self, other: Any) -> Any:
        return other + self._shown

    def _real(self, other: Any) -> Any:
        return other._value if isinstance(other, _Hidden) else other

    def __eq__(self, other: object) -> bool:
        return self._value == self._real(other)

    def __ne__(self, other: object) -> bool:
        return self._value != self._real(other)

    def __lt__(self, other: Any) -> bool:
        return bool(self._value < self._real(other))

    def __gt__(self, other: Any) -> bool:
        return bool(self._value > self._real(other))

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._shown)  # a sequence of the marker's characters, like [] and iter()

    def __reversed__(self) -> Iterator[str]:
        return reversed(self._shown)

    def __contains__(self, item: Any) -> bool:
        return self._real(item) in self._value


_SECRETS = (Secret, SecretInt, SecretFloat)  # values read from the environment
_ANY_CASE_MARKER = re.compile(r"\[hidden \$(\w+)\]", re.IGNORECASE)


def _render(spec: AgentSpec, source: str, label: str, values: Mapping[str, Any],
            call: Mapping[str, Any] | None, now: datetime | None, hide: bool = False) -> str:
    origin = _origin(spec, "_template_origin" if label == "instructions" else "_greeting_origin")
    context = {} if is_plain(source) else _context(spec, values, call, now)
    if not hide or not any(isinstance(v, _SECRETS) for v in values.values()):
        return render_template(source, context, origin, label, hide_secrets=hide)
    shown = render_template(source, context, origin, label, hide_secrets=True)  # errors as run
    hidden = {k: _Hidden(v) if isinstance(v, _SECRETS) else v for k, v in context.items()}
    try:
        text = render_template(source, hidden, origin, label, hide_secrets=True)
    except SpecErrors:  # a filter that needs the real value (`| int`): the redacted text
        return shown
    names = {v.env_name.lower(): v.env_name for v in values.values() if isinstance(v, _SECRETS)}
    # `{{ token | upper }}` shouts the marker too: show it as written
    return _ANY_CASE_MARKER.sub(
        lambda m: marker(names[m.group(1).lower()]) if m.group(1).lower() in names
        else m.group(0), text)


def render_instructions(spec: AgentSpec, variables: Mapping[str, Any] | None = None, *,
                        call: Mapping[str, Any] | None = None,
                        now: datetime | None = None, hide_secrets: bool = False) -> str:
    """Render the agent's instructions.

    Args:
        spec: the loaded agent.
        variables: values by variable name (``--var``; text is converted to the declared type).
        call: facts about the current call (``caller``, ``id``, …) for ``call.*``.
        now: the time for ``now`` (default: the current time); shown in the spec's timezone.
        hide_secrets: for people to read (``render``, ``--dry-run``): a value read from the
            environment prints as ``[hidden $NAME]``.

    Returns:
        The instructions text, stripped of leading and trailing blank space.

    Raises:
        SpecErrors: bad or missing variable values, or a template that fails while rendering.
    """
    return _render(spec, spec.template, "instructions", variable_values(spec, variables),
                   call, now, hide_secrets)


def render_greeting(spec: AgentSpec, variables: Mapping[str, Any] | None = None, *,
                    call: Mapping[str, Any] | None = None,
                    now: datetime | None = None, hide_secrets: bool = False) -> str | None:
    """Render the agent's greeting, a template like the instructions.

    Args:
        spec: the loaded agent.
        variables: values by variable name, as for :func:`render_instructions`.
        call: facts about the current call for ``call.*``.
        now: the time for ``now`` (default: the current time).
        hide_secrets: as for :func:`render_instructions`.

    Returns:
        What the agent says first, or None when the file has no greeting.

    Raises:
        SpecErrors: bad or missing variable values, or a template that fails while rendering.
    """
    if spec.greeting is None:
        return None
    return _render(spec, spec.greeting, "greeting", variable_values(spec, variables), call, now,
                   hide_secrets)


def trial_render(spec: AgentSpec, values: Mapping[str, Any] | None = None) -> list[SpecError]:
    """Render the instructions and the greeting once, to find failures only rendering shows.

    A misspelt method (``now.strftme``) or a filter applied to the wrong kind of value passes
    the load-time checks; ``agentrun check`` and ``Agent.load`` call this so the author hears
    about it before a call does.

    Args:
        spec: a loaded agent.
        values: typed values by name (see ``spec._values.resolve_values``); a variable without
            one gets a stand-in of its type. None: stand-ins for every variable without a
            default (the environment is not read).

    Returns:
        The problems found (empty when both render to some text).
    """
    given = dict(values or {})
    filled = {name: given[name] if name in given else var.default if var.default is not None
              else _STAND_INS.get(var.type, f"<{name}>") for name, var in spec.variables.items()}
    problems: list[SpecError] = []
    texts = [(spec.template, "instructions")]
    if spec.greeting is not None:
        texts.append((spec.greeting, "greeting"))
    for source, label in texts:
        try:
            text = _render(spec, source, label, filled, None, None)
        except SpecErrors as exc:
            problems.extend(exc.errors)
            continue
        if not text:
            origin = _origin(spec, "_template_origin" if label == "instructions"
                             else "_greeting_origin")
            verb = "render" if label == "instructions" else "renders"
            problems.append(SpecError(f"the {label} {verb} to nothing", path=origin.path,
                                      line=origin.line, column=origin.column,
                                      hint="check the {% if %} blocks and the variables it uses"))
    return problems
