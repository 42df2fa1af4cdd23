"""A small HTTP API for the tests and the example agent: a dental clinic's booking system.

Standard library only (``http.server``), on 127.0.0.1::

    python tests/servers/clinic_api.py 8787        # prints: listening on http://127.0.0.1:8787

``ClinicApi`` runs the same server in a thread for tests and records every request it gets.
Endpoints: ``GET /clinics/{clinic}/services`` (needs ``Authorization: Bearer <CLINIC_API_TOKEN>``
when that variable is set), ``GET /echo/...`` (echoes path, query, headers and body as JSON),
``POST /echo``, ``GET /status/{code}``, ``GET /slow?seconds=``, ``GET /not-json``,
``GET /big``, ``GET /redirect?to=URL``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

SERVICES = {"smile": [{"name": "cleaning", "minutes": 30, "price": "80 USD"},
                      {"name": "check-up", "minutes": 20, "price": "60 USD"}]}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _reply(self, status: int, body: Any, content_type: str = "application/json",
               headers: dict[str, str] | None = None) -> None:
        data = body if isinstance(body, bytes) else (
            json.dumps(body).encode() if content_type == "application/json" else body.encode())
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        parts = urlsplit(self.path)
        record = {"method": self.command, "path": parts.path, "raw_path": self.path,
                  "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                  "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        self.server.requests.append(record)
        segments = parts.path.strip("/").split("/")
        token = os.environ.get("CLINIC_API_TOKEN")
        if segments[0] == "clinics" and len(segments) == 3 and segments[2] == "services":
            if token and self.headers.get("Authorization") != f"Bearer {token}":
                return self._reply(401, {"error": "missing or wrong token"})
            services = SERVICES.get(segments[1])
            if services is None:
                return self._reply(404, {"error": f"no clinic {segments[1]}"})
            kind = record["query"].get("kind")
            services = [s for s in services if kind in (None, s["name"])]
            return self._reply(200, {"clinic": segments[1], "services": services})
        if segments[0] == "echo":
            return self._reply(200, record)
        if segments[0] == "status":
            return self._reply(int(segments[1]), {"error": "slot already taken"})
        if segments[0] == "slow":
            time.sleep(float(record["query"].get("seconds", "5")))
            return self._reply(200, {"late": True})
        if segments[0] == "not-json":
            return self._reply(200, "<html>maintenance</html>", "text/html")
        if segments[0] == "big":
            return self._reply(200, {"items": ["x" * 100] * 500})
        if segments[0] == "redirect":
            return self._reply(302, {}, headers={"Location": record["query"]["to"]})
        return self._reply(404, {"error": "not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    requests: list[dict[str, Any]]


class ClinicApi:
    """The API on 127.0.0.1 (a free port) in a background thread: ``with ClinicApi() as api:``.

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        requests: every request received (method, path, raw_path, query, headers, body).
    """

    def __init__(self, port: int = 0) -> None:
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.requests = []
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.requests = self._server.requests
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ClinicApi:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


if __name__ == "__main__":
    api = ClinicApi(int(sys.argv[1]) if len(sys.argv) > 1 else 8787)
    print(f"listening on {api.url}", flush=True)
    api._server.serve_forever()
