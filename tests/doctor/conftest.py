"""Fixtures for ``agentrun doctor``: installed distributions made on the fly, a key server.

``site`` writes real ``*.dist-info`` folders (METADATA, entry_points.txt and, for an editable
install, the PEP 610 ``direct_url.json`` pip writes) into a folder put on ``sys.path``, where
``importlib.metadata`` finds them as it finds pip-installed ones. ``key_server`` is a real HTTP
server on 127.0.0.1 that answers ``GET /v1/api-key`` as told and records what it was sent.
"""

from __future__ import annotations

import importlib
import json
import sys
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class Site:
    """A folder of installed distributions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(self, distribution: str, version: str, tools: dict[str, str] | None = None,
            modules: dict[str, str] | None = None, editable_from: Path | None = None) -> None:
        """Install ``distribution`` with ``tools`` (entry-point name → ``module:attr``)."""
        info = self.root / f"{distribution.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
        if tools is not None:
            lines = "".join(f"{name} = {value}\n" for name, value in tools.items())
            (info / "entry_points.txt").write_text(f"[agentrun.tools]\n{lines}")
        if editable_from is not None:
            (info / "direct_url.json").write_text(json.dumps(
                {"url": editable_from.as_uri(), "dir_info": {"editable": True}}))
        for module, source in (modules or {}).items():
            (self.root / f"{module}.py").write_text(textwrap.dedent(source))
            self.modules.append(module)
        importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    made = Site(root)
    yield made
    for module in made.modules:
        sys.modules.pop(module, None)


@dataclass
class KeyServer:
    """What the server answers and what it received."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    base: str = ""


@pytest.fixture
def key_server() -> Iterator[KeyServer]:
    state = KeyServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append((self.path, self.headers.get("Authorization")))
            payload = json.dumps(state.body).encode()
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(10)
