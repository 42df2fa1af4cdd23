"""``load_spec``: an agent file on disk → a validated :class:`AgentSpec`, or every problem at once.

Owns: the order of the checks (read → YAML → models → the names the instructions, the greeting
and the http tools read) and collecting all their problems into one :class:`SpecErrors`.
Nothing here prints; the CLI decides how to show errors.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._located import translate
from agentrun.spec._models import AgentSpec
from agentrun.spec._template import TemplateOrigin, check_template
from agentrun.spec._tool_models import http_name_problems
from agentrun.spec._yaml import YamlDocument, parse_yaml, read_text

__all__ = ["ParsedFile", "load_spec", "parse_file"]


def _inline_origin(doc: YamlDocument, shown: str, key: str = "instructions") -> TemplateOrigin:
    """Where line 1 of an inline template (``instructions:``, ``greeting:``) sits in the file."""
    line, column = doc.locations.value((key,)) or (1, 1)
    style = doc.locations.styles.get((key,))
    if style in ("|", ">"):
        # A block scalar starts on the line after its `|` indicator, at the block's indent
        # (blank lines first are part of the text, so template line 1 is still that next line).
        for text in doc.text.splitlines()[line:]:
            if text.strip():
                return TemplateOrigin(shown, line + 1, len(text) - len(text.lstrip(" ")) + 1)
        return TemplateOrigin(shown, line + 1, column)
    if style in ("'", '"'):
        return TemplateOrigin(shown, line, column + 1)
    return TemplateOrigin(shown, line, column)


def _instructions(doc: YamlDocument, file: Path, shown: str,
                  ) -> tuple[str | None, TemplateOrigin | None, list[SpecError]]:
    """The template source and its origin, or the problems finding it."""
    data, where = doc.data, doc.locations

    def at(path: tuple[str, ...], message: str, hint: str | None = None,
           key: bool = False) -> SpecError:
        line, column = (where.key(path) if key else where.value(path)) or where.nearest(path)
        return SpecError(message, path=shown, line=line, column=column, hint=hint)

    inline, named = data.get("instructions"), data.get("instructions_file")
    if "instructions" in data and "instructions_file" in data:
        return None, None, [at(("instructions_file",), "give either instructions or "
                               "instructions_file, not both", key=True)]
    if "instructions" in data and inline is None and named is None:
        return None, None, [at(("instructions",), "instructions is empty",
                               "write what the agent should do after 'instructions: |'")]
    if inline is None and named is None:
        return None, None, [at((), "missing required key 'instructions'",
                               "write the agent's instructions under 'instructions:' or name "
                               "a file with 'instructions_file:'")]
    if isinstance(inline, str):
        if not inline.strip():
            return None, None, [at(("instructions",), "instructions is empty (only blank space)",
                                   "write what the agent should do after 'instructions: |'")]
        return inline, _inline_origin(doc, shown), []
    if not isinstance(named, str):
        return None, None, []  # a wrong type is reported by the model validation
    expanded = os.path.expanduser(named)
    target = file.parent / expanded
    target_shown = expanded if os.path.isabs(expanded) else os.path.join(
        os.path.dirname(shown), expanded)
    try:
        source = read_text(target, target_shown)
    except SpecError as exc:
        if exc.line is not None:
            return None, None, [exc]
        return None, None, [at(("instructions_file",), f"instructions_file {exc.message}: "
                               f"{target_shown}", exc.hint)]
    if not source.strip():
        return None, None, [at(("instructions_file",), f"instructions_file {target_shown} is "
                               "empty", "write what the agent should do in that file")]
    return source, TemplateOrigin(target_shown), []


def _greeting(doc: YamlDocument, shown: str, declared: set[str],
              ) -> tuple[TemplateOrigin | None, list[SpecError]]:
    """The greeting template's origin and its problems (it is checked like the instructions)."""
    greeting = doc.data.get("greeting")
    if not isinstance(greeting, str):
        return None, []  # absent, or a wrong type the model validation reports
    origin = _inline_origin(doc, shown, "greeting")
    if not greeting.strip():
        line, column = doc.locations.value(("greeting",)) or (1, 1)
        return origin, [SpecError("greeting is empty (only blank space)", path=shown, line=line,
                                  column=column, hint="write what the agent says first, or "
                                  "remove 'greeting:' to let the caller speak first")]
    return origin, check_template(greeting, declared, origin, "greeting")


