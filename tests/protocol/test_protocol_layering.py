"""Consistency: exports resolve, and the core stays free of I/O (STYLE.md checklist 1 and 8)."""

from __future__ import annotations

import ast
import importlib
import pathlib

import agentrun
import pytest

RUNTIME = pathlib.Path(agentrun.__file__).parent
NO_IO = {"asyncio", "socket", "threading", "time", "logging", "websockets", "select", "os"}


@pytest.mark.parametrize("module", ["agentrun.protocol", "agentrun.engine"])
def test_every_exported_name_exists(module: str) -> None:
    mod = importlib.import_module(module)
    assert len(set(mod.__all__)) == len(mod.__all__)
    assert [name for name in mod.__all__ if not hasattr(mod, name)] == []


def imports_of(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


CORE = sorted([*(RUNTIME / "protocol").glob("*.py"),
               RUNTIME / "engine" / "conversation.py", RUNTIME / "engine" / "setup.py",
               *(RUNTIME / "engine").glob("_*.py")])


@pytest.mark.parametrize("path", CORE, ids=[p.name for p in CORE])
def test_the_core_does_no_io(path: pathlib.Path) -> None:
    roots = {name.split(".")[0] for name in imports_of(path)}
    assert roots & NO_IO == set()


@pytest.mark.parametrize("path", sorted((RUNTIME / "protocol").glob("*.py")),
                         ids=lambda p: p.name)
def test_protocol_imports_nothing_of_ours_but_errors(path: pathlib.Path) -> None:
    ours = {n for n in imports_of(path) if n.startswith("agentrun")}
    assert {n for n in ours if not n.startswith(("agentrun.protocol", "agentrun.errors"))} \
        == set()


@pytest.mark.parametrize("path", CORE, ids=[p.name for p in CORE])
def test_every_module_declares_all(path: pathlib.Path) -> None:
    assert "__all__" in path.read_text()
