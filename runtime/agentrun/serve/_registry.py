"""The served agents: agent files by file stem, checked, reloaded when they change.

:class:`AgentRegistry` loads one agent file or every ``*.yaml``/``*.yml`` file of a folder (not its
``*.test.yaml`` conversation tests) with ``Agent.load`` (the same checks as ``agentrun check``:
YAML, schema, template, variables, tools). Only files that pass are served, each under its file stem
(``agents/support.yaml`` → ``support``). :meth:`AgentRegistry.reload` re-reads changed files: a file
that now passes replaces the served version for the *next* call (running calls hold their own
``Agent``); a file that fails keeps the last good version and its errors are kept, at file:line, for
the log. Imports ``agentrun.agent``; watching is ``watchfiles`` in :meth:`AgentRegistry.watch`. """

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentrun.agent import Agent
from agentrun.errors import AgentrunError, SpecError, SpecErrors

__all__ = ["AgentRegistry", "Refusal", "ReloadEvent"]

_log = logging.getLogger("agentrun.serve")

_SUFFIXES = (".yaml", ".yml")
_STEM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")  # safe in a URL path segment


def _is_agent_file(path: Path) -> bool:
    """A YAML file of a served folder that is an agent: not hidden, and not the conversation
    tests the README keeps beside each agent (``support.test.yaml``)."""
    return path.suffix in _SUFFIXES and not path.name.startswith(".") \
        and not path.stem.endswith(".test")


@dataclass(frozen=True, slots=True)
class Refusal:
    """An agent file that is not served, and why (each line ``FILE:LINE:COL: message``)."""

    path: Path
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReloadEvent:
    """What one reload did to one file.

    Attributes:
        stem: the agent's name in URLs.
        path: the file.
        outcome: ``added``, ``updated``, ``removed``, ``kept`` (the new version failed; the
            last good one stays) or ``refused`` (never passed).
        lines: the errors at file:line when the file failed.
    """

    stem: str
    path: Path
    outcome: str
    lines: tuple[str, ...] = field(default=())


class AgentRegistry:
    """Served agents by file stem.

    Args:
        path: one agent file or a folder of them (not recursive).
        variables: ``--var`` values handed to every agent (``Agent.load(variables=...)``).
        loader: builds an agent from a file (tests inject a slow or failing one).

    Raises:
        SpecError: ``path`` does not exist or is neither a YAML file nor a folder.
    """

    def __init__(self, path: str | Path, *, variables: Mapping[str, Any] | None = None,
                 loader: Callable[..., Agent] = Agent.load) -> None:
        self.root = Path(path)
        if not self.root.exists():
            raise SpecError("no such file or folder", path=str(path),
                            hint="give an agent file or a folder of *.yaml files")
        if self.root.is_file() and self.root.suffix not in _SUFFIXES:
            raise SpecError("not an agent file (expected .yaml or .yml)", path=str(path))
        self._variables = dict(variables or {})
        self._loader = loader
        self._agents: dict[str, Agent] = {}
        self._paths: dict[str, Path] = {}
        self.refused: dict[Path, Refusal] = {}

    # -- reading -------------------------------------------------------------------------------

    def get(self, stem: str) -> Agent | None:
        """The agent a new call to ``stem`` gets, or None when no such agent is served."""
        return self._agents.get(stem)

    @property
    def agents(self) -> Mapping[str, Agent]:
        """Served agents by stem, in name order."""
        return dict(sorted(self._agents.items()))

    def files(self) -> list[Path]:
        """The agent files under :attr:`root` (the file itself, or the folder's YAML files)."""
        if self.root.is_file():
            return [self.root]
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if _is_agent_file(p) and p.is_file())

    # -- loading -------------------------------------------------------------------------------

    def load_all(self) -> list[ReloadEvent]:
        """Load every agent file (at start-up).

        Returns:
            One event per file: ``added`` or ``refused``.
        """
        return self.reload(self.files())

    def reload(self, paths: Iterable[Path]) -> list[ReloadEvent]:
        """Re-read the given files; each change applies to the next call only.

        Args:
            paths: files that were added, changed or deleted.

        Returns:
            What happened to each agent file among them (other files are ignored).
        """
        events = []
        for path in sorted(set(paths)):
            if not _is_agent_file(path):
                continue
            event = self._reload_one(path)
            if event is not None:
                events.append(event)
        return events

    def _reload_one(self, path: Path) -> ReloadEvent | None:
        stem = path.stem
        if not path.exists():
            self.refused.pop(path, None)
            if self._paths.get(stem) == path:
                del self._agents[stem], self._paths[stem]
                return ReloadEvent(stem, path, "removed")
            return None
        owner = self._paths.get(stem)
        if owner is not None and owner != path:
            lines = (f"{path}: another file already serves the name '{stem}' ({owner}); "
                     "rename one of them",)
            self.refused[path] = Refusal(path, lines)
            return ReloadEvent(stem, path, "refused", lines)
        if not _STEM.match(stem):
            lines = (f"{path}: the file name cannot be used in a URL; use letters, digits, "
                     "'-', '_' or '.'",)
            self.refused[path] = Refusal(path, lines)
            return ReloadEvent(stem, path, "refused", lines)
        try:
            agent = self._loader(path, variables=self._variables)
        except SpecErrors as exc:
            lines = tuple(str(e) for e in exc.errors)
        except AgentrunError as exc:
            lines = tuple(str(exc).splitlines()) or (f"{path}: {type(exc).__name__}",)
        except Exception as exc:  # a broken plugin import must not take the service down
            _log.debug("loading %s failed", path, exc_info=exc)
            lines = (f"{path}: cannot load: {type(exc).__name__}: {exc}",)
        else:
            self.refused.pop(path, None)
            self._agents[stem], self._paths[stem] = agent, path
            return ReloadEvent(stem, path, "updated" if owner is not None else "added")
        if owner is not None:
            return ReloadEvent(stem, path, "kept", lines)
        self.refused[path] = Refusal(path, lines)
        return ReloadEvent(stem, path, "refused", lines)

    # -- watching ------------------------------------------------------------------------------

    async def watch(self, on_event: Callable[[ReloadEvent], None],
                    stop: asyncio.Event | None = None, *, debounce_ms: int = 200) -> None:
        """Reload files as they change until ``stop`` is set (or the task is cancelled).

        Loading runs in a worker thread, so calls in progress keep their loop.

        Args:
            on_event: called on the loop for every reload outcome (logging, metrics).
            stop: ends the watch when set.
            debounce_ms: changes within this window are taken together (an editor's save is
                often several writes).
        """
        import watchfiles

        target = self.root if self.root.is_dir() else self.root.parent
        async for changes in watchfiles.awatch(target, stop_event=stop, debounce=debounce_ms,
                                               recursive=False):
            # one folder, not recursive: a file is known by its name (paths stay as the user
            # gave the root, so messages name them the same way)
            names = {Path(p).name for _, p in changes}
            if self.root.is_dir():
                paths = {self.root / name for name in names}
            else:
                paths = {self.root} if self.root.name in names else set()
            if not paths:
                continue
            for event in await asyncio.to_thread(self.reload, paths):
                on_event(event)
