"""How the wijzer is served: the uvicorn options and the JSON log, the same for
``python -m wijzer serve`` and ``python -m wijzer demo``."""

from __future__ import annotations

import logging
import multiprocessing
import os
import secrets
import signal
import socket
import sys
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from wijzer import logs

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


def _worker(sock: socket.socket) -> None:
    """One server process (started with spawn, so it builds its own app) on its own
    listening socket."""
    from wijzer.app import create_app
    from wijzer.settings import Settings

    logs.configure()
    config = uvicorn.Config(create_app(Settings()), **server_options())
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
    processes = [
        context.Process(target=_worker, args=(sock,), name=f"wijzer-{i + 1}")
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
