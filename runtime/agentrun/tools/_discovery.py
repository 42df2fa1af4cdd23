"""Finding tools: the ``agentrun.tools`` entry-point group.

Reading the group only reads each distribution's ``entry_points.txt``; a plugin's code is imported
when an agent names one of its tools (``InstalledTool.load``), so start-up does not grow with the
number of installed plugins. Every problem is one line naming the distribution, its version and
the entry point. A tool name two distributions provide is told apart as ``DISTRIBUTION/NAME``
(``acme-weather/forecast``), the form an agent file may use (:func:`find_providers`). Imports
``errors`` only.

The scan uses the standard library's ``importlib.metadata``, not the ``importlib_metadata``
backport: pydantic imports the standard one anyway (its plugin loader, on the first model
build), so the run path pays for one metadata library, not two (~13 ms), and its scan is
about twice as fast. Python 3.11's version has everything used here (``entry_points(group=)``,
``EntryPoint.dist``, distributions found twice on ``sys.path`` counted once).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from importlib import metadata
from typing import Any, Protocol

from agentrun.errors import ToolLoadError, ToolNotFound

__all__ = [
    "BUILTIN_TOOLS",
    "ENTRY_POINT_GROUP",
    "RESERVED_NAMES",
    "InstalledTool",
    "ToolOrigin",
    "clash_message",
    "find_providers",
    "installed_tools",
    "missing_message",
    "normalize_distribution",
    "not_found",
    "not_found_hint",
    "shadow_hint",
    "shadow_message",
    "split_qualified",
]

ENTRY_POINT_GROUP = "agentrun.tools"
BUILTIN_TOOLS = frozenset({"web_search", "x_search", "file_search"})
"""Tools that run on the server; they are session options, never plugins."""

RESERVED_NAMES: dict[str, frozenset[str]] = {
    # grok-realtime.md §4.1/§7 item 8: with a built-in enabled, a client function using one of its
    # internal names makes the first response.create fail with server_error.
    "web_search": frozenset({"web_search", "browse_page"}),
    "x_search": frozenset({"x_keyword_search", "x_semantic_search", "x_user_search",
                           "x_thread_fetch"}),
    "file_search": frozenset({"collections_search", "file_search"}),
}


class ToolOrigin(Protocol):
    """What a message needs to name a plugin tool (an ``InstalledTool``, a catalog entry)."""

    @property
    def name(self) -> str: ...
    @property
    def distribution(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def qualified_name(self) -> str: ...


@dataclass(frozen=True)
class InstalledTool:
    """One entry point of the ``agentrun.tools`` group (not imported yet).

    ``distribution`` and ``version`` are read from the distribution's metadata on first use:
    parsing every plugin's METADATA would make start-up grow with the number of plugins.

    Attributes:
        name: the entry-point name (what an agent file writes under ``tools:``).
        value: the target, ``module:function``.
        entry_point: the ``importlib.metadata.EntryPoint``.
    """

    name: str
    value: str
    entry_point: Any = field(default=None, repr=False, compare=False)

    @cached_property
    def _name_and_version(self) -> tuple[str, str]:
        # one METADATA parse for both (``dist.name`` and ``dist.version`` parse it each)
        dist = getattr(self.entry_point, "dist", None)
        if dist is None:
            return "<unknown distribution>", "?"
        metadata = dist.metadata
        return metadata["Name"], metadata["Version"]

    @property
    def distribution(self) -> str:
        """The distribution that declares it (``agentrun-orders``)."""
        return self._name_and_version[0]

    @property
    def version(self) -> str:
        """That distribution's version."""
        return self._name_and_version[1]

    @property
    def qualified_name(self) -> str:
        """``agentrun-orders/lookup_order``: this tool and no other, in an agent file."""
        return f"{self.distribution}/{self.name}"

    @property
    def origin(self) -> str:
        """``agentrun-orders 0.1.0 (entry point lookup_order = agentrun_orders:lookup_order)``."""
        return f"{self.distribution} {self.version} (entry point {self.name} = {self.value})"

    def load(self) -> Callable[..., Any]:
        """Import the plugin and return its function.

        Returns:
            The callable the entry point names.

        Raises:
            ToolLoadError: the import failed (any exception raised while importing) or the entry
                point names something that is not callable; the message is one line.
        """
        try:
            target: object = self.entry_point.load()
        except Exception as exc:  # a plugin's import may raise anything; report, don't crash
            detail = str(exc).strip().splitlines()
            cause = f"{type(exc).__name__}: {detail[0]}" if detail else type(exc).__name__
            raise ToolLoadError(f"cannot load tool '{self.name}' from {self.origin}: "
                                f"import failed: {cause}",
                                tool=self.name) from exc
        if not callable(target):
            raise ToolLoadError(
                f"cannot load tool '{self.name}' from {self.origin}: "
                f"{self.value} is not callable (type {type(target).__name__})",
                tool=self.name)
        return target


