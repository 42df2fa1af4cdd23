"""Templates (the instructions and the greeting): sandboxed Jinja2, checked at load time.

Owns: the one Jinja environment (immutable sandbox, StrictUndefined, no autoescape, the date
filters of ``spec._dates``), the static checks run by ``load_spec`` (syntax, blocked ``_`` names,
undeclared names) and :func:`render_template`, which renders one template and reports a failure
in plain words at its line (``spec._template_errors``). What a template sees is built in
``spec._render``; variable values come from ``spec._values``.

Plain instructions (no ``{{``, ``{%`` or ``{#``: most agents) are never handed to Jinja: such
text has no syntax to get wrong and no names to check, and Jinja would render it as itself with
its newlines normalised (``\r\n`` and ``\r`` become ``\n``), which :func:`plain` does. Jinja2
is imported only for a real template, so a plain agent starts without it (~30 ms, ~2 MiB).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agentrun._secrets import Secret, SecretFloat, SecretInt, marker, redact
from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._fields import BUILTIN_VARIABLES, did_you_mean
from agentrun.spec._template_errors import at_line, render_problem, syntax_problem

if TYPE_CHECKING:
    from jinja2 import Template, nodes
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = [
    "TemplateOrigin",
    "check_template",
    "is_plain",
    "plain",
    "render_template",
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


_TEMPLATE_MARKS = ("{{", "{%", "{#")  # Jinja's default delimiters; no line statements
_NEWLINES = re.compile(r"\r\n|\r|\n")  # what Jinja's lexer normalises (its newline_re)


def is_plain(source: str) -> bool:
    """True for text with no template syntax: Jinja would output it unchanged."""
    return not any(mark in source for mark in _TEMPLATE_MARKS)


def plain(source: str) -> str:
    """What Jinja renders for plain text, stripped as :func:`render_template` returns it
    (the trailing newline Jinja drops is within the strip)."""
    return _NEWLINES.sub("\n", source).strip()


# Set while a template renders for people to read (``render``, ``--dry-run``): a value read from
# the environment then prints as its marker. A context variable, so concurrent calls never mix.
_HIDING: ContextVar[bool] = ContextVar("agentrun_hiding_secrets", default=False)


def _finalize(value: Any) -> Any:
    """What ``{{ value }}`` prints: nothing for None; the marker of a hidden secret."""
    if value is None:
        return ""
    if isinstance(value, Secret | SecretInt | SecretFloat) and _HIDING.get():
        return marker(value.env_name)
    return value


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

    from jinja2 import pass_context

    from agentrun.spec._dates import DATE_FILTERS

    sandbox = _Sandbox(
        undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False,
        finalize=_finalize)
    sandbox.filters.update({name: pass_context(f) for name, f in DATE_FILTERS.items()})
    return sandbox


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


def check_template(source: str, declared: set[str], origin: TemplateOrigin,
                   label: str = "instructions") -> list[SpecError]:
    """Find every problem in a template without rendering it.

    Args:
        source: the template text.
        declared: variable names declared under ``variables:``.
        origin: where the template sits, for locations.
        label: what the template is (``instructions`` or ``greeting``), for messages.

    Returns:
        SpecErrors for a syntax error, blocked ``_`` names and undeclared names.
    """
    if is_plain(source):
        return []  # no tags: no syntax, no names (and no Jinja import)
    from jinja2 import TemplateSyntaxError, meta

    def error(message: str, template_line: int | None, hint: str | None = None) -> SpecError:
        line, column = origin.locate(template_line)
        return SpecError(message, path=origin.path, line=line, column=column, hint=hint)

    env = _environment()
    use = "use" if label.endswith("s") else "uses"
    try:
        _compile(source)
        ast = env.parse(source)
        undeclared = meta.find_undeclared_variables(ast)
    except TemplateSyntaxError as exc:
        message, hint = syntax_problem(exc.message or "", sorted(env.filters), sorted(env.tests))
        return [error(f"{at_line(label, source, exc.lineno)}: {message}", exc.lineno, hint)]
    except RecursionError:
        return [error(f"{label} nest brackets or tags too deeply", None)]
    problems = [error(f"{label} {use} '{name}', which templates may not reach", line,
                      _BLOCKED_HINT) for name, line in _blocked(ast)]
    known = declared | set(BUILTIN_VARIABLES) | set(env.globals)
    for name in sorted(undeclared - known):
        if name == "env":
            hint = "declare a variable with from_env: NAME to use an environment variable"
        else:
            close = did_you_mean(name, sorted(declared | set(BUILTIN_VARIABLES)), listing=False)
            hint = (close + " " if close else "") + "declare it under variables:"
        problems.append(error(f"{label} {use} '{name}', which is not a declared variable",
                              _first_line(ast, name), hint))
    return problems


def _failing_line(exc: BaseException) -> int | None:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render_template(source: str, context: Mapping[str, Any], origin: TemplateOrigin,
                    label: str = "instructions", *, hide_secrets: bool = False) -> str:
    """Render one template in the sandbox.

    Args:
        source: the template text.
        context: the names it sees (see ``spec._render``).
        origin: where it sits, for messages.
        label: ``instructions`` or ``greeting``.
        hide_secrets: render for people to read: values from the environment print as
            ``[hidden $NAME]`` (the text is also passed through ``redact``).

    Returns:
        The text, stripped of leading and trailing blank space.

    Raises:
        SpecErrors: the template failed; the message names the template line in plain words.
    """
    if is_plain(source):
        return plain(source)
    from jinja2 import TemplateError, TemplateSyntaxError

    token = _HIDING.set(hide_secrets)
    try:
        text = _compile(source).render(context).strip()
        return redact(text) if hide_secrets else text
    except TemplateSyntaxError as exc:
        env = _environment()
        message, hint = syntax_problem(exc.message or "", sorted(env.filters), sorted(env.tests))
        line = exc.lineno
    except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError,
            AttributeError, OverflowError, RecursionError) as exc:
        line = _failing_line(exc)
        try:
            ast = _environment().parse(source)
        except RecursionError:
            ast = None
        message, hint = render_problem(exc, ast, line)
        message = f"cannot be rendered: {redact(message)}"
    finally:
        _HIDING.reset(token)
    where_line, column = origin.locate(line)
    raise SpecErrors([SpecError(f"{at_line(label, source, line)}: {message}", path=origin.path,
                                line=where_line, column=column, hint=hint)]) from None
