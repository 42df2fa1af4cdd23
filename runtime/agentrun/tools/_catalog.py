"""What every installed tool looks like, for ``agentrun tools`` (imports every plugin).

Unlike ``ToolRegistry.for_spec`` this loads all installed tools, because listing needs their
descriptions and parameters; a broken plugin becomes an entry with a ``problem``, never an error.
A name two plugins provide, or a plugin tool named like a Grok built-in, is listed under its
qualified name (``acme-weather/forecast``) and explained once by :func:`catalog_notes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from agentrun.errors import ToolLoadError
from agentrun.tools._advice import tool_advice
from agentrun.tools._discovery import (
    BUILTIN_TOOLS,
    InstalledTool,
    clash_message,
    find_providers,
    installed_tools,
    not_found,
    shadow_message,
    split_qualified,
)
from agentrun.tools._schema import describe_function, shape_schema

__all__ = ["CatalogEntry", "catalog", "catalog_entry", "catalog_notes"]

_BUILTIN_DESCRIPTION = "runs on the xAI server; list it under tools: by name"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One installed tool as ``agentrun tools`` shows it.

    Attributes:
        name: the tool's name (the entry-point name).
        distribution: the providing distribution (``built-in`` for server tools).
        version: its version.
        entry_point: ``module:function`` (empty for built-ins).
        description: the docstring summary.
        parameters: the JSON Schema the model sees (None when the tool cannot load).
        config: the JSON Schema of its ``config:`` block; None when it takes no config,
            ``{"type": "object"}`` when it takes any mapping.
        problem: why it cannot be used (import failure…), or None.
        qualified_name: ``DISTRIBUTION/NAME``, what an agent file writes when ``name`` alone is
            ambiguous (the name itself for built-ins).
        warnings: what serves the model badly (no description, untyped parameters).
    """

    name: str
    distribution: str
    version: str
    entry_point: str
    description: str = ""
    parameters: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    problem: str | None = None
    qualified_name: str = ""
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The entry as plain JSON data (for ``--json``)."""
        return asdict(self)

    @property
    def builtin(self) -> bool:
        """True for Grok's server-side tools."""
        return self.distribution == "built-in"


def catalog(*, builtins: bool = True) -> list[CatalogEntry]:
    """Describe every installed tool (importing every plugin).

    Args:
        builtins: also list the server's built-in tools.

    Returns:
        One entry per (name, distribution), sorted by name.
    """
    entries = [_describe(provider, ambiguous=len(providers) > 1 or name in BUILTIN_TOOLS)
               for name, providers in installed_tools().items() for provider in providers]
    if builtins:
        entries.extend(_builtin(name) for name in sorted(BUILTIN_TOOLS))
    return entries


def catalog_notes(entries: Iterable[CatalogEntry]) -> list[str]:
    """One line per name several plugins provide and per plugin tool shadowing a built-in.

    Args:
        entries: :func:`catalog`'s entries.

    Returns:
        The lines, each name once.
    """
    by_name: dict[str, list[CatalogEntry]] = {}
    for entry in entries:
        if not entry.builtin:
            by_name.setdefault(entry.name, []).append(entry)
    notes: list[str] = []
    for name, providers in by_name.items():
        if len(providers) > 1:
            notes.append(clash_message(name, providers))
        if name in BUILTIN_TOOLS:
            notes.extend(shadow_message(entry) for entry in providers)
    return notes


def catalog_entry(name: str) -> CatalogEntry:
    """Describe one tool by name (``NAME`` or ``DISTRIBUTION/NAME``).

    Args:
        name: the tool name; a built-in's name means the built-in.

    Returns:
        Its entry.

    Raises:
        ToolNotFound: no plugin provides it (the message suggests close names).
        ToolLoadError: it cannot be loaded, or two distributions provide it (the message gives
            the qualified names to choose from).
    """
    if name in BUILTIN_TOOLS:
        return _builtin(name)
    installed = installed_tools()
    providers = find_providers(installed, name)
    if not providers:
        raise not_found(name, installed)
    if len(providers) > 1:
        raise ToolLoadError(clash_message(split_qualified(name)[1], providers), tool=name)
    entry = _describe(providers[0], ambiguous=len(installed.get(providers[0].name, ())) > 1
                      or providers[0].name in BUILTIN_TOOLS)
    if entry.problem:
        raise ToolLoadError(entry.problem, tool=name)
    return entry


def _builtin(name: str) -> CatalogEntry:
    return CatalogEntry(name=name, distribution="built-in", version="", entry_point="",
                        description=_BUILTIN_DESCRIPTION, qualified_name=name)


def _describe(provider: InstalledTool, *, ambiguous: bool) -> CatalogEntry:
    """Load one tool and describe it; ``ambiguous`` names it by its qualified name in warnings
    (another plugin, or a built-in, has the same name)."""
    base = CatalogEntry(name=provider.name, distribution=provider.distribution,
                        version=provider.version, entry_point=provider.value,
                        qualified_name=provider.qualified_name)
    try:
        info = describe_function(provider.load(), name=provider.name)
    except ToolLoadError as exc:
        return CatalogEntry(**{**base.to_json(), "problem": str(exc)})
    except TypeError as exc:
        text = f"cannot load tool '{provider.name}' from {provider.origin}: {exc}"
        return CatalogEntry(**{**base.to_json(), "problem": text})
    config: dict[str, Any] | None = None
    if info.context_param is not None:
        adapter = info.config_adapter
        config = shape_schema(adapter.json_schema()) if adapter else {"type": "object"}
    warnings = [f"{message} ({hint})" for message, hint in
                tool_advice(provider.qualified_name if ambiguous else provider.name,
                            info.description, info)]
    return CatalogEntry(**{**base.to_json(), "description": info.description,
                           "parameters": info.parameters, "config": config,
                           "warnings": warnings})
