"""Where a server listens: the ``--port`` type and why it cannot listen, in one line.

Shared by ``agentrun serve`` and ``agentrun sim``, so a busy port reads the same in both:
``cannot listen on HOST:PORT: Address already in use (…hint…)``, exit 2 (the user picks
another port, as with a busy microphone).
"""

from __future__ import annotations

import errno
import os
import socket
from typing import Any

import click

from agentrun.errors import AgentrunError, ListenError

__all__ = ["Port", "listen_error"]

_HOSTS = "127.0.0.1 listens for this machine only, 0.0.0.0 on every interface"


class Port(click.ParamType):  # type: ignore[type-arg]  # generic only in click 8.5+
    """A TCP port: 0 (any free one) to 65535, with a message a non-programmer reads."""

    name = "port"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> int:
        """The port as an int.

        Raises:
            click.BadParameter: not a whole number from 0 to 65535.
        """
        try:
            port = int(value)
        except (TypeError, ValueError):
            port = -1
        if not 0 <= port <= 65535:
            self.fail(f"{value!r} is not a port number (use 1-65535, or 0 for any free port)",
                      param, ctx)
        return port


def listen_error(host: str, port: int, exc: OSError) -> AgentrunError:
    """The error to report when binding ``host:port`` raised ``exc``.

    Args:
        host: the address as the user gave it (``--host``, or 127.0.0.1).
        port: the TCP port as the user gave it (``--port``).
        exc: what ``bind``/``getaddrinfo`` raised.

    Returns:
        A :class:`ListenError` (exit 2) for a busy port, a privileged port, an address this
        machine does not have or a host name that does not resolve; a plain
        :class:`AgentrunError` (exit 1) for anything else (out of file descriptors…).
    """
    where = f"{host}:{port}"
    if isinstance(exc, socket.gaierror):
        return ListenError(f"cannot listen on {where}: {exc.strerror or exc}",
                           hint=f"{host!r} is not a name or address this machine can use: "
                                f"check --host; {_HOSTS}")
    # asyncio words its bind errors differently from socket.bind; say it the same way in both
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    message = f"cannot listen on {where}: {reason}"
    if exc.errno == errno.EADDRINUSE:
        holder = _holder(port)
        held = f"held by {holder}: stop it or " if holder else "another program listens there: "
        return ListenError(message, hint=f"{held}pick another --port; --port 0 picks a free one")
    if exc.errno == errno.EACCES:
        return ListenError(message, hint="ports below 1024 need administrator rights: pick "
                                         "another --port above 1024; --port 0 picks a free one")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ListenError(message, hint=f"this machine has no address {host}: check --host; "
                                         f"{_HOSTS}")
    return AgentrunError(message)


def _holder(port: int) -> str | None:
    """``python3, pid 1234`` for the local process holding TCP ``port``, or None.

    Linux only and best effort: reads /proc (no extra dependency); a process of another user,
    or another system, leaves it unknown.
    """
    inodes = _socket_inodes(port)
    if not inodes:
        return None
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            for fd in fds:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                    with open(f"/proc/{pid}/comm", encoding="utf-8") as comm:
                        return f"{comm.read().strip()}, pid {pid}"
        except OSError:  # gone, or not ours to look at
            continue
    return None


def _socket_inodes(port: int) -> set[str]:
    """``socket:[INODE]`` links of the TCP sockets bound to ``port`` (from /proc/net/tcp*)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table, encoding="ascii") as rows:
                next(rows, None)  # the header
                for row in rows:
                    fields = row.split()
                    # fields: sl local_address rem_address st … inode (10th)
                    if len(fields) > 9 and int(fields[1].rsplit(":", 1)[1], 16) == port \
                            and fields[3] != "06" and fields[9] != "0":  # 06: TIME_WAIT
                        found.add(f"socket:[{fields[9]}]")
        except (OSError, ValueError):
            continue
    return found
