"""Helpers for tests that run the servers shipping with the tests (``tests/servers/``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SERVERS = Path(__file__).resolve().parents[1] / "servers"


def server_module(name: str) -> ModuleType:
    """Import a server that ships with the tests (``tests/servers/NAME.py``)."""
    spec = importlib.util.spec_from_file_location(f"agentrun_test_{name}", SERVERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def running(tag: str) -> list[int]:
    """Process ids whose command line holds ``tag`` (a started server not yet stopped)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if tag in command:
                found.append(int(entry.name))
    return found
