"""Command line entry points of the wijzer."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

import uvicorn

from wijzer import logs
from wijzer.app import create_app
from wijzer.db import engine_for, prepare
from wijzer.settings import Settings

# The largest request line plus headers the server reads (then the app's own limits apply).
SERVER_HEAD_BYTES = 2 * 1024 * 1024


def serve(settings: Settings, host: str, port: int) -> None:
    # An upgraded app on an older database would fail at the first login; the
    # migrations are idempotent, so bring the schema up to date before serving.
    engine = engine_for(settings)
    try:
        prepare(engine)
    finally:
        engine.dispose()
    logs.configure()
    uvicorn.run(create_app(settings), host=host, port=port, **server_options())


def server_options() -> dict[str, Any]:
    """How `serve` runs uvicorn (also used by the tests that start a real server)."""
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wijzer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, text in (
        ("serve", "start de wijzer"),
        ("demo", "maak een demodatabase, demo-accounts en start de wijzer"),
    ):
        p = sub.add_parser(name, help=text)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        serve(settings, args.host, args.port)
        return 0
    from wijzer.demo import run_demo

    return int(run_demo(settings, args.host, args.port, out=sys.stdout))
