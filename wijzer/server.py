"""How the wijzer is served: the uvicorn options and the JSON log, the same for
``python -m wijzer serve`` and ``python -m wijzer demo``."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
from collections.abc import MutableSequence
from types import FrameType
from typing import Any, ClassVar

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from wijzer import collector, logs

log = logging.getLogger(__name__)

# The largest request line plus headers the server reads (then the app's own limits apply).
SERVER_HEAD_BYTES = 2 * 1024 * 1024
MAX_WORKERS = 64
COOKIE_SIGNING_VARIABLE = "WIJZER_SECRET_KEY"


def server_options() -> dict[str, Any]:
    """How the wijzer runs uvicorn (also used by the tests that start a real server)."""
    return {
        "log_level": "info",
        # Logging is set up by logs.configure (JSON lines); the server's access log
        # would write query strings, so the app's own access log replaces it.
        "log_config": None,
        "access_log": False,
        "http": "h11",
        # h11 refuses a request head over 16 KiB with a plain English 400 before the
        # app sees it; with room up to SERVER_HEAD_BYTES the app answers 414 in Dutch.
        "h11_max_incomplete_event_size": SERVER_HEAD_BYTES,
    }


def run(app: FastAPI, host: str, port: int) -> None:
    logs.configure()
    collector.install()
    uvicorn.run(app, host=host, port=port, **server_options())


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket that shares `port` with the other server processes.

    Each process listens on its own socket and the kernel spreads new connections over
    them. One socket shared by all processes (uvicorn's own ``--workers``) listens
    before any process can answer, and the first process that is up accepts every
    connection waiting there (measured: 20 users, all on one of two processes)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


class ConnectionShare:
    """The open connections of every server process, in memory the processes share,
    so that one holding more than its share can hand a connection over.

    The kernel gives each new connection to one process's socket by a hash, and a kept
    open connection stays there: 20 users made 12 and 8 on two processes (measured), and
    the users of the busier process wait half as long again. A process that holds at
    least two connections more than the process with the fewest answers its next
    response with ``Connection: close``; the client opens a new connection, which the
    kernel gives to a process again. Each process writes only its own count, and only
    on its event loop."""

    def __init__(self, counts: MutableSequence[int], index: int) -> None:
        self.counts = counts
        self.index = index
        # clients (address, port) told to close whose connection is not closed yet:
        # they no longer count, so one imbalance is not answered by many closes
        self.leaving: set[tuple[str, int]] = set()

    def opened(self) -> None:
        self.counts[self.index] += 1

    def closed(self, client: tuple[str, int] | None) -> None:
        if client in self.leaving:
            self.leaving.discard(client)
        else:
            self.counts[self.index] -= 1

    def hand_over(self, client: tuple[str, int] | None) -> bool:
        """Whether the connection of `client` should close after this response."""
        if client is None or client in self.leaving:
            return False
        if self.counts[self.index] <= min(self.counts) + 1:
            return False
        self.leaving.add(client)
        self.counts[self.index] -= 1
        return True


class SharedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol that keeps its process's count in `share`."""

    share: ClassVar[ConnectionShare]

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.share.opened()

    def connection_lost(self, exc: Exception | None) -> None:
        self.share.closed(self.client)
        super().connection_lost(exc)


class HandOver:
    """ASGI wrapper: adds ``Connection: close`` to a response when its process holds
    more than its share of the connections (`ConnectionShare.hand_over`)."""

    def __init__(self, app: ASGIApp, share: ConnectionShare) -> None:
        self.app = app
        self.share = share

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            # uvicorn's scope carries the protocol's own (address, port) tuple
            if message["type"] == "http.response.start" and self.share.hand_over(
                scope.get("client")
            ):
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, receive, send_closing)


def _worker(sock: socket.socket, counts: MutableSequence[int], index: int) -> None:
    """One server process (started with spawn, so it builds its own app) on its own
    listening socket; `counts[index]` is its count of open connections."""
    from wijzer.app import create_app
    from wijzer.settings import Settings

    logs.configure()
    collector.install()
    share = ConnectionShare(counts, index)
    protocol = type("SharedH11Protocol", (SharedH11Protocol,), {"share": share})
    options = {**server_options(), "http": protocol}
    config = uvicorn.Config(HandOver(create_app(Settings()), share), **options)
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int) -> int:
    """Serve with `workers` processes on one port (one per core is the advice).

    Returns the exit code: 0 after a stop signal, else the code of the process that
    stopped first (the others are then stopped too, so a supervisor can restart all)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    if not hasattr(socket, "SO_REUSEPORT"):
        print(
            "Meer serverprocessen op één poort kan op dit systeem niet (het kent geen "
            "SO_REUSEPORT). Start de wijzer zonder --workers.",
            file=sys.stderr,
        )
        return 1
    logs.configure()
    if not os.environ.get(COOKIE_SIGNING_VARIABLE):
        # Every process must sign the session cookie with the same key, or a user
        # logged in on one process is logged out on the next request to another.
        log.warning("%s is not set: sessions end when the server stops", COOKIE_SIGNING_VARIABLE)
        os.environ[COOKIE_SIGNING_VARIABLE] = secrets.token_urlsafe(48)
    # All sockets listen before any process starts: a connection made while the
    # processes start waits at the socket the kernel gave it to, so even the first
    # connections are spread (a socket that listened alone would get them all).
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(reuse_port_socket(host, port))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        print(f"De wijzer kan niet luisteren op {host}:{port}: {exc.strerror}.", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    counts = context.RawArray("l", workers)
    processes = [
        context.Process(target=_worker, args=(sock, counts, i), name=f"wijzer-{i + 1}")
        for i, sock in enumerate(sockets)
    ]
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for p in processes:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for p in processes:
            p.start()
        # Each process holds its own copy of its socket now.
        for sock in sockets:
            sock.close()
        log.info("serving on %s:%d with %d processes", host, port, workers)
        code = 0
        while any(p.is_alive() for p in processes):
            for p in processes:
                p.join(timeout=0.5)
                if p.exitcode is not None and not stopping:
                    code = p.exitcode or 1
                    log.error("server process %s stopped (%s); stopping the others", p.name, code)
                    stop(signal.SIGTERM, None)
        return code
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        for p in processes:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
        sys.stdout.flush()