def installed_tools() -> dict[str, tuple[InstalledTool, ...]]:
    """Every tool name installed, with the distributions providing it.

    A name with more than one provider is a clash (see ``clash_message``); a distribution found
    twice on ``sys.path`` counts once (importlib.metadata keeps the first).

    Returns:
        Tool name → its providers, sorted by name.
    """
    found: dict[str, dict[str, InstalledTool]] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        tool = InstalledTool(name=entry_point.name, value=entry_point.value,
                             entry_point=entry_point)
        found.setdefault(tool.name, {}).setdefault(_distribution_key(entry_point), tool)
    return {name: tuple(found[name][key] for key in sorted(found[name]))
            for name in sorted(found)}


def _distribution_key(entry_point: Any) -> str:
    """A cheap identity of the entry point's distribution (from its path, not its METADATA)."""
    dist = entry_point.dist
    if dist is None:
        return ""
    return str(getattr(dist, "_normalized_name", None) or dist.name)


def normalize_distribution(name: str) -> str:
    """``Acme_Weather`` → ``acme-weather``: distribution names compare this way (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def split_qualified(requested: str) -> tuple[str | None, str]:
    """``acme-weather/forecast`` → ``("acme-weather", "forecast")``; ``forecast`` →
    ``(None, "forecast")``."""
    distribution, slash, name = requested.rpartition("/")
    return (distribution or None, name) if slash else (None, requested)


def find_providers(installed: dict[str, tuple[InstalledTool, ...]], requested: str
                   ) -> tuple[InstalledTool, ...]:
    """The installed tools an agent file's name means.

    Args:
        installed: :func:`installed_tools`.
        requested: ``NAME``, or ``DISTRIBUTION/NAME`` to pick one of several providers.

    Returns:
        Every provider of a plain name (more than one is a clash), or the one of the named
        distribution; empty when none matches.
    """
    distribution, name = split_qualified(requested)
    providers = installed.get(name, ())
    if distribution is None:
        return providers
    wanted = normalize_distribution(distribution)
    return tuple(p for p in providers if normalize_distribution(p.distribution) == wanted)


def clash_message(name: str, providers: Iterable[ToolOrigin]) -> str:
    """The one-line problem for a name several distributions provide, with the way out."""
    found = list(providers)
    listed = ", ".join(f"{p.distribution} {p.version}" for p in found)
    choices = " or ".join(f"'{p.qualified_name}'" for p in found)
    return (f"tool '{name}' is provided by {len(found)} installed plugins ({listed}): "
            f"write {choices} under tools: to choose one")


def shadow_message(tool: ToolOrigin) -> str:
    """The one-line warning for a plugin tool named like a Grok built-in (``web_search``)."""
    return (f"{tool.distribution} {tool.version} provides a tool named '{tool.name}', the name "
            f"of Grok's built-in tool: '- {tool.name}' in an agent file means the built-in; "
            f"{shadow_hint(tool)}")


def shadow_hint(tool: ToolOrigin) -> str:
    """How an agent file uses a plugin tool that has a built-in's name."""
    return (f"to use the plugin's, write "
            f"'- {{name: {tool.qualified_name}, as: {_safe_rename(tool)}}}'")


def _safe_rename(tool: ToolOrigin) -> str:
    return re.sub(r"\W+", "_", f"{tool.distribution}_{tool.name}").strip("_").lower()


def not_found_hint(name: str, installed: Iterable[str]) -> str:
    """What to suggest for a name no plugin provides: the closest installed names, or how to list.

    Args:
        name: the name asked for.
        installed: every installed tool name.

    Returns:
        ``did you mean 'lookup_order'?`` or a pointer to ``agentrun tools``.
    """
    candidates = sorted(set(installed) | BUILTIN_TOOLS)
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    return "run `agentrun tools` to list installed tools"


def missing_message(requested: str, installed: dict[str, tuple[InstalledTool, ...]]
                    ) -> tuple[str, str]:
    """Why nothing installed matches ``requested`` (plain or ``DISTRIBUTION/NAME``), and a hint.

    Args:
        requested: the name as the agent file or the command line gives it.
        installed: :func:`installed_tools`.

    Returns:
        ``(message, hint)``.
    """
    distribution, name = split_qualified(requested)
    others = installed.get(name, ())
    if distribution is None or not others:
        return f"no installed plugin provides '{name}'", not_found_hint(name, installed)
    return (f"the plugin '{distribution}' provides no tool '{name}'",
            "it is provided by " + " and ".join(f"'{p.qualified_name}'" for p in others))


def not_found(name: str, installed: dict[str, tuple[InstalledTool, ...]]) -> ToolNotFound:
    """The error for a name no plugin provides: :func:`missing_message` as one line."""
    message, hint = missing_message(name, installed)
    return ToolNotFound(f"{message} ({hint})", tool=name)
