"""Lazy re-exports (PEP 562) for package ``__init__`` modules.

``import agentrun`` runs for every command and every plugin, so a package re-exports its public
names without importing the modules that define them until a name is first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, namespace: dict[str, Any], homes: Mapping[str, str]
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Build the ``__getattr__`` and ``__dir__`` of a package that re-exports names lazily.

    Args:
        package: the package's ``__name__`` (for error messages).
        namespace: the package's ``globals()``; a name is cached there on first use.
        homes: public name -> absolute module that defines it.

    Returns:
        ``(__getattr__, __dir__)`` to assign at module level.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(namespace.get("__all__", homes))

    return __getattr__, __dir__
