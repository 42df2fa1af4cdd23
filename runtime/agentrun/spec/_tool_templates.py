"""Templates in YAML tools (``http:`` URLs, headers, query, body, response; ``mcp:`` headers).

Owns: checking such a template without rendering it (syntax, blocked ``_`` names, undeclared
names, undeclared ``secrets.NAME``) and rendering it in the same immutable sandbox as the
instructions (``spec._template``). In a URL every inserted value is percent-encoded unless it is
marked :class:`Raw` (the agent's own variables are: one may hold a base URL), so an argument the
model fills in can never change the host, the path or the query of the request.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from agentrun.spec._fields import did_you_mean
from agentrun.spec._template import _blocked, _compile, _environment

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.sandbox import ImmutableSandboxedEnvironment

__all__ = ["Raw", "render_tool_template", "template_names", "template_problem"]

_MARKS = ("{{", "{%", "{#")


class Raw(str):
    """A value inserted into a URL template as written (the agent's variables)."""

    __slots__ = ()


def _encode(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Raw):
        return str.__str__(value)
    text = value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
        else str(value)
    if text in (".", ".."):  # a bare dot segment would climb the path on many servers
        return text.replace(".", "%2E")
    return quote(text, safe="")


@functools.lru_cache(maxsize=1)
def _url_environment() -> ImmutableSandboxedEnvironment:
    return _environment().overlay(finalize=_encode)


@functools.lru_cache(maxsize=256)
def _compile_url(source: str) -> Template:
    env = _url_environment()
    code = env.compile(source, filename="<url>")
    return env.template_class.from_code(env, code, env.make_globals(None))


def template_names(source: str) -> set[str]:
    """The top-level names a template reads (``{{ day }}`` → ``{"day"}``); empty when plain.

    Raises:
        jinja2.TemplateSyntaxError: the template does not parse.
    """
    if not any(mark in source for mark in _MARKS):
        return set()
    from jinja2 import meta

    return set(meta.find_undeclared_variables(_environment().parse(source)))


def _secret_references(source: str) -> Iterable[str]:
    from jinja2 import nodes

    ast = _environment().parse(source)
    for node in ast.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name == "secrets":
            yield node.attr


def template_problem(source: str, *, secrets: set[str] | None = None,
                     names: set[str] | None = None) -> tuple[str, str | None] | None:
    """What is wrong with a tool template, in one sentence and a hint (None when nothing is).

    Args:
        source: the template text.
        secrets: the declared secret names (``secrets.NAME`` must be one); None: no secrets here.
        names: the names the template may read besides ``secrets``; None: not checked here
            (the agent's variables are only known to the whole file).

    Returns:
        ``(message, hint)``, or None.
    """
    if not any(mark in source for mark in _MARKS):
        return None
    from jinja2 import TemplateSyntaxError

    try:
        _compile(source)
        used = template_names(source)
        referenced = set(_secret_references(source))
    except TemplateSyntaxError as exc:
        return exc.message or "the template does not parse", "check the {{ }} and {% %} tags"
    except RecursionError:
        return "brackets or tags nest too deeply", None
    blocked = _blocked(_environment().parse(source))
    if blocked:
        return f"'{blocked[0][0]}' cannot be reached", "names starting with '_' are blocked"
    if "secrets" in used:
        if secrets is None:
            return "secrets cannot be used here", None
        unknown = sorted(referenced - secrets)
        if unknown:
            return _undeclared_secrets(unknown, secrets)
    if names is not None:
        unknown = sorted(used - names - {"secrets"})
        if unknown:
            return f"'{unknown[0]}' is not known here", "only secrets.NAME can be used here"
    return None


def _undeclared_secrets(unknown: list[str], secrets: set[str]) -> tuple[str, str]:
    """``secrets.tokn is not declared under secrets:`` with a did-you-mean hint."""
    listed = ", ".join(f"secrets.{name}" for name in unknown)
    verb = "is" if len(unknown) == 1 else "are"
    if not secrets:
        return (f"{listed} {verb} not declared under secrets:",
                f"declare it: secrets: {{{unknown[0]}: ENV_VARIABLE}}")
    close = did_you_mean(unknown[0], sorted(secrets), listing=False)
    declared = "declared: " + ", ".join(sorted(secrets))
    return f"{listed} {verb} not declared under secrets:", (close + " " if close else "") + declared


def render_tool_template(source: str, values: Mapping[str, Any], *, url: bool = False) -> str:
    """Render a tool template in the sandbox.

    Args:
        source: the template text (plain text is returned as is).
        values: the names it may read (arguments, variables as :class:`Raw`, ``secrets``).
        url: percent-encode every inserted value that is not :class:`Raw`.

    Returns:
        The text.

    Raises:
        jinja2.TemplateError: the template failed (an undefined name, a sandbox violation).
        OverflowError: the result would be absurdly long.
    """
    if not any(mark in source for mark in _MARKS):
        return source
    template = _compile_url(source) if url else _compile(source)
    return template.render(dict(values))
