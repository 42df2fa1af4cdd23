"""Variable values: ``--var`` (or the call) > ``from_env`` > ``default``, typed and checked.

Owns: the value of every declared variable and every problem finding one (an unknown ``--var``,
a value of the wrong type, an environment variable that is not set, a required variable without
a value), each with the exact fix. Environment values are read only for variables that say
``from_env``; each is remembered as a secret (``agentrun._secrets``) as it is read, so nothing
agentrun prints shows it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from agentrun._secrets import remember, secret
from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._fields import coerce_variable, did_you_mean

if TYPE_CHECKING:
    from agentrun.spec._models import AgentSpec

__all__ = ["resolve_values", "variable_values"]


def resolve_values(spec: AgentSpec, given: Mapping[str, Any] | None = None,
                   environ: Mapping[str, str] | None = None, *,
                   unknown: Literal["error", "ignore"] = "error",
                   ) -> tuple[dict[str, Any], list[SpecError]]:
    """The typed value of every declared variable that has one, and every problem.

    Args:
        spec: the agent (a partial one is fine: only ``variables``, ``path`` and ``location``
            are read).
        given: values by name (``--var`` or per call; text is converted to the declared type).
        environ: the environment (defaults to ``os.environ``).
        unknown: ``ignore`` to skip given names the agent does not declare (``agentrun check``
            with several files).

    Returns:
        ``(values, problems)``: values by name (None for an optional variable without value;
        a variable with a problem is left out).
    """
    environ = os.environ if environ is None else environ
    given = dict(given or {})
    shown_path = str(spec.path) if spec.path else "<agent>"
    problems: list[SpecError] = []

    def error(name: str | None, message: str, hint: str | None = None) -> None:
        where = spec.location(("variables", name), key=True) if name else None
        line, column = where or (None, None)
        problems.append(SpecError(message, path=shown_path, line=line, column=column, hint=hint))

    if unknown == "error":
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
            remember(environ[var.from_env], var.from_env)  # never printed from here on
            try:
                value = coerce_variable(var.type, environ[var.from_env])
                values[name] = secret(value, var.from_env)
            except ValueError as exc:
                error(name, f"environment variable {var.from_env} (for '{name}') is not valid: "
                      f"{exc}", f"'{name}' is declared as {var.type}")
        elif var.default is not None:
            values[name] = var.default
        elif var.from_env:
            error(name, f"variable '{name}' reads environment variable {var.from_env}, "
                  "which is not set", f"set it before you check or run the agent, e.g. "
                  f"export {var.from_env}=VALUE; or pass --var {name}=VALUE")
        elif var.required:
            error(name, f"variable '{name}' is required but has no value",
                  f"pass --var {name}=VALUE when you check or run the agent")
        else:
            values[name] = None
    return values, problems


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
    values, problems = resolve_values(spec, given, environ)
    if problems:
        raise SpecErrors(problems)
    return values
