"""``load_spec``: an agent file on disk → a validated :class:`AgentSpec`, or every problem at once.

Owns: the order of the checks (read → YAML → models → instructions) and collecting all their
problems into one :class:`SpecErrors`. Nothing here prints; the CLI decides how to show errors.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from agentrun.errors import SpecError, SpecErrors
from agentrun.spec._located import translate
from agentrun.spec._models import AgentSpec
from agentrun.spec._template import TemplateOrigin, check_template
from agentrun.spec._yaml import YamlDocument, parse_yaml, read_text

__all__ = ["load_spec"]


def _inline_origin(doc: YamlDocument, shown: str) -> TemplateOrigin:
    """Where line 1 of an inline ``instructions:`` template sits in the YAML file."""
    line, column = doc.locations.value(("instructions",)) or (1, 1)
    style = doc.locations.styles.get(("instructions",))
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
        return inline, _inline_origin(doc, shown), []
    if not isinstance(named, str):
        return None, None, []  # a wrong type is reported by the model validation
    target = file.parent / named
    target_shown = os.path.join(os.path.dirname(shown), named)
    try:
        source = read_text(target, target_shown)
    except SpecError as exc:
        if exc.line is not None:
            return None, None, [exc]
        return None, None, [at(("instructions_file",), f"instructions_file {exc.message}: "
                               f"{target_shown}", exc.hint)]
    return source, TemplateOrigin(target_shown), []


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


def _declared(data: dict[str, Any]) -> set[str]:
    variables = data.get("variables")
    return {str(name) for name in variables} if isinstance(variables, dict) else set()


def load_spec(path: str | os.PathLike[str]) -> AgentSpec:
    """Read, validate and cross-check an agent file.

    Args:
        path: the YAML file; messages name it as given.

    Returns:
        The validated agent, remembering its file and where each YAML node sits.

    Raises:
        SpecErrors: every problem found, each at FILE:LINE:COL with a hint where one helps.
    """
    shown = os.fspath(path)
    file = Path(shown)
    try:
        text = read_text(file, shown)
    except SpecError as exc:
        raise SpecErrors([exc]) from None
    doc = parse_yaml(text, shown)
    problems: list[SpecError] = []
    spec: AgentSpec | None = None
    try:
        spec = AgentSpec.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(translate(exc, AgentSpec, doc.data, doc.locations, shown))
    problems.extend(_tool_name_clashes(doc, shown))
    source, origin, found = _instructions(doc, file, shown)
    problems.extend(found)
    if source is not None and origin is not None:
        problems.extend(check_template(source, _declared(doc.data), origin))
    if problems or spec is None:
        raise SpecErrors(_unique(problems))
    spec._path = file
    spec._locations = doc.locations
    spec._template = source
    spec._template_origin = origin
    return spec


def _unique(problems: list[SpecError]) -> list[SpecError]:
    seen: set[str] = set()
    kept = []
    for problem in problems:
        if str(problem) not in seen:
            seen.add(str(problem))
            kept.append(problem)
    return kept

