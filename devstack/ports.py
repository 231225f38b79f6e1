"""Loopback port helpers and the one error type of the devstack package.

Every service here listens on 127.0.0.1 only, so "free" always means "free on 127.0.0.1".
"""

from __future__ import annotations

import socket
from collections.abc import Collection

LOOPBACK = "127.0.0.1"


class DevstackError(RuntimeError):
    """A service could not be started or stopped; the message says what to do about it."""


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on host:port.

    SO_REUSEADDR matches what PostgreSQL, Go servers and uvicorn do, so connections of a
    just-stopped run lingering in TIME_WAIT do not count as "taken"; a listener still does.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free_port(port: int, what: str, env_var: str | None = None, hint: str = "") -> None:
    """Raise DevstackError naming the port (and the variable that moves it) if it is taken."""
    if port_is_free(port):
        return
    message = f"port {port} on {LOOPBACK} for {what} is already in use"
    if env_var:
        message += f"; set {env_var} to a free port"
    if hint:
        message += f" ({hint})"
    raise DevstackError(message)


def free_ports(count: int, *, exclude: Collection[int] = (), host: str = LOOPBACK) -> list[int]:
    """`count` distinct ports the kernel considers free right now.

    All sockets are held open until every port is picked, so the kernel cannot hand out the
    same port twice. There is still a small window before the service binds it; that race
    is accepted for a development stack.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind((host, 0))
            port = sock.getsockname()[1]
            if port not in exclude:
                ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


def free_port(host: str = LOOPBACK) -> int:
    """One port that is free right now."""
    return free_ports(1, host=host)[0]


def free_port_with_companion(offset: int, *, exclude: Collection[int] = ()) -> int:
    """A free port p such that p + offset is free too (for servers that derive a second port)."""
    for _ in range(200):
        (port,) = free_ports(1, exclude=exclude)
        companion = port + offset
        if companion <= 65535 and companion not in exclude and port_is_free(companion):
            return port
    raise DevstackError(f"could not find a free port p with p+{offset} also free on {LOOPBACK}")
