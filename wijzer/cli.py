"""Command line entry points of the wijzer."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from services.notify import check_answer_terms
from wijzer import server
from wijzer.app import create_app
from wijzer.demo_site import run_demo
from wijzer.deps import engine_for, prepare, sessions_for
from wijzer.settings import Settings


def serve(settings: Settings, host: str, port: int, workers: int = 1) -> int:
    # An upgraded app on an older database would fail at the first login; the
    # migrations are idempotent, so bring the schema up to date before serving (once,
    # before any server process starts).
    engine = engine_for(settings)
    try:
        prepare(engine)
    finally:
        engine.dispose()
    if workers > 1:
        return server.run_workers(host, port, workers)
    server.run(create_app(settings), host, port)
    return 0


def _workers(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= server.MAX_WORKERS:
        raise argparse.ArgumentTypeError(
            f"kies een heel getal van 1 tot en met {server.MAX_WORKERS}, niet {value!r}"
        )
    return n


def check_terms(settings: Settings) -> int:
    """One check of the answer terms, for cron: new meldingen, and e-mail when set."""
    engine = engine_for(settings)
    try:
        done = check_answer_terms(
            sessions_for(engine), today=settings.current_date(), mail=settings.mail_settings()
        )
    finally:
        engine.dispose()
    flagged = "1 nieuwe melding" if done.flagged == 1 else f"{done.flagged} nieuwe meldingen"
    mailed = "1 melding" if done.mailed == 1 else f"{done.mailed} meldingen"
    print(f"Antwoordtermijnen gecontroleerd: {flagged}, {mailed} per e-mail verstuurd.")
    return 0


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
        if name == "serve":
            p.add_argument(
                "--workers",
                type=_workers,
                default=1,
                help="aantal serverprocessen op dezelfde poort (advies: een per processorkern)",
            )
    sub.add_parser(
        "check-termijnen",
        help="zoek aanmeldingen die niet op tijd zijn beantwoord en stuur de meldingen",
    )
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "check-termijnen":
        return check_terms(settings)
    if args.command == "serve":
        return serve(settings, args.host, args.port, args.workers)
    return int(run_demo(settings, args.host, args.port, out=sys.stdout))
