"""Instructions templates: sandboxed Jinja2, checked at load time, rendered with typed values.

Owns: the one Jinja environment (immutable sandbox, StrictUndefined, no autoescape), the static
checks run by ``load_spec`` (syntax, blocked ``_`` names, undeclared names), variable values from
``--var`` / call / environment / defaults, and :func:`render_instructions`. Environment values
are read only for variables that say ``from_env`` and never appear in a message.

Plain instructions (no ``{{``, ``{%`` or ``{#``: most agents) are never handed to Jinja: such
text has no syntax to get wrong and no names to check, and Jinja would render it as itself with
its newlines normalised (``\r\n`` and ``\r`` become ``\n``), which :func:`_plain` does. Jinja2
is imported only for a real template, so a plain agent starts without it (~30 ms, ~2 MiB).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._fields import BUILTIN_VARIABLES, coerce_variable, did_you_mean

if TYPE_CHECKING:
    from jinja2 import Template, nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    from agentrun.spec._models import AgentSpec

__all__ = [
    "TemplateOrigin",
    "check_template",
    "render_instructions",
    "trial_render",
    "variable_values",
]

_FILENAME = "<instructions>"
_BLOCKED_HINT = "templates cannot reach names that start with '_'"


@dataclass(frozen=True)
class TemplateOrigin:
    """Where template line 1 sits: the file shown in messages, its line and column."""

    path: str
    line: int = 1
    column: int = 1

    def locate(self, template_line: int | None) -> tuple[int, int]:
        """File (line, column) of a template line (1-based)."""
        if template_line is None or template_line < 1:
            return self.line, self.column
        return self.line + template_line - 1, self.column


_MAX_SIZE = 100_000
_UNSAFE_HINT = "templates can read values but cannot change them or reach Python internals"


_TEMPLATE_MARKS = ("{{", "{%", "{#")  # Jinja's default delimiters; no line statements
_NEWLINES = re.compile(r"\r\n|\r|\n")  # what Jinja's lexer normalises (its newline_re)


def _is_plain(source: str) -> bool:
    """True for text with no template syntax: Jinja would output it unchanged."""
    return not any(mark in source for mark in _TEMPLATE_MARKS)


def _plain(source: str) -> str:
    """What Jinja renders for plain text, stripped as :func:`render_instructions` returns it
    (the trailing newline Jinja drops is within the strip)."""
    return _NEWLINES.sub("\n", source).strip()


@functools.lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _Sandbox(ImmutableSandboxedEnvironment):
        """The immutable sandbox (no `_` attributes, no unsafe callables, no list.append) that
        also refuses `*` and `**` results too big to be meant (`{{ 'a' * 10**9 }}`)."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**":
                if isinstance(right, int | float) and abs(right) > 100:
                    raise OverflowError("exponent too large for a template")
                return left**right
            size = 0
            for sequence, count in ((left, right), (right, left)):
                if isinstance(sequence, str | list | tuple) and isinstance(count, int):
                    size = len(sequence) * count
            if size > _MAX_SIZE:
                raise OverflowError(f"result longer than {_MAX_SIZE} characters or items")
            return left * right

    return _Sandbox(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
        finalize=lambda value: "" if value is None else value)


@functools.lru_cache(maxsize=32)
def _compile(source: str) -> Template:
    env = _environment()
    code = env.compile(source, filename=_FILENAME)
    return env.template_class.from_code(env, code, env.make_globals(None))


def _first_line(ast: nodes.Template, name: str) -> int | None:
    from jinja2 import nodes

    for node in ast.find_all(nodes.Name):
        if node.name == name:
            return node.lineno
    return None


