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
from typing import TYPE_CHECKING, Any

import uvicorn
from fastapi import FastAPI

from wijzer import logs

if TYPE_CHECKING:
    from multiprocessing.synchronize import Barrier

log = logging.getLogger(__name__)

# The largest request line plus headers the server reads (then the app's own limits apply).
SERVER_HEAD_BYTES = 2 * 1024 * 1024
MAX_WORKERS = 64
# How long a server process waits for the others to start before it gives up.
STARTUP_WAIT_S = 300.0
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


def reuse_port_socket(host: str, port: int, *, listen: bool = True) -> socket.socket:
    """A listening socket that shares `port` with the other server processes.

    Each process listens on its own socket and the kernel spreads new connections over
    them. With one socket shared by all processes (uvicorn's own ``--workers``) Linux
    wakes the process that waited last, so one busy process takes every connection
    while the others stay idle (measured: 20 users, all on one of two processes)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def _worker(host: str, port: int, ready: Barrier) -> None:
    """One server process (started with spawn, so it builds its own app)."""
    from wijzer.app import create_app
    from wijzer.settings import Settings

    logs.configure()
    # Bound now, listening only once the app has started (asyncio listens when it
    # starts serving): no connection reaches a process that cannot answer yet.
    sock = reuse_port_socket(host, port, listen=False)
    app = create_app(Settings())

    def all_started() -> None:
        # The last start-up step waits for the other processes, so all start listening
        # together and the first connections are spread over all of them (a process
        # that listened alone would get them all, and keep them while they stay open).
        ready.wait(timeout=STARTUP_WAIT_S)

    app.router.add_event_handler("startup", all_started)
    config = uvicorn.Config(app, **server_options())
    uvicorn.Server(config).run(sockets=[sock])


def run_workers(host: str, port: int, workers: int) -> int:
    """Serve with `workers` processes on one port (one per core is the advice).

    Returns the exit code: 0 after a stop signal, else the code of the process that
    stopped first (the others are then stopped too, so a supervisor can restart all)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must be between 1 and {MAX_WORKERS}, not {workers}")
    logs.configure()
    if not os.environ.get(COOKIE_SIGNING_VARIABLE):
        # Every process must sign the session cookie with the same key, or a user
        # logged in on one process is logged out on the next request to another.
        log.warning("%s is not set: sessions end when the server stops", COOKIE_SIGNING_VARIABLE)
        os.environ[COOKIE_SIGNING_VARIABLE] = secrets.token_urlsafe(48)
    try:
        # Fails here, once and clearly, when the port is taken by another program.
        reuse_port_socket(host, port, listen=False).close()
    except OSError as exc:
        print(f"De wijzer kan niet luisteren op {host}:{port}: {exc.strerror}.", file=sys.stderr)
        return 1
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(workers)
    processes = [
        context.Process(target=_worker, args=(host, port, ready), name=f"wijzer-{i + 1}")
        for i in range(workers)
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