def _tool_name_clashes(doc: YamlDocument, shown: str) -> list[SpecError]:
    """Two tools the model would see under one name (checked on the raw list so the clash is
    reported even while other tool entries still have problems)."""
    tools = doc.data.get("tools")
    if not isinstance(tools, list):
        return []
    seen: dict[str, int] = {}
    problems = []
    for index, entry in enumerate(tools):
        if isinstance(entry, dict) and "mcp" in entry:
            continue  # an MCP server's name is not a tool name (its tools are checked on start)
        key = "as" if isinstance(entry, dict) and entry.get("as") else "name"
        name = entry.get(key) if isinstance(entry, dict) else entry
        if not isinstance(name, str):
            continue
        if name in seen:
            line, column = doc.locations.nearest(("tools", index, key))
            problems.append(SpecError(f"tool name '{name}' is used twice", path=shown, line=line,
                                      column=column, hint=f"also tool {seen[name] + 1}; rename "
                                      "one with as:"))
        seen.setdefault(name, index)
    return problems


def _http_names(doc: YamlDocument, shown: str, declared: set[str]) -> list[SpecError]:
    """Names the ``http:`` tools' templates read that the file never declares (checked on the
    raw data, like the instructions, so they are reported with the tools' other problems)."""
    tools = doc.data.get("tools")
    if not isinstance(tools, list):
        return []
    problems = []
    for index, entry in enumerate(tools):
        block = entry.get("http") if isinstance(entry, dict) else None
        for found in http_name_problems(block, declared):
            path = ("tools", index, "http", *found.path)
            where = doc.locations.key(path) if found.key else doc.locations.value(path)
            line, column = where or doc.locations.nearest(path)
            problems.append(SpecError(found.message, path=shown, line=line, column=column,
                                      hint=found.hint))
    return problems


def _declared(data: dict[str, Any]) -> set[str]:
    variables = data.get("variables")
    return {str(name) for name in variables} if isinstance(variables, dict) else set()


@dataclass
class ParsedFile:
    """An agent file as far as it could be read: the data, the spec when it validated, and every
    problem found on the way (see :func:`parse_file`)."""

    file: Path
    shown: str
    doc: YamlDocument | None
    spec: AgentSpec | None
    problems: list[SpecError] = field(default_factory=list)


def parse_file(path: str | os.PathLike[str]) -> ParsedFile:
    """Read, validate and cross-check an agent file, collecting every problem (never raising
    for a problem in the file).

    Args:
        path: the YAML file; messages name it as given.

    Returns:
        The result; ``spec`` is set (with its file, locations and templates) only when the
        file has no problem.
    """
    shown = os.fspath(path)
    file = Path(shown)
    try:
        text = read_text(file, shown)
        doc = parse_yaml(text, shown)
    except SpecErrors as exc:
        return ParsedFile(file, shown, None, None, list(exc.errors))
    except SpecError as exc:
        return ParsedFile(file, shown, None, None, [exc])
    problems: list[SpecError] = []
    spec: AgentSpec | None = None
    try:
        spec = AgentSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(translate(exc, AgentSpec, doc.data, doc.locations, shown))
    problems.extend(_tool_name_clashes(doc, shown))
    source, origin, found = _instructions(doc, file, shown)
    problems.extend(found)
    declared = _declared(doc.data)
    problems.extend(_http_names(doc, shown, declared))
    if source is not None and origin is not None:
        problems.extend(check_template(source, declared, origin))
    greeting_origin, found = _greeting(doc, shown, declared)
    problems.extend(found)
    problems = _unique(problems)
    if problems or spec is None:
        return ParsedFile(file, shown, doc, None, problems)
    spec._path = file
    spec._locations = doc.locations
    spec._template = source
    spec._template_origin = origin
    spec._greeting_origin = greeting_origin
    return ParsedFile(file, shown, doc, spec, [])


def load_spec(path: str | os.PathLike[str]) -> AgentSpec:
    """Read, validate and cross-check an agent file.

    Args:
        path: the YAML file; messages name it as given.

    Returns:
        The validated agent, remembering its file and where each YAML node sits.

    Raises:
        SpecErrors: every problem found, each at FILE:LINE:COL with a hint where one helps.
    """
    parsed = parse_file(path)
    if parsed.spec is None:
        raise SpecErrors(parsed.problems)
    return parsed.spec


def _unique(problems: list[SpecError]) -> list[SpecError]:
    seen: set[str] = set()
    kept = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            kept.append(problem)
    return kept