def _blocked(ast: nodes.Template) -> list[tuple[str, int]]:
    """Every ``_``-prefixed attribute, item or ``attr()`` filter argument, with its line."""
    from jinja2 import nodes

    found: list[tuple[str, int]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        if isinstance(node, nodes.Getattr):
            name: Any = node.attr
        elif isinstance(node, nodes.Getitem):
            name = node.arg.value if isinstance(node.arg, nodes.Const) else None
        elif isinstance(node, nodes.Filter):
            first = node.args[0] if node.name == "attr" and node.args else None
            name = first.value if isinstance(first, nodes.Const) else None
        if isinstance(name, str) and name.startswith("_"):
            found.append((name, node.lineno))
    return found


def check_template(source: str, declared: set[str], origin: TemplateOrigin) -> list[SpecError]:
    """Find every problem in a template without rendering it.

    Args:
        source: the template text.
        declared: variable names declared under ``variables:``.
        origin: where the template sits, for locations.

    Returns:
        SpecErrors for a syntax error, blocked ``_`` names and undeclared names.
    """
    if _is_plain(source):
        return []  # no tags: no syntax, no names (and no Jinja import)
    from jinja2 import TemplateSyntaxError, meta

    def error(message: str, template_line: int | None, hint: str | None = None) -> SpecError:
        line, column = origin.locate(template_line)
        return SpecError(message, path=origin.path, line=line, column=column, hint=hint)

    env = _environment()
    try:
        _compile(source)
        ast = env.parse(source)
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:
        return [error(f"template error in instructions: {exc.message}", exc.lineno,
                      "check the {{ }} and {% %} tags")]
    except RecursionError:
        return [error("instructions nest brackets or tags too deeply", None)]
    problems = [error(f"instructions use '{name}', which templates may not reach", line,
                      _BLOCKED_HINT) for name, line in _blocked(ast)]
    known = declared | set(BUILTIN_VARIABLES) | set(env.globals)
    for name in sorted(undeclared - known):
        if name == "env":
            hint = "declare a variable with from_env: NAME to use an environment variable"
        else:
            close = did_you_mean(name, sorted(declared | set(BUILTIN_VARIABLES)), listing=False)
            hint = (close + " " if close else "") + "declare it under variables:"
        problems.append(error(f"instructions use '{name}', which is not a declared variable",
                              _first_line(ast, name), hint))
    return problems


def variable_values(spec: AgentSpec, given: Mapping[str, Any] | None = None,
                    environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The typed value of every declared variable.

    Precedence: ``given`` (``--var`` or per call) > ``from_env`` > ``default``.

    Args:
        spec: the agent.
        given: values by name (text is converted to the declared type).
        environ: the environment (defaults to ``os.environ``).

    Returns:
        Values by name (None for an optional variable without value).

    Raises:
        SpecErrors: an unknown or badly typed value, a required variable without value, an
            environment variable that is not set. Environment values are never shown.
    """
    environ = os.environ if environ is None else environ
    given = dict(given or {})
    shown_path = str(spec.path) if spec.path else "<agent>"
    problems: list[SpecError] = []

    def error(name: str | None, message: str, hint: str | None = None) -> None:
        where = spec.location(("variables", name), key=True) if name else None
        line, column = where or (None, None)
        problems.append(SpecError(message, path=shown_path, line=line, column=column, hint=hint))

    for name in sorted(set(given) - set(spec.variables)):
        hint = did_you_mean(name, list(spec.variables)) or "this agent declares no variables"
        problems.append(SpecError(f"--var {name}: the agent has no variable '{name}'",
                                  path=shown_path, hint=hint))
    values: dict[str, Any] = {}
    for name, var in spec.variables.items():
        if name in given:
            try:
                values[name] = coerce_variable(var.type, given[name])
            except ValueError as exc:
                error(name, f"--var {name}={given[name]}: {exc}",
                      f"'{name}' is declared as {var.type}")
        elif var.from_env and environ.get(var.from_env) is not None:
            try:
                values[name] = coerce_variable(var.type, environ[var.from_env])
            except ValueError as exc:
                error(name, f"environment variable {var.from_env} (for '{name}') is not valid: "
                      f"{exc}", f"'{name}' is declared as {var.type}")
        elif var.default is not None:
            values[name] = var.default
        elif var.from_env:
            error(name, f"variable '{name}' reads environment variable {var.from_env}, "
                  "which is not set", f"set {var.from_env} or pass --var {name}=VALUE")
        elif var.required:
            error(name, f"variable '{name}' is required but has no value",
                  f"pass --var {name}=VALUE")
        else:
            values[name] = None
    if problems:
        raise SpecErrors(problems)
    return values


def _failing_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_instructions(spec: AgentSpec, variables: Mapping[str, Any] | None = None, *,
                        call: Mapping[str, Any] | None = None,
                        now: datetime | None = None) -> str:
    """Render the agent's instructions.

    Args:
        spec: the loaded agent.
        variables: values by variable name (``--var``; text is converted to the declared type).
        call: facts about the current call (``caller``, ``call_id``, …) for ``call.*``.
        now: the time for ``now`` (default: the current time); shown in the spec's timezone.

    Returns:
        The instructions text, stripped of leading and trailing blank space.

    Raises:
        SpecErrors: bad or missing variable values, or a template that fails while rendering.
    """
    return _render(spec, variable_values(spec, variables), call, now)


_PLACEHOLDERS: dict[str, Any] = {"integer": 1, "number": 1.5, "boolean": True}


def trial_render(spec: AgentSpec) -> list[SpecError]:
    """Render once with stand-in values to find failures only rendering shows.

    A misspelt method (``now.strftme``) or a filter applied to the wrong kind of value passes
    the load-time checks; ``agentrun check`` calls this so the author hears about it before a
    call does. Variables without a default get a stand-in of their type (the environment is
    not read).

    Args:
        spec: a loaded agent.

    Returns:
        The problems found (empty when the template renders).
    """
    values = {name: var.default if var.default is not None else
              _PLACEHOLDERS.get(var.type, f"<{name}>") for name, var in spec.variables.items()}
    try:
        _render(spec, values, {"caller": "+15550100", "id": "trial", "call_id": "trial"}, None)
    except SpecErrors as exc:
        return list(exc.errors)
    return []


def _render(spec: AgentSpec, context: dict[str, Any], call: Mapping[str, Any] | None,
            now: datetime | None) -> str:
    if _is_plain(spec.template):
        return _plain(spec.template)
    from zoneinfo import ZoneInfo

    from jinja2 import TemplateError, TemplateSyntaxError

    tz = ZoneInfo(spec.timezone)
    now = datetime.now(tz) if now is None else (
        now.replace(tzinfo=tz) if now.tzinfo is None else now.astimezone(tz))
    facts = {"caller": "", "id": "", "call_id": "", **(call or {})}
    context = {**context, "now": now, "call": facts,
               "agent": {"name": spec.name, "description": spec.description,
                         "voice": spec.voice_id}}
    origin: TemplateOrigin = spec._template_origin or TemplateOrigin(
        str(spec.path) if spec.path else "<agent>")
    try:
        return _compile(spec.template).render(context).strip()
    except TemplateSyntaxError as exc:
        line, column = origin.locate(exc.lineno)
        raise SpecErrors([SpecError(f"template error in instructions: {exc.message}",
                                    path=origin.path, line=line, column=column)]) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
            AttributeError, OverflowError, RecursionError) as exc:
        line, column = origin.locate(_failing_line(exc))
        reason = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise SpecErrors([SpecError(f"instructions could not be rendered: {reason}",
                                    path=origin.path, line=line, column=column,
                                    hint=_UNSAFE_HINT if "unsafe" in reason else None)]
                         ) from None
