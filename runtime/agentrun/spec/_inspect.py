"""Everything ``agentrun check`` and ``Agent.load`` need to know about a file, in one pass.

Owns: :func:`inspect_spec`, which collects every problem of a file (YAML, keys and values,
templates, the greeting, variable values from ``--var`` and the environment, a trial render)
without stopping at the first kind, and builds a *partial* spec from the parts that validated, so
the tools layer can check the tool entries even while other parts of the file are wrong. Imports
nothing of agentrun above ``spec`` (the tools check is the caller's, see ``agentrun.agent``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from agentrun.errors import SpecError
from agentrun.spec._load import ParsedFile, parse_file
from agentrun.spec._models import AgentSpec, ToolRef, Variable
from agentrun.spec._render import trial_render
from agentrun.spec._values import resolve_values
from agentrun.spec._yaml import Locations

__all__ = ["SpecReport", "inspect_spec"]


@dataclass
class SpecReport:
    """What :func:`inspect_spec` found.

    Attributes:
        spec: the agent, when the file itself has no problem (variable values may still have).
        partial: every part that validated (the whole spec when it did): what a tools check
            reads. Its tool entries keep their own lines in the file.
        values: the typed value of each variable that has one.
        problems: every problem, in no particular order (``SpecErrors`` sorts them).
    """

    spec: AgentSpec | None
    partial: AgentSpec
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[SpecError] = field(default_factory=list)


def _remap_tools(locations: Locations, kept: list[int]) -> Locations:
    """Locations where tool ``kept[i]`` of the file is found as tool ``i``."""
    new_index = {old: new for new, old in enumerate(kept)}

    def moved(table: dict[Any, Any]) -> dict[Any, Any]:
        result = {}
        for path, value in table.items():
            if len(path) >= 2 and path[0] == "tools" and isinstance(path[1], int):
                if path[1] not in new_index:
                    continue
                path = ("tools", new_index[path[1]], *path[2:])
            result[path] = value
        return result

    return Locations(values=moved(locations.values), keys=moved(locations.keys),
                     styles=moved(locations.styles))


# keys of a tool entry that change neither which tool it is nor the name the model sees
_SETTINGS = frozenset({"timeout", "description", "allowed_x_handles", "vector_store_ids",
                       "max_num_results"})


def _valid_part(raw: Any) -> ToolRef | None:
    """A tool entry, or what is left of it without its wrong keys (a misspelt ``timeout``
    must not hide its name's or its ``config:`` block's problems), or None."""
    try:
        return ToolRef.model_validate(raw)
    except ValidationError as exc:
        if not isinstance(raw, dict):
            return None
        wrong = {error["loc"][0] for error in exc.errors() if error["loc"]}
        if not wrong or not wrong <= _SETTINGS:
            return None  # already reported at its line; nothing sound is left to check
        try:
            return ToolRef.model_validate({k: v for k, v in raw.items() if k not in wrong})
        except ValidationError:
            return None


def _partial(parsed: ParsedFile) -> AgentSpec:
    """An AgentSpec built from the variables and tool entries that validate on their own."""
    data = parsed.doc.data if parsed.doc is not None else {}
    variables: dict[str, Variable] = {}
    raw_variables = data.get("variables")
    if isinstance(raw_variables, dict):
        for name, raw in raw_variables.items():
            try:
                variables[str(name)] = Variable.model_validate(raw)
            except ValidationError:
                continue  # already reported at its line
    tools: list[ToolRef] = []
    kept: list[int] = []
    raw_tools = data.get("tools")
    if isinstance(raw_tools, list):
        for index, raw in enumerate(raw_tools):
            tool = _valid_part(raw)
            if tool is not None:
                tools.append(tool)
                kept.append(index)
    partial = AgentSpec.model_construct(name=str(data.get("name") or ""), variables=variables,
                                        tools=tools)
    partial._path = parsed.file
    if parsed.doc is not None:
        partial._locations = _remap_tools(parsed.doc.locations, kept)
    return partial


def inspect_spec(path: str | os.PathLike[str], variables: Mapping[str, Any] | None = None, *,
                 environ: Mapping[str, str] | None = None,
                 unknown: Literal["error", "ignore"] = "error") -> SpecReport:
    """Find every problem of an agent file and the values its variables will have.

    Args:
        path: the YAML file; messages name it as given.
        variables: values by name (``--var``), converted to the declared types.
        environ: the environment for ``from_env`` (default ``os.environ``).
        unknown: ``ignore`` to skip ``variables`` the file does not declare (several files
            checked with one set of ``--var``).

    Returns:
        The report; it never raises for a problem in the file.
    """
    parsed = parse_file(path)
    problems = list(parsed.problems)
    partial = parsed.spec or _partial(parsed)
    if parsed.doc is None:  # not even YAML: there is nothing to give values to yet
        return SpecReport(None, partial, {}, problems)
    given = dict(variables or {})
    if parsed.spec is None:
        # a variable whose own entry is wrong is reported there, not as an unknown --var
        written = parsed.doc.data.get("variables")
        names = set(written) if isinstance(written, dict) else set()
        given = {k: v for k, v in given.items() if k in partial.variables or k not in names}
    values, found = resolve_values(partial, given, environ, unknown=unknown)
    problems.extend(found)
    if parsed.spec is not None:
        problems.extend(trial_render(parsed.spec, values))
    return SpecReport(parsed.spec, partial, values, problems)
