"""What every installed tool looks like, for ``agentrun tools`` (imports every plugin).

Unlike ``ToolRegistry.for_spec`` this loads all installed tools, because listing needs their
descriptions and parameters; a broken plugin becomes an entry with a ``problem``, never an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from agentrun.errors import ToolLoadError
from agentrun.tools._discovery import (
    BUILTIN_TOOLS,
    InstalledTool,
    clash_message,
    installed_tools,
    not_found,
)
from agentrun.tools._schema import describe_function, shape_schema

__all__ = ["CatalogEntry", "catalog", "catalog_entry"]


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One installed tool as ``agentrun tools`` shows it.

    Attributes:
        name: the name an agent file uses.
        distribution: the providing distribution (``built-in`` for server tools).
        version: its version.
        entry_point: ``module:function`` (empty for built-ins).
        description: the docstring summary.
        parameters: the JSON Schema the model sees (None when the tool cannot load).
        config: the JSON Schema of its ``config:`` block; None when it takes no config,
            ``{"type": "object"}`` when it takes any mapping.
        problem: why it cannot be used (import failure, clash…), or None.
    """

    name: str
    distribution: str
    version: str
    entry_point: str
    description: str = ""
    parameters: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The entry as plain JSON data (for ``--json``)."""
        return asdict(self)


def catalog(*, builtins: bool = True) -> list[CatalogEntry]:
    """Describe every installed tool (importing every plugin).

    Args:
        builtins: also list the server's built-in tools.

    Returns:
        One entry per (name, distribution), sorted by name.
    """
    entries: list[CatalogEntry] = []
    for name, providers in installed_tools().items():
        problem = clash_message(name, providers) if len(providers) > 1 else None
        entries.extend(_describe(provider, problem) for provider in providers)
    if builtins:
        entries.extend(
            CatalogEntry(name=name, distribution="built-in", version="", entry_point="",
                         description="runs on the xAI server; list it under tools: by name")
            for name in sorted(BUILTIN_TOOLS))
    return entries


def catalog_entry(name: str) -> CatalogEntry:
    """Describe one tool by name.

    Args:
        name: the tool name.

    Returns:
        Its entry.

    Raises:
        ToolNotFound: no plugin provides it (the message suggests close names).
        ToolLoadError: it cannot be loaded, or two distributions provide it.
    """
    installed = installed_tools()
    if name in BUILTIN_TOOLS:
        return next(e for e in catalog() if e.name == name)
    providers = installed.get(name, ())
    if not providers:
        raise not_found(name, installed)
    if len(providers) > 1:
        raise ToolLoadError(clash_message(name, providers), tool=name)
    entry = _describe(providers[0], None)
    if entry.problem:
        raise ToolLoadError(entry.problem, tool=name)
    return entry


def _describe(provider: InstalledTool, problem: str | None) -> CatalogEntry:
    base = CatalogEntry(name=provider.name, distribution=provider.distribution,
                        version=provider.version, entry_point=provider.value, problem=problem)
    if problem:
        return base
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
    return CatalogEntry(name=provider.name, distribution=provider.distribution,
                        version=provider.version, entry_point=provider.value,
                        description=info.description, parameters=info.parameters,
                        config=config)
