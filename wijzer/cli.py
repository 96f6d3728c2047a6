"""Command line entry points of the wijzer."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wijzer import server
from wijzer.app import create_app
from wijzer.demo_site import run_demo
from wijzer.deps import engine_for, prepare
from wijzer.settings import Settings


def serve(settings: Settings, host: str, port: int) -> None:
    # An upgraded app on an older database would fail at the first login; the
    # migrations are idempotent, so bring the schema up to date before serving.
    engine = engine_for(settings)
    try:
        prepare(engine)
    finally:
        engine.dispose()
    server.run(create_app(settings), host, port)


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
    return int(run_demo(settings, args.host, args.port, out=sys.stdout))
