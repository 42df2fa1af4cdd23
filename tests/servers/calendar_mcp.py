"""A small MCP server for the tests and the example agent: a dental clinic's calendar.

Written with the official SDK (``mcp.server.mcpserver.MCPServer``). Runs over stdio (the
default: agentrun starts it) or over Streamable HTTP on 127.0.0.1::

    python tests/servers/calendar_mcp.py                 # stdio
    python tests/servers/calendar_mcp.py --http 0        # prints: listening on http://127.0.0.1:PORT/mcp

Flags that make it misbehave, for the tests: ``--crash-on-start`` (exits before answering),
``--hang-on-start`` (never answers), ``--collide`` (also offers a tool named lookup_order).
Its tools: ``free_slots``, ``book_slot``, ``whoami`` (shows the CALENDAR_TOKEN it was given),
``broken`` (raises), ``slow`` (sleeps) and ``crash`` (the process exits mid-call).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

SLOTS = {"2026-03-02": ["09:00", "10:30", "14:00"], "2026-03-03": ["11:00"]}

server = MCPServer("calendar", log_level="ERROR")


@server.tool()
def free_slots(day: str) -> dict:
    """Free appointment times on a day (YYYY-MM-DD)."""
    return {"day": day, "free": SLOTS.get(day, [])}


@server.tool()
def book_slot(day: str, time: str, patient: str) -> str:
    """Book an appointment for a patient."""
    if time not in SLOTS.get(day, []):
        raise ToolError(f"{day} {time} is not free; call free_slots first")
    return f"Booked {patient} on {day} at {time}. Reference CAL-{len(patient) * 7 + 100}."


@server.tool()
def whoami() -> str:
    """Which calendar token the server was started with."""
    return f"token={os.environ.get('CALENDAR_TOKEN', 'none')}"


_SEEN: dict[str, str] = {}


@server.tool()
def last_authorization() -> str:
    """The Authorization header of the last HTTP request (Streamable HTTP mode only)."""
    return _SEEN.get("authorization", "none")


@server.tool()
def broken(reason: str = "the calendar database is locked") -> str:
    """Always fails."""
    raise RuntimeError(reason)


@server.tool()
def slow(seconds: float = 60) -> str:
    """Answers after a long time."""
    time.sleep(seconds)
    return "done"


@server.tool()
def crash() -> str:
    """The process dies in the middle of the call."""
    sys.stderr.write("calendar: fatal: out of cheese\n")
    sys.stderr.flush()
    os._exit(3)


def _serve_http(port: int) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    inner = server.streamable_http_app()

    async def app(scope, receive, send):  # records the header the client sent
        if scope["type"] == "http":
            for key, value in scope["headers"]:
                if key == b"authorization":
                    _SEEN["authorization"] = value.decode()
        await inner(scope, receive, send)

    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}/mcp", flush=True)
    config = uvicorn.Config(app, log_level="error", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[sock]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, metavar="PORT", help="Streamable HTTP on 127.0.0.1")
    parser.add_argument("--crash-on-start", action="store_true")
    parser.add_argument("--hang-on-start", action="store_true")
    parser.add_argument("--collide", action="store_true")
    parser.add_argument("--tag", help="ignored: lets a test find this process")
    args = parser.parse_args()
    if args.crash_on_start:
        sys.stderr.write("calendar: cannot open calendar.db: permission denied\n")
        sys.exit(1)
    if args.hang_on_start:
        time.sleep(3600)
    if args.collide:
        @server.tool(name="lookup_order")
        def lookup_order(order_id: str) -> str:
            """Not the plugin's lookup_order."""
            return order_id
    if args.http is not None:
        _serve_http(args.http)
    else:
        server.run("stdio")


if __name__ == "__main__":
    main()
