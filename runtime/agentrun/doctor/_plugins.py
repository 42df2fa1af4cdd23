"""Tool plugins: which are installed, which cannot load, which names clash, which copies are stale.

A stale copy is the classic plugin-author mistake: a new entry point added to ``pyproject.toml``
of a plugin installed with ``pip install -e``, without installing it again. pip writes entry
points at install time, so agentrun cannot see the new tool; the doctor compares the two.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from agentrun.doctor._findings import Finding
from agentrun.tools._catalog import CatalogEntry, catalog, catalog_notes
from agentrun.tools._discovery import ENTRY_POINT_GROUP

__all__ = ["check_plugins", "stale_plugins"]

_TOPIC = "tool plugins"


def check_plugins() -> list[Finding]:
    """Load every installed tool (as ``agentrun tools`` does) and report on them.

    Returns:
        An ok line listing the plugins, or a warning when there are none; a problem per tool
        that cannot load and per stale editable install; a warning per clash, per built-in name
        taken and for tools that describe themselves badly.
    """
    entries = catalog(builtins=False)
    findings: list[Finding] = []
    if not entries:
        findings.append(Finding.warning(
            _TOPIC, "no tool plugins are installed: agents that name plugin tools cannot run",
            "install the examples (pip install ./plugins/*) or your plugin "
            "(pip install -e path/to/plugin), then run: agentrun tools"))
    else:
        findings.append(Finding.ok(_TOPIC, _listing(entries)))
    for entry in entries:
        if entry.problem:
            findings.append(Finding.problem(
                _TOPIC, entry.problem,
                f"{_load_fix(entry)}; an agent that uses {entry.name} cannot run until then"))
    for note in catalog_notes(entries):
        findings.append(Finding.warning(_TOPIC, note, "name the one you mean in the agent file, "
                                        "as the line says"))
    weak = [e for e in entries if e.warnings and not e.problem]
    if weak:
        names = ", ".join(e.qualified_name for e in weak)
        findings.append(Finding.warning(
            _TOPIC, f"{len(weak)} tool(s) tell the model too little about themselves: {names}",
            "run `agentrun tools` for what is missing; an agent file can give description: "
            "per tool"))
    for name, source, missing, extra in stale_plugins():
        parts = []
        if missing:
            parts.append("declares tools the installed copy lacks: " + ", ".join(missing))
        if extra:
            parts.append("no longer declares: " + ", ".join(extra))
        findings.append(Finding.problem(
            _TOPIC, f"{name}'s pyproject.toml {' and '.join(parts)}",
            f"install it again so pip records its entry points: pip install -e {source}"))
    return findings


def _load_fix(entry: CatalogEntry) -> str:
    """What to do about a tool that cannot load.

    A target the plugin does not have (``broken = "acme_weather:does_not_exist"``) is fixed in
    the plugin's ``pyproject.toml``, then installed again (pip records entry points at install
    time); reinstalling the same files from the index cannot fix it. A ``pyproject.toml`` that
    already names another target than pip recorded only needs the install again. Anything else
    (an import that raised, a missing dependency) may be a broken install: reinstall it.
    """
    source = _editable_source_of(entry.distribution)
    line = f'{entry.name} = "{entry.entry_point}"'
    table = f'[project.entry-points."{ENTRY_POINT_GROUP}"]'
    if source is not None:
        declared = _declared_targets(source / "pyproject.toml") or {}
        now = declared.get(entry.name)
        if now is not None and now.replace(" ", "") != entry.entry_point.replace(" ", ""):
            return (f'{source / "pyproject.toml"} now says {entry.name} = "{now}" but pip '
                    f"recorded {line}: install it again: pip install -e {source}")
    missing = _missing_target(entry.entry_point)
    if missing is None:
        return (f"reinstall it (pip install --force-reinstall {entry.distribution}) or ask its "
                "author")
    if source is not None:
        return (f"{missing}: fix the line {line} under {table} in "
                f'{source / "pyproject.toml"} (module:attribute of the tool function), then '
                f"install it again: pip install -e {source}")
    return (f"{missing}: the line {line} under {table} in the plugin's pyproject.toml needs "
            f"fixing (module:attribute of the tool function), then installing again; if "
            f"{entry.distribution} is not yours, ask its author")


def _missing_target(target: str) -> str | None:
    """What an entry point's ``module:attribute`` names that does not exist, or None.

    Called after the catalog tried to load it: a module that imported is in ``sys.modules``; one
    that is absent there raised while importing (its own problem, not the entry point's).
    """
    module_name, _, attributes = (part.strip() for part in target.partition(":"))
    try:
        found = importlib.util.find_spec(module_name)
    except Exception:  # a parent package that fails to import: not the target's fault
        return None
    if found is None:
        return f"there is no module {module_name}"
    obj = sys.modules.get(module_name)
    if obj is None:
        return None
    for attribute in filter(None, attributes.split(".")):
        if not hasattr(obj, attribute):
            return f"{module_name} has no {attributes}"
        obj = getattr(obj, attribute)
    return None


def _editable_source_of(distribution: str) -> Path | None:
    try:
        return _editable_source(metadata.distribution(distribution))
    except metadata.PackageNotFoundError:
        return None


def _listing(entries: Iterable[CatalogEntry]) -> str:
    by_dist: dict[tuple[str, str], list[str]] = {}
    for entry in entries:
        by_dist.setdefault((entry.distribution, entry.version), []).append(entry.name)
    return "; ".join(f"{dist} {version} ({', '.join(sorted(names))})"
                     for (dist, version), names in sorted(by_dist.items()))


def stale_plugins() -> list[tuple[str, str, list[str], list[str]]]:
    """Editable installs whose ``pyproject.toml`` declares other tools than pip recorded.

    Returns:
        ``(distribution, source folder, declared but not installed, installed but no longer
        declared)`` for each such plugin.
    """
    stale: list[tuple[str, str, list[str], list[str]]] = []
    seen: set[str] = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or ""
        source = _editable_source(dist)
        if source is None or name in seen:
            continue
        seen.add(name)
        declared = _declared_tools(source / "pyproject.toml")
        if declared is None:
            continue
        installed = {ep.name for ep in dist.entry_points if ep.group == ENTRY_POINT_GROUP}
        missing, extra = sorted(declared - installed), sorted(installed - declared)
        if missing or extra:
            stale.append((name, str(source), missing, extra))
    return stale


def _editable_source(dist: metadata.Distribution) -> Path | None:
    """The source folder of an editable install (PEP 610 ``direct_url.json``), else None."""
    try:
        text = dist.read_text("direct_url.json")
        record = json.loads(text) if text else None
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not (record.get("dir_info") or {}).get("editable"):
        return None
    url = urlsplit(str(record.get("url", "")))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def _declared_tools(pyproject: Path) -> set[str] | None:
    """The ``agentrun.tools`` entry points a ``pyproject.toml`` declares (None: unreadable)."""
    declared = _declared_targets(pyproject)
    return None if declared is None else set(declared)


def _declared_targets(pyproject: Path) -> dict[str, str] | None:
    """The ``agentrun.tools`` entry points a ``pyproject.toml`` declares, name → target
    (None: unreadable, or declared elsewhere)."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    project = data.get("project")
    if not isinstance(project, dict) or "entry-points" in project.get("dynamic", ()):
        return None  # declared elsewhere (setup.py, a build hook): nothing to compare
    group = project.get("entry-points", {}).get(ENTRY_POINT_GROUP)
    return {str(k): str(v) for k, v in group.items()} if isinstance(group, dict) else {}
